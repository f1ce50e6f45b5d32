"""Permission grants, the service audit log and ingested-batch ids (the team service's tables).

* ``permissions``: one row per (object, principal): ``READ``, ``EDIT``, ``MANAGE`` or
  ``NO_PERMISSIONS`` on an experiment or registered model, held by a user, a hub group or
  ``everyone`` (the object's own default, e.g. a private experiment);
* ``service_audit``: append-only, one row per grant, revocation, run deletion or restore made
  through the service, with the verified user who made it (registry changes have their own
  audit, ``registry_audit``);
* ``ingested_batches``: the ids of metric batches already written, so a batch delivered twice
  (a retry after a lost answer, a spool replay) is written once.

Only the store reads and writes these tables; the service's policy decides with them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .db import Database
from .errors import InvalidInput
from .experiments import now_ms

OBJECT_TYPES = ("experiment", "registered_model")
PRINCIPAL_TYPES = ("user", "group", "everyone")
PERMISSIONS = ("NO_PERMISSIONS", "READ", "EDIT", "MANAGE")


@dataclass(frozen=True)
class Grant:
    """One permission held on one object."""

    object_type: str
    object_id: str
    principal_type: str
    principal: str
    permission: str
    granted_by: str
    granted_time: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AuditEntry:
    """One row of the service audit log."""

    id: int
    timestamp: int
    actor: str
    actor_verified: bool
    action: str
    object_type: str
    object_id: str
    principal_type: str | None
    principal: str | None
    old_value: str | None
    new_value: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _audit_entry(row: Sequence[Any]) -> AuditEntry:
    values = list(row)
    values[3] = bool(values[3])
    return AuditEntry(*values)


def check_grant(
    object_type: str, principal_type: str, principal: str, permission: str | None
) -> None:
    """Raise ``InvalidInput`` naming the field that is wrong."""
    if object_type not in OBJECT_TYPES:
        raise InvalidInput(f"object_type {object_type!r}: must be one of {', '.join(OBJECT_TYPES)}")
    if principal_type not in PRINCIPAL_TYPES:
        raise InvalidInput(
            f"principal_type {principal_type!r}: must be one of {', '.join(PRINCIPAL_TYPES)}"
        )
    if principal_type != "everyone" and (
        not isinstance(principal, str) or not principal.strip() or len(principal) > 255
    ):
        raise InvalidInput("principal: must be a non-empty user or group name")
    if permission is not None and permission not in PERMISSIONS:
        raise InvalidInput(f"permission {permission!r}: must be one of {', '.join(PERMISSIONS)}")


_GRANT_COLUMNS = (
    "object_type, object_id, principal_type, principal, permission, granted_by, granted_time"
)
_AUDIT_COLUMNS = (
    "id, timestamp, actor, actor_verified, action, object_type, object_id, principal_type, "
    "principal, old_value, new_value"
)


class AccessMixin:
    """Grants, the service audit log and batch ids (mixed into the store)."""

    db: Database

    # ------------------------------------------------------------------------------ grants

    def list_permissions(
        self, object_type: str | None = None, object_id: str | None = None
    ) -> list[Grant]:
        """Grants, optionally of one object type or one object."""
        sql = f"SELECT {_GRANT_COLUMNS} FROM permissions"
        where, params = [], []
        if object_type is not None:
            where.append("object_type = ?")
            params.append(object_type)
        if object_id is not None:
            where.append("object_id = ?")
            params.append(str(object_id))
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY object_type, object_id, principal_type, principal"
        return [Grant(*row) for row in self.db.conn().execute(sql, params)]

    def permissions_of(
        self, user: str, groups: Iterable[str], object_type: str, object_ids: Sequence[str] | None
    ) -> list[Grant]:
        """The grants that apply to ``user`` (directly, through ``groups`` or to everyone) on
        the objects ``object_ids`` (None: every object of the type)."""
        groups = sorted(groups)
        clauses = ["principal_type = 'everyone'", "(principal_type = 'user' AND principal = ?)"]
        params: list[Any] = [object_type, user]
        if groups:
            marks = ", ".join("?" * len(groups))
            clauses.append(f"(principal_type = 'group' AND principal IN ({marks}))")
            params += groups
        sql = (
            f"SELECT {_GRANT_COLUMNS} FROM permissions WHERE object_type = ? "
            f"AND ({' OR '.join(clauses)})"
        )
        if object_ids is not None:
            if not object_ids:
                return []
            sql += f" AND object_id IN ({', '.join('?' * len(object_ids))})"
            params += [str(i) for i in object_ids]
        return [Grant(*row) for row in self.db.conn().execute(sql, params)]

    def set_permission(
        self,
        object_type: str,
        object_id: str,
        principal_type: str,
        principal: str,
        permission: str | None,
        *,
        actor: str,
        verified: bool = True,
    ) -> Grant | None:
        """Grant ``permission`` (replacing what the principal held) or, with None, revoke it.

        One audit row in the same transaction names the actor, the old and the new value.
        """
        check_grant(object_type, principal_type, principal, permission)
        object_id = str(object_id)
        if principal_type == "everyone":
            principal = "*"
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT permission FROM permissions WHERE object_type = ? AND object_id = ? "
                "AND principal_type = ? AND principal = ?",
                (object_type, object_id, principal_type, principal),
            ).fetchone()
            old = row[0] if row else None
            if permission == old:
                return self._grant(conn, object_type, object_id, principal_type, principal)
            now = now_ms()
            if permission is None:
                conn.execute(
                    "DELETE FROM permissions WHERE object_type = ? AND object_id = ? "
                    "AND principal_type = ? AND principal = ?",
                    (object_type, object_id, principal_type, principal),
                )
            else:
                conn.execute(
                    f"INSERT INTO permissions ({_GRANT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (object_type, object_id, principal_type, principal) DO UPDATE "
                    "SET permission = excluded.permission, granted_by = excluded.granted_by, "
                    "granted_time = excluded.granted_time",
                    (object_type, object_id, principal_type, principal, permission, actor, now),
                )
            self._service_audit(
                conn,
                actor,
                verified,
                "revoke" if permission is None else "grant",
                object_type,
                object_id,
                principal_type=principal_type,
                principal=principal,
                old=old,
                new=permission,
            )
            return self._grant(conn, object_type, object_id, principal_type, principal)

    @staticmethod
    def _grant(conn: Any, object_type: str, object_id: str, ptype: str, name: str) -> Grant | None:
        row = conn.execute(
            f"SELECT {_GRANT_COLUMNS} FROM permissions WHERE object_type = ? AND object_id = ? "
            "AND principal_type = ? AND principal = ?",
            (object_type, object_id, ptype, name),
        ).fetchone()
        return Grant(*row) if row else None

    # ------------------------------------------------------------------------------- audit

    @staticmethod
    def _service_audit(
        conn: Any,
        actor: str,
        verified: bool,
        action: str,
        object_type: str,
        object_id: str,
        *,
        principal_type: str | None = None,
        principal: str | None = None,
        old: str | None = None,
        new: str | None = None,
    ) -> None:
        conn.execute(
            "INSERT INTO service_audit (timestamp, actor, actor_verified, action, object_type, "
            "object_id, principal_type, principal, old_value, new_value) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                now_ms(),
                actor,
                int(verified),
                action,
                object_type,
                object_id,
                principal_type,
                principal,
                old,
                new,
            ),
        )

    def audit_service_action(
        self,
        action: str,
        object_type: str,
        object_id: str,
        *,
        actor: str,
        verified: bool = True,
        old: str | None = None,
        new: str | None = None,
    ) -> None:
        """Append one row to the service audit log (run deletions and restores...)."""
        with self.db.write() as conn:
            self._service_audit(
                conn, actor, verified, action, object_type, str(object_id), old=old, new=new
            )

    def service_audit(
        self,
        object_type: str | None = None,
        object_id: str | None = None,
        *,
        limit: int = 1000,
    ) -> list[AuditEntry]:
        """Audit rows, oldest first, optionally of one object."""
        sql = f"SELECT {_AUDIT_COLUMNS} FROM service_audit"
        where: list[str] = []
        params: list[Any] = []
        if object_type is not None:
            where.append("object_type = ?")
            params.append(object_type)
        if object_id is not None:
            where.append("object_id = ?")
            params.append(str(object_id))
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY id LIMIT ?"
        params.append(int(limit))
        rows = self.db.conn().execute(sql, params).fetchall()
        return [_audit_entry(row) for row in rows]

    # ----------------------------------------------------------------------------- batches

    def ingest_batch(
        self,
        batch_id: str,
        metric_rows: Sequence[tuple[str, str, int, int, float]],
        cell_rows: Sequence[tuple[Any, ...]] = (),
        calls: Sequence[Callable[[], Any]] = (),
    ) -> bool:
        """Write a client's batch once, in one transaction with its id: metric rows
        ``(run_id, key, step, timestamp, value)``, cell-log rows, then deferred store calls
        (zero-argument callables made by the caller, e.g. a run's end). False (nothing
        written) when the id was written before: a retried or replayed batch has no second
        effect."""
        with self.db.write() as conn:
            if self.batch_seen(conn, batch_id):
                return False
            handle = self.run_handle  # type: ignore[attr-defined]
            rows = [(handle(r), key, step, ts, value) for r, key, step, ts, value in metric_rows]
            if rows:
                self.write_metric_rows(rows)  # type: ignore[attr-defined]
            if cell_rows:
                self.write_cell_executions(cell_rows)  # type: ignore[attr-defined]
            for call in calls:
                call()
        return True

    def batch_seen(self, conn: Any, batch_id: str) -> bool:
        """Inside a write transaction: True if ``batch_id`` was written before, else record it
        (one statement: two writers delivering the same batch at once cannot both miss it)."""
        row = conn.execute(
            "INSERT INTO ingested_batches (batch_id, received_time) VALUES (?, ?) "
            "ON CONFLICT (batch_id) DO NOTHING RETURNING batch_id",
            (batch_id, now_ms()),
        ).fetchone()
        return row is None
