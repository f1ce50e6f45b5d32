"""MLflow's REST protocol on the Jupyter server: ``{base_url}jupyter-track/mlflow/...``.

Thin handlers over :mod:`jupyter_track.mlflow_protocol`: they authenticate like every other
route (Jupyter's token, including MLflow's ``Authorization: Bearer <MLFLOW_TRACKING_TOKEN>``, or
the login cookie with the XSRF check on writes), read the call's fields and run the endpoint in
the store's threads (parsing included: nothing but I/O happens on the event loop), and answer
every error in MLflow's shape (``{"error_code", "message"}`` with MLflow's status).

The artifact proxy's file routes stream: an upload (``PUT``) goes chunk by chunk to a temporary
file beside the artifacts and is moved into the run in one rename when complete; a download
(``GET``) is read in chunks in the thread pool.
"""

from __future__ import annotations

import mimetypes
import os
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import quote

from jupyter_server.utils import url_path_join
from tornado.iostream import StreamClosedError
from tornado.web import HTTPError, RequestHandler, stream_request_body

from ..mlflow_protocol import ARTIFACTS, MlflowError, Request, answer, find, from_exception
from ..mlflow_protocol.artifacts import ArtifactPath, locate
from ..mlflow_protocol.errors import from_http_status
from ..store import SQLiteStore
from .base import TrackHandler, bind, dumps

MLFLOW_PREFIX = "jupyter-track/mlflow"
MAX_JSON_BODY = 16 * 1024 * 1024
MAX_UPLOAD = 8 * 1024**3
CHUNK = 1 << 20


class MlflowHandler(TrackHandler):
    """Base of the MLflow routes: MLflow's error shape for every error, whoever raised it."""

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        """A refused call (4xx in MLflow's shape) is not a server failure: no traceback."""
        error = from_exception(value) if value is not None else None
        if error is not None and error.status < 500:
            self.log.debug("jupyter-track mlflow: %s %s", error.error_code, error.message)
            return
        super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        exc = exc_info[1] if exc_info else None
        error = from_exception(exc) if exc is not None else None
        if error is None and isinstance(exc, HTTPError):
            message = (
                exc.log_message % exc.args if exc.log_message and exc.args else exc.log_message
            )
            error = from_http_status(exc.status_code, message or exc.reason or "error")
        if error is None:
            if status_code >= 500:
                self.log.error("jupyter-track: %s %s failed", self.request.method, self.request.uri)
                error = MlflowError("INTERNAL_ERROR", "internal server error")
            else:
                error = from_http_status(status_code, self._reason)
        self.set_status(error.status)
        self.clear_header("Content-Disposition")
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.finish(dumps(error.body()))


class MlflowApiHandler(MlflowHandler):
    """Every JSON endpoint of :data:`~jupyter_track.mlflow_protocol.ENDPOINTS`."""

    async def _call(self, path: str = "") -> None:
        method = self.request.method or "GET"
        endpoint, params = find(path, method)
        body = self.request.body or b""
        if len(body) > MAX_JSON_BODY:
            raise MlflowError(
                "INVALID_PARAMETER_VALUE",
                f"the body is {len(body)} bytes long, the limit is {MAX_JSON_BODY}",
            )
        arguments = self.request.query_arguments
        who = self.principal

        def work(store: SQLiteStore) -> bytes:
            if method == "GET" or (not body.strip() and arguments):
                request = Request.from_query(
                    arguments, user=who.name, verified=who.verified, path=params
                )
            else:
                request = Request.from_json(body, user=who.name, verified=who.verified, path=params)
            return dumps(answer(endpoint, store, request))

        run = self.access.write if endpoint.writes else self.access.read
        self.send_bytes(await run(work))

    get = post = patch = put = delete = _call


@stream_request_body
class MlflowArtifactHandler(MlflowHandler):
    """``GET``/``PUT`` ``.../mlflow-artifacts/artifacts/<experiment>/<run>/artifacts/<path>``."""

    _upload: tuple[Path, BinaryIO] | None = None
    _where: ArtifactPath | None = None

    @property
    def content_security_policy(self) -> str:
        return super().content_security_policy + "; sandbox"

    async def prepare(self) -> None:  # type: ignore[override]
        await super().prepare()
        if self.request.method != "PUT":
            return
        self.request.connection.set_max_body_size(MAX_UPLOAD)  # type: ignore[union-attr]
        path = self.path_kwargs.get("path", "")
        self._where = await self.access.read(lambda store: locate(store, path, file=True))
        self._upload = await self.access.read(lambda store: store.artifact_upload_file())

    async def data_received(self, chunk: bytes) -> None:
        if self._upload is not None:
            await self.access.blocking(self._upload[1].write, chunk)

    async def put(self, path: str) -> None:
        assert self._upload is not None and self._where is not None
        temp, handle = self._upload
        await self.access.blocking(handle.close)
        where = self._where
        await self.access.write(
            lambda store: store.put_artifact_file(where.run_id, where.path, temp)
        )
        self._upload = None
        self.send_bytes(b"{}")

    async def get(self, path: str) -> None:
        def open_file(store: SQLiteStore) -> tuple[str, BinaryIO, int]:
            where = locate(store, path)
            target = store.artifact_file(where.run_id, where.path)
            handle = target.open("rb")
            return target.name, handle, os.fstat(handle.fileno()).st_size

        name, handle, size = await self.access.read(open_file)
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        self.set_header("Content-Type", kind)
        self.set_header("Content-Length", str(size))
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Disposition", f"attachment; filename*=UTF-8''{quote(name)}")
        try:
            while True:
                chunk = await self.access.blocking(handle.read, CHUNK)
                if not chunk:
                    break
                self.write(chunk)
                await self.flush()
            await self.finish()
        except StreamClosedError:
            pass  # the client went away (or stopped reading once it had every byte)
        finally:
            await self.access.blocking(handle.close)

    async def _not_served(self, path: str) -> None:
        raise MlflowError(
            "ENDPOINT_NOT_FOUND",
            f"{self.request.method}: the artifact proxy serves GET (download) and PUT (upload)",
            status=405,
        )

    post = patch = delete = _not_served

    def on_finish(self) -> None:
        self._discard_upload()

    def on_connection_close(self) -> None:
        self._discard_upload()
        super().on_connection_close()

    def _discard_upload(self) -> None:
        upload, self._upload = self._upload, None
        if upload is not None:
            temp, handle = upload

            def discard() -> None:
                handle.close()
                temp.unlink(missing_ok=True)

            self.access.read_pool.submit(discard)


def mlflow_handlers(
    prefix: str, host: type[RequestHandler], kwargs: dict[str, Any]
) -> list[tuple[str, type[RequestHandler], dict[str, Any]]]:
    """The MLflow routes under ``prefix`` (the tracking URI's path), bound to ``host`` (its
    authentication), most specific first."""
    return [
        (
            url_path_join(prefix, ARTIFACTS.lstrip("/"), "(?P<path>.+)"),
            bind(MlflowArtifactHandler, host),
            kwargs,
        ),
        (url_path_join(prefix, "(?P<path>.*)"), bind(MlflowApiHandler, host), kwargs),
    ]
