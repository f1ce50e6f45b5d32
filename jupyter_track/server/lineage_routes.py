"""Routes about lineage: a run's lineage, reproducing a run, a model version's lineage report,
the environment diff of two runs and the dataset view."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from ..lineage import datasets, envdiff, report
from ..lineage.reproduce import OutputExists, reproduce
from ..store import SQLiteStore
from .base import TrackHandler
from .errors import ApiError
from .query import choice_arg, int_arg, str_arg

MAX_DATASET_ROWS = 50_000
LINEAGE_PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"
"""The lineage page has no scripts and loads nothing: both forbidden, whatever the data holds."""
_FOLDER = re.compile(r"^[\w.\- ]+(/[\w.\- ]+)*$")


class RunLineageHandler(TrackHandler):
    """``GET runs/{run_id}/lineage``: the executed cells the run depended on, stale flags, seeds
    (404 when the run does not exist; ``lineage: null`` for a run with no cell log)."""

    async def get(self, run_id: str) -> None:
        await self.read_json(
            lambda store: {"run_id": run_id, "lineage": store.get_run_lineage(run_id)}
        )


class ReproduceHandler(TrackHandler):
    """``POST runs/{run_id}/reproduce``: write the reproduction folder inside the server's root
    folder (``folder``, relative; default ``reproduce-<run id>``); ``force`` replaces it."""

    async def post(self, run_id: str) -> None:
        body = self.json_body()
        unknown = sorted(set(body) - {"folder", "force"})
        if unknown:
            raise ApiError(400, "invalid_input", f"unknown fields: {', '.join(unknown)}")
        folder = body.get("folder") or f"reproduce-{run_id[:12]}"
        force = body.get("force", False)
        if not isinstance(force, bool):
            raise ApiError(400, "invalid_input", "force: must be true or false")
        if not isinstance(folder, str) or not _FOLDER.match(folder) or ".." in folder.split("/"):
            raise ApiError(
                400,
                "invalid_input",
                "folder: a relative path inside the server's root folder (letters, digits, "
                "'_', '-', '.', spaces and '/')",
            )
        root_dir = self.settings.get("server_root_dir")
        if not root_dir:  # the team service has no notebook folder to write into
            raise ApiError(
                400,
                "bad_request",
                "reproduce: only a Jupyter server writes reproduction folders (into its root "
                "folder); use `jupyter-track reproduce RUN -o DIR` here",
            )
        root = Path(os.path.expanduser(root_dir)).resolve()
        target = (root / folder).resolve()
        if root not in target.parents:
            raise ApiError(
                400, "invalid_input", "folder: must stay inside the server's root folder"
            )

        def work(store: SQLiteStore) -> dict[str, Any]:
            try:
                result = reproduce(store, run_id, target, force=force)
            except OutputExists as exc:
                raise ApiError(409, "conflict", str(exc), folder=folder) from None
            out = result.to_dict()
            out["folder"] = target.relative_to(root).as_posix()
            out["notebook"] = (target / "reproduce.ipynb").relative_to(root).as_posix()
            del out["path"]
            return out

        self.send_json(await self.read_store(work), 201)


class VersionLineageHandler(TrackHandler):
    """``GET registry/models/{name}/versions/{version}/lineage?format=json|html``."""

    @property
    def content_security_policy(self) -> str:
        return LINEAGE_PAGE_CSP

    async def get(self, name: str, version: str) -> None:
        fmt = choice_arg(self, "format", ["json", "html"], "json")
        try:
            number = int(version[1:] if version[:1] in "vV" else version)
        except ValueError:
            raise ApiError(400, "invalid_input", f"version {version!r}: not a number") from None
        if fmt == "json":
            await self.read_json(lambda store: report.version_lineage(store, name, number))
            return
        page = await self.read_store(
            lambda store: report.lineage_html(report.version_lineage(store, name, number))
        )
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Content-Security-Policy", LINEAGE_PAGE_CSP)
        self.set_header("X-Content-Type-Options", "nosniff")
        if self.get_query_argument("download", None) in ("1", "true"):
            self.set_header("Content-Disposition", f'attachment; filename="lineage-{number}.html"')
        self.write(page.encode())
        await self.flush()  # the headers go out now (the API host would make them JSON)
        await self.finish()


class EnvDiffHandler(TrackHandler):
    """``GET env-diff?run_a=&run_b=``: packages added, removed, changed between two runs."""

    async def get(self) -> None:
        run_a = str_arg(self, "run_a", required=True)
        run_b = str_arg(self, "run_b", required=True)
        assert run_a is not None and run_b is not None
        await self.read_json(lambda store: envdiff.run_environment_diff(store, run_a, run_b))


class DatasetsHandler(TrackHandler):
    """``GET datasets?digest=&name=&limit=``: runs and model versions that read a dataset."""

    async def get(self) -> None:
        digest = str_arg(self, "digest")
        name = str_arg(self, "name")
        if not digest and not name:
            raise ApiError(
                400, "bad_request", "digest or name: give at least one", parameter="digest"
            )
        limit = int_arg(self, "limit", 10_000, lo=1, hi=MAX_DATASET_ROWS)
        assert limit is not None
        await self.read_json(
            lambda store: datasets.dataset_view(
                store, digest=digest or None, name=name or None, limit=limit
            )
        )


LINEAGE_ROUTES: list[tuple[str, type[TrackHandler]]] = [
    ("/runs/{run_id}/lineage", RunLineageHandler),
    ("/runs/{run_id}/reproduce", ReproduceHandler),
    ("/registry/models/{name}/versions/{version}/lineage", VersionLineageHandler),
    ("/env-diff", EnvDiffHandler),
    ("/datasets", DatasetsHandler),
]
