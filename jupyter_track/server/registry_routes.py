"""REST routes for the model registry (the sidebar's Models tab).

Reads go through the read pool; every change goes through the single writer thread, attributed
to the request's principal (:mod:`.identity`: the authenticated user, ``actor_verified`` true; on
a personal server without a hub, the server's owner, ``actor_verified`` false), never to a name
sent by the client. Alias changes are compare-and-set when the body carries
``expected_version`` (``null``: "I believe the alias is not set"): if the alias moved meanwhile
the answer is 409 with ``current_version`` and a message naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import payloads
from ..store.errors import TrackError
from ..store.interface import Store
from ..store.registry import UNSET, AliasConflict, check_version
from .base import TrackHandler
from .errors import ApiError
from .query import int_arg, list_arg, str_arg


class RegistryHandler(TrackHandler):
    """Base of the registry routes: an alias conflict keeps ``current_version`` in the body."""

    @staticmethod
    def _mapped(exc: TrackError, filter_text: str | None) -> ApiError:
        if isinstance(exc, AliasConflict):
            return ApiError(
                409,
                "conflict",
                str(exc),
                current_version=exc.current_version,
                alias=exc.alias,
            )
        return TrackHandler._mapped(exc, filter_text)

    def _detail(self, store: Store, name: str) -> dict[str, Any]:
        """The model's detail as the principal may see it (runs of experiments private to
        others left out)."""
        return model_detail(store, name, self.policy.readable_experiments(store, self.principal))

    def _versions(self, store: Store, versions: list[Any]) -> list[dict[str, Any]]:
        readable = self.policy.readable_experiments(store, self.principal)
        return _versions_with_runs(store, versions, readable)

    async def change(self, work: Callable[[Store], Any]) -> Any:
        """Run ``work(store)`` -- a registry change and the answer read back after it -- as
        one unit (``Store.atomically``): the answer shows the state the change produced, not
        a later one mixed in by another writer between the change and the reads."""
        return await self.write_store(lambda store: store.atomically(work))


# The payloads (model detail, versions with their runs) are shared with the registry widget.
model_detail = payloads.model_detail
_versions_with_runs = payloads.versions_with_runs


def _tags_arg(body: dict[str, Any], key: str) -> dict[str, str]:
    tags = body.get(key) or {}
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise ApiError(400, "invalid_input", f"{key}: must be an object of strings")
    return tags


def _list_arg(body: dict[str, Any], key: str) -> list[str]:
    items = body.get(key) or []
    if not isinstance(items, list) or not all(isinstance(k, str) for k in items):
        raise ApiError(400, "invalid_input", f"{key}: must be a list of strings")
    return items


def _description_arg(body: dict[str, Any]) -> str | None:
    text = body.get("description")
    if text is not None and not isinstance(text, str):
        raise ApiError(400, "invalid_input", "description: must be a string")
    return text


def _check_fields(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise ApiError(400, "invalid_input", f"unknown fields: {', '.join(unknown)}")


def _expected(body: dict[str, Any]) -> Any:
    if "expected_version" not in body:
        return UNSET
    value = body["expected_version"]
    if value is None:
        return None
    try:
        return check_version(value)
    except TrackError as exc:
        raise ApiError(400, "invalid_input", f"expected_version: {exc}") from None


def _version_arg(version: str) -> int:
    try:
        return check_version(version)
    except TrackError as exc:
        raise ApiError(400, "invalid_input", str(exc)) from None


# ------------------------------------------------------------------------------ handlers


class RegisteredModelsHandler(RegistryHandler):
    """``GET registry/models`` (search) and ``POST registry/models`` (create)."""

    async def get(self) -> None:
        filter_text = str_arg(self, "filter")
        order_by = list_arg(self, "order_by", split=False) or None
        limit = int_arg(self, "limit", 100, lo=1, hi=10_000)
        page_token = str_arg(self, "page_token")

        who = self.principal

        def work(store: Store) -> dict[str, Any]:
            page = store.search_registered_models(filter_text, limit or 100, order_by, page_token)
            readable = self.policy.readable_models(store, who)  # private ones left out
            models = [m for m in page if readable is None or m.name in readable]
            return {"models": [m.to_dict() for m in models], "next_page_token": page.token}

        await self.read_json(work)

    async def post(self) -> None:
        body = self.json_body()
        _check_fields(body, {"name", "description", "tags"})
        name = body.get("name")
        if not isinstance(name, str):
            raise ApiError(400, "invalid_input", "name: required, a string")
        description = _description_arg(body)
        tags = _tags_arg(body, "tags")
        who = self.principal

        def work(store: Store) -> dict[str, Any]:
            store.create_registered_model(
                name, tags, description, actor=who.name, verified=who.verified
            )
            self.policy.created(store, who, "registered_model", name)  # MANAGE for the creator
            return self._detail(store, name)

        self.send_json(await self.change(work), 201)


class RegisteredModelHandler(RegistryHandler):
    """``GET/PATCH/DELETE registry/models/{name}``."""

    async def get(self, name: str) -> None:
        await self.read_json(self._detail, name)

    async def patch(self, name: str) -> None:
        body = self.json_body()
        _check_fields(body, {"description", "tags", "delete_tags"})
        tags = _tags_arg(body, "tags")
        delete = _list_arg(body, "delete_tags")
        has_description = "description" in body
        description = _description_arg(body)
        who = self.principal

        def work(store: Store) -> dict[str, Any]:
            store.edit_registered_model(  # all of the change or none of it
                name,
                description=description if has_description else UNSET,
                set_tags=tags,
                delete_tags=delete,
                actor=who.name,
                verified=who.verified,
            )
            return self._detail(store, name)

        self.send_json(await self.change(work))

    async def delete(self, name: str) -> None:
        who = self.principal

        def work(store: Store) -> dict[str, Any]:
            store.delete_registered_model(name, actor=who.name, verified=who.verified)
            return {"name": name, "deleted": True}

        self.send_json(await self.change(work))


class ModelVersionsHandler(RegistryHandler):
    """``GET registry/models/{name}/versions`` and ``POST`` (register a logged model)."""

    async def get(self, name: str) -> None:
        def work(store: Store) -> dict[str, Any]:
            return {"versions": self._versions(store, store.get_model_versions(name))}

        await self.read_json(work)

    async def post(self, name: str) -> None:
        body = self.json_body()
        _check_fields(body, {"model_uri", "description", "tags"})
        model_uri = body.get("model_uri")
        if not isinstance(model_uri, str) or not model_uri:
            raise ApiError(400, "invalid_input", "model_uri: required, e.g. runs:/<run_id>/model")
        description = _description_arg(body)
        tags = _tags_arg(body, "tags")
        who = self.principal

        def work(store: Store) -> dict[str, Any]:
            from ..models.resolve import register_model

            mv = register_model(
                store,
                model_uri,
                name,
                tags=tags,
                description=description,
                actor=who.name,
                verified=who.verified,
            )
            return self._versions(store, [mv])[0]

        self.send_json(await self.change(work), 201)


class ModelVersionHandler(RegistryHandler):
    """``GET/PATCH/DELETE registry/models/{name}/versions/{version}``."""

    async def get(self, name: str, version: str) -> None:
        number = _version_arg(version)

        def work(store: Store) -> dict[str, Any]:
            return self._versions(store, [store.get_model_version(name, number)])[0]

        await self.read_json(work)

    async def patch(self, name: str, version: str) -> None:
        number = _version_arg(version)
        body = self.json_body()
        _check_fields(body, {"description", "tags", "delete_tags"})
        tags = _tags_arg(body, "tags")
        delete = _list_arg(body, "delete_tags")
        has_description = "description" in body
        description = _description_arg(body)
        who = self.principal

        def work(store: Store) -> dict[str, Any]:
            mv = store.edit_model_version(  # all of the change or none of it
                name,
                number,
                description=description if has_description else UNSET,
                set_tags=tags,
                delete_tags=delete,
                actor=who.name,
                verified=who.verified,
            )
            return self._versions(store, [mv])[0]

        self.send_json(await self.change(work))

    async def delete(self, name: str, version: str) -> None:
        number = _version_arg(version)
        who = self.principal

        def work(store: Store) -> dict[str, Any]:
            store.delete_model_version(name, number, actor=who.name, verified=who.verified)
            return self._detail(store, name)

        self.send_json(await self.change(work))


class AliasHandler(RegistryHandler):
    """``PUT registry/models/{name}/aliases/{alias}`` (set or move; compare-and-set with
    ``expected_version``) and ``DELETE`` (``?expected_version=N`` for compare-and-set)."""

    async def put(self, name: str, alias: str) -> None:
        body = self.json_body()
        _check_fields(body, {"version", "expected_version"})
        if "version" not in body:
            raise ApiError(400, "invalid_input", "version: required")
        version = body["version"]
        expected = _expected(body)
        who = self.principal

        def work(store: Store) -> dict[str, Any]:
            store.set_registered_model_alias(
                name,
                alias,
                version,
                expected_version=expected,
                actor=who.name,
                verified=who.verified,
            )
            return self._detail(store, name)

        self.send_json(await self.change(work))

    async def delete(self, name: str, alias: str) -> None:
        raw = str_arg(self, "expected_version")
        expected = UNSET if raw in (None, "") else _expected({"expected_version": raw})
        who = self.principal

        def work(store: Store) -> dict[str, Any]:
            store.delete_registered_model_alias(
                name, alias, expected_version=expected, actor=who.name, verified=who.verified
            )
            return self._detail(store, name)

        self.send_json(await self.change(work))


class AliasRollbackHandler(RegistryHandler):
    """``POST registry/models/{name}/aliases/{alias}/rollback``: back to the previous version."""

    async def post(self, name: str, alias: str) -> None:
        body = self.json_body()
        _check_fields(body, {"expected_version"})
        expected = _expected(body)
        who = self.principal

        def work(store: Store) -> dict[str, Any]:
            store.rollback_alias(
                name, alias, expected_version=expected, actor=who.name, verified=who.verified
            )
            return self._detail(store, name)

        self.send_json(await self.change(work))


class AliasHistoryHandler(RegistryHandler):
    """``GET registry/models/{name}/aliases/{alias}/history``: newest first."""

    async def get(self, name: str, alias: str) -> None:
        def work(store: Store) -> dict[str, Any]:
            entries = store.alias_history(name, alias)
            return {"entries": [e.to_dict() for e in reversed(entries)]}

        await self.read_json(work)


class ModelAuditHandler(RegistryHandler):
    """``GET registry/models/{name}/audit``: the model's audit timeline, newest first."""

    async def get(self, name: str) -> None:
        limit = int_arg(self, "limit", 200, lo=1, hi=10_000) or 200
        before = int_arg(self, "before_id", None, lo=1, hi=2**62)

        def work(store: Store) -> dict[str, Any]:
            entries = store.registry_audit(
                name, max_results=limit + 1, before_id=before, newest_first=True
            )
            if not entries and before is None:
                store.get_registered_model(name)  # 404 for a model that never existed
            more = len(entries) > limit
            entries = entries[:limit]
            return {
                "entries": [e.to_dict() for e in entries],
                "next_before_id": entries[-1].id if more and entries else None,
            }

        await self.read_json(work)


REGISTRY_ROUTES: list[tuple[str, type[TrackHandler]]] = [
    ("/registry/models", RegisteredModelsHandler),
    ("/registry/models/{name}", RegisteredModelHandler),
    ("/registry/models/{name}/versions", ModelVersionsHandler),
    ("/registry/models/{name}/versions/{version}", ModelVersionHandler),
    ("/registry/models/{name}/aliases/{alias}", AliasHandler),
    ("/registry/models/{name}/aliases/{alias}/rollback", AliasRollbackHandler),
    ("/registry/models/{name}/aliases/{alias}/history", AliasHistoryHandler),
    ("/registry/models/{name}/audit", ModelAuditHandler),
]
