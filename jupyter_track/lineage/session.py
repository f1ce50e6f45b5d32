"""The kernel's executed cells and the lineage of a tracked cell over them.

:class:`SessionLog` keeps this kernel session's executions in order (what the store's cell log
holds, in memory). Each execution's :class:`~.defuse.CellFacts` are computed once, off the
cell's thread, by a small daemon thread woken at the end of every cell; whatever it has not
reached when a run starts is analysed then. An index from each name to the executions that
bind it makes a lineage a few dictionary and bisect look-ups per name.

:meth:`SessionLog.lineage` walks back from a tracked cell: each name the cell reads comes from
the latest execution before it that binds it (transitively, through what that execution read).
The result carries the stale-state flags and the seeds (see :mod:`.model`).
"""

from __future__ import annotations

import bisect
import builtins
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import defuse
from .defuse import SEED_STATE_PREFIX, CellFacts
from .model import Flag, Lineage, LineageCell
from .notebook import NotebookDocument, normalize

IPYTHON_NAMES = frozenset(
    {"In", "Out", "get_ipython", "exit", "quit", "display", "_", "__", "___", "_i", "_ii", "_iii"}
    | {"_ih", "_oh", "_dh", "__builtins__", "__name__", "__doc__", "__spec__", "__loader__"}
    | {"__package__", "__file__", "__builtin__"}
)
_BUILTINS = frozenset(dir(builtins))

#: libraries whose global random state a run reads when it imports them
_RNG_OF = {
    "numpy": "numpy",
    "sklearn": "numpy",
    "pandas": "numpy",
    "scipy": "numpy",
    "random": "random",
    "torch": "torch",
    "lightning": "torch",
    "pytorch_lightning": "torch",
    "tensorflow": "tensorflow",
    "keras": "tensorflow",
    "transformers": "transformers",
}


#: the names a library's global generator is usually seeded through
_ALIASES_OF = {
    "numpy": ("numpy", "np"),
    "random": ("random",),
    "torch": ("torch",),
    "tensorflow": ("tensorflow", "tf", "keras"),
    "transformers": ("transformers",),
}


@dataclass
class Execution:
    """One executed cell of this kernel session."""

    index: int
    cell_id: str | None
    execution_count: int | None
    source: str
    """The cell as written (magics included)."""
    code: str | None
    """The cell after IPython's transforms (None: transform it when analysed)."""
    start_ms: int
    status: str = "ok"
    facts: CellFacts | None = None

    @property
    def label(self) -> str:
        """``[5]`` (the execution count users see), or the position in the log."""
        return f"[{self.execution_count}]" if self.execution_count is not None else f"#{self.index}"


def _is_ipython_name(name: str) -> bool:
    if name in IPYTHON_NAMES:
        return True
    return (name.startswith("_i") and name[2:].isdigit()) or (
        name.startswith("_") and name[1:].isdigit()
    )


