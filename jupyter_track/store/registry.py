"""The model registry: registered models, numbered versions, aliases and an append-only audit log.

MLflow's names and semantics: a registered model has a unique name, a description and tags; its
versions are numbered 1, 2, ... (numbers are never reused, even after a delete) and point at a
model saved in a run's artifacts; an alias (``champion``, ``challenger``, ...) names exactly one
version of one model. ``latest`` and ``v<N>`` are reserved, as in MLflow, because
``models:/<name>/latest`` and ``v3`` already mean something.

Every change appends one row per changed thing to ``registry_audit`` *in the same transaction*:
who (``actor``, and whether the server authenticated them: ``actor_verified``), when, what
(``action``), on which model / version / alias / tag key, the old and the new value. Triggers make
the table append-only. A kernel passes the hub or OS user, unverified; the server passes the
authenticated Jupyter user, verified.

Alias moves can be compare-and-set: ``expected_version`` is the version the caller believes the
alias points to (None: "not set"); when it points elsewhere now, :class:`AliasConflict` names the
version it points to, and nothing is written.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .db import Database
from .errors import Conflict, InvalidInput, NotFound
from .experiments import now_ms
from .runs import decode_page_token, encode_page_token
from .search import like_to_glob, unquote
from .validation import (
    INT64_MAX,
    MAX_FILTER_LENGTH,
    MAX_FILTER_TERMS,
    MAX_TAG_VALUE_LENGTH,
    check_key,
    check_text,
    text_problem,
    text_value,
)

MAX_MODEL_NAME_LENGTH = 256
MAX_ALIAS_LENGTH = 255
MAX_DESCRIPTION_LENGTH = 50_000
_ALIAS_RE = re.compile(r"^[A-Za-z0-9_\-]+$")
_RESERVED_ALIAS_RE = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)


class _Unset:
    """Marker for "no compare-and-set check" (distinct from None: "expected to be unset")."""

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


class AliasConflict(Conflict):
    """A compare-and-set alias change found the alias somewhere else; nothing was written.

    ``current_version`` is the version the alias points to now (None: not set).
    """

    def __init__(self, message: str, *, name: str, alias: str, current_version: int | None):
        super().__init__(message)
        self.name = name
        self.alias = alias
        self.current_version = current_version


# ------------------------------------------------------------------------------- entities


@dataclass
class ModelVersion:
    """One version of a registered model (MLflow's ``ModelVersion``)."""

    name: str
    version: int
    creation_timestamp: int
    last_updated_timestamp: int
    description: str | None
    user_id: str | None
    source: str
    run_id: str | None
    artifact_path: str | None
    status: str = "READY"
    tags: dict[str, str] = field(default_factory=dict)
    aliases: list[str] = field(default_factory=list)
    current_stage: str = "None"  # MLflow's deprecated stages; always "None" here

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RegisteredModel:
    """A registered model (MLflow's ``RegisteredModel``); ``aliases`` maps alias -> version."""

    name: str
    creation_timestamp: int
    last_updated_timestamp: int
    description: str | None
    tags: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, int] = field(default_factory=dict)
    latest_versions: list[ModelVersion] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["latest_versions"] = [v.to_dict() for v in self.latest_versions]
        return d


@dataclass(frozen=True)
class AuditEntry:
    """One row of the registry's append-only audit log.

    ``action`` is one of ``create_registered_model``, ``update_registered_model``,
    ``rename_registered_model`` (one row under the old name, one under the new),
    ``delete_registered_model``, ``set_registered_model_tag``, ``delete_registered_model_tag``,
    ``create_model_version``, ``update_model_version``, ``delete_model_version``,
    ``set_model_version_tag``, ``delete_model_version_tag``, ``set_alias`` (``old_value`` None:
    the alias was created, else moved), ``delete_alias`` and ``rollback_alias``.
    """

    id: int
    timestamp: int
    actor: str
    actor_verified: bool
    action: str
    model: str
    version: int | None
    alias: str | None
    key: str | None
    old_value: str | None
    new_value: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PagedList(list[Any]):
    """A page of search results; ``token`` fetches the next page (None: this was the last)."""

    def __init__(self, items: Sequence[Any], token: str | None):
        super().__init__(items)
        self.token = token


# ----------------------------------------------------------------------------- validation


def check_model_name(name: Any) -> str:
    """A registered model name: non-empty text without '/', '@', ':' or control characters."""
    if not isinstance(name, str):
        raise InvalidInput(f"model name {name!r}: must be a string, got {type(name).__name__}")
    if not name.strip():
        raise InvalidInput("model name: must not be empty")
    if name != name.strip():
        raise InvalidInput(f"model name {name!r}: must not start or end with spaces")
    if len(name) > MAX_MODEL_NAME_LENGTH:
        raise InvalidInput(
            f"model name {name[:40]!r}...: is {len(name)} characters long, the limit is "
            f"{MAX_MODEL_NAME_LENGTH}"
        )
    problem = text_problem(name)
    if problem:
        raise InvalidInput(f"model name {name[:40]!r}: {problem}")
    bad = [c for c in ("/", "@", ":") if c in name]
    if bad or any(ord(c) < 32 for c in name):
        what = f"{bad[0]!r}" if bad else "control characters"
        raise InvalidInput(
            f"model name {name!r}: must not contain {what} (model URIs look like "
            "models:/<name>/<version> and models:/<name>@<alias>)"
        )
    return name


def check_alias_name(alias: Any) -> str:
    """An alias: letters, digits, '_' and '-'; not ``latest`` and not ``v<N>`` (reserved)."""
    if not isinstance(alias, str):
        raise InvalidInput(f"alias {alias!r}: must be a string, got {type(alias).__name__}")
    if not alias:
        raise InvalidInput("alias: must not be empty")
    if len(alias) > MAX_ALIAS_LENGTH:
        raise InvalidInput(f"alias {alias[:40]!r}...: longer than {MAX_ALIAS_LENGTH} characters")
    if not _ALIAS_RE.match(alias):
        problem = "spaces" if any(c.isspace() for c in alias) else "other characters"
        raise InvalidInput(
            f"alias {alias!r}: must contain only letters, digits, '_' and '-' (found {problem})"
        )
    if _RESERVED_ALIAS_RE.match(alias):
        raise InvalidInput(
            f"alias {alias!r}: is reserved ('latest' and 'v<number>' already name versions)"
        )
    return alias


