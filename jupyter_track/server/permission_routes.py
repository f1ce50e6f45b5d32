"""``GET/PUT/DELETE permissions/{object_type}/{object_id}``: who holds what on an experiment or
a registered model, and granting or revoking (MANAGE holders; each change an audit row).

``GET`` answers the grants, the visitor's own permission (``you``: what the sidebar enables)
and the object's grant history. ``PUT`` takes ``{"principal_type": "user" | "group" |
"everyone", "principal": "bob", "permission": "READ" | "EDIT" | "MANAGE" | "NO_PERMISSIONS"}``;
``DELETE`` takes ``principal_type`` and ``principal`` as query arguments. In a personal
Jupyter server (no team) the grants are kept but everyone there is the owner.
"""

from __future__ import annotations

from typing import Any

from .base import TrackHandler
from .errors import ApiError
from .query import choice_arg, str_arg

OBJECT_TYPES = ("experiment", "registered_model")
PRINCIPAL_TYPES = ("user", "group", "everyone")


def _object(store: Any, object_type: str, object_id: str) -> dict[str, Any]:
    if object_type == "experiment":
        experiment = store.get_experiment(object_id)
        return {"type": object_type, "id": experiment.experiment_id, "name": experiment.name}
    model = store.get_registered_model(object_id)
    return {"type": object_type, "id": model.name, "name": model.name}


class PermissionsHandler(TrackHandler):
    """Grants of one object (see the module docstring)."""

    def _kind(self, object_type: str) -> str:
        if object_type not in OBJECT_TYPES:
            raise ApiError(
                400,
                "invalid_input",
                f"object_type {object_type!r}: must be experiment or registered_model",
                parameter="object_type",
            )
        return object_type

    def _answer(self, store: Any, object_type: str, object_id: str) -> dict[str, Any]:
        obj = _object(store, object_type, object_id)
        who = self.principal
        return {
            "object": obj,
            "you": {
                "name": who.name,
                "permission": self.policy.effective(store, who, object_type, obj["id"]),
                "admin": who.admin,
            },
            "grants": [g.to_dict() for g in store.list_permissions(object_type, obj["id"])],
            "history": [e.to_dict() for e in store.service_audit(object_type, obj["id"])],
        }

    async def get(self, object_type: str, object_id: str) -> None:
        kind = self._kind(object_type)
        await self.read_json(lambda s: self._answer(s, kind, object_id))

    async def put(self, object_type: str, object_id: str) -> None:
        kind = self._kind(object_type)
        body = self.json_body()
        unknown = sorted(set(body) - {"principal_type", "principal", "permission"})
        if unknown:
            raise ApiError(400, "invalid_input", f"unknown fields: {', '.join(unknown)}")
        principal_type = body.get("principal_type", "user")
        principal = body.get("principal") or ""
        permission = body.get("permission")
        if principal_type not in PRINCIPAL_TYPES:
            raise ApiError(400, "invalid_input", "principal_type: must be user, group or everyone")
        if not isinstance(permission, str):
            raise ApiError(400, "invalid_input", "permission: required, a string")
        await self._set(kind, object_id, principal_type, principal, permission)

    async def delete(self, object_type: str, object_id: str) -> None:
        kind = self._kind(object_type)
        principal_type = choice_arg(self, "principal_type", list(PRINCIPAL_TYPES), "user")
        principal = str_arg(self, "principal") or ""
        await self._set(kind, object_id, principal_type, principal, None)

    async def _set(
        self, kind: str, object_id: str, principal_type: str, principal: Any, permission: Any
    ) -> None:
        who = self.principal

        def work(store: Any) -> dict[str, Any]:
            obj = _object(store, kind, object_id)
            store.set_permission(
                kind, obj["id"], principal_type, principal, permission, actor=who.name
            )
            return self._answer(store, kind, obj["id"])

        self.send_json(await self.write_store(work))
