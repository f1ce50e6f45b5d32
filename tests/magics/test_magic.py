"""``%%track`` and the cell-execution log through a real IPython shell."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fresh_python import python_json
from IPython.core.interactiveshell import InteractiveShell

import jupyter_track as jt
from jupyter_track import cellparams
from jupyter_track.store import SQLiteStore


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance()
    ip.run_cell("%load_ext jupyter_track", store_history=True)
    ip.run_cell("import jupyter_track as jt", store_history=True)
    yield ip
    ip.run_cell("%unload_ext jupyter_track")
    InteractiveShell.clear_instance()


def run(shell: InteractiveShell, code: str, cell_id: str | None = None) -> Any:
    return shell.run_cell(code, store_history=True, cell_id=cell_id)


def store() -> SQLiteStore:
    jt.flush()
    return jt.TrackClient().store


def test_cell_is_one_finished_run_with_params_from_the_code(shell, capsys) -> None:
    count = shell.execution_count
    result = run(
        shell,
        """%%track -e demo -n baseline -p extra -m acc -t team=vision
lr = 0.01
layers = [64, 32]
opt = "adam"
cfg = dict(depth=3, act="relu")
_private = 5
model = object()
extra = lr * 10
acc = 0.5 + lr
for step in range(3):
    jt.log_metric("loss", 1.0 / (step + 1), step=step)
acc
""",
        cell_id="cell-1",
    )
    assert result.success and result.result == pytest.approx(0.51)
    runs = jt.search_runs(experiment_names=["demo"], output_format="list")
    assert len(runs) == 1
    run_ = runs[0]
    assert run_.info.status == "FINISHED" and run_.info.run_name == "baseline"
    assert run_.data.params == {
        "lr": "0.01",
        "layers": "[64, 32]",
        "opt": "adam",
        "cfg": "{'depth': 3, 'act': 'relu'}",
        "extra": "0.1",
    }
    assert run_.data.metrics == {"acc": pytest.approx(0.51), "loss": pytest.approx(1 / 3)}
    assert run_.data.tags["team"] == "vision"
    assert run_.info.cell_id == "cell-1"
    assert run_.info.execution_count == count
    assert "lr = 0.01" in store().get_source(run_.info.run_id)
    out = capsys.readouterr().out
    assert "baseline" in out and "acc=0.51" in out


def test_rerunning_a_cell_links_runs_and_shows_the_change(shell, capsys) -> None:
    code = "%%track -m acc\nacc = {}\n"
    run(shell, code.format(0.5), cell_id="same-cell")
    run(shell, code.format(0.75), cell_id="same-cell")
    out = capsys.readouterr().out
    assert "acc=0.75 (+0.25)" in out
    history = jt.cell_history("same-cell", output_format="list")
    assert [r.data.metrics["acc"] for r in history] == [0.75, 0.5]
    assert len(jt.cell_history()) == 2  # defaults to the last tracked cell


def test_without_a_frontend_cell_id_reruns_link_by_code(shell) -> None:
    run(shell, "%%track\nx = 1\n")
    run(shell, "%%track\nx = 1\n")
    assert len(jt.cell_history(output_format="list")) == 2


def test_failing_cell_is_failed_and_the_user_sees_the_error(shell, capsys) -> None:
    result = run(shell, "%%track -n broken\nlr = 0.1\nraise ValueError('diverged')\n")
    assert not result.success and isinstance(result.error_in_exec, ValueError)
    captured = capsys.readouterr()
    assert "diverged" in captured.out + captured.err
    run_ = jt.search_runs(output_format="list")[0]
    assert run_.info.status == "FAILED"
    assert "ValueError: diverged" in run_.info.error
    assert run_.data.params == {"lr": "0.1"}  # recorded before the cell failed


def test_keyboard_interrupt_marks_the_run_killed(shell) -> None:
    result = run(shell, "%%track\nraise KeyboardInterrupt\n")
    assert not result.success
    assert jt.search_runs(output_format="list")[0].info.status == "KILLED"


def test_runs_started_inside_a_tracked_cell_nest_under_it(shell) -> None:
    run(
        shell,
        """%%track -n outer
for fold in range(2):
    with jt.start_run(run_name=f"fold{fold}"):
        jt.log_metric("acc", 0.5 + fold / 10)
