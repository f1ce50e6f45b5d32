"""The notebook widgets never import pandas (issue 15): only ``search_runs``, whose contract
is a DataFrame, may pay for it. Checked in a fresh interpreter, where nothing else loaded it."""

from __future__ import annotations

from pathlib import Path

from fresh_python import python_json

SCRIPT = """
import json, sys
import jupyter_track as jt
jt.set_tracking_uri(sys.argv[1])
ids = []
for i in range(5):
    with jt.start_run() as run:
        jt.log_params({"lr": i, "opt": "ab"[i % 2]})
        jt.log_metric("loss", 1.0 / (i + 1), step=i)
    ids.append(run.info.run_id)
loaded = {}
table = jt.runs()
loaded["runs"] = "pandas" in sys.modules
view = jt.compare(ids)
loaded["compare"] = "pandas" in sys.modules
live = jt.live(["loss"], run_id=ids[0])
loaded["live"] = "pandas" in sys.modules
print(json.dumps({"loaded": loaded, "importance": [r["param"] for r in view.importance]}))
"""


def test_the_widgets_never_import_pandas(tmp_path: Path) -> None:
    answer = python_json(SCRIPT, str(tmp_path / "t.db"))
    assert answer["loaded"] == {"runs": False, "compare": False, "live": False}
    assert answer["importance"][0] == "lr"  # the compare view still ranks the params
