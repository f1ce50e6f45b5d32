"""Every example in README.md runs: ``python`` and ``ipython`` blocks through a real IPython
shell (one namespace and one fresh store per README section), and ``console`` lines that start
with ``$ jupyter-track`` as commands. A block whose info string contains ``notest`` is skipped."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell

import jupyter_track as jt

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = re.compile(r"<!-- section: (\S+) \(owner: [^)]*\) -->\n(.*?)<!-- end: \1 -->", re.S)
BLOCK = re.compile(r"^```([^\n]*)\n(.*?)^```", re.S | re.M)


def sections() -> list[tuple[str, list[tuple[str, str]]]]:
    found = []
    for match in SECTION.finditer(README.read_text()):
        blocks = []
        for info, body in BLOCK.findall(match.group(2)):
            words = info.split()
            if words and words[0] in ("python", "ipython", "console") and "notest" not in words:
                blocks.append((words[0], body))
        if blocks:
            found.append((match.group(1), blocks))
    return found


@pytest.mark.parametrize(("name", "blocks"), sections(), ids=[s[0] for s in sections()])
def test_readme_section_examples_run(
    name: str, blocks: list[tuple[str, str]], track_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    InteractiveShell.clear_instance()
    shell = InteractiveShell.instance()
    llm = None
    if any("OpenAI(" in body for _, body in blocks):
        # the cloud API cannot be reached here: an OpenAI-compatible server on loopback
        from openai_server import OpenAIServer

        llm = OpenAIServer().start()
        monkeypatch.setenv("OPENAI_BASE_URL", llm.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "readme-test")
    try:
        shell.run_cell("%load_ext jupyter_track\nimport jupyter_track as jt")
        for kind, body in blocks:
            if kind == "console":
                _run_console(body, track_db)
                continue
            result = shell.run_cell(body, store_history=True)
            error = result.error_before_exec or result.error_in_exec
            assert error is None, f"README {name} example failed:\n{body}\n{error!r}"
    finally:
        shell.run_cell("%unload_ext jupyter_track")
        InteractiveShell.clear_instance()
        if llm is not None:
            jt.openai.autolog(disable=True)
            llm.stop()


def _run_console(body: str, track_db: Path) -> None:
    jt.flush()
    env = {**os.environ, "JUPYTER_TRACK_DB": str(track_db)}
    for line in body.splitlines():
        if not line.startswith("$ jupyter-track"):
            continue
        command = line[2:].split("  #")[0].strip()
        args = shlex.split(command)[1:]
        if "RUN_ID" in args:
            runs = jt.TrackClient().store.search_runs(None, "", max_results=1).runs
            args = [runs[0].info.run_id if a == "RUN_ID" else a for a in args]
        out = subprocess.run(
            [sys.executable, "-m", "jupyter_track.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=os.getcwd(),
        )
        assert out.returncode == 0, f"{command}\n{out.stdout}\n{out.stderr}"
