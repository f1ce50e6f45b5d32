"""The kernel side of lineage: compute a run's lineage when it starts and record it.

``%%track`` calls :func:`lineage_for_cell` before its run starts (the flags become tags of the
new run, so no extra write is needed for them) and :func:`record` once the run exists. Runs
started with ``jt.start_run()`` in an ordinary cell get theirs at the end of the cell
(:func:`record_after_cell`). Nothing here may break a cell: failures become a note.
"""

from __future__ import annotations

import ast
import os
import sys
from typing import Any

from .. import provenance
from .defuse import CellFacts, analyze
from .model import Flag, Lineage
from .notebook import read_notebook
from .session import SessionLog


def lineage_for_cell(
    log: SessionLog | None,
    shell: Any,
    tracked: ast.Module | str | CellFacts,
    *,
    session: str,
    cell_id: str | None,
    source: str | None,
    execution_count: int | None,
    logging_on: bool,
) -> Lineage:
    """The lineage of the cell being run (``tracked``: its parse tree, code or facts)."""
    facts = tracked if isinstance(tracked, CellFacts) else analyze(tracked)
    notebook = provenance.notebook_path()
    if log is None or (not logging_on and not log.executions):
        lineage = Lineage()
        lineage.flags.append(
            Flag(
                "no-cell-log",
                "the cell log is off: the cells this run depends on are unknown",
                [],
            )
        )
    else:
        namespace = getattr(shell, "user_ns", None)
        hidden = getattr(shell, "user_ns_hidden", {}) or {}
        lineage = log.lineage(
            facts,
            namespace=namespace,
            hidden=hidden,
            document=read_notebook(notebook),
            tracked_cell_id=cell_id,
            tracked_source=source,
        )
    lineage.session = session
    lineage.notebook = notebook
    try:
        lineage.cwd = os.getcwd()
    except OSError:
        lineage.cwd = None
    lineage.tracked_source = source
    lineage.tracked_cell_id = cell_id
    lineage.tracked_execution_count = execution_count
    return lineage


def data_files(lineage: Lineage, limit: int = 20) -> list[str]:
    """Files named by string literals in the lineage's cells that exist now."""
    found: list[str] = []
    for cell in lineage.cells:
        for text in cell.facts.strings:
            try:
                if text not in found and os.path.isfile(text):
                    found.append(text)
            except (OSError, ValueError):
                continue
            if len(found) >= limit:
                return found
    return found


def record(store: Any, run_id: str, lineage: Lineage) -> None:
    """Store the lineage of ``run_id`` (its tags were given when the run was created)."""
    store.put_run_lineage(run_id, lineage.to_dict())


def record_after_cell(
    store: Any,
    run_ids: list[str],
    lineage: Lineage,
) -> None:
    """Lineage of runs started with ``jt.start_run()`` inside an ordinary cell."""
    for run_id in run_ids:
        try:
            store.set_tags(run_id, lineage.tags())
            store.put_run_lineage(run_id, lineage.to_dict())
        except Exception as exc:  # the cell already ran: never fail it now
            print(f"jupyter-track: lineage of run {run_id} not recorded: {exc}", file=sys.stderr)
