"""Every widget in a notebook executed headlessly by nbclient, with a real kernel.

The outputs must carry the widget view and a static text/HTML stand-in (the ``%%track`` summary
is display data with its own MIME type, no widget), and nbclient must save the widgets' state
in the notebook metadata: the live chart's final downsampled points, the run
table's rows, the comparison's chart specs, and the vega runtime module they all draw with.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

pytestmark = pytest.mark.slow

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
SUMMARY_MIME = "application/vnd.jupyter-track.run-summary+json"

CELLS = [
    "import time\nimport jupyter_track as jt",
    # two finished runs to list and compare
    """ids = []
for lr in (0.1, 0.01):
    with jt.start_run(run_name=f"lr-{lr}") as run:
        jt.log_params({"lr": lr, "model": "mlp"})
        for step in range(300):
            jt.log_metric("loss", lr * 100 / (step + 1), step=step)
        ids.append(run.info.run_id)""",
    # the live chart, displayed by jt.live itself, growing while the loop runs
    """chart = jt.live(["loss"])
with jt.start_run(run_name="live") as run:
    for i in range(2000):
        jt.log_metric("loss", 1 / (i + 1), step=i)
        if i % 400 == 0:
            time.sleep(0.3)
chart""",
    "table = jt.runs()\ntable",
    "jt.compare(ids, metric='loss')",
    "%%track -n tracked-cell\nx = 3\njt.log_metric('score', 0.9)",
    "jt.registry()",
]


def widget_outputs(cell: Any) -> list[Any]:
    return [o for o in cell.outputs if WIDGET_VIEW in o.get("data", {})]


def test_widgets_execute_and_save_their_state(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]
    client = NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
    errors = [o for c in nb.cells for o in c.outputs if o.get("output_type") == "error"]
    assert not errors, errors

    for index in (2, 3, 4, 6):
        outputs = widget_outputs(nb.cells[index])
        assert len(outputs) == 1, (index, nb.cells[index].outputs)  # shown once, not twice
        data = outputs[0]["data"]
        assert data["text/plain"] and data["text/html"], index

    state = nb.metadata["widgets"][WIDGET_STATE]["state"]
    by_class: dict[str, list[dict[str, Any]]] = {}
    for model in state.values():
        by_class.setdefault(model["state"].get("_anywidget_id", ""), []).append(model["state"])
    prefix = "jupyter_track.widgets."
    assert {
        "live.LiveChart",
        "table.RunTable",
        "comparison.CompareView",
        "registry.RegistryView",
        "_common.VegaRuntime",
    } <= {k[len(prefix) :] for k in by_class if k.startswith(prefix)}
    assert len(by_class[prefix + "_common.VegaRuntime"]) == 1  # one vega for every chart

    (live,) = by_class[prefix + "live.LiveChart"]
    steps = [p["step"] for p in live["points"]]
    assert max(steps) == 1999 and 0 in steps  # the final sync was saved
    assert len(live["points"]) <= 1000
    assert live["running"] is False and live["status"].startswith("stopped")
    # the live output's static stand-in was replaced by the final thumbnail
    live_html = widget_outputs(nb.cells[2])[0]["data"]["text/html"]
    assert "data:image/svg+xml;base64," in live_html and "2,000 points" in live_html

    (table,) = by_class[prefix + "table.RunTable"]
    assert table["total"] == 3  # the two runs and the live run (the tracked cell comes later)
    (compare,) = by_class[prefix + "comparison.CompareView"]
    assert set(compare["specs"]) == {"curves", "parallel", "importance", "scatter"}
    # the %%track summary is display data, not a widget: nothing of it in the widget state
    assert not any(k.endswith("RunSummaryWidget") for k in by_class)
    assert widget_outputs(nb.cells[5]) == []
    (summary,) = [o["data"][SUMMARY_MIME] for o in nb.cells[5].outputs if SUMMARY_MIME in o["data"]]
    assert summary["run"]["name"] == "tracked-cell"
    assert {m["key"] for m in summary["metrics"]} == {"score"}
    json.dumps(state)  # the saved state is plain JSON
