"""The lineage functions of the public API (``jt.get_run_lineage``, ``jt.reproduce`` ...)."""

from __future__ import annotations

import os
from typing import Any

from ..tracking import session
from .datasets import dataset_view
from .envdiff import run_environment_diff
from .report import version_lineage
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


def environment_diff(run_a: str, run_b: str) -> dict[str, Any]:
    """Packages ``added``, ``removed`` and ``changed`` going from ``run_a``'s environment to
    ``run_b``'s, the Python versions and whether they are the ``same``."""
    current = session.current()
    return run_environment_diff(current.store, run_a, run_b)


def model_version_lineage(name: str, version: int | str) -> dict[str, Any]:
    """A model version's lineage: the version, who registered it and every alias it held, the
    source run with its params, metrics, datasets, code (git, notebook, the lineage's cells) and
    environment. ``jupyter_track.lineage.report.lineage_html(...)`` renders it as one page."""
    current = session.current()
    current.flush()
    return version_lineage(current.store, name, version)


def dataset_usage(
    digest: str | None = None, name: str | None = None, *, max_results: int = 10_000
) -> dict[str, Any]:
    """Every run (newest first) and model version that read a dataset with this ``digest``
    and/or ``name``, the digests seen per name and a warning where one name had several."""
    current = session.current()
    current.flush()
    return dataset_view(current.store, digest=digest, name=name, limit=max_results)