""",
    )
    runs = {r.info.run_name: r for r in jt.search_runs(output_format="list")}
    assert set(runs) == {"outer", "fold0", "fold1"}
    assert runs["fold0"].info.parent_run_id == runs["outer"].info.run_id
    assert runs["outer"].info.status == "FINISHED"


def test_nested_flag_nests_under_an_open_run(shell) -> None:
    run(shell, "parent = jt.start_run(run_name='sweep')")
    run(shell, "%%track --nested -n trial\nx = 1\n")
    runs = {r.info.run_name: r for r in jt.search_runs(output_format="list")}
    assert runs["trial"].info.parent_run_id == runs["sweep"].info.run_id


def test_bad_metric_names_are_reported_not_fatal(shell, capsys) -> None:
    result = run(shell, "%%track -m name missing\nname = 'resnet'\n")
    assert result.success
    out = capsys.readouterr().out
    assert "-m name: str is not a number" in out and "-m missing: not defined" in out
    assert jt.search_runs(output_format="list")[0].info.status == "FINISHED"


def test_bad_tag_syntax_is_a_clear_error(shell) -> None:
    result = run(shell, "%%track -t novalue\nx = 1\n")
    assert isinstance(result.error_in_exec, ValueError)
    assert "KEY=VALUE" in str(result.error_in_exec)


def test_every_cell_execution_is_logged(shell) -> None:
    run(shell, "a = 1", cell_id="c-a")
    run(shell, "1 / 0", cell_id="c-b")
    run(shell, "%%track\nb = 2\n", cell_id="c-c")
    log = store().cell_executions()
    by_cell = {c.cell_id: c for c in log}
    assert by_cell["c-a"].status == "ok" and by_cell["c-a"].source == "a = 1"
    assert by_cell["c-b"].status == "error" and by_cell["c-b"].error_name == "ZeroDivisionError"
    assert by_cell["c-c"].run_id == jt.search_runs(output_format="list")[0].info.run_id
    assert by_cell["c-a"].execution_count < by_cell["c-b"].execution_count
    assert all(c.duration_ms >= 0 for c in log)


def test_cell_log_can_be_switched_off(shell) -> None:
    run(shell, "%track_cells off")
    run(shell, "quiet = 1", cell_id="off-cell")
    run(shell, "%track_cells on")
    run(shell, "loud = 1", cell_id="on-cell")
    cells = {c.cell_id for c in store().cell_executions()}
    assert "on-cell" in cells and "off-cell" not in cells


def test_cell_log_off_by_config(monkeypatch) -> None:
    monkeypatch.setenv("JUPYTER_TRACK_CELL_LOG", "0")
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance()
    ip.run_cell("%load_ext jupyter_track")
    ip.run_cell("x = 1", cell_id="not-logged")
    assert store().cell_executions() == []
    ip.run_cell("%unload_ext jupyter_track")
    InteractiveShell.clear_instance()


def test_importing_inside_ipython_registers_the_magic() -> None:
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance()
    ip.run_cell("import importlib, jupyter_track; importlib.reload(jupyter_track)")
    assert "track" in ip.magics_manager.magics["cell"]
    ip.run_cell("%unload_ext jupyter_track")
    InteractiveShell.clear_instance()


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("lr = 0.01", {"lr": 0.01}),
        ("lr = -1e-3", {"lr": -0.001}),
        ("a, b = 1, 'x'", {"a": 1, "b": "x"}),
        ("epochs: int = 10", {"epochs": 10}),
        ("cfg = dict(depth=3)", {"cfg": {"depth": 3}}),
        ("cfg = dict(depth=n)", {}),
        ("model = Net()", {}),
        ("x = 1\nx = 2", {"x": 2}),
        ("def f():\n    inner = 1", {}),
        ("s = {1, 2}", {"s": {1, 2}}),
        ("t = tuple([1, 2])", {"t": (1, 2)}),
        ("_hidden = 3", {}),
        ("not python (", {}),
    ],
)
def test_literal_params(code: str, expected: dict[str, Any]) -> None:
    assert cellparams.literal_assignments(code) == expected


def test_a_syntax_error_fails_the_run_and_reaches_the_user(shell) -> None:
    result = run(shell, "%%track -n typo\nlr = 0.1\nfor x in\n")
    assert isinstance(result.error_in_exec, SyntaxError)
    run_ = jt.search_runs(output_format="list")[0]
    assert run_.info.run_name == "typo" and run_.info.status == "FAILED"
    assert "SyntaxError" in run_.info.error


# ------------------------------------------------------------------------------- the summary

SUMMARY_MIME = "application/vnd.jupyter-track.run-summary+json"


def summaries(outputs: Any) -> list[dict[str, Any]]:
    """The display data of captured outputs that carry the run summary's MIME type."""
    return [o.data for o in outputs if SUMMARY_MIME in o.data]


def test_summary_is_display_data_with_its_mime_type_html_and_text(shell) -> None:
    from IPython.utils.capture import capture_output

    code = '%%track -e demo -m acc\nlr = {}\nlabel = "<img src=x onerror=alert(1)>"\nacc = {}\n'
    run(shell, code.format(0.1, 0.5), cell_id="summary-cell")
    with capture_output() as captured:
        run(shell, code.format(0.01, 0.75), cell_id="summary-cell")
    (data,) = summaries(captured.outputs)
    assert set(data) == {SUMMARY_MIME, "text/html", "text/plain"}  # no widget, no comm
    first, second = jt.cell_history("summary-cell", output_format="list")[::-1]
    payload = data[SUMMARY_MIME]
    assert payload["version"] == 1
    assert payload["run"] == {
        "run_id": second.info.run_id,
        "name": second.info.run_name,
        "status": "FINISHED",
        "duration_ms": second.info.duration_ms,
        "error": None,
        "experiment": "demo",
    }
    assert payload["previous"] == {"run_id": first.info.run_id, "name": first.info.run_name}
    params = {p["key"]: p for p in payload["params"]}
    assert params["lr"] == {"key": "lr", "value": "0.01", "previous": "0.1", "changed": True}
    assert params["label"]["value"] == "<img src=x onerror=alert(1)>"  # text, as logged
    assert not params["label"]["changed"]
    (acc,) = payload["metrics"]
    assert acc["key"] == "acc" and acc["value"] == 0.75 and acc["previous"] == 0.5
    assert acc["delta"] == pytest.approx(0.25)
    html = data["text/html"]
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "was 0.1" in html and "▲ 0.25" in html
    assert "acc=0.75 (+0.25)" in data["text/plain"]


