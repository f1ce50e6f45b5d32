"""What the kernel is executing right now, shared by the magics and the fluent API.

The IPython hooks (``magics.py``) fill this in before each cell; the fluent API reads it so a
run started by ``jt.start_run()`` inside a cell records the same notebook, cell id, execution
count and source as a ``%%track`` run. Nothing here imports IPython.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CellContext:
    """The cell being executed (all None outside IPython)."""

    cell_id: str | None = None
    execution_count: int | None = None
    source: str | None = None
    run_ids: list[str] | None = None  # runs started during this cell


current = CellContext()


def reset() -> None:
    global current
    current = CellContext()


#: the cell id of the last %%track cell (``jt.cell_history()`` defaults to it)
last_tracked_cell_id: str | None = None
