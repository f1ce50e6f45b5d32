"""The JSON encoding of store calls between the HTTP client store and the server or service.

Plain JSON values pass unchanged; the rest is tagged with a ``$`` key:

* store entities (dataclasses of ``jupyter_track.store``): ``{"$type": "Run", "info": ...}``;
  trace records too (``store.trace_records``: a ``TraceRecord`` to write, ``StoredTrace`` and
  ``TracePage`` read back), field by field, so nothing of a trace is lost on the way (a span
  row is a list);
* NaN and infinities: ``{"$float": "NaN" | "Infinity" | "-Infinity"}``;
* a page of results (``PagedList``): ``{"$paged": [...], "token": ...}``; sets: ``{"$set": []}``;
  bytes: ``{"$bytes": "<base64>"}``; paths are sent as text;
* dictionary keys that start with ``$`` (a tag may be called anything) get one more ``$``.

Only the entity classes listed in :func:`entity_types` are ever built from a message, so a
message can make nothing but those records. Errors travel as the store's exception class name
(one of :data:`ERRORS`) and its message, and are raised again on the client side.
"""

from __future__ import annotations

import base64
import dataclasses
import math
from functools import cache
from pathlib import PurePath
from typing import Any

from .store import errors as store_errors

ERRORS: dict[str, type[Exception]] = {
    "NotFound": store_errors.NotFound,
    "Conflict": store_errors.Conflict,
    "InvalidInput": store_errors.InvalidInput,
    "StoreUnavailable": store_errors.StoreUnavailable,
    "TrackError": store_errors.TrackError,
}


@cache
def entity_types() -> dict[str, type]:
    """The records a message may contain, by tag name."""
    from .store import access, artifacts, entities, runs, trace_records

    types: list[type] = [
        entities.Experiment,
        entities.Metric,
        entities.MetricSummary,
        entities.RunInfo,
        entities.RunData,
        entities.Run,
        entities.CellExecution,
        entities.Param,
        entities.RunTag,
        artifacts.ArtifactInfo,
        entities.ModelVersion,
        entities.RegisteredModel,
        runs.RunPage,
        access.Grant,
        # traces: what the kernel's writer sends and what trace reads answer
        trace_records.TraceRecord,
        trace_records.TraceSummary,
        trace_records.StoredSpan,
        trace_records.StoredAssessment,
        trace_records.StoredTrace,
        trace_records.TracePage,
    ]
    table = {cls.__name__: cls for cls in types}
    table["RegistryAuditEntry"] = entities.AuditEntry
    table["ServiceAuditEntry"] = access.AuditEntry
    return table


@cache
def _names() -> dict[type, str]:
    return {cls: name for name, cls in entity_types().items()}


@cache
def _error_types() -> dict[str, type[Exception]]:
    from .store.registry import AliasConflict
    from .store.runs import ParamConflict

    return {**ERRORS, "AliasConflict": AliasConflict, "ParamConflict": ParamConflict}


def encode(value: Any) -> Any:
    """``value`` as plain JSON (see the module docstring)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        return {
            "$float": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
        }
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        name = _names().get(type(value))
        if name is None:
            raise TypeError(f"cannot send a {type(value).__name__}")
        body = {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {"$type": name, **body}
    if isinstance(value, dict):
        return {_escape(str(k)): encode(v) for k, v in value.items()}
    if type(value).__name__ == "PagedList":
        return {"$paged": [encode(v) for v in value], "token": value.token}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return {"$set": [encode(v) for v in sorted(value, key=repr)]}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode()}
    if isinstance(value, PurePath):
        return str(value)
    raise TypeError(f"cannot send a {type(value).__name__}")


def _escape(key: str) -> str:
    return "$" + key if key.startswith("$") else key


def _unescape(key: str) -> str:
    return key[1:] if key.startswith("$$") else key


_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def decode(value: Any) -> Any:
    """The inverse of :func:`encode`; unknown tags raise ``ValueError``."""
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if "$type" in value:
        cls = entity_types().get(value["$type"])
        if cls is None:
            raise ValueError(f"unknown record type {value['$type']!r}")
        fields = {f.name for f in dataclasses.fields(cls)}
        kwargs = {k: decode(v) for k, v in value.items() if k in fields}
        return cls(**kwargs)
    if "$float" in value:
        if value["$float"] not in _FLOATS:
            raise ValueError(f"bad float {value['$float']!r}")
        return _FLOATS[value["$float"]]
    if "$paged" in value:
        from .store.registry import PagedList

        return PagedList([decode(v) for v in value["$paged"]], value.get("token"))
    if "$set" in value:
        return {decode(v) for v in value["$set"]}
    if "$bytes" in value:
        return base64.b64decode(value["$bytes"])
    return {_unescape(k): decode(v) for k, v in value.items()}


_ERROR_ATTRS = ("text", "position", "expected", "found", "name", "alias", "current_version")


def encode_error(exc: Exception) -> dict[str, Any]:
    """The wire form of a store error: class name, message, the attributes callers read."""
    known = _error_types()
    name = type(exc).__name__
    if name not in known and name != "FilterSyntaxError":
        name = next(
            (n for n, cls in known.items() if isinstance(exc, cls) and n != "TrackError"),
            "TrackError",
        )
    body: dict[str, Any] = {"exception": name, "message": str(exc)}
    attrs = {a: getattr(exc, a) for a in _ERROR_ATTRS if hasattr(exc, a)}
    if attrs:
        body["attrs"] = encode(attrs)
    return body


def decode_error(body: dict[str, Any]) -> Exception | None:
    """The store exception a wire error stands for, or None when the body names none."""
    message = str(body.get("message", "error"))
    name = body.get("exception")
    attrs = decode(body.get("attrs") or {})
    if name == "FilterSyntaxError":
        return store_errors.FilterSyntaxError(
            str(attrs.get("text") or ""),
            int(attrs.get("position") or 0),
            str(attrs.get("expected") or ""),
            attrs.get("found"),
        )
    if name == "AliasConflict":
        from .store.registry import AliasConflict

        return AliasConflict(
            message,
            name=str(attrs.get("name")),
            alias=str(attrs.get("alias")),
            current_version=attrs.get("current_version"),
        )
    cls = _error_types().get(str(name))
    return None if cls is None else cls(message)