def check_version(version: Any) -> int:
    """A version number: a positive int, or text of one (``"3"``)."""
    if isinstance(version, bool):
        raise InvalidInput(f"version {version!r}: must be a positive integer")
    if isinstance(version, int):
        number = version
    elif isinstance(version, str) and version.strip().isascii() and version.strip().isdigit():
        number = int(version.strip())
    else:
        raise InvalidInput(f"version {version!r}: must be a positive integer")
    if number < 1:
        raise InvalidInput(f"version {version!r}: must be a positive integer")
    if number > INT64_MAX:
        raise InvalidInput(f"version {str(version)[:40]}: out of range (a signed 64-bit integer)")
    return number


def _check_expected(expected: Any) -> int | None:
    if expected is None or expected is UNSET:
        return None
    return check_version(expected)


def _description(text: Any) -> str | None:
    if text is None:
        return None
    return check_text(text, "description", limit=MAX_DESCRIPTION_LENGTH)


def _tag(key: Any, value: Any) -> tuple[str, str]:
    check_key(key, "tag")
    return key, text_value(key, value, "tag", MAX_TAG_VALUE_LENGTH)


# ------------------------------------------------------------------------ search filters

_FILTER_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
  | (?P<number>[-+]?\d+(?![A-Za-z_]))
  | (?P<op><=|>=|!=|<>|==|=|<|>)
  | (?P<punct>[(),])
  | (?P<backtick>`[^`]*`)
  | (?P<word>[A-Za-z_][A-Za-z0-9_.\-]*)
    """,
    re.VERBOSE,
)


_FILTER_OPS = (
    "=",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "LIKE",
    "ILIKE",
    "NOT LIKE",
    "NOT ILIKE",
    "IN",
    "NOT IN",
)


@dataclass(frozen=True)
class _Clause:
    field: str  # "name", "version", "run_id", "source", "alias", "description", "tag"
    key: str | None  # tag key
    op: str
    value: Any


# field -> kind ("text" or "number"), per search
_MODEL_FIELDS = {"name": "text", "description": "text", "alias": "text"}
_VERSION_FIELDS = {
    "name": "text",
    "version": "number",
    "version_number": "number",
    "run_id": "text",
    "source": "text",
    "source_path": "text",
    "description": "text",
    "user_id": "text",
    "alias": "text",
}


def parse_registry_filter(text: str | None, fields: Mapping[str, str]) -> list[_Clause]:
    """``name LIKE 'fraud%' AND tags.team = 'risk' AND version > 2`` -> clauses (AND only)."""
    if not text or not text.strip():
        return []
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidInput(
            f"filter_string: is {len(text):,} characters long, the limit is {MAX_FILTER_LENGTH:,}"
        )
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    while pos < len(text):
        m = _FILTER_TOKEN.match(text, pos)
        if m is None:
            raise InvalidInput(f"filter_string {text!r}: cannot read {text[pos:]!r} at {pos}")
        kind = m.lastgroup or ""
        if kind != "ws":
            tokens.append((kind, m.group(), pos))
        pos = m.end()
    clauses: list[_Clause] = []
    i = 0

    def fail(expected: str) -> InvalidInput:
        where = tokens[i][2] if i < len(tokens) else len(text)
        found = repr(tokens[i][1]) if i < len(tokens) else "the end"
        return InvalidInput(
            f"filter_string {text!r}: expected {expected} at position {where}, found {found}"
        )

    while True:
        if i >= len(tokens) or tokens[i][0] not in ("word", "backtick"):
            raise fail(f"a field ({', '.join(sorted(fields))} or tags.<key>)")
        word = tokens[i][1]
        i += 1
        lowered = word.lower()
        key: str | None = None
        if lowered.startswith(("tags.", "tag.")):
            fname, key = "tag", word.split(".", 1)[1]
            if key.startswith("`") or not key:
                if i < len(tokens) and tokens[i][0] in ("backtick", "string") and not key:
                    key = unquote(tokens[i][1])
                    i += 1
                else:
                    key = key.strip("`")
        elif lowered in ("tags", "tag") and i < len(tokens) and tokens[i][0] == "backtick":
            fname, key = "tag", tokens[i][1][1:-1]
            i += 1
        else:
            fname = lowered.removeprefix("attributes.").removeprefix("attribute.")
            if fname not in fields:
                raise InvalidInput(
                    f"filter_string {text!r}: unknown field {word!r} (use "
                    f"{', '.join(sorted(fields))} or tags.<key>)"
                )
        if i >= len(tokens):
            raise fail("an operator")
        op_tok = tokens[i][1].upper()
        i += 1
        if op_tok == "NOT" and i < len(tokens) and tokens[i][1].upper() in ("LIKE", "ILIKE", "IN"):
            op_tok = f"NOT {tokens[i][1].upper()}"
            i += 1
        op = {"==": "=", "<>": "!="}.get(op_tok, op_tok)
        if op not in _FILTER_OPS:
            i -= 1
            raise fail("an operator (=, !=, <, <=, >, >=, LIKE, ILIKE, IN)")
        kind = "text" if fname == "tag" else fields[fname]

        def literal(kind: str = kind, fname: str = fname) -> Any:
            nonlocal i
            if i >= len(tokens) or tokens[i][0] not in ("string", "number"):
                raise fail("a quoted string or a number")
            tok_kind, tok = tokens[i][0], tokens[i][1]
            i += 1
            value: Any = unquote(tok) if tok_kind == "string" else int(tok)
            if kind == "number":
                try:
                    return int(value)
                except ValueError as exc:
                    raise InvalidInput(
                        f"filter_string {text!r}: {fname} compares with a number, got {tok}"
                    ) from exc
            return str(value)

        value: Any
        if op in ("IN", "NOT IN"):
            if i >= len(tokens) or tokens[i][1] != "(":
                raise fail("'('")
            i += 1
            items = [literal()]
            while i < len(tokens) and tokens[i][1] == ",":
                i += 1
                items.append(literal())
            if i >= len(tokens) or tokens[i][1] != ")":
                raise fail("')'")
            i += 1
            value = tuple(items)
        else:
            value = literal()
            if kind == "text" and op in ("<", "<=", ">", ">="):
                raise InvalidInput(f"filter_string {text!r}: {op} needs a numeric field")
        clauses.append(_Clause(fname, key, op, value))
        if len(clauses) > MAX_FILTER_TERMS:
            raise InvalidInput(
                f"filter_string: more than {MAX_FILTER_TERMS} comparisons (the limit)"
            )
        if i >= len(tokens):
            return clauses
        if tokens[i][1].upper() != "AND":
            raise fail("AND or the end of the filter")
        i += 1


