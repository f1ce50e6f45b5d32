"""``%%track`` in a real kernel: a notebook executed by nbclient, and the cell id JupyterLab
sends in the execute request's metadata."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import start_new_kernel
from nbclient import NotebookClient

from jupyter_track.store import SQLiteStore

pytestmark = pytest.mark.slow


def test_notebook_executed_by_nbclient_records_runs(track_db: Path, tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import jupyter_track as jt"),
        nbformat.v4.new_code_cell(
            "%%track -e kernel-demo -n fit -m acc\n"
            "lr = 0.05\n"
            "for step in range(20):\n"
            "    jt.log_metric('loss', 1 / (step + 1), step=step)\n"
            "acc = 0.9\n"
        ),
        nbformat.v4.new_code_cell("untracked = 42"),
    ]
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = nb.cells[1].outputs
    assert any("fit" in str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    store = SQLiteStore(track_db)
    runs = store.search_runs(None, "").runs
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FINISHED" and run.info.run_name == "fit"
    assert run.data.params == {"lr": "0.05"} and run.data.metrics["acc"] == 0.9
    assert run.summaries["loss"].count == 20
    cells = store.cell_executions()
    assert {c.source for c in cells} >= {"untracked = 42"}
    assert [c.run_id for c in cells if c.run_id] == [run.info.run_id]


def test_cell_id_from_the_execute_request_metadata(track_db: Path) -> None:
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        kc.execute_interactive("import jupyter_track as jt", timeout=60)
        content = {
            "code": "%%track -n from-lab\nx = 1\n",
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        msg = kc.session.msg("execute_request", content, metadata={"cellId": "7f1c-lab-cell"})
        kc.shell_channel.send(msg)
        reply = kc.get_shell_msg(timeout=60)
        assert reply["content"]["status"] == "ok"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    run = SQLiteStore(track_db).search_runs(None, "").runs[0]
    assert run.info.cell_id == "7f1c-lab-cell" and run.info.run_name == "from-lab"


SUMMARY_MIME = "application/vnd.jupyter-track.run-summary+json"
TRACKED = (
    "%%track -e kernel-summary -p lr -m acc\n"
    'label = "<script>alert(1)</script>"\n'
    "lr, acc = next(settings)\n"
)


def test_summary_output_carries_its_mime_type_data_and_escaped_html(
    track_db: Path, tmp_path: Path
) -> None:
    """The same tracked code run twice (nbclient sends no cell ids: re-runs link by code): the
    second output is the summary against the first, as display data a saved notebook keeps."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import jupyter_track as jt\nsettings = iter([(0.1, 0.5), (0.01, 0.75)])"
        ),
        nbformat.v4.new_code_cell(TRACKED),
        nbformat.v4.new_code_cell(TRACKED),
    ]
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    runs = {r.data.params["lr"]: r for r in SQLiteStore(track_db).search_runs(None, "").runs}
    first, second = runs["0.1"], runs["0.01"]
    (output,) = nb.cells[2].outputs
    assert output["output_type"] == "display_data"
    data = output["data"]
    assert set(data) == {SUMMARY_MIME, "text/html", "text/plain"}  # no widget view
    payload = data[SUMMARY_MIME]
    assert payload["version"] == 1
    assert payload["run"]["run_id"] == second.info.run_id
    assert (
        payload["run"]["status"] == "FINISHED" and payload["run"]["experiment"] == "kernel-summary"
    )
    assert payload["previous"] == {"run_id": first.info.run_id, "name": first.info.run_name}
    params = {p["key"]: p for p in payload["params"]}
    assert params["lr"] == {"key": "lr", "value": "0.01", "previous": "0.1", "changed": True}
    assert params["label"]["value"] == "<script>alert(1)</script>"
    assert payload["metrics"] == [{"key": "acc", "value": 0.75, "previous": 0.5, "delta": 0.25}]
    html = data["text/html"]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "acc=0.75 (+0.25)" in data["text/plain"]
    # the first run's output has no previous run
    (before,) = nb.cells[1].outputs
    assert before["data"][SUMMARY_MIME]["previous"] is None
    # saved and read back: valid, the payload kept as JSON, nothing needs widget state
    nbformat.validate(nb)
    path = tmp_path / "saved.ipynb"
    nbformat.write(nb, path)
    reread = nbformat.read(path, as_version=4)
    assert reread.cells[2].outputs[0]["data"][SUMMARY_MIME] == payload
    assert "widgets" not in reread.metadata
