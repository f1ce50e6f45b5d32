"""Routes about runs: search, one run, edits, delete/restore, comparison."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from .. import payloads
from ..lineage.compare import comparison_extras
from ..store import NotFound, ViewType
from ..store.interface import Store
from ..store.paging import decode_page_token
from .base import TrackHandler
from .errors import ApiError
from .policy import visible_experiments
from .query import bool_arg, choice_arg, column_selection, int_arg, list_arg, str_arg

VIEWS = {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY, "all": ViewType.ALL}
DEFAULT_COLUMNS = ["params.*", "metrics.*"]
MAX_PAGE = 50_000
MAX_RUN_IDS = 200


class RunsHandler(TrackHandler):
    """``GET runs``: one page of a search, its total counted at the same time in another
    thread."""

    async def get(self) -> None:
        experiment_ids = list_arg(self, "experiment_ids") or None
        filter_text = str_arg(self, "filter")
        order_by = list_arg(self, "order_by", split=False)
        limit = int_arg(self, "limit", 100, lo=0, hi=MAX_PAGE)
        offset = int_arg(self, "offset", None, lo=0, hi=2**62)
        page_token = str_arg(self, "page_token")
        if offset is not None and page_token:
            raise ApiError(400, "bad_request", "give offset or page_token, not both")
        if "columns" in self.request.arguments:
            columns = list_arg(self, "columns")
        else:
            columns = list(DEFAULT_COLUMNS)
        selection = column_selection(columns)
        view = VIEWS[choice_arg(self, "view", list(VIEWS), "active")]
        want_total = bool_arg(self, "total", True)

        who = self.principal

        def visible(store: Store) -> list[str] | None:
            """The experiments to search: the asked ones the user may read (a team service
            with private experiments; everything elsewhere)."""
            return visible_experiments(self.policy, store, who, experiment_ids)

        def page(store: Store) -> dict[str, Any]:
            found = store.search_runs(
                visible(store),
                filter_text,
                run_view_type=view,
                max_results=limit or 0,
                order_by=order_by,
                page_token=page_token,
                offset=offset,
                hydrate=False,
            )
            ids = [r.info.run_id for r in found.runs]
            cols = store.run_columns(ids, **selection) if ids else {}
            start = offset if offset is not None else decode_page_token(page_token)
            rows = [payloads.run_row(r.info, cols.get(r.info.run_id, {})) for r in found.runs]
            return {
                "runs": rows,
                "offset": start,
                "next_page_token": found.next_page_token,
                "total": None,
                "columns": columns,
            }

        def count(store: Store) -> int:
            return store.count_runs(visible(store), filter_text, run_view_type=view)

        calls = [self.read_store(page, filter_text=filter_text)]
        if want_total:
            calls.append(self.read_store(count, filter_text=filter_text))
        results = await asyncio.gather(*calls, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result
        body: dict[str, Any] = results[0]  # type: ignore[assignment]
        if want_total:
            body["total"] = results[1]
        self.send_json(body)


def _detail_after(
    store: Store,
    run_id: str,
    change: Callable[[], Any] | None,
    readable: set[str] | None = None,
) -> dict[str, Any]:
    """The run's detail once ``change()`` (a store edit) is made. Everything that can fail
    besides the edit (the environment, the artifact folder, the children) is read first, so a
    request whose answer cannot be built changes nothing. ``readable``: the experiments the
    visitor may read (None: all); child runs in others are left out."""
    before = store.get_run(run_id)
    environment = None
    if before.info.environment:
        try:
            environment = store.get_environment(before.info.environment)
        except NotFound:
            environment = None
    artifacts, truncated = store.artifact_tree(run_id, limit=1000)
    children = store.child_run_ids(run_id)
    if readable is not None:
        children = [c for c in children if store.get_run(c).info.experiment_id in readable]
    run = before
    if change is not None:
        change()
        run = store.get_run(run_id)
    return payloads.run_detail(
        run,
        environment=environment,
        artifacts=artifacts,
        artifacts_truncated=truncated,
        children=children,
    )


_UPDATE_FIELDS = {"run_name", "note", "tags", "delete_tags"}


def _check_update(body: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(body) - _UPDATE_FIELDS)
    if unknown:
        raise ApiError(400, "invalid_input", f"unknown fields: {', '.join(unknown)}")
    name = body.get("run_name")
    if name is not None and (not isinstance(name, str) or not name.strip()):
        raise ApiError(400, "invalid_input", "run_name: must be a non-empty string")
    note = body.get("note")
    if note is not None and not isinstance(note, str):
        raise ApiError(400, "invalid_input", "note: must be a string")
    tags = body.get("tags") or {}
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise ApiError(400, "invalid_input", "tags: must be an object of strings")
    delete = body.get("delete_tags") or []
    if not isinstance(delete, list) or not all(isinstance(k, str) for k in delete):
        raise ApiError(400, "invalid_input", "delete_tags: must be a list of strings")
    reserved = sorted(k for k in [*tags, *delete] if payloads.is_system_tag(k))
    if reserved:
        raise ApiError(
            400,
            "invalid_input",
            f"tags {', '.join(reserved)}: keys under mlflow. and jt. are set by jupyter-track",
        )
    return {"run_name": name, "note": note, "tags": tags, "delete_tags": delete}


class RunHandler(TrackHandler):
    """``GET/PATCH/DELETE runs/{run_id}``."""

    async def get(self, run_id: str) -> None:
        who = self.principal

        def work(store: Store) -> dict[str, Any]:
            readable = self.policy.readable_experiments(store, who)
            return _detail_after(store, run_id, None, readable)

        await self.read_json(work)

    async def patch(self, run_id: str) -> None:
        change = _check_update(self.json_body())
        who = self.principal

        def work(store: Store) -> dict[str, Any]:
            tags = dict(change["tags"])
            note = change["note"]
            if note:
                tags[payloads.NOTE_TAG] = note
            removals = list(change["delete_tags"])
            if note == "":
                removals.append(payloads.NOTE_TAG)
            return _detail_after(
                store,
                run_id,
                readable=self.policy.readable_experiments(store, who),
                change=lambda: store.edit_run(  # one transaction: all of it or none, attributed
                    run_id,
                    run_name=change["run_name"],
                    set_tags=tags,
                    delete_tags=removals,
                    actor=who.name,
                    verified=who.verified,
                    actor_source=who.source,
                ),
            )

        # the edit and the detail read after it in one unit: the answer is this edit's result
        self.send_json(await self.write_store(lambda store: store.atomically(work)))

    async def delete(self, run_id: str) -> None:
        who = self.principal

        def work(store: Store) -> dict[str, Any]:
            # attributed and appended to the service audit log in the same transaction
            store.delete_run(run_id, actor=who.name, verified=who.verified, actor_source=who.source)
            return {"run_id": run_id, "lifecycle_stage": "deleted"}

        self.send_json(await self.write_store(work))


class RestoreHandler(TrackHandler):
    """``POST runs/{run_id}/restore``."""

    async def post(self, run_id: str) -> None:
        who = self.principal

        def work(store: Store) -> dict[str, Any]:
            store.restore_run(
                run_id, actor=who.name, verified=who.verified, actor_source=who.source
            )
            return {"run_id": run_id, "lifecycle_stage": "active"}

        self.send_json(await self.write_store(work))


class CompareHandler(TrackHandler):
    """``GET compare``: params, metrics and tags of N runs aligned by key."""

    async def get(self) -> None:
        asked = list_arg(self, "run_ids", required=True, max_items=MAX_RUN_IDS)
        run_ids = list(dict.fromkeys(asked))

        def work(store: Store) -> dict[str, Any]:
            runs = store.get_runs(run_ids)
            return {**payloads.comparison(runs), **comparison_extras(store, runs)}

        await self.read_json(work)
