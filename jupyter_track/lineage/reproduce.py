"""Write a folder that reproduces a run: ``jt.reproduce``, ``jupyter-track reproduce``.

The folder holds

* ``reproduce.ipynb`` -- a first markdown cell (source notebook, git commit and dirty flag,
  stale-state warnings, seeds, what is missing), a set-up cell (the original working folder and
  experiment), a check cell that verifies the data fingerprints before anything runs, the
  lineage's cells in executed order and the tracked cell last, its run tagged
  ``jt.reproduced_from`` with the original run's id;
* ``requirements.txt`` -- the captured environment, pinned, with the Python version;
* ``git.diff`` -- the uncommitted changes when the tree was dirty;
* ``inputs.json`` -- the data fingerprints the run recorded.

Executing the notebook in a fresh kernel makes a new run linked to the original; comparing the
two shows what differs. A run made by a script (no cell log) gets what is known: the script
path, git state, environment and inputs, and the notebook says what is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..store.errors import InvalidInput, TrackError
from .inputs import run_inputs
from .model import REPRODUCED_FROM_TAG

NOTEBOOK_NAME = "reproduce.ipynb"
ENV_REPRODUCED_FROM = "JUPYTER_TRACK_REPRODUCED_FROM"
_PIP_LINE = re.compile(r"^(\s*)([!%](?:pip|conda|mamba)\s+install\b.*)$", re.M)


class OutputExists(InvalidInput):
    """The output folder exists and ``force`` was not given."""


@dataclass
class Reproduction:
    """What :func:`reproduce` wrote."""

    run_id: str
    path: Path
    files: list[str] = field(default_factory=list)
    cells: int = 0
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    @property
    def notebook(self) -> Path:
        return self.path / NOTEBOOK_NAME

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "path": str(self.path),
            "notebook": str(self.notebook),
            "files": list(self.files),
            "cells": self.cells,
            "warnings": list(self.warnings),
            "missing": list(self.missing),
        }

    def __str__(self) -> str:
        lines = [f"wrote {self.notebook} ({self.cells} code cells) and {', '.join(self.files[1:])}"]
        lines += [f"warning: {w}" for w in self.warnings]
        lines += [f"missing: {m}" for m in self.missing]
        return "\n".join(lines)


def reproduce(
    store: Any, run_id: str, path: str | os.PathLike[str], *, force: bool = False
) -> Reproduction:
    """Write the reproduction folder of ``run_id`` at ``path`` (see the module docstring).

    Raises ``NotFound`` naming the id for an unknown run and :class:`OutputExists` when
    ``path`` exists (``force=True`` replaces it). The folder is written under a temporary name
    beside ``path`` and renamed when complete.
    """
    if not isinstance(run_id, str) or not run_id:
        raise InvalidInput("run_id: must be a non-empty string")
    target = Path(path).expanduser()
    if target.exists() and not force:
        raise OutputExists(
            f"output folder {str(target)!r} exists: pass force=True (--force) to replace it"
        )
    run = store.get_run(run_id)  # NotFound names the id
    lineage = store.get_run_lineage(run_id)
    environment = None
    if run.info.environment:
        try:
            environment = store.get_environment(run.info.environment)
        except TrackError:
            environment = None
    experiment = None
    try:
        experiment = store.get_experiment(run.info.experiment_id).name
    except TrackError:
        pass
    diff = None
    artifact_file = getattr(store, "artifact_file", None)  # local stores only
    if run.data.tags.get("jt.git.dirty") == "true" and artifact_file is not None:
        try:
            diff = artifact_file(run_id, "provenance/git.diff").read_bytes()
        except (TrackError, OSError):
            diff = None
    inputs = run_inputs(run.data.tags)
    result = Reproduction(run_id, target.absolute())
    notebook = _notebook(run, lineage, environment, experiment, inputs, diff, result)
    files: dict[str, bytes] = {NOTEBOOK_NAME: json.dumps(notebook, indent=1).encode() + b"\n"}
    files["requirements.txt"] = _requirements(environment, result).encode()
    if diff:
        files["git.diff"] = diff
    elif run.data.tags.get("jt.git.dirty") == "true":
        result.missing.append("git.diff: the tree was dirty but no diff was recorded")
    files["inputs.json"] = (json.dumps(inputs, indent=2) + "\n").encode()
    _write_folder(target, files, force)
    result.files = list(files)
    return result


# ------------------------------------------------------------------------------ the files


def _write_folder(target: Path, files: dict[str, bytes], force: bool) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        for name, data in files.items():
            (staging / name).write_bytes(data)
        if target.exists():
            if not force:  # created meanwhile
                raise OutputExists(f"output folder {str(target)!r} exists")
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            else:
                target.unlink()
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _requirements(environment: dict[str, Any] | None, result: Reproduction) -> str:
    if not environment:
        result.missing.append("requirements.txt: the run's environment was not recorded")
        return "# the environment of this run was not recorded\n"
    lines = [
        f"# the environment of the original run: Python {environment.get('python')}",
        f"# on {environment.get('platform')}",
        f"# python_version == {environment.get('python')}",
    ]
    for name, version in sorted(dict(environment.get("packages") or {}).items()):
        lines.append(f"{name}=={version}")
    return "\n".join(lines) + "\n"


def _cell(kind: str, source: str, **metadata: Any) -> dict[str, Any]:
    import uuid

    cell: dict[str, Any] = {
        "id": uuid.uuid4().hex[:8],
        "cell_type": kind,
        "metadata": metadata,
        "source": source,
    }
    if kind == "code":
        cell["outputs"] = []
        cell["execution_count"] = None
    return cell


def _md_escape(text: str) -> str:
    """User text as plain Markdown text (no markup, no HTML)."""
    return re.sub(r"([\\`*_{}\[\]<>#|])", r"\\\1", text)


def _code(text: str) -> str:
    """User text as a Markdown code span (no escaping inside; backticks and newlines handled)."""
    text = text.replace("\n", " ")
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _notebook(
    run: Any,
    lineage: dict[str, Any] | None,
    environment: dict[str, Any] | None,
    experiment: str | None,
    inputs: list[dict[str, Any]],
    diff: bytes | None,
    result: Reproduction,
) -> dict[str, Any]:
    tags = run.data.tags
    info = run.info
    cells: list[dict[str, Any]] = []
    header = [f"# Reproduction of run {_code(info.run_name or info.run_id)}", ""]
    header.append(
        f"* run id: {_code(info.run_id)}"
        + (f", experiment {_code(experiment)}" if experiment else "")
    )
    notebook = (lineage or {}).get("notebook") or info.notebook or tags.get("jt.notebook")
    script = tags.get("mlflow.source.name") if not notebook else None
    if notebook:
        header.append(f"* source notebook: {_code(notebook)}")
    elif script:
        header.append(f"* source script: {_code(script)}")
    commit = tags.get("jt.git.commit")
    if commit:
        dirty = tags.get("jt.git.dirty") == "true"
        header.append(
            f"* git commit {_code(commit)} on branch {_code(tags.get('jt.git.branch') or '?')}, "
            + ("**dirty**: the uncommitted changes are in `git.diff`" if dirty else "clean")
        )
    else:
        header.append("* git: not recorded (the code was not in a git repository)")
        result.missing.append("git state: the run was not made in a git repository")
    if environment:
        header.append(
            f"* Python {environment.get('python')}; packages pinned in `requirements.txt` "
            "(install them in a fresh environment first)"
        )
    if lineage is None:
        what = f"the script {_code(script)}" if script else "the code"
        result.missing.append(
            "cell lineage: the run has no cell log (made by a script or with the cell log off); "
            f"run {what} yourself"
        )
        header += [
            "",
            "**Missing**: this run has no cell log, so the code that made it is not "
            f"known here; run {what} at the commit above.",
        ]
    else:
        flags = lineage.get("flags") or []
        if flags:
            header += [
                "",
                "**Stale-state warnings** recorded when the run started (the cells "
                "below are the code as it ran, not as the notebook holds it now):",
                "",
            ]
            for flag in flags:
                header.append(
                    f"* {_code(str(flag.get('code')))}: {_md_escape(str(flag.get('message')))}"
                )
                result.warnings.append(f"{flag.get('code')}: {flag.get('message')}")
        seeds = lineage.get("seeds") or []
        if seeds:
            shown = ", ".join(
                _code(
                    f"{s.get('call')}={s['value'] if s.get('value') is not None else s.get('name')}"
                )
                for s in seeds
            )
            header += ["", f"Seeds: {shown}."]
        if lineage.get("unseeded"):
            libraries = ", ".join(lineage.get("unseeded_libraries") or [])
            header += [
                "",
                f"**Unseeded**: no seed was found for {_md_escape(libraries)}: "
                "the results may differ.",
            ]
            result.warnings.append(f"unseeded: {libraries}")
    for item in result.missing:
        header.append(f"* missing: {_md_escape(item)}")
    cells.append(_cell("markdown", "\n".join(header)))
    # set-up: the working folder the code ran in (relative paths), the experiment
    setup = [f"# jupyter-track: reproducing run {info.run_id}", "import os", ""]
    cwd = (lineage or {}).get("cwd")
    if cwd:
        setup += [
            "# the folder the original kernel worked in (the code's relative paths)",
            f"if os.path.isdir({cwd!r}):",
            f"    os.chdir({cwd!r})",
        ]
    setup += ["", "import jupyter_track as jt", "", "%load_ext jupyter_track"]
    if experiment:
        setup.append(f"jt.set_experiment({experiment!r})")
    cells.append(_cell("code", "\n".join(setup), tags=["jupyter-track-setup"]))
    checkable = [i for i in inputs if i.get("kind") in ("file", "folder")]
    if inputs:
        check = [
            "# jupyter-track: the data the original run read must be unchanged",
            "from jupyter_track.lineage import verify_inputs",
            "",
            "verify_inputs(" + json.dumps(inputs, indent=4) + ")",
        ]
        cells.append(_cell("code", "\n".join(check), tags=["jupyter-track-check"]))
        if len(checkable) < len(inputs):
            result.warnings.append(
                f"{len(inputs) - len(checkable)} input(s) are not files or folders: they are "
                "compared when the reproduced run logs them"
            )
    if lineage is None:
        if script:
            cells.append(
                _cell("code", f"# the script that made the run (as recorded)\n%run {script}")
            )
        result.cells = sum(1 for c in cells if c["cell_type"] == "code")
        return _document(cells)
    for item in lineage.get("cells") or []:
        cells.append(
            _cell(
                "code",
                _without_installs(str(item.get("source", ""))),
                jupyter_track={
                    "execution_count": item.get("execution_count"),
                    "cell_id": item.get("cell_id"),
                    "provides": item.get("provides", []),
                },
            )
        )
    tracked = (lineage.get("tracked") or {}).get("source") or run.source or ""
    cells.append(_cell("code", _link_to_original(tracked, info.run_id), tags=["jupyter-track-run"]))
    result.cells = sum(1 for c in cells if c["cell_type"] == "code")
    return _document(cells)


def _document(cells: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
            "language_info": {"name": "python"},
        },
        "cells": cells,
    }


def _without_installs(source: str) -> str:
    """``!pip install x`` lines are commented out: ``requirements.txt`` pins the environment."""
    return _PIP_LINE.sub(r"\1# (jupyter-track: see requirements.txt) \2", source)


def _link_to_original(source: str, run_id: str) -> str:
    """The tracked cell, its run tagged ``jt.reproduced_from`` (``-t`` on ``%%track``)."""
    first, newline, rest = source.partition("\n")
    if first.lstrip().startswith("%%track"):
        return f"{first.rstrip()} -t {REPRODUCED_FROM_TAG}={run_id}{newline}{rest}"
    return (
        f"import os\nos.environ[{ENV_REPRODUCED_FROM!r}] = {run_id!r}  # runs started below are "
        f"tagged {REPRODUCED_FROM_TAG}\n{source}"
    )
