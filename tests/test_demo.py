"""The demo notebook the README's first command opens (and Binder seeds) runs end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_track.store import SQLiteStore

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def test_demo_notebook_records_its_runs(track_db: Path) -> None:
    env = {**os.environ, "JUPYTER_TRACK_DB": str(track_db)}
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "binder" / "seed_demo.py"),
            str(ROOT / "examples" / "demo.ipynb"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    store = SQLiteStore(track_db)
    experiment = store.get_experiment_by_name("breast-cancer")
    assert experiment is not None
    runs = store.search_runs([experiment.experiment_id], "", max_results=100).runs
    names = {r.info.run_name for r in runs}
    assert {"logistic-regression", "random-forest", "gradient-boosting"} <= names
    assert all(r.info.status == "FINISHED" for r in runs)
    tracked = next(r for r in runs if r.info.run_name == "random-forest")
    assert 0.8 < tracked.data.metrics["accuracy"] <= 1.0
    assert tracked.info.cell_id and tracked.info.notebook
    assert any(s.count > 1 for r in runs for s in r.summaries.values())  # learning curves
