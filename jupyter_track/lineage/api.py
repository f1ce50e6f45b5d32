"""The lineage functions of the public API (``jt.get_run_lineage``, ``jt.reproduce`` ...)."""

from __future__ import annotations

import os
from typing import Any

from ..tracking import session
from .reproduce import Reproduction
from .reproduce import reproduce as _reproduce


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


def reproduce(run_id: str, path: str | os.PathLike[str], *, force: bool = False) -> Reproduction:
    """Write a folder that reproduces ``run_id`` at ``path``: ``reproduce.ipynb`` (the cells the
    run depended on in executed order, the tracked cell last, a check cell verifying the data
    fingerprints first), ``requirements.txt``, ``git.diff`` when the tree was dirty and
    ``inputs.json``. Executing the notebook makes a new run tagged ``jt.reproduced_from``.

    Raises ``NotFound`` naming an unknown run id, and an error when ``path`` exists unless
    ``force=True``. Returns what was written, with warnings and what is missing.
    """
    current = session.current()
    current.flush()
    return _reproduce(current.store, run_id, path, force=force)
