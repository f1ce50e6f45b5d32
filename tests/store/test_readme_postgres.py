"""The README's PostgreSQL examples (blocks marked ``postgres``) run against the tests' own
PostgreSQL server: its example URI is replaced by a fresh database's, the commands run as
written, the Python block in one interpreter."""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import subprocess
import sys
from pathlib import Path

from project.test_readme import BLOCK, README, SECTION

from jupyter_track.store import SQLiteStore, connect_store

EXAMPLE_URI = "postgresql://tracker:secret@db.example.org:5432/team"


def _blocks() -> list[tuple[str, str]]:
    found = []
    for match in SECTION.finditer(README.read_text()):
        for info, body in BLOCK.findall(match.group(2)):
            words = info.split()
            if "postgres" in words:
                found.append((words[0], body))
    return found


def _expand(arg: str, env: dict[str, str], home: Path) -> str:
    """``$JUPYTER_TRACK_URI`` and ``~/`` as a shell would expand them."""
    arg = arg.replace("$JUPYTER_TRACK_URI", env.get("JUPYTER_TRACK_URI", ""))
    return str(home / arg[2:]) if arg.startswith("~/") else arg


def test_readme_postgres_examples_run(postgres_uri: str, tmp_path: Path) -> None:
    blocks = _blocks()
    assert [kind for kind, _ in blocks] == ["console", "python"]
    uri = postgres_uri.replace("postgres@", "postgres:secret@", 1)  # the cluster trusts loopback
    personal = SQLiteStore(tmp_path / "track.db")
    personal.create_run("0", run_name="from-my-laptop")
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "JUPYTER_TRACK_ARTIFACTS": str(tmp_path / "team-artifacts"),
    }
    outputs = []
    for line in blocks[0][1].splitlines():
        command = line[2:].split("  #")[0].strip()
        if command.startswith("export "):
            name, _, value = command[len("export ") :].partition("=")
            env[name] = value.replace(EXAMPLE_URI, uri)
            continue
        if not command.startswith("jupyter-track"):
            continue  # pip install: done by the test environment
        args = [_expand(a, env, tmp_path) for a in shlex.split(command)[1:]]
        done = subprocess.run(
            [sys.executable, "-m", "jupyter_track.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        assert "secret" not in done.stdout + done.stderr.replace("secret@db", "")
        outputs.append(done.stdout)
    assert "schema 0 -> " in outputs[0] or "up to date" in outputs[0]
    assert "postgresql" in outputs[1]
    team = connect_store(postgres_uri)
    assert [r.info.run_name for r in team.search_runs().runs] == ["from-my-laptop"]

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(blocks[1][1].replace(EXAMPLE_URI, uri), {})  # the README's own code
    lines = printed.getvalue().splitlines()
    assert lines[0] == uri.replace(":secret@", ":***@") and lines[1] == "1"
    assert len(team.search_runs().runs) == 2
    team.close()
