"""The filter language of every search: text -> parse tree -> parameterized SQL per engine.

One grammar for runs, registered models and model versions (traces later); what a filter may
name is a field table per entity (:data:`RUNS`, :data:`REGISTERED_MODELS`,
:data:`MODEL_VERSIONS`): its attributes (columns, or multi-valued fields such as a model's
aliases) and its key/value collections (``metrics``, ``params``, ``tags``). Adding an entity is
adding a :class:`Fields` table; the parser, the compiler and the plain-Python reference are
shared. SQL that differs between engines (LIKE, ILIKE, NULL-aware inequality) comes from the
engine's dialect.

Grammar (MLflow's ``search_runs`` syntax, plus ``OR``, ``NOT`` and parentheses)::

    filter      := or_expr
    or_expr     := and_expr ("OR" and_expr)*
    and_expr    := not_expr ("AND" not_expr)*
    not_expr    := "NOT" not_expr | "(" or_expr ")" | comparison
    comparison  := field op value
                 | field ["NOT"] "IN" "(" value ("," value)* ")"
                 | field "IS" ["NOT"] "NULL"
    field       := [entity "."] key
    entity      := a collection of the entity (runs: metrics | params | tags; models and
                   versions: tags) | attributes      (singular forms and "attr" accepted)
    key         := name | `backticked key` | "double-quoted key"
    op          := "=" | "==" | "!=" | "<>" | "<" | "<=" | ">" | ">=" | "LIKE" | "ILIKE"
                 | "NOT LIKE" | "NOT ILIKE"
    value       := 'string' | "string" | number

Keywords are case-insensitive. A field without an entity must be an attribute
(``status = 'FINISHED'``, ``name LIKE 'fraud%'``). Filters are limited in length, number of
comparisons and nesting (``MAX_FILTER_*`` in :mod:`.validation`); an integer literal beyond 18
digits compares as a float.

Semantics (the same in SQL and in :func:`evaluate`, the plain-Python reference used by tests):

* a comparison on a key the run does not have is false (``IS NULL`` is true exactly then);
* metrics compare as numbers (their last value); NaN is a value: only ``!=`` and ``NOT IN`` are
  true for it;
* params and tags compare as text against a string literal, and as numbers against a number
  literal (a value that is not a number is then "missing"); registry tags are text only;
* a multi-valued attribute (``alias``) matches when any of its values does; ``IS NULL`` when
  it has none;
* ``LIKE`` is case-sensitive, ``ILIKE`` is not (ASCII case folding), with ``%`` and ``_``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

from .dialects.base import Dialect
from .errors import FilterSyntaxError
from .validation import MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, MAX_FILTER_TERMS, param_number

# --------------------------------------------------------------------------- field tables


@dataclass(frozen=True)
class Attribute:
    """A field read from the entity's own row (``status``) or, with ``exists``, from rows of
    another table (a model's aliases): the comparison holds when any of them matches."""

    column: str  # SQL expression, e.g. "r.status"
    kind: str  # "text" or "number"
    nullable: bool = True
    #: multi-valued: "EXISTS (SELECT 1 FROM ... WHERE ... AND {predicate})"
    exists: str | None = None

    @property
    def record_key(self) -> str:
        """The key of this attribute in a plain-Python record (see :func:`evaluate`)."""
        return self.column.rsplit(".", 1)[-1]


@dataclass(frozen=True)
class FixedKey:
    """A key of a fixed-key collection (``span.name``): a SQL expression over the collection's
    rows, its kind, an optional guard (a condition the row must meet for the expression to mean
    something) and the key of the value in a plain-Python record."""

    expression: str
    kind: str
    record_key: str
    guard: str | None = None


@dataclass(frozen=True)
class Collection:
    """Rows attached to the entity: key/value pairs (``params.lr``, ``metrics.acc``,
    ``tags.team``, ``feedback.relevance``) or, with ``fixed``, rows with a fixed set of fields
    (``span.name``). A comparison holds when any of the entity's rows matches."""

    table: str
    owner: str  # the column of ``table`` that holds the entity's key
    value: str  # the value column
    kind: str  # "text" (compared as text, or as a number via ``num``) or "number"
    num: str | None = None  # a text value read as a number (NULL when it is not one)
    nan_is_null: bool = False  # NULL in ``value`` means NaN (metrics)
    key: str = "key = ?"  # the condition that selects a key (one parameter: the key)
    fixed: Mapping[str, FixedKey] | None = None  # a fixed-key collection's fields
    orderable: bool = True
    #: the plain-Python reference: a record holds a list of values per key (assessments), read
    #: as numbers / text with these
    multi: bool = False
    as_number: Callable[[Any], float | None] | None = None
    as_text: Callable[[Any], str | None] | None = None


@dataclass(frozen=True)
class Fields:
    """What a filter may name for one entity (runs, registered models, model versions ...)."""

    entity: str  # for messages: "runs"
    key: str  # the entity row's key, e.g. "r.id"
    attributes: Mapping[str, Attribute]
    collections: Mapping[str, Collection]
    #: prefixes accepted before the dot: singular forms and synonyms -> a collection name or
    #: "attributes"
    prefixes: Mapping[str, str]

    def describe(self) -> str:
        kinds = []
        for name, coll in self.collections.items():
            if coll.fixed:
                kinds += [f"{name}.{key}" for key in coll.fixed]
            else:
                kinds.append(f"{name}.<key>")
        attrs = ", ".join(sorted(self.attributes))
        head = ", ".join(kinds)
        return f"{head} or an attribute ({attrs})" if head else f"an attribute ({attrs})"


_ATTRIBUTE_PREFIXES = {"attribute": "attributes", "attributes": "attributes", "attr": "attributes"}

# A run's recorded inputs are tags jt.input.<name>.<field>: the name is the key between the
# prefix (9 characters) and ".digest" (7).
_INPUT_DIGEST_KEY = "key LIKE 'jt.input.%.digest'"
_INPUT_CONTEXT_KEY = "key LIKE 'jt.input.%.context'"
_INPUT_NAME = "substr(key, 10, length(key) - 16)"

RUNS = Fields(
    entity="runs",
    key="r.id",
    attributes={
        "run_id": Attribute("r.run_id", "text", nullable=False),
        "run_name": Attribute("r.run_name", "text"),
        "status": Attribute("r.status", "text", nullable=False),
        "user_id": Attribute("r.user_id", "text"),
        "user": Attribute("r.user_id", "text"),
        "start_time": Attribute("r.start_time", "number", nullable=False),
        "created": Attribute("r.start_time", "number", nullable=False),
        "end_time": Attribute("r.end_time", "number"),
        "artifact_uri": Attribute("r.artifact_uri", "text"),
        "lifecycle_stage": Attribute("r.lifecycle_stage", "text", nullable=False),
        "experiment_id": Attribute("r.experiment_id", "number", nullable=False),
        "parent_run_id": Attribute("r.parent_run_id", "text"),
        "notebook": Attribute("r.notebook", "text"),
        "cell_id": Attribute("r.cell_id", "text"),
        "execution_count": Attribute("r.execution_count", "number"),
        "environment": Attribute("r.environment", "text"),
    },
    collections={
        "metrics": Collection("metric_summaries", "run", "last", "number", nan_is_null=True),
        "params": Collection("params", "run", "value", "text", num="num"),
        "tags": Collection("tags", "run", "value", "text", num="num"),
        # MLflow's dataset.name / dataset.digest / dataset.context: the inputs a run recorded,
        # read from their jt.input.<name>.{digest,context} tags (lineage.inputs)
        "datasets": Collection(
            "tags",
            "run",
            "value",
            "text",
            orderable=False,
            fixed={
                "name": FixedKey(_INPUT_NAME, "text", "name", _INPUT_DIGEST_KEY),
                "digest": FixedKey("value", "text", "digest", _INPUT_DIGEST_KEY),
                "context": FixedKey("value", "text", "context", _INPUT_CONTEXT_KEY),
            },
        ),
    },
    prefixes={
        "dataset": "datasets",
        "datasets": "datasets",
        "metric": "metrics",
        "metrics": "metrics",
        "param": "params",
        "params": "params",
        "parameter": "params",
        "parameters": "params",
        "tag": "tags",
        "tags": "tags",
        "run": "attributes",
        **_ATTRIBUTE_PREFIXES,
    },
)

REGISTERED_MODELS = Fields(
    entity="registered models",
    key="m.id",
    attributes={
        "name": Attribute("m.name", "text", nullable=False),
        "description": Attribute("m.description", "text"),
        "creation_timestamp": Attribute("m.creation_time", "number", nullable=False),
        "creation_time": Attribute("m.creation_time", "number", nullable=False),
        "last_updated_timestamp": Attribute("m.last_updated_time", "number", nullable=False),
        "last_updated_time": Attribute("m.last_updated_time", "number", nullable=False),
        "alias": Attribute(
            "a.alias",
            "text",
            exists="EXISTS (SELECT 1 FROM registered_model_aliases a WHERE a.model = m.id "
            "AND {predicate})",
        ),
    },
    collections={"tags": Collection("registered_model_tags", "model", "value", "text")},
    prefixes={"tag": "tags", "tags": "tags", **_ATTRIBUTE_PREFIXES},
)

MODEL_VERSIONS = Fields(
    entity="model versions",
    key="v.id",
    attributes={
        "name": Attribute("m.name", "text", nullable=False),
        "version": Attribute("v.version", "number", nullable=False),
        "version_number": Attribute("v.version", "number", nullable=False),
        "run_id": Attribute("v.run_id", "text"),
        "source": Attribute("v.source", "text", nullable=False),
        "source_path": Attribute("v.source", "text", nullable=False),
        "description": Attribute("v.description", "text"),
        "user_id": Attribute("v.user_id", "text"),
        "status": Attribute("v.status", "text", nullable=False),
        "creation_timestamp": Attribute("v.creation_time", "number", nullable=False),
        "creation_time": Attribute("v.creation_time", "number", nullable=False),
        "last_updated_timestamp": Attribute("v.last_updated_time", "number", nullable=False),
        "last_updated_time": Attribute("v.last_updated_time", "number", nullable=False),
        "alias": Attribute(
            "a.alias",
            "text",
            exists="EXISTS (SELECT 1 FROM registered_model_aliases a WHERE a.model = v.model "
            "AND a.version = v.version AND {predicate})",
        ),
    },
    collections={"tags": Collection("model_version_tags", "model_version", "value", "text")},
    prefixes={"tag": "tags", "tags": "tags", **_ATTRIBUTE_PREFIXES},
)


EXPERIMENTS = Fields(
    entity="experiments",
    key="e.experiment_id",
    attributes={
        "name": Attribute("e.name", "text", nullable=False),
        "experiment_id": Attribute("e.experiment_id", "number", nullable=False),
        "creation_time": Attribute("e.creation_time", "number", nullable=False),
        "last_update_time": Attribute("e.last_update_time", "number", nullable=False),
    },
    collections={"tags": Collection("experiment_tags", "experiment_id", "value", "text")},
    prefixes={"tag": "tags", "tags": "tags", **_ATTRIBUTE_PREFIXES},
)


LOGGED_MODELS = Fields(
    entity="logged models",
    key="",  # evaluated in Python (MLflow 3 logged models live in run tags)
    attributes={
        name: Attribute(name, "text") for name in ("name", "source_run_id", "model_id", "status")
    },
    collections={},
    prefixes=_ATTRIBUTE_PREFIXES,
)


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


# MLflow's trace names (timestamp_ms, execution_time_ms, request_id, state) beside
# jupyter-track's own
_TRACE_COLUMNS: dict[str, tuple[str, str, bool]] = {  # name -> (column, kind, nullable)
    "trace_id": ("trace_id", "text", False),
    "request_id": ("trace_id", "text", False),
    "name": ("name", "text", True),
    "status": ("status", "text", False),
    "state": ("status", "text", False),
    "timestamp_ms": ("start_time", "number", False),
    "timestamp": ("start_time", "number", False),
    "start_time": ("start_time", "number", False),
    "request_time": ("start_time", "number", False),
    "end_time": ("end_time", "number", True),
    "execution_time_ms": ("execution_time_ms", "number", True),
    "execution_duration": ("execution_time_ms", "number", True),
    "run_id": ("run_id", "text", True),
    "experiment_id": ("experiment_id", "number", False),
    "span_count": ("span_count", "number", False),
    "input_tokens": ("input_tokens", "number", True),
    "output_tokens": ("output_tokens", "number", True),
    "total_tokens": ("total_tokens", "number", True),
    "client_request_id": ("client_request_id", "text", True),
    "request_preview": ("request_preview", "text", True),
    "response_preview": ("response_preview", "text", True),
    "notebook": ("notebook", "text", True),
    "cell_id": ("cell_id", "text", True),
    "source": ("source", "text", True),
}


def _assessments(kind: str) -> Collection:
    """Feedback or expectations: several values per name, compared as numbers or as text."""
    return Collection(
        "assessments",
        "trace",
        "value_text",
        "text",
        num="num",
        key=f"kind = '{kind}' AND name = ?",
        orderable=False,
        multi=True,
        as_number=assessment_number,
        as_text=assessment_text,
    )


TRACES = Fields(
    entity="traces",
    key="t.id",
    attributes={
        name: Attribute(f"t.{column}", kind, nullable=nullable)
        for name, (column, kind, nullable) in _TRACE_COLUMNS.items()
    },
    collections={
        "tags": Collection("trace_tags", "trace", "value", "text", num="num"),
        "metadata": Collection("trace_metadata", "trace", "value", "text", num="num"),
        "span": Collection(
            "spans",
            "trace",
            "name",
            "text",
            orderable=False,
            fixed={
                "name": FixedKey("name", "text", "name"),
                "type": FixedKey("span_type", "text", "span_type"),
                "span_type": FixedKey("span_type", "text", "span_type"),
                "status": FixedKey("status", "text", "status"),
                "duration_ms": FixedKey(
                    "(end_ns - start_ns) / 1e6", "number", "duration_ms", "end_ns IS NOT NULL"
                ),
            },
        ),
        "feedback": _assessments("feedback"),
        "expectation": _assessments("expectation"),
    },
    prefixes={
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
)

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

_RESERVED = ("AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE")


class _Parser:
    def __init__(self, text: str, fields: Fields):
        if len(text) > MAX_FILTER_LENGTH:
            raise FilterSyntaxError(
                text[:80] + "...",
                0,
                f"a filter of at most {MAX_FILTER_LENGTH:,} characters (got {len(text):,})",
            )
        self.text = text
        self.fields = fields
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
        if tok.kind != "word" or tok.upper in _RESERVED:
            raise self.fail(f"a field such as {self._example()}")
        self.advance()
        word = tok.text
        head, dot, rest = word.partition(".")
        entity = self.fields.prefixes.get(head.lower()) if dot else None
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
        fixed = self.fields.collections[entity].fixed
        if fixed is not None:
            if key.lower() not in fixed:
                raise FilterSyntaxError(
                    self.text,
                    tok.pos,
                    f"one of {', '.join(f'{entity}.{k}' for k in fixed)}",
                    repr(word if rest else f"{word}{key}"),
                )
            key = key.lower()
        return Field(entity, key)

    def _example(self) -> str:
        names = [f"{c}.<key>" for c in self.fields.collections][:3]
        return ", ".join([*names, next(iter(self.fields.attributes))])

    def _attribute(self, name: str, tok: Token) -> Field:
        if name.lower() not in self.fields.attributes:
            raise FilterSyntaxError(self.text, tok.pos, self.fields.describe(), repr(name))
        return Field("attributes", name.lower())

    def parse_value(self, field: Field) -> str | float:
        tok = self.tok
        if tok.kind == "string":
            self.advance()
            return unquote(tok.text)
        if tok.kind == "number":
            self.advance()
            number = float(tok.text)
            # an integer literal stays exact when a 64-bit integer can hold it; a larger one
            # compares as the float it is closest to (inf beyond the float range)
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
        _check_types(self.text, field_tok.pos, node, self.fields)
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


def _kind(field: Field, fields: Fields) -> str:
    if field.entity == "attributes":
        return fields.attributes[field.key].kind
    coll = fields.collections[field.entity]
    return coll.fixed[field.key].kind if coll.fixed else coll.kind


def _check_types(text: str, pos: int, node: Compare, fields: Fields) -> None:
    field, op, value = node.field, node.op, node.value
    if op in ("IS NULL", "IS NOT NULL"):
        return
    values = value if isinstance(value, tuple) else (value,)
    kind = _kind(field, fields)
    numbers = [v for v in values if isinstance(v, (int, float))]
    if kind == "number":
        if "LIKE" in op:
            raise FilterSyntaxError(
                text, pos, f"a numeric comparison for {field} (LIKE needs text)"
            )
        if len(numbers) < len(values):
            raise FilterSyntaxError(text, pos, f"a number to compare {field} with", "a string")
    elif numbers:
        numeric_text = (
            field.entity != "attributes"
            and not fields.collections[field.entity].fixed
            and fields.collections[field.entity].num
        )
        if not numeric_text:
            raise FilterSyntaxError(
                text, pos, f"a quoted string to compare {field} with", "a number"
            )


def parse_filter(text: str | None, fields: Fields = RUNS) -> Node | None:
    """Parse a filter string into a tree; ``None`` for an empty filter."""
    if text is None or not text.strip():
        return None
    return _Parser(text, fields).parse_filter()


def parse_order_by(clauses: Sequence[str] | None, fields: Fields = RUNS) -> list[OrderBy]:
    """Parse ``["metrics.acc DESC", "start_time"]`` (or one clause) into :class:`OrderBy`."""
    result: list[OrderBy] = []
    if isinstance(clauses, str):
        clauses = [clauses]
    for clause in clauses or []:
        parser = _Parser(str(clause), fields)
        field = parser.parse_field()
        if (field.entity == "attributes" and fields.attributes[field.key].exists) or (
            field.entity != "attributes" and not fields.collections[field.entity].orderable
        ):
            orderable = [f"{n}.<key>" for n, c in fields.collections.items() if c.orderable]
            raise FilterSyntaxError(
                parser.text,
                0,
                f"a field to order by ({', '.join([*orderable, 'an attribute'])})",
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


_SQL_OP = {"=": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass
class CompiledFilter:
    """A WHERE fragment over the entity's table (runs aliased ``r``, models ``m``, versions
    ``v`` joined to their model ``m``), and its parameters."""

    sql: str
    params: list[Any]


class _Compiler:
    def __init__(self, fields: Fields, dialect: Dialect, correlated: bool):
        self.fields = fields
        self.dialect = dialect
        self.correlated = correlated
        self.params: list[Any] = []

    def node(self, node: Node) -> str:
        if isinstance(node, And):
            return "(" + " AND ".join(self.node(n) for n in node.items) + ")"
        if isinstance(node, Or):
            return "(" + " OR ".join(self.node(n) for n in node.items) + ")"
        if isinstance(node, Not):
            return f"(NOT {self.node(node.item)})"
        return self.compare(node)

    def predicate(self, column: str, op: str, value: Any, *, nan_aware: bool = False) -> str:
        """A predicate on one column; with ``nan_aware`` NULL in the column means NaN."""
        params = self.params
        if op in _SQL_OP:
            params.append(value)
            if op == "!=" and nan_aware:
                return self.dialect.is_distinct(column)
            return f"{column} {_SQL_OP[op]} ?"
        if op in ("IN", "NOT IN"):
            params.extend(value)
            marks = ", ".join("?" * len(value))
            if op == "NOT IN" and nan_aware:
                return f"({column} IS NULL OR {column} NOT IN ({marks}))"
            return f"{column} {op} ({marks})"
        if "LIKE" in op:
            return self.dialect.like(column, op, value, params)
        raise AssertionError(op)

    def membership(self, coll: Collection, condition: str, negate: bool = False) -> str:
        """ "The entity has a row in the collection matching ``condition``" in one of the two
        shapes (see :func:`compile_filter`)."""
        neg = "NOT " if negate else ""
        if self.correlated:
            return (
                f"{neg}EXISTS (SELECT 1 FROM {coll.table} x WHERE x.{coll.owner} = "
                f"{self.fields.key} AND {condition})"
            )
        return (
            f"{self.fields.key} {neg}IN (SELECT {coll.owner} FROM {coll.table} WHERE {condition})"
        )

    def compare(self, node: Compare) -> str:
        field, op, value = node.field, node.op, node.value
        if field.entity == "attributes":
            attr = self.fields.attributes[field.key]
            if attr.exists:
                if op in ("IS NULL", "IS NOT NULL"):
                    found = attr.exists.format(predicate="1 = 1")
                    return f"NOT {found}" if op == "IS NULL" else found
                return attr.exists.format(predicate=self.predicate(attr.column, op, value))
            column = attr.column
            if op == "IS NULL":
                return f"{column} IS NULL"
            if op == "IS NOT NULL":
                return f"{column} IS NOT NULL"
            predicate = self.predicate(column, op, value)
            if not attr.nullable:
                return predicate
            return f"({column} IS NOT NULL AND {predicate})"

        coll = self.fields.collections[field.entity]
        if coll.fixed:  # some row of the collection matches
            if op in ("IS NULL", "IS NOT NULL"):
                return self.membership(coll, "1 = 1", negate=op == "IS NULL")
            fixed = coll.fixed[field.key]
            predicate = self.predicate(fixed.expression, op, value)
            return self.membership(
                coll, f"{fixed.guard} AND {predicate}" if fixed.guard else predicate
            )
        self.params.append(field.key)
        if op in ("IS NULL", "IS NOT NULL"):
            return self.membership(coll, coll.key, negate=op == "IS NULL")
        if coll.kind == "number":
            predicate = self.predicate(coll.value, op, value, nan_aware=coll.nan_is_null)
        else:
            values = value if isinstance(value, tuple) else (value,)
            if coll.num and any(isinstance(v, (int, float)) for v in values):
                predicate = f"{coll.num} IS NOT NULL AND {self.predicate(coll.num, op, value)}"
            else:
                predicate = self.predicate(coll.value, op, value)
        return self.membership(coll, f"{coll.key} AND {predicate}")


def compile_filter(
    node: Node | None, dialect: Dialect, *, fields: Fields = RUNS, correlated: bool = False
) -> CompiledFilter:
    """Compile a parse tree to SQL for ``dialect``; every user value becomes a bound parameter.

    Two equivalent shapes for fields held in other tables (params, metrics, tags):
    set-based ``r.id IN (SELECT run ...)`` (the default; best when the engine visits every
    match, as a count does) and ``correlated=True``, ``EXISTS (...)`` probes by key (best when
    rows are visited in an index's order and the page fills early).
    """
    if node is None:
        return CompiledFilter("1 = 1", [])
    compiler = _Compiler(fields, dialect, correlated)
    return CompiledFilter(compiler.node(node), compiler.params)


def compile_order_by(
    order: Sequence[OrderBy], params: list[Any], fields: Fields = RUNS
) -> tuple[list[str], list[str]]:
    """Return (JOIN clauses, ORDER BY terms). Missing values sort last in either direction."""
    joins: list[str] = []
    terms: list[str] = []
    for n, item in enumerate(order):
        direction = "DESC" if item.descending else "ASC"
        f = item.field
        if f.entity == "attributes":
            attr = fields.attributes[f.key]
            if attr.nullable:  # the term would stop SQLite using an index
                terms.append(f"{attr.column} IS NULL")
            terms.append(f"{attr.column} {direction}")
            continue
        coll = fields.collections[f.entity]
        alias = f"o{n}"
        params.append(f.key)
        joins.append(
            f"LEFT JOIN {coll.table} {alias} ON {alias}.{coll.owner} = {fields.key} "
            f"AND {alias}.key = ?"
        )
        terms.append(f"{alias}.{coll.value} IS NULL")
        if coll.num:
            terms.append(f"{alias}.{coll.num} IS NULL")  # numbers first, in numeric order
            terms.append(f"{alias}.{coll.num} {direction}")
        terms.append(f"{alias}.{coll.value} {direction}")
    return joins, terms


# --------------------------------------------------------------- Python reference semantics


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


def evaluate(
    node: Node | None, record: Mapping[str, Mapping[str, Any]], fields: Fields = RUNS
) -> bool:
    """Evaluate a parse tree on one record in plain Python.

    ``record`` maps each collection name ("metrics", "params", "tags") and "attributes" to a
    dict; attributes are keyed by column name (``run_name``, ``user_id``), a multi-valued one
    (a model's aliases) holds a list. A fixed-key collection (a trace's "span") holds a list of
    dicts keyed by each field's ``record_key``; a multi-valued collection ("feedback") maps a
    key to a list of values. This is the reference the property tests compare every
    engine's SQL against; it is not used to answer searches.
    """
    if node is None:
        return True
    if isinstance(node, And):
        return all(evaluate(n, record, fields) for n in node.items)
    if isinstance(node, Or):
        return any(evaluate(n, record, fields) for n in node.items)
    if isinstance(node, Not):
        return not evaluate(node.item, record, fields)
    field, op, value = node.field, node.op, node.value
    if field.entity == "attributes":
        attr = fields.attributes[field.key]
        actual = record["attributes"].get(attr.record_key)
        if attr.exists:
            items = list(actual or [])
            if op == "IS NULL":
                return not items
            if op == "IS NOT NULL":
                return bool(items)
            return any(_compare_python(item, op, value) for item in items)
    else:
        coll = fields.collections[field.entity]
        values = value if isinstance(value, tuple) else (value,)
        numeric = any(isinstance(v, (int, float)) for v in values)
        if coll.fixed:  # some row matches
            rows: list[Any] = list(record.get(field.entity) or [])
            if op in ("IS NULL", "IS NOT NULL"):
                return (not rows) == (op == "IS NULL")
            column = coll.fixed[field.key].record_key
            return any(
                row.get(column) is not None and _compare_python(row[column], op, value)
                for row in rows
            )
        if coll.multi:  # several values per key: some value matches
            found = (record.get(field.entity) or {}).get(field.key) or []
            if op in ("IS NULL", "IS NOT NULL"):
                return (not found) == (op == "IS NULL")
            if not numeric:
                value = tuple(str(v) for v in value) if isinstance(value, tuple) else value
            read = (coll.as_number if numeric else coll.as_text) or (lambda v: v)
            return any(
                (actual := read(item)) is not None and _compare_python(actual, op, value)
                for item in found
            )
        actual = record[field.entity].get(field.key)
    present = actual is not None
    if op == "IS NULL":
        return not present
    if op == "IS NOT NULL":
        return present
    if not present:
        return False
    if field.entity != "attributes" and fields.collections[field.entity].kind == "text":
        values = value if isinstance(value, tuple) else (value,)
        if any(isinstance(v, (int, float)) for v in values):
            actual = param_number(str(actual))
            if actual is None:
                return False
    return _compare_python(actual, op, value)