def _clause_sql(clause: _Clause, column: str) -> tuple[str, list[Any]]:
    op = clause.op
    if op in ("IN", "NOT IN"):
        marks = ", ".join("?" * len(clause.value))
        return f"{column} {op} ({marks})", list(clause.value)
    if op in ("LIKE", "NOT LIKE"):
        neg = "NOT " if op.startswith("NOT") else ""
        # SQLite's LIKE folds ASCII case; GLOB does not, but has other wildcards: compare
        # case-sensitively by checking LIKE and an exact-case match of the fixed parts.
        return f"{neg}({column} LIKE ? AND {column} GLOB ?)", [
            clause.value,
            like_to_glob(clause.value),
        ]
    if op in ("ILIKE", "NOT ILIKE"):
        neg = "NOT " if op.startswith("NOT") else ""
        return f"{neg}({column} LIKE ?)", [clause.value]
    return f"{column} {op} ?", [clause.value]


PROMPT_TAG = "mlflow.prompt.is_prompt"


def _is_not_prompt(clause: _Clause) -> bool:
    """MLflow's clients search with ``tags.`mlflow.prompt.is_prompt` != 'true'`` to leave its
    prompts out; models without the tag match it (MLflow's own special case)."""
    if clause.key != PROMPT_TAG or not isinstance(clause.value, str):
        return False
    value = clause.value.lower()
    return (clause.op == "!=" and value == "true") or (clause.op == "=" and value == "false")


def _tag_clause_sql(clause: _Clause) -> tuple[str, list[Any]]:
    if _is_not_prompt(clause):  # NOT EXISTS (the tag says it is a prompt)
        return "t.value = ?", ["true"]
    return _clause_sql(clause, "t.value")


# ---------------------------------------------------------------------------------- store

_MODEL_ORDER = {
    "name": "m.name",
    "creation_timestamp": "m.creation_time",
    "creation_time": "m.creation_time",
    "last_updated_timestamp": "m.last_updated_time",
    "last_updated_time": "m.last_updated_time",
}
_VERSION_ORDER = {
    "name": "m.name",
    "version": "v.version",
    "version_number": "v.version",
    "creation_timestamp": "v.creation_time",
    "creation_time": "v.creation_time",
    "last_updated_timestamp": "v.last_updated_time",
    "last_updated_time": "v.last_updated_time",
    "run_id": "v.run_id",
}


def _order_sql(order_by: Sequence[str] | None, allowed: Mapping[str, str], default: str) -> str:
    if not order_by:
        return default
    parts = []
    for item in order_by:
        words = str(item).split()
        if not words or len(words) > 2:
            raise InvalidInput(f"order_by {item!r}: use '<field> [ASC|DESC]'")
        column = allowed.get(words[0].lower().removeprefix("attributes."))
        if column is None:
            raise InvalidInput(
                f"order_by {item!r}: unknown field {words[0]!r} (use {', '.join(sorted(allowed))})"
            )
        direction = words[1].upper() if len(words) == 2 else "ASC"
        if direction not in ("ASC", "DESC"):
            raise InvalidInput(f"order_by {item!r}: direction must be ASC or DESC")
        parts.append(f"{column} {direction}")
    return ", ".join([*parts, default])


