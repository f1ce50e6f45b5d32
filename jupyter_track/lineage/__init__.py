"""Lineage: what a run depended on, how to reproduce it, and where models and data came from.

* :mod:`.defuse` -- the def-use analysis of one cell;
* :mod:`.session` -- this kernel's executed cells and the lineage of a tracked cell over them;
* :mod:`.notebook` -- the saved notebook (order, edits, deletions);
* :mod:`.model` -- the stored lineage record, its flags and filterable tags;
* :mod:`.inputs` -- the data inputs a run recorded, checked again (``verify_inputs``);
* :mod:`.reproduce` -- the folder that reproduces a run.
"""

from __future__ import annotations

from .inputs import InputChanged, run_inputs, verify_inputs
from .model import (
    REPRODUCED_FROM_TAG,
    STALE_TAG,
    UNSEEDED_TAG,
    Flag,
    Lineage,
    LineageCell,
)

__all__ = [
    "REPRODUCED_FROM_TAG",
    "STALE_TAG",
    "UNSEEDED_TAG",
    "Flag",
    "InputChanged",
    "Lineage",
    "LineageCell",
    "run_inputs",
    "verify_inputs",
]
