"""Lineage of tracked runs through a real IPython shell: cells, stale flags, seeds, tags."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

import jupyter_track as jt
from jupyter_track.lineage import notebook as notebook_module
from jupyter_track.lineage import session as session_module
from jupyter_track.store import SQLiteStore


@pytest.fixture
def shell() -> Iterator[InteractiveShell]:
    InteractiveShell.clear_instance()
    ip = InteractiveShell.instance()
    ip.run_cell("%load_ext jupyter_track", store_history=True)
    yield ip
    ip.run_cell("%unload_ext jupyter_track")
    InteractiveShell.clear_instance()
    notebook_module.clear_cache()


def run(shell: InteractiveShell, code: str, cell_id: str | None = None) -> Any:
    result = shell.run_cell(code, store_history=True, cell_id=cell_id)
    return result


def store() -> SQLiteStore:
    jt.flush()
    return jt.TrackClient().store


def last_run() -> Any:
    run_ = jt.last_active_run()
    assert run_ is not None
    return run_


def lineage_of(run_id: str) -> dict[str, Any]:
    record = store().get_run_lineage(run_id)
    assert record is not None
    return record


def write_notebook(path: Path, cells: list[tuple[str, str]]) -> None:
    path.write_text(
        json.dumps(
            {
                "nbformat": 4,
                "nbformat_minor": 5,
                "metadata": {},
                "cells": [
                    {
                        "id": cell_id,
                        "cell_type": "code",
                        "metadata": {},
                        "source": source,
                        "outputs": [],
                        "execution_count": None,
                    }
                    for cell_id, source in cells
                ],
            }
        )
    )


def test_a_tracked_cell_records_the_cells_it_read_in_executed_order(shell, capsys) -> None:
    run(shell, "import jupyter_track as jt\nimport math", cell_id="imports")
    run(shell, "base = 2", cell_id="base")
    run(shell, "noise = 'not used'", cell_id="noise")
    run(shell, "power = math.pow(base, 3)", cell_id="power")
    result = run(shell, "%%track -m value\nvalue = power + 1\n", cell_id="train")
    assert result.success
    run_ = last_run()
    record = lineage_of(run_.info.run_id)
    assert [c["cell_id"] for c in record["cells"]] == ["imports", "base", "power"]
    assert record["cells"][2]["provides"] == ["power"]
    assert record["tracked"]["cell_id"] == "train"
    assert record["stale"] is False and record["flags"] == []
    assert run_.data.tags["jt.stale"] == "false"
    assert run_.data.tags["jt.lineage.cells"] == "3"
    assert "stale:" not in capsys.readouterr().out


def test_stale_flags_are_tags_filterable_and_shown_in_the_summary(shell, capsys) -> None:
    run(shell, "import jupyter_track as jt", cell_id="imports")
    run(shell, "scale = 3\nold = 1", cell_id="prep")
    run(shell, "scale = 3", cell_id="prep")  # edited and run again: `old` is left behind
    run(shell, "%%track -n clean\ny = scale * 2\n", cell_id="t1")
    run(shell, "%%track -n stale\ny = scale * old\n", cell_id="t2")
    capsys.readouterr()
    runs = {r.info.run_name: r for r in jt.search_runs(output_format="list")}
    assert runs["clean"].data.tags["jt.stale"] == "false"
    assert runs["stale"].data.tags["jt.stale"] == "true"
    assert runs["stale"].data.tags["jt.stale.reasons"] == "edited"
    found = jt.search_runs(filter_string="tags.jt.stale = 'true'", output_format="list")
    assert [r.info.run_name for r in found] == ["stale"]
    record = lineage_of(runs["stale"].info.run_id)
    assert record["flags"][0]["code"] == "edited"
    assert "edited and run again" in record["flags"][0]["message"]


def test_the_summary_names_the_stale_cells(shell, capsys) -> None:
    run(shell, "import jupyter_track as jt", cell_id="imports")
    run(shell, "a = 1\nb = 2", cell_id="prep")
    run(shell, "a = 1", cell_id="prep")
    capsys.readouterr()
    run(shell, "%%track\nc = a + b\n", cell_id="train")
    out = capsys.readouterr().out
    assert "stale: cell [3] was edited and run again as [4]" in out


def test_out_of_order_edited_and_deleted_against_the_saved_notebook(
    shell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = tmp_path / "analysis.ipynb"
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb))
    cells = [
        ("imports", "import jupyter_track as jt"),
        ("load", "rows = [1, 2, 3, 4]"),
        ("prep", "X = [r * factor for r in rows]"),
        ("factor", "factor = 10"),
        ("scratch", "bias = 1"),
        ("train", "%%track -m total\ntotal = sum(X) + bias\n"),
    ]
    write_notebook(nb, cells)
    for cell_id in ("imports", "load", "factor", "prep", "scratch"):
        run(shell, dict(cells)[cell_id], cell_id=cell_id)
    # after running: the preprocessing cell is edited, the scratch cell deleted (and saved)
    edited = [(i, s + "  # changed" if i == "prep" else s) for i, s in cells if i != "scratch"]
    write_notebook(nb, edited)
    assert run(shell, dict(cells)["train"], cell_id="train").success
    run_ = last_run()
    record = lineage_of(run_.info.run_id)
    assert [c["cell_id"] for c in record["cells"]] == [
        "imports",
        "load",
        "factor",
        "prep",
        "scratch",
    ][1:]
    codes = {f["code"]: f for f in record["flags"]}
    assert set(codes) == {"out-of-order", "edited", "deleted"}
    assert codes["out-of-order"]["cells"] == ["[4]"]  # factor ran before prep, sits below it
    assert "which sit above it in the saved notebook" in codes["out-of-order"]["message"]
    assert codes["edited"]["cells"] == ["[5]"]
    assert codes["deleted"]["cells"] == ["[6]"]
    assert run_.data.tags["jt.stale.reasons"] == "out-of-order,edited,deleted"
    assert record["notebook"] == str(nb)


def test_cells_without_ids_are_matched_by_their_code(
    shell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = tmp_path / "plain.ipynb"
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb))
    write_notebook(
        nb, [("a", "import jupyter_track as jt"), ("b", "k = 2"), ("c", "%%track\nz = k\n")]
    )
    run(shell, "import jupyter_track as jt")
    run(shell, "k = 5")  # not the code the notebook holds now: the most similar cell is 2
    run(shell, "gone = {'nothing': 'like any cell of the notebook'}")
    run(shell, "%%track\nz = (k, gone)\n")
    flags = lineage_of(last_run().info.run_id)["flags"]
    assert [f["code"] for f in flags] == ["edited", "edited"]
    assert "the saved notebook's cell 2 now has other code" in flags[0]["message"]
    assert "edited or deleted since" in flags[1]["message"]


def test_seeds_are_recorded_and_unseeded_runs_flagged(shell) -> None:
    run(shell, "import jupyter_track as jt\nimport numpy as np\nimport random", cell_id="imp")
    run(shell, "SEED = 5\nnp.random.seed(SEED)", cell_id="seed")
    run(shell, "data = np.random.rand(4)", cell_id="data")
    run(shell, "%%track -n seeded\ntotal = float(data.sum())\n", cell_id="t1")
    run(shell, "%%track -n unseeded\nx = random.random()\n", cell_id="t2")
    runs = {r.info.run_name: r for r in jt.search_runs(output_format="list")}
    seeded = runs["seeded"].data.tags
    assert seeded["jt.unseeded"] == "false"
    assert seeded["jt.seeds"] == "numpy.random.seed=5"
    record = lineage_of(runs["seeded"].info.run_id)
    assert [c["cell_id"] for c in record["cells"]] == ["imp", "seed", "data"]
    assert record["seeds"][0]["value"] == 5
    assert runs["unseeded"].data.tags["jt.unseeded"] == "true"
    unseeded = jt.search_runs(filter_string="tags.jt.unseeded = 'true'", output_format="list")
    assert [r.info.run_name for r in unseeded] == ["unseeded"]


def test_a_run_started_in_an_ordinary_cell_gets_its_lineage_at_the_end(shell) -> None:
    run(shell, "import jupyter_track as jt", cell_id="imp")
    run(shell, "lr = 0.1", cell_id="cfg")
    run(shell, "with jt.start_run(run_name='manual'):\n    jt.log_param('lr', lr)", cell_id="go")
    manual = jt.search_runs(output_format="list")[0]
    assert manual.info.run_name == "manual"
    record = lineage_of(manual.info.run_id)
    assert [c["cell_id"] for c in record["cells"]] == ["imp", "cfg"]
    assert store().get_run(manual.info.run_id).data.tags["jt.stale"] == "false"


def test_names_defined_before_the_log_started_are_flagged(shell) -> None:
    shell.user_ns["secret"] = 42  # as if a cell had run before the extension was loaded
    run(shell, "import jupyter_track as jt")
    run(shell, "%%track\nx = secret\n")
    record = lineage_of(last_run().info.run_id)
    assert record["unknown"] == ["secret"]
    assert record["flags"][0]["code"] == "unknown-names"


def test_cells_run_while_the_log_was_off(shell) -> None:
    run(shell, "import jupyter_track as jt")
    run(shell, "%track_cells off")
    run(shell, "hidden = 3")
    run(shell, "%track_cells on")
    run(shell, "%%track\nx = hidden\n")
    record = lineage_of(last_run().info.run_id)
    assert record["unknown"] == ["hidden"]
    assert "while the cell log was off" in record["flags"][0]["message"]


def test_magics_and_star_imports_are_flagged(shell, tmp_path: Path) -> None:
    script = tmp_path / "prep.py"
    script.write_text("made_by_script = 7\n")
    run(shell, "import jupyter_track as jt")
    run(shell, f"%run {script}")
    run(shell, "from math import *")
    run(shell, "%%track\nx = made_by_script + floor(2.5)\n")
    record = lineage_of(last_run().info.run_id)
    codes = [f["code"] for f in record["flags"]]
    assert "hidden-names" in codes and "magic" in codes
    sources = [c["source"] for c in record["cells"]]
    assert f"%run {script}" in sources and "from math import *" in sources


def test_files_read_by_the_lineage_are_the_run_inputs(shell) -> None:
    Path("train.csv").write_text("a,b\n1,2\n")
    run(shell, "import jupyter_track as jt")
    run(shell, "text = open('train.csv').read()")
    run(shell, "%%track\nn = len(text)\n")
    tags = last_run().data.tags
    assert tags["jt.input.train.csv.context"] == "lineage"
    assert tags["jt.input.train.csv.source"] == str(Path("train.csv").absolute())


def test_lineage_failures_never_stop_the_cell(
    shell, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("analysis exploded")

    monkeypatch.setattr(session_module.SessionLog, "lineage", broken)
    run(shell, "import jupyter_track as jt")
    result = run(shell, "%%track -m y\ny = 1\n")
    assert result.success
    assert last_run().data.metrics == {"y": 1.0}
    assert "lineage not computed: RuntimeError: analysis exploded" in capsys.readouterr().out
    assert store().get_run_lineage(last_run().info.run_id) is None
