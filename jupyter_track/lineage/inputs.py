"""The data inputs a run recorded (``jt.log_input``), and checking them against the disk.

``jt.log_input`` stores each input as ``jt.input.<name>.<field>`` tags (``digest``, ``kind``,
``source``, ``rows``, ``size``, ``context``). :func:`run_inputs` reads them back;
:func:`verify_inputs` (the check cell of a reproduction notebook) fingerprints the files and
folders again and raises :class:`InputChanged` naming the file and both digests when one
differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from .. import provenance
from ..store.errors import TrackError

INPUT_PREFIX = "jt.input."
INPUT_FIELDS = ("digest", "kind", "source", "rows", "size", "context")
CHECKABLE_KINDS = ("file", "folder")


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
