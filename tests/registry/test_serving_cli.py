"""``jupyter-track serve`` as a real process: start, answer, follow a promotion and a rollback,
stop on Ctrl-C and close its serving run."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

import jupyter_track as jt
from jupyter_track.models import serve_cli


@pytest.fixture
def rows() -> list[dict[str, float]]:
    X, y = load_iris(return_X_y=True, as_frame=True)
    v1 = LogisticRegression(max_iter=500).fit(X, y)
    v2 = DecisionTreeClassifier(max_depth=1, random_state=0).fit(X, y)
    for model in (v1, v2):
        with jt.start_run():
            jt.log_model(model, "model", input_example=X.head(2), registered_model_name="iris")
    jt.set_registered_model_alias("iris", "champion", 1)
    return X[v1.predict(X) != v2.predict(X)].head(2).to_dict(orient="records")


def test_add_parser_registers_serve() -> None:
    parser = argparse.ArgumentParser(prog="jupyter-track")
    subparsers = parser.add_subparsers(dest="command")
    serve_cli.add_parser(subparsers)
    args = parser.parse_args(
        ["serve", "models:/m@champion", "--port", "0", "--route", "champion=90,challenger=10"]
    )
    assert args.func is serve_cli.run
    assert (args.model_uri, args.port, args.route, args.shadow) == (
        "models:/m@champion",
        0,
        "champion=90,challenger=10",
        None,
    )


def test_bad_arguments_exit_2_with_the_message(
    rows: list[dict[str, float]], capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--port", "0", "--tracking-uri", os.environ["JUPYTER_TRACK_DB"]]
    assert serve_cli.main(["models:/iris@champion", "--route", "champion=x", *base]) == 2
    assert "weight 'x' is not a number" in capsys.readouterr().err
    assert serve_cli.main(["models:/iris@ghost", *base]) == 2
    assert "has no alias 'ghost'" in capsys.readouterr().err
    assert serve_cli.main(["models:/iris@my champion", *base]) == 2
    assert "spaces" in capsys.readouterr().err


def test_serve_process_follows_promotion_and_rollback(
    rows: list[dict[str, float]], track_db: Path
) -> None:
    env = {**os.environ, "JUPYTER_TRACK_DB": str(track_db), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_track.models.serve_cli",
            "models:/iris@champion",
            "--port",
            "0",
            "--refresh-interval",
            "0.05",
            "--metrics-interval",
            "0.2",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    stderr_lines: list[str] = []
    threading.Thread(
        target=lambda: stderr_lines.extend(proc.stderr),
        daemon=True,  # type: ignore[arg-type]
    ).start()
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("Serving models:/iris@champion (champion=v1) on http://"), (
            first + "".join(stderr_lines)
        )
        url = first.rsplit(" on ", 1)[1].strip()
        seen: list[int] = []
        with httpx.Client(base_url=url, timeout=30) as client:
            assert client.get("/health").json()["serving"] == {"champion": 1}

            def answer() -> int:
                r = client.post("/invocations", json=rows)
                assert r.status_code == 200, r.text
                seen.append(int(r.headers["X-Model-Version"]))
                return seen[-1]

            assert answer() == 1
            jt.set_registered_model_alias("iris", "champion", 2)
            # bounded by requests, not time: the server re-reads aliases every 0.05 s
            assert any(answer() == 2 for _ in range(20_000))
            jt.rollback_alias("iris", "champion")
            assert any(answer() == 1 for _ in range(20_000))
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    runs = jt.search_runs(experiment_names=["jupyter-track serving"], output_format="list")
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FINISHED"
    assert run.data.metrics["v1.requests"] + run.data.metrics["v2.requests"] == len(seen)
    assert run.data.metrics["v1.errors"] == run.data.metrics["v2.errors"] == 0
