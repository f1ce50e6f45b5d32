"""Every example in README.md runs: ``python`` and ``ipython`` blocks through a real IPython
shell (one namespace and one fresh store per README section), and ``console`` lines that start
with ``$ jupyter-track`` as commands. A block whose info string contains ``notest`` is skipped."""

from __future__ import annotations

import code
import os
import re
import shlex
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

import jupyter_track as jt

README = Path(__file__).resolve().parents[2] / "README.md"
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


class _Console(code.InteractiveConsole):
    """A plain ``python`` prompt that records errors instead of only printing them."""

    def __init__(self) -> None:
        super().__init__({"__name__": "__console__"})
        self.errors: list[str] = []

    def showsyntaxerror(self, filename: str | None = None, **kwargs: Any) -> None:
        self.errors.append("".join(traceback.format_exception_only(*sys.exc_info()[:2])))

    def showtraceback(self) -> None:
        self.errors.append("".join(traceback.format_exception(*sys.exc_info())))


def pasteable_sections() -> list[tuple[str, list[str]]]:
    """Sections whose examples are plain Python (a section with ``ipython`` blocks needs IPython
    for its magics, so it is covered by the test above only)."""
    found = []
    for name, blocks in sections():
        kinds = {kind for kind, _ in blocks}
        if "ipython" not in kinds and "python" in kinds:
            found.append((name, [body for kind, body in blocks if kind == "python"]))
    return found


@pytest.mark.parametrize(
    ("name", "blocks"), pasteable_sections(), ids=[s[0] for s in pasteable_sections()]
)
def test_readme_examples_paste_line_by_line_into_a_python_prompt(
    name: str, blocks: list[str], track_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pasted line by line into ``python``'s interactive prompt, every example runs: a blank
    line ends a block there, so a ``with`` block followed directly by unindented code, or a
    blank line inside a function, would be a SyntaxError."""
    llm = None
    if any("OpenAI(" in body for body in blocks):
        from openai_server import OpenAIServer  # loopback stand-in for the cloud API

        llm = OpenAIServer().start()
        monkeypatch.setenv("OPENAI_BASE_URL", llm.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "readme-test")
    console = _Console()
    try:
        for body in blocks:
            for line in body.splitlines():
                console.push(line)
                assert not console.errors, f"README {name}, at {line!r}:\n{console.errors[0]}"
            console.push("")  # the paste ends: a pending block is run
            assert not console.errors, f"README {name}:\n{console.errors[0]}"
    finally:
        console.push("import jupyter_track as jt; jt.end_run()")
        if llm is not None:
            jt.openai.autolog(disable=True)
            llm.stop()
