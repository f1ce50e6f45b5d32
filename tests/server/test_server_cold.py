"""A fresh server answers the runs list without pandas (issue 15).

pandas takes a third of a second to import; only ``search_runs`` (whose contract is a
DataFrame) may load it. The check runs in the server's own process: a real ``ServerApp`` with
the extension, started by a script that asks it over HTTP for a page of runs (filtered and
ordered), the experiments list, one run and the param-importance chart, and then reports
``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from jupyter_track.store import SQLiteStore

SCRIPT = r"""
import json, secrets, socket, sys, threading, time, urllib.request
from jupyter_server.serverapp import ServerApp

token = secrets.token_hex(8)
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
before = sorted(m for m in ("pandas", "numpy") if m in sys.modules)
app = ServerApp.instance()
app.initialize(argv=[
    f"--port={port}", "--ip=127.0.0.1", "--no-browser", "--allow-root",
    f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={sys.argv[1]}",
    "--ServerApp.jpserver_extensions={'jupyter_track': True}",
])
answers = {}

def get(path):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/jupyter-track/api/{path}",
        headers={"Authorization": f"token {token}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status, json.loads(response.read())

def client():
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                get("info")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        status, body = get(
            "runs?limit=100&filter=metrics.acc%20%3E%200.5&order_by=metrics.acc%20DESC"
        )
        answers["runs"] = [status, body["total"], [r["run_id"] for r in body["runs"]]]
        answers["experiments"] = get("experiments")[0]
        answers["run"] = get(f"runs/{body['runs'][0]['run_id']}")[0]
        ids = ",".join(r["run_id"] for r in body["runs"][:5])
        status, chart = get(f"charts/param-importance?run_ids={ids}&metric=acc")
        answers["importance"] = [status, [row["param"] for row in chart["table"]]]
        answers["loaded"] = sorted(m for m in ("pandas", "numpy") if m in sys.modules)
    except Exception as exc:
        answers["error"] = repr(exc)
    finally:
        app.io_loop.add_callback(app.stop)

threading.Thread(target=client, daemon=True).start()
app.start()
print(json.dumps({"before": before, **answers}))
"""


def test_a_fresh_server_answers_the_runs_list_without_pandas(
    track_db: Path, tmp_path: Path
) -> None:
    store = SQLiteStore(track_db)
    ids = []
    for i in range(30):
        info = store.create_run("0", run_name=f"r{i}")
        store.log_params(info.run_id, {"lr": 0.1 * i})
        store.log_metrics(info.run_id, [("acc", i / 30, 1000, 0)])
        store.update_run(info.run_id, status="FINISHED", end_time=info.start_time + 1)
        ids.append((i / 30, info.run_id))
    expected = [run_id for acc, run_id in sorted(ids, reverse=True) if acc > 0.5]
    root = tmp_path / "root"
    root.mkdir()
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(root)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert "error" not in answer, (answer, out.stderr[-2000:])
    assert answer["before"] == []
    assert answer["runs"] == [200, len(expected), expected]
    assert answer["experiments"] == 200 and answer["run"] == 200
    assert answer["importance"] == [200, ["lr"]]
    assert "pandas" not in answer["loaded"], "the server imported pandas to answer runs"
