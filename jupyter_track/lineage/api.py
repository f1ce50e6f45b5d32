"""The lineage functions of the public API (``jt.get_run_lineage``, ``jt.reproduce`` ...)."""

from __future__ import annotations

from typing import Any

from ..tracking import session


def get_run_lineage(run_id: str) -> dict[str, Any] | None:
    """The lineage recorded for ``run_id``: the executed cells it depended on (``cells``, in
    executed order, each with its ``source``, ``cell_id``, ``execution_count`` and the names it
    ``provides``), stale-state ``flags``, ``seeds``, ``unknown`` names, the ``notebook``,
    ``cwd`` and the ``tracked`` cell. None for a run with no lineage (made by a script).

    Raises ``NotFound`` naming the id when the run does not exist.
    """
    current = session.current()
    current.flush()
    return current.store.get_run_lineage(run_id)
