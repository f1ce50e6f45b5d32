"""The model registry: registered models, numbered versions, aliases and an append-only audit log.

MLflow's names and semantics: a registered model has a unique name, a description and tags; its
versions are numbered 1, 2, ... (numbers are never reused, even after a delete) and point at a
model saved in a run's artifacts; an alias (``champion``, ``challenger``, ...) names exactly one
version of one model. ``latest`` and ``v<N>`` are reserved, as in MLflow, because
``models:/<name>/latest`` and ``v3`` already mean something.

Every change appends one row per changed thing to ``registry_audit`` *in the same transaction*:
who (``actor``, and whether the server authenticated them: ``actor_verified``), when, what
(``action``), on which model / version / alias / tag key, the old and the new value. The table is
append-only. A kernel passes the hub or OS user, unverified; the server passes the authenticated
Jupyter user, verified.

Alias moves can be compare-and-set: ``expected_version`` is the version the caller believes the
alias points to (None: "not set"); when it points elsewhere now, :class:`AliasConflict` names the
version it points to, and nothing is written.

Every change reads and writes inside one write transaction, and first locks the model's row
(``SELECT ... FOR UPDATE`` on engines with row locks; SQLite's ``BEGIN IMMEDIATE`` already
admits one writer): a compare-and-set, a rollback or a delete decides on what is stored at the
moment it writes, never on an earlier read.

The records live in :mod:`.entities`, the checks in :mod:`.validation`, the filter language in
:mod:`.search` (``REGISTERED_MODELS`` and ``MODEL_VERSIONS`` field tables).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .db import Database
from .entities import UNSET, PagedList
from .errors import AliasConflict, Conflict, InvalidInput, NotFound
from .experiments import now_ms
from .paging import decode_page_token, encode_page_token
from .validation import (
    check_alias_name,
    check_expected_version,
    check_model_name,
    check_version,
    description_text,
    model_tag,
)

if TYPE_CHECKING:
    from . import records as _records
    from . import search as grammar
    from .records import AuditEntry, ModelVersion, RegisteredModel
else:  # the filter grammar and the registry's records: imported by the first search or
    # registry call, not by the first run
    from ..lazy import lazy_module

    grammar = lazy_module(globals(), "grammar", "jupyter_track.store.search")
    _records = lazy_module(globals(), "_records", "jupyter_track.store.records")

    def __getattr__(name: str) -> Any:
        # ``from jupyter_track.store.registry import ModelVersion`` keeps working
        if name in ("AuditEntry", "ModelVersion", "RegisteredModel"):
            return getattr(_records, name)
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "UNSET",
    "AliasConflict",
    "AuditEntry",
    "ModelVersion",
    "PagedList",
    "RegisteredModel",
    "RegistryMixin",
    "check_alias_name",
    "check_model_name",
    "check_version",
]


PROMPT_TAG = "mlflow.prompt.is_prompt"


def _prompts_left_out(node: grammar.Node | None) -> grammar.Node | None:
    """MLflow's clients search with ``tags.`mlflow.prompt.is_prompt` != 'true'`` to leave its
    prompts out; models without the tag match it (MLflow's own special case): the comparison
    becomes ``NOT tags.`mlflow.prompt.is_prompt` = 'true'``."""
    if node is None:
        return None
    if isinstance(node, (grammar.And, grammar.Or)):
        return type(node)(tuple(_prompts_left_out(n) for n in node.items))  # type: ignore[misc]
    if isinstance(node, grammar.Not):
        return grammar.Not(_prompts_left_out(node.item))  # type: ignore[arg-type]
    field, value = node.field, node.value
    if field.entity == "tags" and field.key == PROMPT_TAG and isinstance(value, str):
        lowered = value.lower()
        if (node.op == "!=" and lowered == "true") or (node.op == "=" and lowered == "false"):
            return grammar.Not(grammar.Compare(field, "=", "true"))
    return node


def _search_sql(
    fields: grammar.Fields,
    dialect: Any,
    filter_string: str | None,
    order_by: Sequence[str] | None,
    default_order: str,
) -> tuple[str, str, str, list[Any]]:
    """(JOIN clauses, WHERE fragment, ORDER BY terms, parameters) of a registry search."""
    tree = _prompts_left_out(grammar.parse_filter(filter_string, fields))
    where = grammar.compile_filter(tree, dialect, fields=fields)
    params: list[Any] = []
    joins, terms = grammar.compile_order_by(
        grammar.parse_order_by(order_by, fields), params, fields
    )
    return " ".join(joins), where.sql, ", ".join([*terms, default_order]), [*params, *where.params]


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
        conn: Any,
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
    def _model_pk(conn: Any, name: str) -> int:
        row = conn.execute("SELECT id FROM registered_models WHERE name = ?", (name,)).fetchone()
        if row is None:
            raise NotFound(f"registered model {name!r} does not exist")
        return int(row[0])

    def _lock_model(self, conn: Any, name: str) -> int:
        """The model's key, its row locked until the write transaction ends (every registry
        change starts here, so changes to one model apply one after the other)."""
        row = conn.execute(
            f"SELECT id FROM registered_models WHERE name = ?{self.db.dialect.for_update}", (name,)
        ).fetchone()
        if row is None:
            raise NotFound(f"registered model {name!r} does not exist")
        return int(row[0])

    @staticmethod
    def _version_pk(conn: Any, model_pk: int, name: str, version: int) -> int:
        row = conn.execute(
            "SELECT id FROM model_versions WHERE model = ? AND version = ?", (model_pk, version)
        ).fetchone()
        if row is None:
            raise NotFound(f"registered model {name!r} has no version {version}")
        return int(row[0])

    @staticmethod
    def _touch_model(conn: Any, model_pk: int, now: int) -> None:
        conn.execute(
            "UPDATE registered_models SET last_updated_time = ? WHERE id = ?", (now, model_pk)
        )

    def _versions_from_rows(self, conn: Any, rows: Sequence[Sequence[Any]]) -> list[ModelVersion]:
        # rows: v.id, m.id, m.name, v.version, v.creation_time, v.last_updated_time,
        #       v.description, v.user_id, v.source, v.run_id, v.artifact_path, v.status
        versions: dict[int, ModelVersion] = {}
        keys: dict[tuple[int, int], ModelVersion] = {}
        for r in rows:
            mv = _records.ModelVersion(
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

    def _get_version(self, conn: Any, name: str, version: int) -> ModelVersion:
        rows = conn.execute(
            f"{self._VERSION_SELECT} WHERE m.name = ? AND v.version = ?", (name, version)
        ).fetchall()
        if not rows:
            self._model_pk(conn, name)
            raise NotFound(f"registered model {name!r} has no version {version}")
        return self._versions_from_rows(conn, rows)[0]

    def _models_from_rows(self, conn: Any, rows: Sequence[Sequence[Any]]) -> list[RegisteredModel]:
        # rows: id, name, description, creation_time, last_updated_time
        models: dict[int, RegisteredModel] = {
            r[0]: _records.RegisteredModel(r[1], r[3], r[4], r[2]) for r in rows
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
        tag_rows = [model_tag(k, v) for k, v in (tags or {}).items()]
        text = description_text(description)
        who = self._actor(actor, verified)
        with self.db.write() as conn:
            self._insert_model(conn, name, tag_rows, text, who)
        return self.get_registered_model(name)

    def _insert_model(
        self,
        conn: Any,
        name: str,
        tag_rows: Sequence[tuple[str, str]],
        description: str | None,
        who: tuple[str, int],
    ) -> int:
        now = now_ms()
        try:
            cur = conn.execute(
                "INSERT INTO registered_models (name, description, creation_time, "
                "last_updated_time) VALUES (?, ?, ?, ?) RETURNING id",
                (name, description, now, now),
            )
        except self.db.dialect.integrity_errors as exc:
            raise Conflict(f"registered model {name!r} already exists") from exc
        pk = int(cur.fetchone()[0])
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
        text = description_text(description)
        who = self._actor(actor, verified)
        with self.db.write() as conn:
            pk = self._lock_model(conn, name)
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
            pk = self._lock_model(conn, name)
            if new_name != name:
                try:
                    conn.execute(
                        "UPDATE registered_models SET name = ?, last_updated_time = ? WHERE id = ?",
                        (new_name, now_ms(), pk),
                    )
                except self.db.dialect.integrity_errors as exc:
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
            pk = self._lock_model(conn, name)
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
        key, text = model_tag(key, value)
        who = self._actor(actor, verified)
        with self.db.write() as conn:
            pk = self._lock_model(conn, name)
            row = conn.execute(
                "SELECT value FROM registered_model_tags WHERE model = ? AND key = ?", (pk, key)
            ).fetchone()
            if row is not None and row[0] == text:
                return
            conn.execute(
                "INSERT INTO registered_model_tags (model, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (model, key) DO UPDATE SET value = excluded.value",
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
            pk = self._lock_model(conn, name)
            row = conn.execute(
                "SELECT value FROM registered_model_tags WHERE model = ? AND key = ?", (pk, key)
            ).fetchone()
            if row is None:
                raise NotFound(f"tag {key!r} is not set on registered model {name!r}")
            conn.execute("DELETE FROM registered_model_tags WHERE model = ? AND key = ?", (pk, key))
            self._touch_model(conn, pk, now_ms())
            self._audit(conn, who, "delete_registered_model_tag", name, key=key, old=row[0])

    def edit_registered_model(
        self,
        name: str,
        *,
        description: Any = UNSET,
        set_tags: Mapping[str, Any] | None = None,
        delete_tags: Sequence[str] = (),
        actor: str | None = None,
        verified: bool = False,
    ) -> RegisteredModel:
        """Change the description (unless ``UNSET``), set and delete tags: all of it in one
        transaction, or nothing (a tag in ``delete_tags`` that is not set is a ``NotFound``)."""
        with self.db.write() as conn:
            self._lock_model(conn, name)
            if description is not UNSET:
                self.update_registered_model(name, description, actor=actor, verified=verified)
            for key, value in (set_tags or {}).items():
                self.set_registered_model_tag(name, key, value, actor=actor, verified=verified)
            for key in delete_tags:
                self.delete_registered_model_tag(name, key, actor=actor, verified=verified)
        return self.get_registered_model(name)

    def search_registered_models(
        self,
        filter_string: str | None = None,
        max_results: int = 100,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """Models matching ``filter_string`` (the filter language of :mod:`.search` over
        ``name``, ``description``, ``alias``, ``creation_timestamp``,
        ``last_updated_timestamp`` and ``tags.<key>``); a :class:`PagedList`."""
        if not isinstance(max_results, int) or max_results < 1:
            raise InvalidInput(f"max_results {max_results!r}: must be a positive integer")
        joins, where, order, params = _search_sql(
            grammar.REGISTERED_MODELS, self.db.dialect, filter_string, order_by, "m.name ASC"
        )
        offset = decode_page_token(page_token)
        conn = self.db.conn()
        rows = conn.execute(
            "SELECT m.id, m.name, m.description, m.creation_time, m.last_updated_time "
            f"FROM registered_models m {joins} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
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
        tag_rows = [model_tag(k, v) for k, v in (tags or {}).items()]
        text = description_text(description)
        who = self._actor(actor, verified)
        with self.db.write() as conn:
            if run_id is not None and (  # locked: gc cannot purge it before this commits
                conn.execute(
                    f"SELECT 1 FROM runs WHERE run_id = ?{self.db.dialect.for_update}", (run_id,)
                ).fetchone()
                is None
            ):
                raise NotFound(f"run {run_id!r} does not exist")
            row = conn.execute(
                "SELECT id, next_version FROM registered_models WHERE name = ?"
                f"{self.db.dialect.for_update}",
                (name,),
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
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'READY', ?, ?) RETURNING id",
                (model_pk, number, source, run_id, artifact_path, text, who[0], now, now),
            )
            version_pk = int(cur.fetchone()[0])
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
        text = description_text(description)
        who = self._actor(actor, verified)
        with self.db.write() as conn:
            model_pk = self._lock_model(conn, name)
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
            model_pk = self._lock_model(conn, name)
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
        key, text = model_tag(key, value)
        who = self._actor(actor, verified)
        with self.db.write() as conn:
            model_pk = self._lock_model(conn, name)
            vpk = self._version_pk(conn, model_pk, name, number)
            row = conn.execute(
                "SELECT value FROM model_version_tags WHERE model_version = ? AND key = ?",
                (vpk, key),
            ).fetchone()
            if row is not None and row[0] == text:
                return
            conn.execute(
                "INSERT INTO model_version_tags (model_version, key, value) VALUES (?, ?, ?) "
                "ON CONFLICT (model_version, key) DO UPDATE SET value = excluded.value",
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
            model_pk = self._lock_model(conn, name)
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

    def edit_model_version(
        self,
        name: str,
        version: int | str,
        *,
        description: Any = UNSET,
        set_tags: Mapping[str, Any] | None = None,
        delete_tags: Sequence[str] = (),
        actor: str | None = None,
        verified: bool = False,
    ) -> ModelVersion:
        """Like :meth:`edit_registered_model`, for one version."""
        number = check_version(version)
        with self.db.write() as conn:
            model_pk = self._lock_model(conn, name)
            self._version_pk(conn, model_pk, name, number)
            if description is not UNSET:
                self.update_model_version(name, number, description, actor=actor, verified=verified)
            for key, value in (set_tags or {}).items():
                self.set_model_version_tag(name, number, key, value, actor=actor, verified=verified)
            for key in delete_tags:
                self.delete_model_version_tag(name, number, key, actor=actor, verified=verified)
            return self._get_version(conn, name, number)

    def search_model_versions(
        self,
        filter_string: str | None = None,
        max_results: int = 10_000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> PagedList:
        """Versions matching ``filter_string`` (the filter language of :mod:`.search` over
        ``name``, ``version``, ``run_id``, ``source``, ``description``, ``user_id``,
        ``status``, ``alias``, the timestamps and ``tags.<key>``), by name then newest first
        by default; a :class:`PagedList`."""
        if not isinstance(max_results, int) or max_results < 1:
            raise InvalidInput(f"max_results {max_results!r}: must be a positive integer")
        joins, where, order, params = _search_sql(
            grammar.MODEL_VERSIONS,
            self.db.dialect,
            filter_string,
            order_by,
            "m.name ASC, v.version DESC",
        )
        offset = decode_page_token(page_token)
        conn = self.db.conn()
        rows = conn.execute(
            f"{self._VERSION_SELECT} {joins} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?",
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
    def _current_alias(conn: Any, model_pk: int, alias: str) -> int | None:
        row = conn.execute(
            "SELECT version FROM registered_model_aliases WHERE model = ? AND alias = ?",
            (model_pk, alias),
        ).fetchone()
        return None if row is None else int(row[0])

    @staticmethod
    def _check_expected_alias(name: str, alias: str, current: int | None, expected: Any) -> None:
        if expected is UNSET:
            return
        want = check_expected_version(expected)
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
            model_pk = self._lock_model(conn, name)
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
            model_pk = self._lock_model(conn, name)
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

    def _alias_stack(self, conn: Any, name: str, alias: str) -> list[int | None]:
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
            model_pk = self._lock_model(conn, name)
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
        conn: Any,
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
            "INSERT INTO registered_model_aliases (model, alias, version) VALUES (?, ?, ?) "
            "ON CONFLICT (model, alias) DO UPDATE SET version = excluded.version",
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
            _records.AuditEntry(
                r[0], r[1], r[2], bool(r[3]), r[4], r[5], r[6], r[7], r[8], r[9], r[10]
            )
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
