"""The data inputs a run recorded (``jt.log_input``), and checking them against the disk.

One way to record an input, whoever records it (``jt.log_input``, MLflow's ``log_input`` over
the REST protocol): :func:`record_inputs` stores each input as ``jt.input.<name>.<field>`` tags
(``digest``, ``kind``, ``source``, ``rows``, ``size``, ``context``; searchable, e.g.
``tags."jt.input.train.digest" = '...'`` or MLflow's ``dataset.name = 'train'``) and its whole
record (schema, profile, input tags) as the artifact ``inputs/<name>.json``. :func:`run_inputs`
reads the tags back; :func:`dataset_inputs` builds MLflow's ``DatasetInput`` entities
(``run.inputs.dataset_inputs``) and :func:`with_details` adds each record's schema and profile.
:func:`verify_inputs` (the check cell of a reproduction notebook) fingerprints the files and
folders again and raises :class:`InputChanged` naming the file and both digests when one
differs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import provenance
from ..store.errors import TrackError
from ..store.validation import MAX_TAG_VALUE_LENGTH

if TYPE_CHECKING:
    from ..store.entities import DatasetInput, Run

INPUT_PREFIX = "jt.input."
INPUT_FIELDS = ("digest", "kind", "source", "rows", "size", "context")
CHECKABLE_KINDS = ("file", "folder")
CONTEXT_TAG = "mlflow.data.context"  # MLflow's input tag for the context ("training", ...)


def input_tags(record: Mapping[str, Any]) -> dict[str, str]:
    """The ``jt.input.<name>.*`` run tags of one input record (``name``, ``digest``, ``kind``
    and, when known, ``source``, ``rows``, ``size``, ``context``)."""
    prefix = f"{INPUT_PREFIX}{record['name']}"
    tags = {f"{prefix}.digest": str(record["digest"]), f"{prefix}.kind": str(record["kind"])}
    for key in ("source", "rows", "size", "context"):
        value = record.get(key)
        if value is not None and value != "":
            tags[f"{prefix}.{key}"] = str(value)[:MAX_TAG_VALUE_LENGTH]
    return tags


def record_file(name: str) -> str:
    """The artifact that keeps the whole record of input ``name``."""
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip(".") or "dataset"
    return f"inputs/{safe}.json"


def record_inputs(
    store: Any, run_id: str, records: Sequence[Mapping[str, Any]], *, require_active: bool = False
) -> None:
    """Record inputs of ``run_id``: their tags in one write (with ``require_active`` a deleted
    run refuses them, as MLflow's server), then each record as ``inputs/<name>.json``."""
    tags: dict[str, str] = {}
    for record in records:
        tags.update(input_tags(record))
    if require_active:
        if tags:
            store.log_batch(run_id, tags=tags, require_active=True)
        else:
            store.run_handle(run_id)
    elif tags:
        store.set_tags(run_id, tags)
    for record in records:
        store.write_artifact_bytes(
            run_id, record_file(str(record["name"])), json.dumps(record, default=str).encode()
        )


_SOURCE_TYPES = {"file": "local", "folder": "local", "url": "http"}


def entity_record(item: Any) -> dict[str, Any]:
    """The record of an MLflow ``DatasetInput`` entity (``MlflowClient.log_inputs``): what
    ``runs/log-inputs`` records for the same dataset."""
    from ..store.errors import InvalidInput

    dataset = getattr(item, "dataset", None)
    name = getattr(dataset, "name", None)
    digest = getattr(dataset, "digest", None)
    if not isinstance(name, str) or not name.strip() or any(ord(c) < 32 for c in name):
        raise InvalidInput(f"datasets: name {name!r} must be non-empty, without control characters")
    if not isinstance(digest, str) or not digest:
        raise InvalidInput(f"datasets: dataset {name!r} needs a digest")
    tags = {str(t.key): str(t.value) for t in (getattr(item, "tags", None) or [])}
    profile = getattr(dataset, "profile", None)
    rows = None
    if isinstance(profile, str):
        try:
            count = json.loads(profile).get("num_rows")
        except (ValueError, AttributeError):
            count = None
        rows = count if isinstance(count, int) and not isinstance(count, bool) else None
    source_type = getattr(dataset, "source_type", None)
    return {
        "name": name,
        "digest": digest,
        "kind": source_type or "mlflow",
        "source_type": source_type,
        "source": getattr(dataset, "source", None),
        "rows": rows,
        "schema": getattr(dataset, "schema", None),
        "profile": profile,
        "context": tags.get(CONTEXT_TAG),
        "tags": tags,
    }


def _as_text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else json.dumps(value, default=str)


def dataset_input(item: Mapping[str, Any], record: Mapping[str, Any] | None = None) -> DatasetInput:
    """MLflow's ``DatasetInput`` for an input read from the tags (``item``), with the schema,
    profile and input tags of its stored record when given."""
    from ..store.entities import Dataset, DatasetInput, InputTag

    record = record or {}
    source = record.get("source", item.get("source"))
    kind = str(item.get("kind") or record.get("kind") or "unknown")
    source_type = record.get("source_type")
    if not source_type:  # jupyter-track's own kinds, in MLflow's words where MLflow has them
        source_type = _SOURCE_TYPES.get(kind, kind)
        if source and kind in _SOURCE_TYPES:
            source = {"url" if kind == "url" else "uri": source}
    rows = record.get("rows", item.get("rows"))
    profile = record.get("profile")
    if profile is None and rows not in (None, ""):
        profile = {"num_rows": int(rows)} if str(rows).isdigit() else None
    dataset = Dataset(
        name=str(item["name"]),
        digest=str(item["digest"]),
        source_type=str(source_type),
        source=_as_text(source) or "",
        schema=_as_text(record.get("schema")),
        profile=_as_text(profile),
    )
    tags = {str(k): str(v) for k, v in (record.get("tags") or {}).items()}
    context = item.get("context") or record.get("context")
    if context:
        tags[CONTEXT_TAG] = str(context)
    return DatasetInput(dataset, [InputTag(k, v) for k, v in tags.items()])


def dataset_inputs(tags: Mapping[str, str]) -> list[DatasetInput]:
    """The run's inputs as MLflow's ``DatasetInput`` entities, from its tags alone (no schema
    or profile: :func:`with_details` reads those)."""
    return [dataset_input(item) for item in run_inputs(tags)]


def with_details(store: Any, run: Run) -> Run:
    """``run`` with its inputs' whole records (schema, profile, input tags) read from
    ``inputs/<name>.json``; an input whose record cannot be read keeps what its tags say."""
    items = run_inputs(run.data.tags)
    if not items:
        return run
    from ..store.entities import RunInputs

    found = []
    for item in items:
        record = None
        try:
            data = store.artifact_file(run.info.run_id, record_file(item["name"])).read_bytes()
            loaded = json.loads(data)
            record = loaded if isinstance(loaded, dict) else None
        except (OSError, ValueError, TrackError):
            record = None
        found.append(dataset_input(item, record))
    run.inputs = RunInputs(found)
    return run


class InputChanged(TrackError, AssertionError):
    """Data a run read is missing or differs from what the run recorded."""


def run_inputs(tags: Mapping[str, str]) -> list[dict[str, Any]]:
    """The inputs recorded in a run's tags, by name (``name``, ``digest``, ``kind``, ...)."""
    found: dict[str, dict[str, Any]] = {}
    for key, value in tags.items():
        if not key.startswith(INPUT_PREFIX):
            continue
        rest = key[len(INPUT_PREFIX) :]
        name, _, field = rest.rpartition(".")
        if not name or field not in INPUT_FIELDS:
            continue
        found.setdefault(name, {"name": name})[field] = value
    return [found[name] for name in sorted(found) if "digest" in found[name]]


def verify_inputs(inputs: Iterable[Mapping[str, Any]], *, quiet: bool = False) -> list[str]:
    """Fingerprint every file and folder input again; raise :class:`InputChanged` if any
    differs from its recorded digest or is missing (naming the file and both digests).

    Inputs of other kinds (DataFrames, arrays, URLs) cannot be checked before the code builds
    them: they are listed and skipped. Returns one line per input.
    """
    lines: list[str] = []
    problems: list[str] = []
    for item in inputs:
        name = str(item.get("name", "?"))
        kind = str(item.get("kind", ""))
        source = item.get("source")
        recorded = str(item.get("digest", ""))
        if kind not in CHECKABLE_KINDS or not source:
            lines.append(f"skipped  {name} ({kind or 'unknown kind'}): checked when logged again")
            continue
        path = Path(str(source))
        if not path.exists():
            problems.append(f"{name}: {path} is missing (recorded digest {recorded})")
            continue
        try:
            now = provenance.fingerprint(path, name).digest
        except (OSError, ValueError) as exc:
            problems.append(f"{name}: {path} cannot be read: {exc}")
            continue
        if now != recorded:
            problems.append(
                f"{name}: {path} changed since the original run: recorded digest {recorded}, "
                f"now {now}"
            )
        else:
            lines.append(f"verified {name}: {path} (sha256 {now[:12]}...)")
    if problems:
        raise InputChanged("data differs from the original run:\n  " + "\n  ".join(problems))
    if not quiet:
        for line in lines:
            print(line)
    return lines