class SessionLog:
    """This kernel's executions, their facts, and lineages over them."""

    def __init__(self, transform: Callable[[str], str] | None = None, *, background: bool = True):
        self.executions: list[Execution] = []
        self.unlogged: list[int] = []
        """Positions (in ``executions``) before which cells ran while the cell log was off."""
        self._transform = transform
        self._index: dict[str, tuple[list[int], list[str]]] = {}
        self._indexed = 0
        self._pending: deque[Execution] = deque()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._background = background
        self._pid = os.getpid()

    # ------------------------------------------------------------------------ recording

    def add(
        self,
        *,
        cell_id: str | None,
        execution_count: int | None,
        source: str,
        code: str | None,
        start_ms: int,
        status: str,
    ) -> Execution:
        """Record a finished execution (the cell's thread: no analysis here)."""
        execution = Execution(
            len(self.executions), cell_id, execution_count, source, code, start_ms, status
        )
        self.executions.append(execution)
        if self._background:
            self._pending.append(execution)
            self._ensure_thread()
            self._wake.set()
        return execution

    def note_unlogged(self) -> None:
        """A cell ran while the cell log was off (lineages before this point are incomplete)."""
        position = len(self.executions)
        if not self.unlogged or self.unlogged[-1] != position:
            self.unlogged.append(position)

    def _ensure_thread(self) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._thread = threading.Thread(
            target=self._loop, name="jupyter-track-lineage", daemon=True
        )
        self._thread.start()

    def _loop(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            while self._pending:
                try:
                    execution = self._pending.popleft()
                except IndexError:
                    break
                self.facts(execution)

    def facts(self, execution: Execution) -> CellFacts:
        """The execution's facts, analysed on first use (either thread; the result is the same)."""
        facts = execution.facts
        if facts is None:
            code = execution.code
            if code is None:
                code = self._transform(execution.source) if self._transform else execution.source
            facts = execution.facts = defuse.analyze(code)
        return facts

    def _deferred(self, position: int) -> dict[str, frozenset[str]]:
        return dict(self.facts(self.executions[position]).deferred)

    def _update_index(self) -> None:
        with self._lock:
            executions = self.executions
            for position in range(self._indexed, len(executions)):
                facts = self.facts(executions[position])
                kinds: dict[str, str] = {}
                for name in facts.modifies:
                    kinds[name] = "modify"
                for name in facts.maybe_defines:
                    kinds[name] = "maybe"
                imported = {alias for alias, _ in facts.imports}
                for name in facts.defines:
                    kinds[name] = "import" if name in imported else "def"
                for name, kind in kinds.items():
                    positions, kind_list = self._index.setdefault(name, ([], []))
                    positions.append(position)
                    kind_list.append(kind)
            self._indexed = len(executions)

    # ------------------------------------------------------------------------ lineage

    def lineage(
        self,
        tracked: CellFacts,
        *,
        before: int | None = None,
        namespace: Mapping[str, Any] | None = None,
        hidden: Iterable[str] = (),
        document: NotebookDocument | None = None,
        tracked_cell_id: str | None = None,
        tracked_source: str | None = None,
    ) -> Lineage:
        """The executions the tracked cell depends on, in executed order, with flags and seeds.

        ``before``: the tracked cell's position (default: after every logged execution);
        ``namespace``: the user namespace (a name read but bound by no logged cell is flagged
        when it exists there); ``hidden``: names the shell provides (IPython's own);
        ``document``: the saved notebook (order, edits, deletions).
        """
        self._update_index()
        executions = self.executions
        end = len(executions) if before is None else before
        provided = set(hidden)
        included: dict[int, set[str]] = {}
        unknown: set[str] = set()
        seen: dict[tuple[str, int], bool] = {}
        stack: list[tuple[str, int, bool]] = []

        def need(names: Iterable[str], at: int, maybe_here: frozenset[str]) -> None:
            for name in names:
                stack.append((name, at, name not in maybe_here))

        def include(position: int, name: str) -> None:
            reasons = included.get(position)
            if reasons is None:
                reasons = included[position] = set()
                facts = self.facts(executions[position])
                need(facts.uses, position, facts.maybe_defines | facts.optional_uses)
            reasons.add(name)

        def resolve() -> None:
            while stack:
                name, at, required = stack.pop()
                known = seen.get((name, at))
                if known is not None and (known or not required):
                    continue
                seen[(name, at)] = required
                entry = self._index.get(name)
                provided_here = False
                mutations: list[int] = []
                if entry is not None:
                    positions, kinds = entry
                    pos = bisect.bisect_left(positions, at) - 1
                    while pos >= 0:
                        position, kind = positions[pos], kinds[pos]
                        pos -= 1
                        if kind == "modify":
                            mutations.append(position)
                            continue
                        include(position, name)
                        # a function's body reads its globals where it is called (here: `at`)
                        later = self._deferred(position).get(name)
                        if later:
                            need(later, at, frozenset())
                        if kind == "maybe":
                            required = False
                            continue
                        provided_here = True
                        if kind == "import":  # a module's attributes are not its state
                            mutations.clear()
                        break
                for position in mutations:
                    include(position, name)
                if not provided_here and required:
                    if name.startswith(SEED_STATE_PREFIX):
                        continue
                    if name in _BUILTINS or name in provided or _is_ipython_name(name):
                        continue
                    if namespace is not None and name not in namespace:
                        continue  # not defined at all: the cell will fail, or reads it in a branch
                    unknown.add(name)

        need(tracked.uses, end, tracked.maybe_defines | tracked.optional_uses)
        resolve()
        # global random state: the last seeding of each library the lineage imports
        asked: set[str] = set()
        libraries: set[str] = set()
        while True:
            states = set()
            # the libraries the run uses: imported by the tracked cell, or imported by a
            # lineage cell under a name the lineage reads
            used = [(tracked, None)] + [(self.facts(executions[p]), included[p]) for p in included]
            for facts, names in used:
                for alias, target in facts.imports:
                    root = target.lstrip(".").split(".", 1)[0]
                    if root in _RNG_OF and (names is None or alias in names or "*" in names):
                        libraries.add(_RNG_OF[root])
                        if _RNG_OF[root] == root:  # `import numpy as np`: seeded through np
                            states.add(SEED_STATE_PREFIX + alias)
            for library in libraries:
                states |= {SEED_STATE_PREFIX + a for a in _ALIASES_OF.get(library, (library,))}
            states -= asked
            if not states:
                break
            asked |= states
            need(states, end, frozenset(states))
            resolve()
        # names no logged cell binds: maybe a star-import, %run or exec() made them
        hiders: list[int] = []
        if unknown:
            hiders = [p for p in range(end) if self.facts(executions[p]).hides_names]
            for position in hiders:
                include(position, "*")
            resolve()
        cells = [
            LineageCell.from_execution(
                executions[p], sorted(included[p]), self.facts(executions[p])
            )
            for p in sorted(included)
        ]
        lineage = Lineage(cells=cells, unknown=sorted(unknown), random_libraries=sorted(libraries))
        _flag(
            lineage,
            executions,
            end,
            hiders,
            self.unlogged,
            document,
            tracked_cell_id,
            tracked_source,
        )
        lineage.seeds = _seeds(lineage, tracked)
        seeded = set()
        for seed in lineage.seeds:
            root = str(seed["call"]).split(".", 1)[0]
            seeded.add(_RNG_OF.get(root, "numpy" if seed["call"] in defuse.SEED_KEYWORDS else root))
        lineage.unseeded_libraries = sorted(libraries - seeded)
        return lineage


# ------------------------------------------------------------------------------ flags


def _positions(
    executions: list[Execution],
    cells: list[LineageCell],
    end: int,
    document: NotebookDocument | None,
) -> tuple[dict[int, int], str]:
    """Where each lineage cell sits: in the saved notebook (by id, by code, or -- edited, with
    no ids -- by the most similar code), else in the order cells first ran."""
    positions: dict[int, int] = {}
    if not cells:  # nothing to place (an empty or self-contained cell): no walk of the log
        return positions, "notebook" if document is not None else "first-run"
    if document is not None:
        for cell in cells:
            found = document.find(cell.cell_id, cell.source)
            if found is None and not document.has_id(cell.cell_id):
                found = document.closest(cell.source)
            if found is not None:
                positions[cell.index] = found.index
        return positions, "notebook"
    first_seen: dict[str, int] = {}
    for execution in executions[:end]:
        key = execution.cell_id or "src:" + normalize(execution.source)
        positions[execution.index] = first_seen.setdefault(key, len(first_seen))
    return positions, "first-run"


def _flag(
    lineage: Lineage,
    executions: list[Execution],
    end: int,
    hiders: list[int],
    unlogged: list[int],
    document: NotebookDocument | None,
    tracked_cell_id: str | None,
    tracked_source: str | None,
) -> None:
    cells = lineage.cells
    positions, basis = _positions(executions, cells, end, document)
    tracked_position = None
    if document is not None and tracked_source is not None:
        found = document.find(tracked_cell_id, tracked_source)
        tracked_position = found.index if found is not None else None
    # out of notebook order: a cell ran before one that sits above it (or below the tracked cell)
    ordered = [(c, positions.get(c.index)) for c in cells]
    for i, (cell, position) in enumerate(ordered):
        if position is None:
            continue
        later_above = [
            other.label for other, p in ordered[i + 1 :] if p is not None and p < position
        ]
        below_tracked = tracked_position is not None and position > tracked_position
        if later_above or below_tracked:
            where = (
                "the saved notebook"
                if basis == "notebook"
                else "the order cells first ran (the notebook file was not readable)"
            )
            if later_above:
                detail = f"ran before {', '.join(later_above)}, which sit above it in {where}"
            else:
                detail = "sits below the tracked cell in the saved notebook"
            lineage.flags.append(Flag("out-of-order", f"cell {cell.label} {detail}", [cell.label]))
    # edited after it ran / no longer exists
    for cell in cells:
        execution = executions[cell.index]
        later = [
            e
            for e in executions[cell.index + 1 : end]
            if execution.cell_id is not None
            and e.cell_id == execution.cell_id
            and normalize(e.source) != normalize(execution.source)
        ]
        if document is not None:
            current = document.find(execution.cell_id, execution.source)
            if execution.cell_id is not None and document.has_ids:
                if not document.has_id(execution.cell_id):
                    lineage.flags.append(
                        Flag(
                            "deleted",
                            f"cell {cell.label} is no longer in the notebook",
                            [cell.label],
                        )
                    )
                    continue
                current = document.by_id[execution.cell_id]
                if normalize(current.source) != normalize(execution.source):
                    lineage.flags.append(
                        Flag(
                            "edited",
                            f"cell {cell.label} was edited after it ran (the notebook now has "
                            "other code in it)",
                            [cell.label],
                        )
                    )
                    continue
            elif current is None:
                similar = document.closest(execution.source)
                if similar is not None:
                    message = (
                        f"cell {cell.label} was edited after it ran (the saved notebook's cell "
                        f"{similar.index + 1} now has other code)"
                    )
                else:
                    message = (
                        f"cell {cell.label}: no cell of the saved notebook has the code it ran "
                        "(edited or deleted since)"
                    )
                lineage.flags.append(Flag("edited", message, [cell.label]))
                continue
        if later:
            lineage.flags.append(
                Flag(
                    "edited",
                    f"cell {cell.label} was edited and run again as {later[0].label}; what it "
                    "defined then is still used",
                    [cell.label],
                )
            )
    for cell in cells:
        if cell.status != "ok":
            lineage.flags.append(
                Flag(
                    "error",
                    f"cell {cell.label} raised an error: only part of it ran",
                    [cell.label],
                )
            )
    for cell in cells:
        facts = cell.facts
        shown = [m for m in facts.magics if not m.startswith(("%%bash", "%%html", "%%markdown"))]
        if shown:
            lineage.flags.append(
                Flag(
                    "magic",
                    f"cell {cell.label} ran {', '.join(shown)}: its effects are not Python "
                    "names the lineage can follow",
                    [cell.label],
                )
            )
    if lineage.unknown:
        names = ", ".join(lineage.unknown)
        if hiders:
            labels = [executions[p].label for p in hiders]
            lineage.flags.append(
                Flag(
                    "hidden-names",
                    f"{names}: bound by no logged cell; maybe by the star-import, %run or exec "
                    f"of {', '.join(labels)}",
                    labels,
                )
            )
        else:
            lineage.flags.append(
                Flag(
                    "unknown-names",
                    f"{names}: defined by something the cell log cannot see (a cell run before "
                    "jupyter-track was loaded or while the cell log was off, or code outside the "
                    "notebook)",
                    [],
                )
            )
    if any(p <= end for p in unlogged) and not lineage.unknown:
        lineage.flags.append(Flag("cell-log-off", "some cells ran while the cell log was off", []))


def _seeds(lineage: Lineage, tracked: CellFacts) -> list[dict[str, Any]]:
    """Seeds in the lineage and the tracked cell, with variables resolved to literals."""
    literals: dict[str, Any] = {}
    found = []
    sources = [(c.label, c.facts) for c in lineage.cells] + [("tracked", tracked)]
    aliases: dict[str, str] = {}
    for label, facts in sources:
        literals.update(facts.literals)
        aliases.update(facts.imports)
        for seed in facts.seeds:
            call = defuse.resolve(seed.call, list(aliases.items()))
            value = seed.value
            if value is None and seed.name is not None:
                value = literals.get(seed.name)
            found.append(
                {"call": call, "value": value, "name": seed.name, "cell": label, "line": seed.line}
            )
    return found
