"""Routes about traces: search, one trace (with its spans and assessments), deletion, and the
OTLP/HTTP receiver (``POST otlp/v1/traces``, protobuf or JSON) through which an application
running elsewhere sends its OpenTelemetry spans to this server's store."""

from __future__ import annotations

import zlib
from typing import Any

from .. import payloads
from ..store import SQLiteStore
from ..store.errors import InvalidInput
from .base import TrackHandler
from .errors import ApiError
from .policy import EDIT, READ, visible_experiments
from .query import bool_arg, int_arg, list_arg, str_arg

MAX_TRACES_PAGE = 1000
PROTOBUF = "application/x-protobuf"


class TracesHandler(TrackHandler):
    """``GET traces``: one page of a trace search (newest first by default)."""

    async def get(self) -> None:
        experiment_ids = list_arg(self, "experiment_ids") or None
        filter_text = str_arg(self, "filter")
        order_by = list_arg(self, "order_by", split=False)
        limit = int_arg(self, "limit", 100, lo=0, hi=MAX_TRACES_PAGE)
        page_token = str_arg(self, "page_token")
        run_id = str_arg(self, "run_id")
        with_spans = bool_arg(self, "spans", False)
        who = self.principal

        def page(store: SQLiteStore) -> dict[str, Any]:
            # the asked experiments the user may read (["-1"], none, when that leaves nothing)
            ids = visible_experiments(self.policy, store, who, experiment_ids)
            found = store.search_traces(
                ids,
                filter_text,
                order_by=order_by,
                max_results=limit or 0,
                page_token=page_token,
                run_id=run_id,
                include_spans=with_spans,
            )
            traces = []
            for stored in found.traces:
                item = payloads.trace_info(stored.summary)
                item["assessments"] = [payloads.assessment(a) for a in stored.assessments]
                if with_spans:
                    item["spans"] = payloads.trace_detail(stored)["spans"]
                traces.append(item)
            return {"traces": traces, "next_page_token": found.next_page_token}

        await self.read_json(page, filter_text=filter_text)


class TraceHandler(TrackHandler):
    """``GET traces/{trace_id}``: the trace with its spans; ``DELETE``: remove it."""

    async def get(self, trace_id: str) -> None:
        who = self.principal

        def detail(store: SQLiteStore) -> dict[str, Any]:
            stored = store.get_trace(trace_id)
            self.policy.check_experiment(store, who, stored.summary.experiment_id, READ)
            return payloads.trace_detail(stored)

        await self.read_json(detail)

    async def delete(self, trace_id: str) -> None:
        who = self.principal

        def remove(store: SQLiteStore) -> None:
            stored = store.get_trace(trace_id, include_spans=False)
            self.policy.check_experiment(store, who, stored.summary.experiment_id, EDIT)
            store.delete_traces(trace_ids=[trace_id])

        await self.write_store(remove)
        self.set_status(204)
        self.finish()


def _body(handler: TrackHandler) -> bytes:
    """The request body, gunzipped/inflated when ``Content-Encoding`` says so (bounded)."""
    from ..tracing.otlp import MAX_BODY_BYTES

    body = handler.request.body or b""
    encoding = (handler.request.headers.get("Content-Encoding") or "identity").lower().strip()
    if encoding in ("", "identity"):
        data = body
    elif encoding in ("gzip", "deflate"):
        window = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
        inflater = zlib.decompressobj(window)
        try:
            data = inflater.decompress(body, MAX_BODY_BYTES + 1)
        except zlib.error as exc:
            raise ApiError(400, "bad_request", f"the {encoding} body is corrupt: {exc}") from None
        if inflater.unconsumed_tail:
            data = b"x" * (MAX_BODY_BYTES + 1)
    else:
        raise ApiError(
            415, "unsupported_encoding", f"Content-Encoding {encoding!r}: use gzip or none"
        )
    if len(data) > MAX_BODY_BYTES:
        raise ApiError(
            413, "too_large", f"the request is over {MAX_BODY_BYTES // (1024 * 1024)} MB"
        )
    return data


class OtlpTracesHandler(TrackHandler):
    """``POST otlp/v1/traces``: OTLP/HTTP trace export (``application/x-protobuf`` or
    ``application/json``). The experiment is the ``x-jupyter-track-experiment`` header (a
    name, created when new), else ``x-mlflow-experiment-id``, else the resource attribute
    ``jupyter_track.experiment``, else the default experiment. Each trace records the
    authenticated user who sent it (``jupyter_track.otlp.user`` metadata)."""

    async def post(self) -> None:
        from ..tracing import otlp

        content_type = (self.request.headers.get("Content-Type") or "").split(";")[0].strip()
        content_type = content_type.lower()
        if content_type not in (PROTOBUF, "application/json"):
            raise ApiError(
                415,
                "unsupported_media_type",
                f"Content-Type {content_type or 'missing'!r}: use {PROTOBUF} or application/json",
            )
        data = _body(self)
        try:
            spans = (
                otlp.decode_protobuf(data) if content_type == PROTOBUF else otlp.decode_json(data)
            )
        except InvalidInput as exc:
            raise ApiError(400, "bad_request", str(exc)) from None
        experiment_name = self.request.headers.get("x-jupyter-track-experiment") or None
        experiment_id = self.request.headers.get("x-mlflow-experiment-id") or None
        if experiment_id is not None and not experiment_id.isdigit():
            raise ApiError(
                400, "bad_request", f"x-mlflow-experiment-id {experiment_id!r}: not an id"
            )
        who = self.principal

        def ingest(store: SQLiteStore) -> int:
            exp_id = experiment_id
            if exp_id is None and experiment_name:
                existing = store.get_experiment_by_name(experiment_name)
                if existing is None:
                    exp_id = store.create_experiment(experiment_name)
                    self.policy.created(store, who, "experiment", exp_id)
                else:
                    exp_id = existing.experiment_id
            records = otlp.records(
                spans,
                experiment_id=exp_id,
                metadata={"jupyter_track.otlp.user": who.name},
            )
            for record in records:
                if record.experiment_id is not None:
                    self.policy.check_experiment(store, who, record.experiment_id, EDIT)
                else:  # a resource attribute names it
                    assert record.experiment_name is not None
                    found = store.get_experiment_by_name(record.experiment_name)
                    if found is None:
                        record.experiment_id = store.create_experiment(record.experiment_name)
                        self.policy.created(store, who, "experiment", record.experiment_id)
                    else:
                        record.experiment_id = found.experiment_id
                        self.policy.check_experiment(store, who, found.experiment_id, EDIT)
                    record.experiment_name = None
            store.write_traces(records)
            return len(spans)

        if spans:
            await self.write_store(ingest)
        if content_type == PROTOBUF:
            from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
                ExportTraceServiceResponse,
            )

            self.set_header("Content-Type", PROTOBUF)
            self.finish(ExportTraceServiceResponse().SerializeToString())
        else:
            self.send_json({})


TRACE_ROUTES: list[tuple[str, type[TrackHandler]]] = [
    ("/traces", TracesHandler),
    ("/traces/{trace_id}", TraceHandler),
    ("/otlp/v1/traces", OtlpTracesHandler),
]