class RegistryMixin:
    """Registered models, versions, aliases and the audit trail (mixed into ``SQLiteStore``)."""

    db: Database

    # ------------------------------------------------------------------------- internals

    @staticmethod
    def _actor(actor: str | None, verified: bool) -> tuple[str, int]:
        if actor is None or not str(actor).strip():
            from ..provenance import current_user

            name, _ = current_user()
            return name, 0  # a name we looked up ourselves is never "verified"
        return str(actor), int(bool(verified))

    @staticmethod
    def _audit(
        conn: sqlite3.Connection,
        who: tuple[str, int],
        action: str,
        model: str,
        *,
        version: int | None = None,
        alias: str | None = None,
        key: str | None = None,
        old: Any = None,
        new: Any = None,
    ) -> None:
        conn.execute(
            "INSERT INTO registry_audit (timestamp, actor, actor_verified, action, model, "
            "version, alias, key, old_value, new_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                now_ms(),
                who[0],
                who[1],
                action,
                model,
                version,
                alias,
                key,
                None if old is None else str(old),
                None if new is None else str(new),
            ),
        )

    @staticmethod
    def _model_pk(conn: sqlite3.Connection, name: str) -> int:
        row = conn.execute("SELECT id FROM registered_models WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFound(f"registered model {name!r} does not exist")
        return int(row[0])

    @staticmethod
    def _version_pk(conn: sqlite3.Connection, model_pk: int, name: str, version: int) -> int:
        row = conn.execute(
            "SELECT id FROM model_versions WHERE model = ? AND version = ?", (model_pk, version)
        ).fetchone()
        if row is None:
            raise NotFound(f"registered model {name!r} has no version {version}")
        return int(row[0])

    @staticmethod
    def _touch_model(conn: sqlite3.Connection, model_pk: int, now: int) -> None:
        conn.execute(
            "UPDATE registered_models SET last_updated_time = ? WHERE id = ?", (now, model_pk)
        )

    def _versions_from_rows(
        self, conn: sqlite3.Connection, rows: Sequence[Sequence[Any]]
    ) -> list[ModelVersion]:
        # rows: v.id, m.id, m.name, v.version, v.creation_time, v.last_updated_time,
        #       v.description, v.user_id, v.source, v.run_id, v.artifact_path, v.status
        versions: dict[int, ModelVersion] = {}
        keys: dict[tuple[int, int], ModelVersion] = {}
        for r in rows:
            mv = ModelVersion(
                name=r[2],
                version=r[3],
                creation_timestamp=r[4],
                last_updated_timestamp=r[5],
                description=r[6],
                user_id=r[7],
                source=r[8],
                run_id=r[9],
                artifact_path=r[10],
                status=r[11],
            )
            versions[r[0]] = mv
            keys[(r[1], r[3])] = mv
        ids = list(versions)
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            marks = ", ".join("?" * len(chunk))
            for pk, key, value in conn.execute(
                f"SELECT model_version, key, value FROM model_version_tags "
                f"WHERE model_version IN ({marks}) ORDER BY key",
                chunk,
            ):
                versions[pk].tags[key] = value
        model_pks = sorted({m for m, _ in keys})
        for start in range(0, len(model_pks), 900):
            chunk = model_pks[start : start + 900]
            marks = ", ".join("?" * len(chunk))
            for model_pk, alias, version in conn.execute(
                f"SELECT model, alias, version FROM registered_model_aliases "
                f"WHERE model IN ({marks}) ORDER BY alias",
                chunk,
            ):
                found = keys.get((model_pk, version))
                if found is not None:
                    found.aliases.append(alias)
        return [versions[r[0]] for r in rows]

    _VERSION_SELECT = (
        "SELECT v.id, m.id, m.name, v.version, v.creation_time, v.last_updated_time, "
        "v.description, v.user_id, v.source, v.run_id, v.artifact_path, v.status "
        "FROM model_versions v JOIN registered_models m ON m.id = v.model"
    )

    def _get_version(self, conn: sqlite3.Connection, name: str, version: int) -> ModelVersion:
        rows = conn.execute(
            f"{self._VERSION_SELECT} WHERE m.name = ? AND v.version = ?", (name, version)
        ).fetchall()
        if not rows:
            self._model_pk(conn, name)
            raise NotFound(f"registered model {name!r} has no version {version}")
        return self._versions_from_rows(conn, rows)[0]

    def _models_from_rows(
        self, conn: sqlite3.Connection, rows: Sequence[Sequence[Any]]
    ) -> list[RegisteredModel]:
        # rows: id, name, description, creation_time, last_updated_time
        models: dict[int, RegisteredModel] = {
            r[0]: RegisteredModel(r[1], r[3], r[4], r[2]) for r in rows
        }
        ids = list(models)
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            marks = ", ".join("?" * len(chunk))
            for pk, key, value in conn.execute(
                f"SELECT model, key, value FROM registered_model_tags WHERE model IN ({marks}) "
                "ORDER BY key",
                chunk,
            ):
                models[pk].tags[key] = value
            for pk, alias, version in conn.execute(
                f"SELECT model, alias, version FROM registered_model_aliases "
                f"WHERE model IN ({marks}) ORDER BY alias",
                chunk,
            ):
                models[pk].aliases[alias] = version
            latest_rows = conn.execute(
                f"{self._VERSION_SELECT} WHERE v.model IN ({marks}) AND v.version = "
                "(SELECT max(version) FROM model_versions WHERE model = v.model)",
                chunk,
            ).fetchall()
            for mv_row, mv in zip(latest_rows, self._versions_from_rows(conn, latest_rows)):
                models[mv_row[1]].latest_versions = [mv]
        return [models[r[0]] for r in rows]

    # ---------------------------------------------------------------- registered models

    def create_registered_model(
        self,
        name: str,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        *,
        actor: str | None = None,
        verified: bool = False,
    ) -> RegisteredModel:
        """Create a registered model; a name already taken is a ``Conflict``."""
        check_model_name(name)
        tag_rows = [_tag(k, v) for k, v in (tags or {}).items()]
        text = _description(description)
        who = self._actor(actor, verified)
        with self.db.write() as conn:
            self._insert_model(conn, name, tag_rows, text, who)
        return self.get_registered_model(name)

    def _insert_model(
        self,
        conn: sqlite3.Connection,
        name: str,
        tag_rows: Sequence[tuple[str, str]],
        description: str | None,
        who: tuple[str, int],
    ) -> int:
        now = now_ms()
        try:
            cur = conn.execute(
                "INSERT INTO registered_models (name, description, creation_time, "
                "last_updated_time) VALUES (?, ?, ?, ?)",
                (name, description, now, now),
            )
        except sqlite3.IntegrityError as exc:
            raise Conflict(f"registered model {name!r} already exists") from exc
        pk = int(cur.lastrowid or 0)
        self._audit(conn, who, "create_registered_model", name, new=name)
        if description:
            self._audit(
                conn, who, "update_registered_model", name, key="description", new=description
            )
        for key, value in tag_rows:
            conn.execute(
                "INSERT INTO registered_model_tags (model, key, value) VALUES (?, ?, ?)",
                (pk, key, value),
            )
            self._audit(conn, who, "set_registered_model_tag", name, key=key, new=value)
        return pk

    def get_registered_model(self, name: str) -> RegisteredModel:
        """The model with its tags, aliases and latest version; ``NotFound`` if unknown."""
        conn = self.db.conn()
        rows = conn.execute(
            "SELECT id, name, description, creation_time, last_updated_time "
            "FROM registered_models WHERE name = ?",
            (name,),
        ).fetchall()
        if not rows:
            raise NotFound(f"registered model {name!r} does not exist")
        return self._models_from_rows(conn, rows)[0]

    def update_registered_model(
        self,
        name: str,
        description: str | None,
        *,
        actor: str | None = None,
        verified: bool = False,
    ) -> RegisteredModel:
        """Replace the model's description (audited with the old and new text)."""
        text = _description(description)
        who = self._actor(actor, verified)
        with self.db.write() as conn:
            pk = self._model_pk(conn, name)
            old = conn.execute(
                "SELECT description FROM registered_models WHERE id = ?", (pk,)
            ).fetchone()[0]
            if old != text:
                now = now_ms()
                conn.execute(
                    "UPDATE registered_models SET description = ?, last_updated_time = ? "
                    "WHERE id = ?",
                    (text, now, pk),
                )
                self._audit(
                    conn, who, "update_registered_model", name, key="description", old=old, new=text
                )
        return self.get_registered_model(name)

    def rename_registered_model(
        self, name: str, new_name: str, *, actor: str | None = None, verified: bool = False
    ) -> RegisteredModel:
        """Give a model another name (its versions, tags and aliases follow); audited as
        ``rename_registered_model`` under both names. A name already taken is a ``Conflict``."""
        check_model_name(new_name)
        who = self._actor(actor, verified)
        with self.db.write() as conn:
            pk = self._model_pk(conn, name)
            if new_name != name:
                try:
                    conn.execute(
                        "UPDATE registered_models SET name = ?, last_updated_time = ? WHERE id = ?",
                        (new_name, now_ms(), pk),
                    )
                except sqlite3.IntegrityError as exc:
                    raise Conflict(f"registered model {new_name!r} already exists") from exc
                for model in (name, new_name):
                    self._audit(conn, who, "rename_registered_model", model, old=name, new=new_name)
        return self.get_registered_model(new_name)

    def delete_registered_model(
        self, name: str, *, actor: str | None = None, verified: bool = False
    ) -> None:
        """Delete the model, its versions, tags and aliases (the audit rows stay)."""
        who = self._actor(actor, verified)
        with self.db.write() as conn:
            pk = self._model_pk(conn, name)
            for alias, version in conn.execute(
                "SELECT alias, version FROM registered_model_aliases WHERE model = ? "
                "ORDER BY alias",
                (pk,),
            ).fetchall():
                self._audit(conn, who, "delete_alias", name, alias=alias, old=version)
            for (version,) in conn.execute(
                "SELECT version FROM model_versions WHERE model = ? ORDER BY version", (pk,)
            ).fetchall():
                self._audit(conn, who, "delete_model_version", name, version=version, old=version)
            conn.execute(
                "DELETE FROM model_version_tags WHERE model_version IN "
                "(SELECT id FROM model_versions WHERE model = ?)",
                (pk,),
            )
            conn.execute("DELETE FROM model_versions WHERE model = ?", (pk,))
            conn.execute("DELETE FROM registered_model_aliases WHERE model = ?", (pk,))
            conn.execute("DELETE FROM registered_model_tags WHERE model = ?", (pk,))
            conn.execute("DELETE FROM registered_models WHERE id = ?", (pk,))
            self._audit(conn, who, "delete_registered_model", name, old=name)

    def set_registered_model_tag(
        self, name: str, key: str, value: Any, *, actor: str | None = None, verified: bool = False
    ) -> None:
        """Set (or overwrite) a tag on the model."""
        key, text = _tag(key, value)
        who = self._actor(actor, verified)
        with self.db.write() as conn:
            pk = self._model_pk(conn, name)
            row = conn.execute(
                "SELECT value FROM registered_model_tags WHERE model = ? AND key = ?", (pk, key)
            ).fetchone()
            if row is not None and row[0] == text:
                return
            conn.execute(
                "INSERT OR REPLACE INTO registered_model_tags (model, key, value) VALUES (?, ?, ?)",
                (pk, key, text),
            )
            self._touch_model(conn, pk, now_ms())
            self._audit(
                conn,
                who,
                "set_registered_model_tag",
                name,
                key=key,
                old=None if row is None else row[0],
                new=text,
            )

    def delete_registered_model_tag(
        self, name: str, key: str, *, actor: str | None = None, verified: bool = False
    ) -> None:
        """Remove a tag from the model; ``NotFound`` if it is not set."""
        who = self._actor(actor, verified)
        with self.db.write() as conn:
            pk = self._model_pk(conn, name)
            row = conn.execute(
                "SELECT value FROM registered_model_tags WHERE model = ? AND key = ?", (pk, key)
            ).fetchone()
            if row is None:
                raise NotFound(f"tag {key!r} is not set on registered model {name!r}")
            conn.execute("DELETE FROM registered_model_tags WHERE model = ? AND key = ?", (pk, key))
            self._touch_model(conn, pk, now_ms())
            self._audit(conn, who, "delete_registered_model_tag", name, key=key, old=row[0])

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """Models matching ``filter_string`` (``name``, ``description``, ``alias``,
        ``tags.<key>``; =, !=, LIKE, ILIKE, IN, joined by AND); a :class:`PagedList`."""
        if not isinstance(max_results, int) or max_results < 1:
            raise InvalidInput(f"max_results {max_results!r}: must be a positive integer")
        clauses = parse_registry_filter(filter_string, _MODEL_FIELDS)
        where, params = [], []
        for c in clauses:
            if c.field == "tag":
                sql, p = _tag_clause_sql(c)
                where.append(
                    f"{'NOT ' if _is_not_prompt(c) else ''}EXISTS (SELECT 1 FROM "
                    f"registered_model_tags t WHERE t.model = m.id AND t.key = ? AND {sql})"
                )
                params += [c.key, *p]
            elif c.field == "alias":
                sql, p = _clause_sql(c, "a.alias")
                where.append(
                    f"EXISTS (SELECT 1 FROM registered_model_aliases a WHERE a.model = m.id "
                    f"AND {sql})"
                )
                params += p
            else:
                sql, p = _clause_sql(c, f"m.{c.field}")
                where.append(sql)
                params += p
        offset = decode_page_token(page_token)
        order = _order_sql(order_by, _MODEL_ORDER, "m.name ASC")
        conn = self.db.conn()
        rows = conn.execute(
            "SELECT m.id, m.name, m.description, m.creation_time, m.last_updated_time "
            f"FROM registered_models m {'WHERE ' + ' AND '.join(where) if where else ''} "
            f"ORDER BY {order} LIMIT ? OFFSET ?",
            (*params, max_results + 1, offset),
        ).fetchall()
        token = encode_page_token(offset + max_results) if len(rows) > max_results else None
        return PagedList(self._models_from_rows(conn, rows[:max_results]), token)

    # ------------------------------------------------------------------------- versions

    def create_model_version(
        self,
        name: str,
        source: str,
        run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        description: str | None = None,
        *,
        artifact_path: str | None = None,
        create_model: bool = False,
        actor: str | None = None,
        verified: bool = False,
    ) -> ModelVersion:
        """Add the next version of ``name`` (created first when ``create_model`` is true).

        Both happen in one transaction with their audit rows: a failure writes nothing.
        """
        check_model_name(name)
        if not isinstance(source, str) or not source.strip():
            raise InvalidInput(f"source {source!r}: must be a non-empty string")
        tag_rows = [_tag(k, v) for k, v in (tags or {}).items()]
        text = _description(description)
        who = self._actor(actor, verified)
        with self.db.write() as conn:
            if run_id is not None and (
                conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is None
            ):
                raise NotFound(f"run {run_id!r} does not exist")
            row = conn.execute(
                "SELECT id, next_version FROM registered_models WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                if not create_model:
                    raise NotFound(f"registered model {name!r} does not exist")
                model_pk = self._insert_model(conn, name, [], None, who)
                number = 1
            else:
                model_pk, number = int(row[0]), int(row[1])
            now = now_ms()
            cur = conn.execute(
                "INSERT INTO model_versions (model, version, source, run_id, artifact_path, "
                "description, user_id, status, creation_time, last_updated_time) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'READY', ?, ?)",
                (model_pk, number, source, run_id, artifact_path, text, who[0], now, now),
            )
            version_pk = int(cur.lastrowid or 0)
            conn.execute(
                "UPDATE registered_models SET next_version = ?, last_updated_time = ? WHERE id = ?",
                (number + 1, now, model_pk),
            )
            self._audit(conn, who, "create_model_version", name, version=number, new=source)
            if text:
                self._audit(
                    conn,
                    who,
                    "update_model_version",
                    name,
                    version=number,
                    key="description",
                    new=text,
                )
            for key, value in tag_rows:
                conn.execute(
                    "INSERT INTO model_version_tags (model_version, key, value) VALUES (?, ?, ?)",
                    (version_pk, key, value),
                )
                self._audit(
                    conn, who, "set_model_version_tag", name, version=number, key=key, new=value
                )
            return self._get_version(conn, name, number)

    def get_model_version(self, name: str, version: int | str) -> ModelVersion:
        """One version; ``NotFound`` names the model or the missing version."""
        return self._get_version(self.db.conn(), name, check_version(version))

    def get_model_versions(self, name: str) -> list[ModelVersion]:
        """Every version of ``name``, newest first; ``NotFound`` for an unknown model."""
        conn = self.db.conn()
        pk = self._model_pk(conn, name)
        rows = conn.execute(
            f"{self._VERSION_SELECT} WHERE v.model = ? ORDER BY v.version DESC", (pk,)
        ).fetchall()
        return self._versions_from_rows(conn, rows)

    def get_latest_model_version(self, name: str) -> ModelVersion:
        """The highest-numbered version of ``name`` (what ``models:/<name>/latest`` means)."""
        conn = self.db.conn()
        pk = self._model_pk(conn, name)
        row = conn.execute(
            "SELECT max(version) FROM model_versions WHERE model = ?", (pk,)
        ).fetchone()
        if row is None or row[0] is None:
            raise NotFound(f"registered model {name!r} has no versions")
        return self._get_version(conn, name, int(row[0]))

    def update_model_version(
        self,
        name: str,
        version: int | str,
        description: str | None,
        *,
        actor: str | None = None,
        verified: bool = False,
    ) -> ModelVersion:
        """Replace a version's description (audited)."""
        number = check_version(version)
        text = _description(description)
        who = self._actor(actor, verified)
        with self.db.write() as conn:
            model_pk = self._model_pk(conn, name)
            vpk = self._version_pk(conn, model_pk, name, number)
            old = conn.execute(
                "SELECT description FROM model_versions WHERE id = ?", (vpk,)
            ).fetchone()[0]
            if old != text:
                now = now_ms()
                conn.execute(
                    "UPDATE model_versions SET description = ?, last_updated_time = ? WHERE id = ?",
                    (text, now, vpk),
                )
                self._audit(
                    conn,
                    who,
                    "update_model_version",
                    name,
                    version=number,
                    key="description",
                    old=old,
                    new=text,
                )
            return self._get_version(conn, name, number)

    def delete_model_version(
        self, name: str, version: int | str, *, actor: str | None = None, verified: bool = False
    ) -> None:
        """Delete a version and the aliases pointing at it (each alias removal is audited)."""
        number = check_version(version)
        who = self._actor(actor, verified)
        with self.db.write() as conn:
            model_pk = self._model_pk(conn, name)
            vpk = self._version_pk(conn, model_pk, name, number)
            for (alias,) in conn.execute(
                "SELECT alias FROM registered_model_aliases WHERE model = ? AND version = ? "
                "ORDER BY alias",
                (model_pk, number),
            ).fetchall():
                self._audit(conn, who, "delete_alias", name, alias=alias, old=number)
            conn.execute(
                "DELETE FROM registered_model_aliases WHERE model = ? AND version = ?",
                (model_pk, number),
            )
            conn.execute("DELETE FROM model_version_tags WHERE model_version = ?", (vpk,))
            conn.execute("DELETE FROM model_versions WHERE id = ?", (vpk,))
            self._touch_model(conn, model_pk, now_ms())
            self._audit(conn, who, "delete_model_version", name, version=number, old=number)

    def set_model_version_tag(
        self,
        name: str,
        version: int | str,
        key: str,
        value: Any,
        *,
        actor: str | None = None,
        verified: bool = False,
    ) -> None:
        """Set (or overwrite) a tag on one version."""
        number = check_version(version)
        key, text = _tag(key, value)
        who = self._actor(actor, verified)
        with self.db.write() as conn:
            model_pk = self._model_pk(conn, name)
            vpk = self._version_pk(conn, model_pk, name, number)
            row = conn.execute(
                "SELECT value FROM model_version_tags WHERE model_version = ? AND key = ?",
                (vpk, key),
            ).fetchone()
            if row is not None and row[0] == text:
                return
            conn.execute(
                "INSERT OR REPLACE INTO model_version_tags (model_version, key, value) "
                "VALUES (?, ?, ?)",
                (vpk, key, text),
            )
            conn.execute(
                "UPDATE model_versions SET last_updated_time = ? WHERE id = ?", (now_ms(), vpk)
            )
            self._audit(
                conn,
                who,
                "set_model_version_tag",
                name,
                version=number,
                key=key,
                old=None if row is None else row[0],
                new=text,
            )

    def delete_model_version_tag(
        self,
        name: str,
        version: int | str,
        key: str,
        *,
        actor: str | None = None,
        verified: bool = False,
    ) -> None:
        """Remove a tag from one version; ``NotFound`` if it is not set."""
        number = check_version(version)
        who = self._actor(actor, verified)
        with self.db.write() as conn:
            model_pk = self._model_pk(conn, name)
            vpk = self._version_pk(conn, model_pk, name, number)
            row = conn.execute(
                "SELECT value FROM model_version_tags WHERE model_version = ? AND key = ?",
                (vpk, key),
            ).fetchone()
            if row is None:
                raise NotFound(f"tag {key!r} is not set on version {number} of model {name!r}")
            conn.execute(
                "DELETE FROM model_version_tags WHERE model_version = ? AND key = ?", (vpk, key)
            )
            self._audit(
                conn, who, "delete_model_version_tag", name, version=number, key=key, old=row[0]
            )

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """Versions matching ``filter_string`` (``name``, ``version``, ``run_id``, ``source``,
        ``description``, ``user_id``, ``alias``, ``tags.<key>``; =, !=, <, <=, >, >=, LIKE,
        ILIKE, IN, joined by AND), newest first by default; a :class:`PagedList`."""
        if not isinstance(max_results, int) or max_results < 1:
            raise InvalidInput(f"max_results {max_results!r}: must be a positive integer")
        clauses = parse_registry_filter(filter_string, _VERSION_FIELDS)
        where, params = [], []
        columns = {
            "name": "m.name",
            "version": "v.version",
            "version_number": "v.version",
            "run_id": "v.run_id",
            "source": "v.source",
            "source_path": "v.source",
            "description": "v.description",
            "user_id": "v.user_id",
        }
        for c in clauses:
            if c.field == "tag":
                sql, p = _tag_clause_sql(c)
                where.append(
                    f"{'NOT ' if _is_not_prompt(c) else ''}EXISTS (SELECT 1 FROM "
                    f"model_version_tags t WHERE t.model_version = v.id AND t.key = ? AND {sql})"
                )
                params += [c.key, *p]
            elif c.field == "alias":
                sql, p = _clause_sql(c, "a.alias")
                where.append(
                    "EXISTS (SELECT 1 FROM registered_model_aliases a WHERE a.model = v.model "
                    f"AND a.version = v.version AND {sql})"
                )
                params += p
            else:
                sql, p = _clause_sql(c, columns[c.field])
                where.append(sql)
                params += p
        offset = decode_page_token(page_token)
        order = _order_sql(order_by, _VERSION_ORDER, "m.name ASC, v.version DESC")
        conn = self.db.conn()
        rows = conn.execute(
            f"{self._VERSION_SELECT} {'WHERE ' + ' AND '.join(where) if where else ''} "
            f"ORDER BY {order} LIMIT ? OFFSET ?",
            (*params, max_results + 1, offset),
        ).fetchall()
        token = encode_page_token(offset + max_results) if len(rows) > max_results else None
        return PagedList(self._versions_from_rows(conn, rows[:max_results]), token)

    def registered_run_ids(self) -> set[str]:
        """Runs that hold a registered model version (their artifacts must not be purged)."""
        return {
            r[0]
            for r in self.db.conn().execute(
                "SELECT DISTINCT run_id FROM model_versions WHERE run_id IS NOT NULL"
            )
        }

    # -------------------------------------------------------------------------- aliases

    @staticmethod
    def _current_alias(conn: sqlite3.Connection, model_pk: int, alias: str) -> int | None:
        row = conn.execute(
            "SELECT version FROM registered_model_aliases WHERE model = ? AND alias = ?",
            (model_pk, alias),
        ).fetchone()
        return None if row is None else int(row[0])

    @staticmethod
    def _check_expected_alias(name: str, alias: str, current: int | None, expected: Any) -> None:
        if expected is UNSET:
            return
        want = _check_expected(expected)
        if want == current:
            return
        now = f"now points to version {current}" if current is not None else "is not set now"
        believed = f"version {want}" if want is not None else "it to be unset"
        raise AliasConflict(
            f"alias {alias!r} of model {name!r} {now} (you expected {believed}); it was changed "
            "by someone else: reload and try again",
            name=name,
            alias=alias,
            current_version=current,
        )

    def set_registered_model_alias(
        self,
        name: str,
        alias: str,
        version: int | str,
        *,
        expected_version: Any = UNSET,
        actor: str | None = None,
        verified: bool = False,
    ) -> ModelVersion:
        """Point ``alias`` at ``version`` of ``name`` (created or moved) and return that version.

        ``expected_version`` (compare-and-set): the version the caller believes the alias points
        to now, None for "not set"; when it differs, :class:`AliasConflict` (nothing written).
        Setting an alias to the version it already names changes nothing and logs nothing.
        """
        check_model_name(name)
        check_alias_name(alias)
        number = check_version(version)
        who = self._actor(actor, verified)
        with self.db.write() as conn:
            model_pk = self._model_pk(conn, name)
            self._version_pk(conn, model_pk, name, number)
            current = self._current_alias(conn, model_pk, alias)
            self._check_expected_alias(name, alias, current, expected_version)
            if current != number:
                self._point_alias(conn, who, "set_alias", model_pk, name, alias, current, number)
            return self._get_version(conn, name, number)

    def delete_registered_model_alias(
        self,
        name: str,
        alias: str,
        *,
        expected_version: Any = UNSET,
        actor: str | None = None,
        verified: bool = False,
    ) -> None:
        """Remove ``alias`` from ``name``; ``NotFound`` if it is not set (compare-and-set as in
        :meth:`set_registered_model_alias`)."""
        check_model_name(name)
        check_alias_name(alias)
        who = self._actor(actor, verified)
        with self.db.write() as conn:
            model_pk = self._model_pk(conn, name)
            current = self._current_alias(conn, model_pk, alias)
            self._check_expected_alias(name, alias, current, expected_version)
            if current is None:
                raise NotFound(f"registered model {name!r} has no alias {alias!r}")
            conn.execute(
                "DELETE FROM registered_model_aliases WHERE model = ? AND alias = ?",
                (model_pk, alias),
            )
            self._touch_model(conn, model_pk, now_ms())
            self._audit(conn, who, "delete_alias", name, version=current, alias=alias, old=current)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        """The version ``alias`` points to; ``NotFound`` names the model or the alias."""
        conn = self.db.conn()
        model_pk = self._model_pk(conn, name)
        current = self._current_alias(conn, model_pk, alias)
        if current is None:
            raise NotFound(f"registered model {name!r} has no alias {alias!r}")
        return self._get_version(conn, name, current)

    def get_aliases(self, name: str) -> dict[str, int]:
        """alias -> version for ``name`` in one cheap query (what a server re-reads to follow
        alias moves)."""
        conn = self.db.conn()
        rows = conn.execute(
            "SELECT a.alias, a.version FROM registered_model_aliases a "
            "JOIN registered_models m ON m.id = a.model WHERE m.name = ? ORDER BY a.alias",
            (name,),
        ).fetchall()
        if not rows:
            self._model_pk(conn, name)
        return {alias: int(version) for alias, version in rows}

    def _alias_stack(self, conn: sqlite3.Connection, name: str, alias: str) -> list[int | None]:
        """Replay the audit log into the alias's stack of values (None: unset)."""
        stack: list[int | None] = []
        for action, new in conn.execute(
            "SELECT action, new_value FROM registry_audit WHERE model = ? AND "
            "((alias = ? AND action IN ('set_alias', 'delete_alias', 'rollback_alias')) OR "
            "action = 'delete_registered_model') ORDER BY id",
            (name, alias),
        ):
            if action == "delete_registered_model":
                stack = []
            elif action == "set_alias":
                stack.append(int(new))
            elif action == "delete_alias":
                stack.append(None)
            else:  # rollback_alias: pop back down to the version it restored
                target = int(new)
                while stack and stack[-1] != target:
                    stack.pop()
                if not stack:
                    stack = [target]
        return stack

    def rollback_alias(
        self,
        name: str,
        alias: str,
        *,
        expected_version: Any = UNSET,
        actor: str | None = None,
        verified: bool = False,
    ) -> ModelVersion:
        """Move ``alias`` back to the version it pointed to before its last move.

        Repeated rollbacks keep stepping back through the alias's history (a rollback undoes a
        move, it does not toggle); versions deleted since are skipped. Recorded as its own
        ``rollback_alias`` audit row. ``InvalidInput`` when there is nothing to go back to.
        """
        check_model_name(name)
        check_alias_name(alias)
        who = self._actor(actor, verified)
        with self.db.write() as conn:
            model_pk = self._model_pk(conn, name)
            current = self._current_alias(conn, model_pk, alias)
            self._check_expected_alias(name, alias, current, expected_version)
            existing = {
                int(r[0])
                for r in conn.execute(
                    "SELECT version FROM model_versions WHERE model = ?", (model_pk,)
                )
            }
            stack = self._alias_stack(conn, name, alias)
            target = None
            for value in reversed(stack[:-1]):
                if value is not None and value != current and value in existing:
                    target = value
                    break
            if target is None and current is None:
                raise NotFound(f"registered model {name!r} has no alias {alias!r}")
            if target is None:
                raise InvalidInput(
                    f"alias {alias!r} of model {name!r} has no earlier version to roll back to"
                )
            self._point_alias(conn, who, "rollback_alias", model_pk, name, alias, current, target)
            return self._get_version(conn, name, target)

    def _point_alias(
        self,
        conn: sqlite3.Connection,
        who: tuple[str, int],
        action: str,
        model_pk: int,
        name: str,
        alias: str,
        old: int | None,
        new: int,
    ) -> None:
        """Point ``alias`` at version ``new`` and append the audit row, in ``conn``'s
        transaction."""
        conn.execute(
            "INSERT OR REPLACE INTO registered_model_aliases (model, alias, version) "
            "VALUES (?, ?, ?)",
            (model_pk, alias, new),
        )
        self._touch_model(conn, model_pk, now_ms())
        self._audit(conn, who, action, name, version=new, alias=alias, old=old, new=new)

    # ---------------------------------------------------------------------------- audit

    def registry_audit(
        self,
        name: str | None = None,
        alias: str | None = None,
        *,
        version: int | str | None = None,
        max_results: int = 1000,
        before_id: int | None = None,
        newest_first: bool = False,
    ) -> list[AuditEntry]:
        """Audit rows, oldest first (``newest_first=True`` for a timeline), filtered by model,
        alias and version; ``before_id`` pages backwards through a long log."""
        where: list[str] = []
        params: list[Any] = []
        if name is not None:
            where.append("model = ?")
            params.append(name)
        if alias is not None:
            where.append("alias = ?")
            params.append(alias)
        if version is not None:
            where.append("version = ?")
            params.append(check_version(version))
        if before_id is not None:
            where.append("id < ?")
            params.append(int(before_id))
        rows = (
            self.db.conn()
            .execute(
                "SELECT id, timestamp, actor, actor_verified, action, model, version, alias, key, "
                "old_value, new_value FROM registry_audit "
                f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY id DESC LIMIT ?",
                (*params, int(max_results)),
            )
            .fetchall()
        )
        entries = [
            AuditEntry(r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6], r[7], r[8], r[9], r[10])
            for r in rows
        ]
        return entries if newest_first else entries[::-1]

    def alias_history(self, name: str, alias: str) -> list[AuditEntry]:
        """Every set, move, delete and rollback of ``alias`` on ``name``, oldest first."""
        check_alias_name(alias)
        entries = self.registry_audit(name, alias, max_results=1_000_000)
        if not entries:
            self._model_pk(self.db.conn(), name)
        return entries
