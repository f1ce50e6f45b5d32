"""The run filter language: text -> parse tree -> parameterized SQL.

Grammar (MLflow's ``search_runs`` syntax, plus ``OR``, ``NOT`` and parentheses)::

    filter      := or_expr
    or_expr     := and_expr ("OR" and_expr)*
    and_expr    := not_expr ("AND" not_expr)*
    not_expr    := "NOT" not_expr | "(" or_expr ")" | comparison
    comparison  := field op value
                 | field ["NOT"] "IN" "(" value ("," value)* ")"
                 | field "IS" ["NOT"] "NULL"
    field       := [entity "."] key
    entity      := metrics | params | tags | attributes   (singular forms and "attr" accepted)
    key         := name | `backticked key` | "double-quoted key"
    op          := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" | "LIKE" | "ILIKE"
                 | "NOT LIKE" | "NOT ILIKE"
    value       := 'string' | "string" | number

Keywords are case-insensitive. A field without an entity must be an attribute
(``status = 'FINISHED'``).

Semantics (the same in SQL and in :func:`evaluate`, the plain-Python reference used by tests):

* a comparison on a key the run does not have is false (``IS NULL`` is true exactly then);
* metrics compare as numbers (their last value); NaN is a value: only ``!=`` and ``NOT IN`` are
  true for it;
* params and tags compare as text against a string literal, and as numbers against a number
  literal (a value that is not a number is then "missing");
* ``LIKE`` is case-sensitive, ``ILIKE`` is not (ASCII case folding), with ``%`` and ``_``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any, Union

from .errors import FilterSyntaxError
from .validation import MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, MAX_FILTER_TERMS

ENTITY_ALIASES = {
    "metric": "metrics",
    "metrics": "metrics",
    "param": "params",
    "params": "params",
    "parameter": "params",
    "parameters": "params",
    "tag": "tags",
    "tags": "tags",
    "attribute": "attributes",
    "attributes": "attributes",
    "attr": "attributes",
    "run": "attributes",
}

# attribute name -> (runs column, kind); kind is "text" or "number".
ATTRIBUTES: dict[str, tuple[str, str]] = {
    "run_id": ("run_id", "text"),
    "run_name": ("run_name", "text"),
    "status": ("status", "text"),
    "user_id": ("user_id", "text"),
    "user": ("user_id", "text"),
    "start_time": ("start_time", "number"),
    "created": ("start_time", "number"),
    "end_time": ("end_time", "number"),
    "artifact_uri": ("artifact_uri", "text"),
    "lifecycle_stage": ("lifecycle_stage", "text"),
    "experiment_id": ("experiment_id", "number"),
    "parent_run_id": ("parent_run_id", "text"),
    "notebook": ("notebook", "text"),
    "cell_id": ("cell_id", "text"),
    "execution_count": ("execution_count", "number"),
    "environment": ("environment", "text"),
}
NOT_NULL_ATTRIBUTES = {"run_id", "status", "start_time", "lifecycle_stage", "experiment_id"}


@dataclass(frozen=True)
class FieldTable:
    """What one entity's filters may name: the parser, the type checks and the compilers read it.

    ``entities`` maps the prefixes a field may start with to entity names; ``attributes`` maps
    attribute names to (column, kind) with kind "text" or "number"; ``numeric`` entities compare
    as numbers only (run metrics); ``fixed`` entities have a fixed set of keys, each (column,
    kind), and match when any of the entity's rows does (``span.name = 'x'``: some span is
    named x); other entities take any key (``tags.team``).
    """

    name: str
    entities: Mapping[str, str]
    attributes: Mapping[str, tuple[str, str]]
    not_null: frozenset[str]
    numeric: frozenset[str] = frozenset()
    fixed: Mapping[str, Mapping[str, tuple[str, str]]] = dataclass_field(default_factory=dict)
    orderable: frozenset[str] = frozenset()

    def hint(self) -> str:
        """What a field may be, for error messages."""
        keyed = sorted(e for e in set(self.entities.values()) if e != "attributes")
        parts: list[str] = []
        for entity in keyed:
            if entity in self.fixed:
                parts.extend(f"{entity}.{key}" for key in self.fixed[entity])
            else:
                parts.append(f"{entity}.<key>")
        known = ", ".join(sorted(self.attributes))
        return f"{', '.join(parts)} or an attribute ({known})"


RUNS = FieldTable(
    name="runs",
    entities=ENTITY_ALIASES,
    attributes=ATTRIBUTES,
    not_null=frozenset(NOT_NULL_ATTRIBUTES),
    numeric=frozenset({"metrics"}),
    orderable=frozenset({"attributes", "metrics", "params", "tags"}),
)

# trace attribute -> (traces column, kind); MLflow's names (timestamp_ms, execution_time_ms,
# request_id, state) beside jupyter-track's own
TRACE_ATTRIBUTES: dict[str, tuple[str, str]] = {
    "trace_id": ("trace_id", "text"),
    "request_id": ("trace_id", "text"),
    "name": ("name", "text"),
    "status": ("status", "text"),
    "state": ("status", "text"),
    "timestamp_ms": ("start_time", "number"),
    "timestamp": ("start_time", "number"),
    "start_time": ("start_time", "number"),
    "request_time": ("start_time", "number"),
    "end_time": ("end_time", "number"),
    "execution_time_ms": ("execution_time_ms", "number"),
    "execution_duration": ("execution_time_ms", "number"),
    "run_id": ("run_id", "text"),
    "experiment_id": ("experiment_id", "number"),
    "span_count": ("span_count", "number"),
    "input_tokens": ("input_tokens", "number"),
    "output_tokens": ("output_tokens", "number"),
    "total_tokens": ("total_tokens", "number"),
    "client_request_id": ("client_request_id", "text"),
    "request_preview": ("request_preview", "text"),
    "response_preview": ("response_preview", "text"),
    "notebook": ("notebook", "text"),
    "cell_id": ("cell_id", "text"),
    "source": ("source", "text"),
}

SPAN_FIELDS: dict[str, tuple[str, str]] = {
    "name": ("name", "text"),
    "type": ("span_type", "text"),
    "span_type": ("span_type", "text"),
    "status": ("status", "text"),
    "duration_ms": ("duration_ms", "number"),
}

TRACES = FieldTable(
    name="traces",
    entities={
        "attribute": "attributes",
        "attributes": "attributes",
        "attr": "attributes",
        "trace": "attributes",
        "info": "attributes",
        "tag": "tags",
        "tags": "tags",
        "metadata": "metadata",
        "request_metadata": "metadata",
        "span": "span",
        "spans": "span",
        "feedback": "feedback",
        "assessment": "feedback",
        "assessments": "feedback",
        "expectation": "expectation",
        "expectations": "expectation",
    },
    attributes=TRACE_ATTRIBUTES,
    not_null=frozenset(
        {
            "trace_id",
            "request_id",
            "status",
            "state",
            "timestamp_ms",
            "timestamp",
            "start_time",
            "request_time",
            "experiment_id",
            "span_count",
        }
    ),
    fixed={"span": SPAN_FIELDS},
    orderable=frozenset({"attributes", "tags", "metadata"}),
)

COMPARISONS = ("=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE")


# ---------------------------------------------------------------------------------- tree


@dataclass(frozen=True)
class Field:
    """``entity.key``; entity is one of the field table's (metrics, params, tags, attributes
    for runs)."""

    entity: str
    key: str

    def __str__(self) -> str:
        return f"{self.entity}.{self.key}"


@dataclass(frozen=True)
class Compare:
    field: Field
    op: str  # one of COMPARISONS, "IN", "NOT IN", "IS NULL", "IS NOT NULL"
    value: Any  # str | float | int | tuple for IN | None for IS [NOT] NULL


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Union[Compare, And, Or, Not]  # noqa: UP007 (a runtime alias)


@dataclass(frozen=True)
class OrderBy:
    field: Field
    descending: bool


# ------------------------------------------------------------------------------- tokens

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?))(?![A-Za-z_])
  | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
  | (?P<backtick>`[^`]*`)
  | (?P<op><=|>=|!=|<>|==|=|<|>)
  | (?P<punct>[(),])
  | (?P<word>[A-Za-z_][A-Za-z0-9_\-./:]*)
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, backtick, op, punct, word, end
    text: str
    pos: int

    @property
    def upper(self) -> str:
        return self.text.upper()

    def describe(self) -> str:
        return "end of input" if self.kind == "end" else repr(self.text)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise FilterSyntaxError(
                text, pos, "a name, a quoted string, a number or an operator", repr(text[pos])
            )
        kind = m.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


def unquote(text: str) -> str:
    """The text of a quoted token: quotes removed, doubled quotes and backslash escapes undone."""
    quote = text[0]
    body = text[1:-1]
    body = body.replace(quote * 2, quote)
    return re.sub(r"\\(.)", r"\1", body)


# ------------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, text: str, table: FieldTable = RUNS):
        if len(text) > MAX_FILTER_LENGTH:
            raise FilterSyntaxError(
                text[:80] + "...",
                0,
                f"a filter of at most {MAX_FILTER_LENGTH:,} characters (got {len(text):,})",
            )
        self.text = text
        self.table = table
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0  # parentheses and NOTs open around the current token
        self.terms = 0  # comparisons read so far

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def advance(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def fail(self, expected: str, tok: Token | None = None) -> FilterSyntaxError:
        tok = tok or self.tok
        return FilterSyntaxError(self.text, tok.pos, expected, tok.describe())

    def is_word(self, *words: str) -> bool:
        return self.tok.kind == "word" and self.tok.upper in words

    def parse_filter(self) -> Node | None:
        if self.tok.kind == "end":
            return None
        node = self.parse_or()
        if self.tok.kind != "end":
            raise self.fail("AND, OR or the end of the filter")
        return node

    def parse_or(self) -> Node:
        items = [self.parse_and()]
        while self.is_word("OR"):
            self.advance()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self) -> Node:
        items = [self.parse_not()]
        while self.is_word("AND"):
            self.advance()
            items.append(self.parse_not())
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_not(self) -> Node:
        if self.is_word("NOT") or (self.tok.kind == "punct" and self.tok.text == "("):
            if self.depth >= MAX_FILTER_DEPTH:
                raise self.fail(f"at most {MAX_FILTER_DEPTH} nested parentheses and NOTs")
            self.depth += 1
            try:
                if self.is_word("NOT"):
                    self.advance()
                    return Not(self.parse_not())
                self.advance()
                node = self.parse_or()
                if not (self.tok.kind == "punct" and self.tok.text == ")"):
                    raise self.fail("')' to close the group, AND or OR")
                self.advance()
                return node
            finally:
                self.depth -= 1
        self.terms += 1
        if self.terms > MAX_FILTER_TERMS:
            raise self.fail(f"at most {MAX_FILTER_TERMS} comparisons in one filter")
        return self.parse_comparison()

    def parse_field(self) -> Field:
        tok = self.tok
        if tok.kind == "backtick" or (tok.kind == "string" and tok.text[0] == '"'):
            # a bare quoted key names an attribute, e.g. `run_name`
            self.advance()
            return self._attribute(unquote(tok.text), tok)
        if tok.kind != "word" or tok.upper in (
            "AND",
            "OR",
            "NOT",
            "IN",
            "IS",
            "NULL",
            "LIKE",
            "ILIKE",
        ):
            raise self.fail(
                "a field such as metrics.acc, params.lr, tags.team or status"
                if self.table is RUNS
                else f"a field: {self.table.hint()}"
            )
        self.advance()
        word = tok.text
        head, dot, rest = word.partition(".")
        entity = self.table.entities.get(head.lower()) if dot else None
        if entity is None:
            return self._attribute(word, tok)
        if rest:
            key = rest
        else:
            # entity.`quoted key` / entity."quoted key": the word ends with the dot and the key
            # follows as a quoted token.
            key_tok = self.tok
            if key_tok.kind == "backtick" or key_tok.kind == "string":
                self.advance()
                key = unquote(key_tok.text)
            else:
                raise self.fail(f"a key after '{head}.'")
        if not key:
            raise FilterSyntaxError(self.text, tok.pos + len(head) + 1, f"a key after '{head}.'")
        if entity == "attributes":
            return self._attribute(key, tok)
        fixed = self.table.fixed.get(entity)
        if fixed is not None:
            if key.lower() not in fixed:
                raise FilterSyntaxError(
                    self.text,
                    tok.pos,
                    f"one of {', '.join(f'{entity}.{k}' for k in fixed)}",
                    repr(word),
                )
            key = key.lower()
        return Field(entity, key)

    def _attribute(self, name: str, tok: Token) -> Field:
        if name.lower() not in self.table.attributes:
            if self.table is RUNS:
                known = ", ".join(sorted(ATTRIBUTES))
                expected = f"metrics.<key>, params.<key>, tags.<key> or an attribute ({known})"
            else:
                expected = self.table.hint()
            raise FilterSyntaxError(self.text, tok.pos, expected, repr(name))
        return Field("attributes", name.lower())

    def parse_value(self, field: Field) -> str | float:
        tok = self.tok
        if tok.kind == "string":
            self.advance()
            return unquote(tok.text)
        if tok.kind == "number":
            self.advance()
            number = float(tok.text)
            # an integer literal stays exact when SQLite can hold it; a larger one compares as
            # the float it is closest to (inf beyond the float range)
            return (
                int(tok.text)
                if re.fullmatch(r"[-+]?\d{1,18}", tok.text) and number.is_integer()
                else number
            )
        raise self.fail(f"a quoted string or a number to compare {field} with")

    def parse_comparison(self) -> Compare:
        field_tok = self.tok
        field = self.parse_field()
        tok = self.tok
        if tok.kind == "op":
            self.advance()
            op = {"==": "=", "<>": "!="}.get(tok.text, tok.text)
            value = self.parse_value(field)
            node = Compare(field, op, value)
        elif self.is_word("LIKE", "ILIKE"):
            self.advance()
            node = Compare(field, tok.upper, self._like_pattern(field))
        elif self.is_word("IN"):
            self.advance()
            node = Compare(field, "IN", self.parse_list(field))
        elif self.is_word("NOT"):
            self.advance()
            if self.is_word("IN"):
                self.advance()
                node = Compare(field, "NOT IN", self.parse_list(field))
            elif self.is_word("LIKE", "ILIKE"):
                op = "NOT " + self.advance().upper
                node = Compare(field, op, self._like_pattern(field))
            else:
                raise self.fail("IN, LIKE or ILIKE after NOT")
        elif self.is_word("IS"):
            self.advance()
            negate = False
            if self.is_word("NOT"):
                self.advance()
                negate = True
            if not self.is_word("NULL"):
                raise self.fail("NULL")
            self.advance()
            node = Compare(field, "IS NOT NULL" if negate else "IS NULL", None)
        else:
            raise self.fail(
                "a comparison operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN, NOT IN, IS NULL)"
            )
        _check_types(self.text, field_tok.pos, node, self.table)
        return node

    def _like_pattern(self, field: Field) -> str:
        tok = self.tok
        if tok.kind != "string":
            raise self.fail(f"a quoted pattern for {field}")
        self.advance()
        return unquote(tok.text)

    def parse_list(self, field: Field) -> tuple[Any, ...]:
        if not (self.tok.kind == "punct" and self.tok.text == "("):
            raise self.fail("'(' to start the list of values")
        self.advance()
        values = [self.parse_value(field)]
        while self.tok.kind == "punct" and self.tok.text == ",":
            self.advance()
            values.append(self.parse_value(field))
        if not (self.tok.kind == "punct" and self.tok.text == ")"):
            raise self.fail("',' or ')' in the list of values")
        self.advance()
        return tuple(values)


def field_kind(field: Field, table: FieldTable = RUNS) -> str | None:
    """ "text" or "number" for attributes and fixed keys; None for free keys (tags...)."""
    if field.entity == "attributes":
        return table.attributes[field.key][1]
    fixed = table.fixed.get(field.entity)
    if fixed is not None:
        return fixed[field.key][1]
    return None


def _check_types(text: str, pos: int, node: Compare, table: FieldTable = RUNS) -> None:
    field, op, value = node.field, node.op, node.value
    values = value if isinstance(value, tuple) else (value,)
    if field.entity in table.numeric:
        if "LIKE" in op:
            raise FilterSyntaxError(
                text, pos, f"a numeric comparison for {field} (LIKE needs text)"
            )
        if op not in ("IS NULL", "IS NOT NULL") and any(isinstance(v, str) for v in values):
            raise FilterSyntaxError(
                text, pos, f"a number to compare metric {field} with", "a string"
            )
    kind = field_kind(field, table)
    if kind is not None:
        if kind == "number" and "LIKE" in op:
            raise FilterSyntaxError(text, pos, f"a numeric comparison for {field}")
        if kind == "number" and any(isinstance(v, str) for v in values) and value is not None:
            raise FilterSyntaxError(text, pos, f"a number to compare {field} with", "a string")
        if kind == "text" and any(isinstance(v, (int, float)) for v in values):
            raise FilterSyntaxError(
                text, pos, f"a quoted string to compare {field} with", "a number"
            )


def parse_filter(text: str | None, table: FieldTable = RUNS) -> Node | None:
    """Parse a filter string into a tree; ``None`` for an empty filter."""
    if text is None or not text.strip():
        return None
    return _Parser(text, table).parse_filter()


def parse_order_by(clauses: Sequence[str] | None, table: FieldTable = RUNS) -> list[OrderBy]:
    """Parse ``["metrics.acc DESC", "start_time"]`` into :class:`OrderBy` items."""
    result: list[OrderBy] = []
    if isinstance(clauses, str):
        clauses = [clauses]
    for clause in clauses or []:
        parser = _Parser(clause, table)
        start = parser.tok
        field = parser.parse_field()
        if field.entity not in table.orderable:
            raise FilterSyntaxError(
                clause,
                start.pos,
                f"a field to order by ({', '.join(sorted(table.orderable))})",
                repr(str(field)),
            )
        descending = False
        if parser.is_word("ASC", "DESC"):
            descending = parser.advance().upper == "DESC"
        if parser.tok.kind != "end":
            raise parser.fail("ASC, DESC or the end of the order-by clause")
        result.append(OrderBy(field, descending))
    return result


def conjuncts(node: Node | None) -> list[Node]:
    """The items of a top-level AND (or the node itself): each must hold for a match."""
    if node is None:
        return []
    if isinstance(node, And):
        return [item for child in node.items for item in conjuncts(child)]
    return [node]


# ----------------------------------------------------------------------------- compiler


def like_to_glob(pattern: str) -> str:
    """Translate a LIKE pattern to a GLOB pattern (GLOB is case-sensitive in SQLite)."""
    out = []
    for ch in pattern:
        if ch == "%":
            out.append("*")
        elif ch == "_":
            out.append("?")
        elif ch in "*?[":
            out.append(f"[{ch}]")
        else:
            out.append(ch)
    return "".join(out)


_SQL_OP = {"=": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass
class CompiledFilter:
    """A WHERE fragment over the ``runs`` table aliased ``r``, and its parameters."""

    sql: str
    params: list[Any]


def compile_filter(node: Node | None, *, correlated: bool = False) -> CompiledFilter:
    """Compile a parse tree to SQL; every user value becomes a bound parameter.

    Two equivalent shapes: set-based ``r.id IN (SELECT run ...)`` (the default; best when
    SQLite visits every match, as a count does) and ``correlated=True``, ``EXISTS (...)`` probes
    by primary key (best when rows are visited in an index's order and the page fills early).
    """
    params: list[Any] = []
    if node is None:
        return CompiledFilter("1", params)
    return CompiledFilter(_compile(node, params, correlated), params)


def _compile(node: Node, params: list[Any], correlated: bool) -> str:
    if isinstance(node, And):
        return "(" + " AND ".join(_compile(n, params, correlated) for n in node.items) + ")"
    if isinstance(node, Or):
        return "(" + " OR ".join(_compile(n, params, correlated) for n in node.items) + ")"
    if isinstance(node, Not):
        return f"(NOT {_compile(node.item, params, correlated)})"
    return _compile_compare(node, params, correlated)


def _value_predicate(
    column: str, op: str, value: Any, params: list[Any], *, nan_aware: bool = False
) -> str:
    """A predicate on one column; with ``nan_aware`` NULL in the column means NaN."""
    if op in _SQL_OP:
        params.append(value)
        if op == "!=" and nan_aware:
            return f"{column} IS NOT ?"
        return f"{column} {_SQL_OP[op]} ?"
    if op in ("IN", "NOT IN"):
        params.extend(value)
        marks = ", ".join("?" * len(value))
        if op == "NOT IN" and nan_aware:
            return f"({column} IS NULL OR {column} NOT IN ({marks}))"
        return f"{column} {op} ({marks})"
    if op in ("LIKE", "NOT LIKE"):
        params.append(like_to_glob(value))
        return f"{column} {'NOT ' if op.startswith('NOT') else ''}GLOB ?"
    if op in ("ILIKE", "NOT ILIKE"):
        params.append(value)
        return f"{column} {'NOT ' if op.startswith('NOT') else ''}LIKE ?"
    raise AssertionError(op)


def _membership(table: str, condition: str, correlated: bool, negate: bool = False) -> str:
    """ "The run has a row in ``table`` matching ``condition``" in one of the two shapes."""
    if correlated:
        return (
            f"{'NOT ' if negate else ''}EXISTS (SELECT 1 FROM {table} x WHERE x.run = r.id "
            f"AND {condition})"
        )
    return f"r.id {'NOT ' if negate else ''}IN (SELECT run FROM {table} WHERE {condition})"


def _compile_compare(node: Compare, params: list[Any], correlated: bool = False) -> str:
    field, op, value = node.field, node.op, node.value
    if field.entity == "attributes":
        column = f"r.{ATTRIBUTES[field.key][0]}"
        if op == "IS NULL":
            return f"{column} IS NULL"
        if op == "IS NOT NULL":
            return f"{column} IS NOT NULL"
        predicate = _value_predicate(column, op, value, params)
        if field.key in NOT_NULL_ATTRIBUTES:
            return predicate
        return f"({column} IS NOT NULL AND {predicate})"

    table = {"metrics": "metric_summaries", "params": "params", "tags": "tags"}[field.entity]
    if op in ("IS NULL", "IS NOT NULL"):
        params.append(field.key)
        return _membership(table, "key = ?", correlated, negate=op == "IS NULL")

    params.append(field.key)
    if field.entity == "metrics":
        predicate = _value_predicate("last", op, value, params, nan_aware=True)
    else:
        values = value if isinstance(value, tuple) else (value,)
        numeric = any(isinstance(v, (int, float)) for v in values)
        if numeric:
            predicate = f"num IS NOT NULL AND {_value_predicate('num', op, value, params)}"
        else:
            value = tuple(str(v) for v in value) if isinstance(value, tuple) else value
            predicate = _value_predicate("value", op, value, params)
    return _membership(table, f"key = ? AND {predicate}", correlated)


def compile_order_by(order: Sequence[OrderBy], params: list[Any]) -> tuple[list[str], list[str]]:
    """Return (JOIN clauses, ORDER BY terms). Missing values sort last in either direction."""
    joins: list[str] = []
    terms: list[str] = []
    for n, item in enumerate(order):
        direction = "DESC" if item.descending else "ASC"
        f = item.field
        if f.entity == "attributes":
            column = f"r.{ATTRIBUTES[f.key][0]}"
            if f.key not in NOT_NULL_ATTRIBUTES:  # the term would stop SQLite using an index
                terms.append(f"{column} IS NULL")
            terms.append(f"{column} {direction}")
            continue
        alias = f"o{n}"
        params.append(f.key)
        if f.entity == "metrics":
            joins.append(
                f"LEFT JOIN metric_summaries {alias} ON {alias}.run = r.id AND {alias}.key = ?"
            )
            terms.append(f"{alias}.last IS NULL")
            terms.append(f"{alias}.last {direction}")
        else:
            table = f.entity  # params or tags
            joins.append(f"LEFT JOIN {table} {alias} ON {alias}.run = r.id AND {alias}.key = ?")
            terms.append(f"{alias}.value IS NULL")
            terms.append(f"{alias}.num IS NULL")  # numbers first, in numeric order
            terms.append(f"{alias}.num {direction}")
            terms.append(f"{alias}.value {direction}")
    return joins, terms


# ------------------------------------------------------------------------ traces compiler

# keyed trace entities -> (table, the key's condition); value columns: value_text/num or
# value/num
_TRACE_KEYED = {
    "tags": ("trace_tags", "key = ?", "value"),
    "metadata": ("trace_metadata", "key = ?", "value"),
    "feedback": ("assessments", "kind = 'feedback' AND name = ?", "value_text"),
    "expectation": ("assessments", "kind = 'expectation' AND name = ?", "value_text"),
}


def compile_trace_filter(node: Node | None) -> CompiledFilter:
    """Compile a tree parsed with :data:`TRACES` to a WHERE fragment over ``traces t``."""
    params: list[Any] = []
    if node is None:
        return CompiledFilter("1", params)
    return CompiledFilter(_compile_trace(node, params), params)


def _compile_trace(node: Node, params: list[Any]) -> str:
    if isinstance(node, And):
        return "(" + " AND ".join(_compile_trace(n, params) for n in node.items) + ")"
    if isinstance(node, Or):
        return "(" + " OR ".join(_compile_trace(n, params) for n in node.items) + ")"
    if isinstance(node, Not):
        return f"(NOT {_compile_trace(node.item, params)})"
    return _compile_trace_compare(node, params)


def _trace_membership(table: str, condition: str, negate: bool = False) -> str:
    return f"t.id {'NOT ' if negate else ''}IN (SELECT trace FROM {table} WHERE {condition})"


def _compile_trace_compare(node: Compare, params: list[Any]) -> str:
    field, op, value = node.field, node.op, node.value
    if field.entity == "attributes":
        column = f"t.{TRACE_ATTRIBUTES[field.key][0]}"
        if op == "IS NULL":
            return f"{column} IS NULL"
        if op == "IS NOT NULL":
            return f"{column} IS NOT NULL"
        predicate = _value_predicate(column, op, value, params)
        if field.key in TRACES.not_null:
            return predicate
        return f"({column} IS NOT NULL AND {predicate})"
    if field.entity == "span":
        if op in ("IS NULL", "IS NOT NULL"):
            return _trace_membership("spans", "1 = 1", negate=op == "IS NULL")
        if field.key == "duration_ms":
            column = "(end_ns - start_ns) / 1e6"
            predicate = f"end_ns IS NOT NULL AND {_value_predicate(column, op, value, params)}"
        else:
            predicate = _value_predicate(SPAN_FIELDS[field.key][0], op, value, params)
        return _trace_membership("spans", predicate)
    table, key_condition, text_column = _TRACE_KEYED[field.entity]
    params.append(field.key)
    if op in ("IS NULL", "IS NOT NULL"):
        return _trace_membership(table, key_condition, negate=op == "IS NULL")
    values = value if isinstance(value, tuple) else (value,)
    if any(isinstance(v, (int, float)) for v in values):
        predicate = f"num IS NOT NULL AND {_value_predicate('num', op, value, params)}"
    else:
        value = tuple(str(v) for v in value) if isinstance(value, tuple) else value
        predicate = (
            f"{text_column} IS NOT NULL AND {_value_predicate(text_column, op, value, params)}"
        )
    return _trace_membership(table, f"{key_condition} AND {predicate}")


def compile_trace_order_by(
    order: Sequence[OrderBy], params: list[Any]
) -> tuple[list[str], list[str]]:
    """(JOIN clauses, ORDER BY terms) over ``traces t``; missing values sort last."""
    joins: list[str] = []
    terms: list[str] = []
    for n, item in enumerate(order):
        direction = "DESC" if item.descending else "ASC"
        f = item.field
        if f.entity == "attributes":
            column = f"t.{TRACE_ATTRIBUTES[f.key][0]}"
            if f.key not in TRACES.not_null:
                terms.append(f"{column} IS NULL")
            terms.append(f"{column} {direction}")
            continue
        alias = f"o{n}"
        table = {"tags": "trace_tags", "metadata": "trace_metadata"}[f.entity]
        params.append(f.key)
        joins.append(f"LEFT JOIN {table} {alias} ON {alias}.trace = t.id AND {alias}.key = ?")
        terms.append(f"{alias}.value IS NULL")
        terms.append(f"{alias}.num IS NULL")
        terms.append(f"{alias}.num {direction}")
        terms.append(f"{alias}.value {direction}")
    return joins, terms


# --------------------------------------------------------------- Python reference semantics


def param_number(text: str) -> float | None:
    """A param's numeric reading, or None when it is not a number (stored in ``params.num``)."""
    try:
        number = float(text)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _like(value: str, pattern: str, fold: bool) -> bool:
    regex = "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern)
    if fold:
        return re.fullmatch(regex, value, re.DOTALL | re.IGNORECASE | re.ASCII) is not None
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _compare_python(actual: Any, op: str, value: Any) -> bool:
    if op == "=":
        return bool(actual == value)
    if op == "!=":
        return bool(actual != value)
    if op == "<":
        return bool(actual < value)
    if op == "<=":
        return bool(actual <= value)
    if op == ">":
        return bool(actual > value)
    if op == ">=":
        return bool(actual >= value)
    if op == "IN":
        return any(actual == v for v in value)
    if op == "NOT IN":
        return all(actual != v for v in value)
    if op in ("LIKE", "ILIKE"):
        return _like(actual, value, op == "ILIKE")
    if op in ("NOT LIKE", "NOT ILIKE"):
        return not _like(actual, value, op == "NOT ILIKE")
    raise AssertionError(op)


def assessment_number(value: Any) -> float | None:
    """The number a feedback or expectation value compares as (booleans are 1 and 0)."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        number = float(value)
        return None if number != number else number
    if isinstance(value, str):
        return param_number(value)
    return None


def assessment_text(value: Any) -> str | None:
    """The text a feedback or expectation value compares as: strings as they are, booleans
    as ``true``/``false``, other values as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    import json

    return json.dumps(value, default=str)


def evaluate(node: Node | None, run: Mapping[str, Any], table: FieldTable = RUNS) -> bool:
    """Evaluate a parse tree on one item in plain Python.

    For runs, ``run`` maps "metrics", "params", "tags", "attributes" to dicts (attributes by
    column name). For traces: "attributes" (by column name), "tags", "metadata" (dicts),
    "span" (a list of dicts with name, span_type, status, duration_ms) and "feedback" /
    "expectation" (name -> list of values). This is the reference the property tests compare
    the SQL against; it is not used to answer searches.
    """
    if node is None:
        return True
    if isinstance(node, And):
        return all(evaluate(n, run, table) for n in node.items)
    if isinstance(node, Or):
        return any(evaluate(n, run, table) for n in node.items)
    if isinstance(node, Not):
        return not evaluate(node.item, run, table)
    field, op, value = node.field, node.op, node.value
    values = value if isinstance(value, tuple) else (value,)
    numeric = any(isinstance(v, (int, float)) for v in values)
    if field.entity in table.fixed:  # true when any of the entity's rows matches
        rows = run.get(field.entity) or []
        if op in ("IS NULL", "IS NOT NULL"):
            return (not rows) == (op == "IS NULL")
        column = "span_type" if field.key == "type" else field.key
        return any(
            row.get(column) is not None and _compare_python(row[column], op, value) for row in rows
        )
    if field.entity in ("feedback", "expectation"):
        found = (run.get(field.entity) or {}).get(field.key) or []
        if op in ("IS NULL", "IS NOT NULL"):
            return (not found) == (op == "IS NULL")
        if not numeric:
            value = tuple(str(v) for v in value) if isinstance(value, tuple) else value
        for item in found:
            actual = assessment_number(item) if numeric else assessment_text(item)
            if actual is not None and _compare_python(actual, op, value):
                return True
        return False
    key = table.attributes[field.key][0] if field.entity == "attributes" else field.key
    present = key in run[field.entity] and run[field.entity][key] is not None
    if op == "IS NULL":
        return not present
    if op == "IS NOT NULL":
        return present
    if not present:
        return False
    actual = run[field.entity][key]
    if field.entity in ("params", "tags", "metadata"):
        if numeric:
            actual = param_number(actual)
            if actual is None:
                return False
        else:
            value = tuple(str(v) for v in value) if isinstance(value, tuple) else value
    return _compare_python(actual, op, value)
