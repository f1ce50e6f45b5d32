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
from typing import Any, Union

from .errors import FilterSyntaxError

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

COMPARISONS = ("=", "!=", "<", "<=", ">", ">=", "LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE")


# ---------------------------------------------------------------------------------- tree


@dataclass(frozen=True)
class Field:
    """``entity.key``; entity is metrics, params, tags or attributes."""

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
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

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
        if self.is_word("NOT"):
            self.advance()
            return Not(self.parse_not())
        if self.tok.kind == "punct" and self.tok.text == "(":
            self.advance()
            node = self.parse_or()
            if not (self.tok.kind == "punct" and self.tok.text == ")"):
                raise self.fail("')' to close the group, AND or OR")
            self.advance()
            return node
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
            raise self.fail("a field such as metrics.acc, params.lr, tags.team or status")
        self.advance()
        word = tok.text
        head, dot, rest = word.partition(".")
        entity = ENTITY_ALIASES.get(head.lower()) if dot else None
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
        return Field(entity, key)

    def _attribute(self, name: str, tok: Token) -> Field:
        if name.lower() not in ATTRIBUTES:
            known = ", ".join(sorted(ATTRIBUTES))
            raise FilterSyntaxError(
                self.text,
                tok.pos,
                f"metrics.<key>, params.<key>, tags.<key> or an attribute ({known})",
                repr(name),
            )
        return Field("attributes", name.lower())

    def parse_value(self, field: Field) -> str | float:
        tok = self.tok
        if tok.kind == "string":
            self.advance()
            return unquote(tok.text)
        if tok.kind == "number":
            self.advance()
            number = float(tok.text)
            return (
                int(number)
                if number.is_integer() and re.fullmatch(r"[-+]?\d+", tok.text)
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
        _check_types(self.text, field_tok.pos, node)
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


def _check_types(text: str, pos: int, node: Compare) -> None:
    field, op, value = node.field, node.op, node.value
    values = value if isinstance(value, tuple) else (value,)
    if field.entity == "metrics":
        if "LIKE" in op:
            raise FilterSyntaxError(
                text, pos, f"a numeric comparison for {field} (LIKE needs text)"
            )
        if op not in ("IS NULL", "IS NOT NULL") and any(isinstance(v, str) for v in values):
            raise FilterSyntaxError(
                text, pos, f"a number to compare metric {field} with", "a string"
            )
    if field.entity == "attributes":
        kind = ATTRIBUTES[field.key][1]
        if kind == "number" and "LIKE" in op:
            raise FilterSyntaxError(text, pos, f"a numeric comparison for {field}")
        if kind == "number" and any(isinstance(v, str) for v in values) and value is not None:
            raise FilterSyntaxError(text, pos, f"a number to compare {field} with", "a string")
        if kind == "text" and any(isinstance(v, (int, float)) for v in values):
            raise FilterSyntaxError(
                text, pos, f"a quoted string to compare {field} with", "a number"
            )


def parse_filter(text: str | None) -> Node | None:
    """Parse a filter string into a tree; ``None`` for an empty filter."""
    if text is None or not text.strip():
        return None
    return _Parser(text).parse_filter()


def parse_order_by(clauses: Sequence[str] | None) -> list[OrderBy]:
    """Parse ``["metrics.acc DESC", "start_time"]`` into :class:`OrderBy` items."""
    result: list[OrderBy] = []
    for clause in clauses or []:
        parser = _Parser(clause)
        field = parser.parse_field()
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


def evaluate(node: Node | None, run: Mapping[str, Mapping[str, Any]]) -> bool:
    """Evaluate a parse tree on one run in plain Python.

    ``run`` maps "metrics", "params", "tags", "attributes" to dicts. This is the reference the
    property tests compare the SQL against; it is not used to answer searches.
    """
    if node is None:
        return True
    if isinstance(node, And):
        return all(evaluate(n, run) for n in node.items)
    if isinstance(node, Or):
        return any(evaluate(n, run) for n in node.items)
    if isinstance(node, Not):
        return not evaluate(node.item, run)
    field, op, value = node.field, node.op, node.value
    key = ATTRIBUTES[field.key][0] if field.entity == "attributes" else field.key
    present = key in run[field.entity] and run[field.entity][key] is not None
    if op == "IS NULL":
        return not present
    if op == "IS NOT NULL":
        return present
    if not present:
        return False
    actual = run[field.entity][key]
    if field.entity in ("params", "tags"):
        values = value if isinstance(value, tuple) else (value,)
        if any(isinstance(v, (int, float)) for v in values):
            actual = param_number(actual)
            if actual is None:
                return False
        else:
            value = tuple(str(v) for v in value) if isinstance(value, tuple) else value
    return _compare_python(actual, op, value)