def test_quiet_and_show_summary_off_display_nothing(shell) -> None:
    from IPython.utils.capture import capture_output

    with capture_output() as captured:
        run(shell, "%%track -q\nx = 1\n")
    assert captured.outputs == [] and captured.stdout == ""
    run(shell, "%config TrackMagics.show_summary = False")
    with capture_output() as captured:
        run(shell, "%%track\nx = 1\n")
    assert captured.outputs == [] and captured.stdout == ""
    run(shell, "%config TrackMagics.show_summary = True")
    with capture_output() as captured:
        run(shell, "%%track\nx = 1\n")
    assert len(summaries(captured.outputs)) == 1
    assert [r.info.status for r in jt.search_runs(output_format="list")] == ["FINISHED"] * 3


def test_summary_of_a_failed_run_names_the_error(shell) -> None:
    from IPython.utils.capture import capture_output

    with capture_output() as captured:
        run(shell, "%%track -n broken\nraise ValueError('diverged <b>')\n")
    (data,) = summaries(captured.outputs)
    run_ = data[SUMMARY_MIME]["run"]
    assert run_["status"] == "FAILED" and run_["error"] == "ValueError: diverged <b>"
    assert "ValueError: diverged &lt;b&gt;" in data["text/html"]


def test_the_summary_reads_the_run_and_the_previous_run_only(shell, monkeypatch) -> None:
    """After the run is ended (durable), the summary costs two store reads: the run and the
    previous run of its cell (the experiment's name is asked once per store)."""
    from IPython.utils.capture import capture_output

    run(shell, "%%track\nx = 1\n", cell_id="counted")
    calls: list[str] = []
    st = jt.TrackClient().store
    for name in ("get_run", "previous_cell_run", "get_experiment", "search_runs"):
        original = getattr(st, name)

        def counted(*args: Any, _name: str = name, _original: Any = original) -> Any:
            calls.append(_name)
            return _original(*args)

        monkeypatch.setattr(st, name, counted)
    with capture_output() as captured:
        run(shell, "%%track\nx = 2\n", cell_id="counted")
    assert calls == ["get_run", "previous_cell_run"]
    assert summaries(captured.outputs)[0][SUMMARY_MIME]["previous"] is not None


def test_a_tracked_cell_with_its_summary_never_imports_pandas(tmp_path) -> None:
    script = """
import json, sys
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
shell = InteractiveShell.instance()
shell.run_cell("import jupyter_track as jt; jt.set_tracking_uri(%r)" % sys.argv[1])
with capture_output() as out:
    for lr in (0.1, 0.2):
        shell.run_cell("%%%%track -m acc\\nlr = %s\\nacc = lr * 2" % lr, cell_id="c")
mime = "application/vnd.jupyter-track.run-summary+json"
shown = [o.data[mime]["metrics"][0]["delta"] for o in out.outputs if mime in o.data]
print(json.dumps({"pandas": "pandas" in sys.modules, "shown": shown}))
"""
    answer = python_json(script, str(tmp_path / "t.db"))
    assert answer["shown"] == [None, pytest.approx(0.2)]
    assert answer["pandas"] is False


def test_a_summary_that_cannot_be_read_never_fails_the_cell(shell, capsys, monkeypatch) -> None:
    """The run is stored when the summary is built: a store that fails to read it back (a team
    service gone away) costs the summary, never the cell's result or its own error."""
    from jupyter_track.store import StoreUnavailable

    st = jt.TrackClient().store

    def unreachable(run_id: str) -> Any:
        raise StoreUnavailable("the team service did not answer")

    monkeypatch.setattr(st, "get_run", unreachable)
    result = run(shell, "%%track -n fine\nx = 1\nx + 1\n")
    assert result.success and result.result == 2
    assert "summary not shown: StoreUnavailable" in capsys.readouterr().err
    result = run(shell, "%%track -n broken\nraise ValueError('diverged')\n")
    assert isinstance(result.error_in_exec, ValueError)  # the user's error, not the store's
    monkeypatch.undo()
    statuses = {r.info.run_name: r.info.status for r in jt.search_runs(output_format="list")}
    assert statuses == {"fine": "FINISHED", "broken": "FAILED"}
