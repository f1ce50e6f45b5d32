"""The lineage record of a run: its cells, stale-state flags and seeds, as stored and shown.

A run's lineage is stored as one JSON document (:meth:`Lineage.to_dict`) and summarized in
filterable tags:

* ``jt.stale`` -- ``'true'`` when any stale-state flag was raised, else ``'false'``
  (``tags.jt.stale = 'true'`` finds them);
* ``jt.stale.reasons`` -- the flag codes, comma-separated (``out-of-order,edited``);
* ``jt.unseeded`` -- ``'true'`` when the run's cells use a library that draws random numbers
  (numpy, scikit-learn, torch, random ...) and no seed for it was found in them (a
  ``random_state=``/``seed=`` literal counts for numpy and scikit-learn), else ``'false'``;
* ``jt.seeds`` -- the seeds found, ``call=value`` comma-separated;
* ``jt.lineage.cells`` -- how many executed cells the run depends on.

Flag codes: ``out-of-order``, ``edited``, ``deleted``, ``error``, ``magic``, ``hidden-names``,
``unknown-names``, ``cell-log-off``, ``no-cell-log``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .defuse import CellFacts

if TYPE_CHECKING:
    from .session import Execution

FORMAT_VERSION = 1

STALE_TAG = "jt.stale"
REASONS_TAG = "jt.stale.reasons"
UNSEEDED_TAG = "jt.unseeded"
SEEDS_TAG = "jt.seeds"
CELLS_TAG = "jt.lineage.cells"
REPRODUCED_FROM_TAG = "jt.reproduced_from"

FLAG_CODES = (
    "out-of-order",
    "edited",
    "deleted",
    "error",
    "magic",
    "hidden-names",
    "unknown-names",
    "cell-log-off",
    "no-cell-log",
)


@dataclass(frozen=True)
class Flag:
    """A stale-state warning: a code, a sentence, and the cells it is about (``[5]``)."""

    code: str
    message: str
    cells: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "cells": list(self.cells)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Flag:
        return cls(str(data["code"]), str(data["message"]), [str(c) for c in data.get("cells", [])])


@dataclass
class LineageCell:
    """An executed cell the run depends on, and the names it provides."""

    index: int
    cell_id: str | None
    execution_count: int | None
    source: str
    start_ms: int
    status: str
    provides: list[str]
    facts: CellFacts = field(default_factory=CellFacts, repr=False)

    @property
    def label(self) -> str:
        return f"[{self.execution_count}]" if self.execution_count is not None else f"#{self.index}"

    @classmethod
    def from_execution(
        cls, execution: Execution, provides: list[str], facts: CellFacts
    ) -> LineageCell:
        return cls(
            execution.index,
            execution.cell_id,
            execution.execution_count,
            execution.source,
            execution.start_ms,
            execution.status,
            provides,
            facts,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "cell_id": self.cell_id,
            "execution_count": self.execution_count,
            "source": self.source,
            "start_time": self.start_ms,
            "status": self.status,
            "provides": list(self.provides),
            "magics": list(self.facts.magics),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LineageCell:
        return cls(
            int(data.get("index", 0)),
            data.get("cell_id"),
            data.get("execution_count"),
            str(data.get("source", "")),
            int(data.get("start_time") or 0),
            str(data.get("status", "ok")),
            [str(p) for p in data.get("provides", [])],
            CellFacts(magics=tuple(str(m) for m in data.get("magics", []))),
        )


@dataclass
class Lineage:
    """What a run depended on: executed cells (in order), flags, seeds, unresolved names."""

    cells: list[LineageCell] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    seeds: list[dict[str, Any]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    random_libraries: list[str] = field(default_factory=list)
    """Libraries with a global random generator the run's cells import (numpy, torch...)."""
    session: str | None = None
    notebook: str | None = None
    cwd: str | None = None
    tracked_source: str | None = None
    tracked_cell_id: str | None = None
    tracked_execution_count: int | None = None

    @property
    def stale(self) -> bool:
        return bool(self.flags)

    unseeded_libraries: list[str] = field(default_factory=list)
    """The libraries of :attr:`random_libraries` no seed in the lineage applies to."""

    @property
    def unseeded(self) -> bool:
        """A library the run's cells draw random numbers from was not seeded in them."""
        return bool(self.unseeded_libraries)

    def reasons(self) -> list[str]:
        """The distinct flag codes, in the order of :data:`FLAG_CODES`."""
        codes = {f.code for f in self.flags}
        return [c for c in FLAG_CODES if c in codes]

    def tags(self) -> dict[str, str]:
        """The filterable summary tags (see the module docstring)."""
        tags = {
            STALE_TAG: "true" if self.stale else "false",
            UNSEEDED_TAG: "true" if self.unseeded else "false",
            CELLS_TAG: str(len(self.cells)),
        }
        if self.stale:
            tags[REASONS_TAG] = ",".join(self.reasons())
        if self.seeds:
            text = ", ".join(
                f"{s['call']}={s['value'] if s['value'] is not None else s['name']}"
                for s in self.seeds
            )
            tags[SEEDS_TAG] = text[:500]
        return tags

    def notes(self) -> list[str]:
        """One line per flag (and "unseeded"), for the run summary."""
        lines = [f"stale: {f.message}" for f in self.flags]
        if self.unseeded:
            libraries = ", ".join(self.unseeded_libraries)
            lines.append(
                f"unseeded: no seed found for {libraries} in the cells this run depends on"
            )
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_VERSION,
            "session": self.session,
            "notebook": self.notebook,
            "cwd": self.cwd,
            "stale": self.stale,
            "reasons": self.reasons(),
            "unseeded": self.unseeded,
            "flags": [f.to_dict() for f in self.flags],
            "seeds": list(self.seeds),
            "unknown": list(self.unknown),
            "random_libraries": list(self.random_libraries),
            "unseeded_libraries": list(self.unseeded_libraries),
            "cells": [c.to_dict() for c in self.cells],
            "tracked": {
                "cell_id": self.tracked_cell_id,
                "execution_count": self.tracked_execution_count,
                "source": self.tracked_source,
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Lineage:
        tracked = data.get("tracked") or {}
        return cls(
            cells=[LineageCell.from_dict(c) for c in data.get("cells", [])],
            flags=[Flag.from_dict(f) for f in data.get("flags", [])],
            seeds=list(data.get("seeds", [])),
            unknown=[str(u) for u in data.get("unknown", [])],
            random_libraries=[str(r) for r in data.get("random_libraries", [])],
            unseeded_libraries=[str(r) for r in data.get("unseeded_libraries", [])],
            session=data.get("session"),
            notebook=data.get("notebook"),
            cwd=data.get("cwd"),
            tracked_source=tracked.get("source"),
            tracked_cell_id=tracked.get("cell_id"),
            tracked_execution_count=tracked.get("execution_count"),
        )
