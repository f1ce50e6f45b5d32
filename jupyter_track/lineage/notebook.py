"""The notebook as last saved: cell ids, order and sources (to judge the executed cells).

The kernel does not see the notebook document; the Jupyter server tells it the file's path
(``JPY_SESSION_NAME``). Reading that file says where each executed cell sits now, whether its
code changed since it ran and whether it still exists. Unsaved edits are not seen: the
judgement is against the notebook as last saved. The file is read again only when it changed
(size and modification time).
"""

from __future__ import annotations

import functools
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
"""Larger files (mostly outputs) are not read: the order then comes from the cell log."""


@dataclass(frozen=True)
class NotebookCell:
    """A code cell of the saved notebook: its position among all cells, id and source."""

    index: int
    cell_id: str | None
    source: str


@dataclass(frozen=True)
class NotebookDocument:
    """The code cells of a saved notebook, by id and by source."""

    path: str
    cells: tuple[NotebookCell, ...]
    by_id: dict[str, NotebookCell] = field(default_factory=dict, repr=False)
    by_source: dict[str, list[NotebookCell]] = field(default_factory=dict, repr=False)

    def find(self, cell_id: str | None, source: str) -> NotebookCell | None:
        """The cell with this id (frontends send ids), else the first one with this source."""
        if cell_id is not None and cell_id in self.by_id:
            return self.by_id[cell_id]
        same = self.by_source.get(normalize(source))
        return same[0] if same else None

    def closest(self, source: str, cutoff: float = 0.6) -> NotebookCell | None:
        """The cell whose code is most like ``source`` (an edited cell, when the frontend sends
        no cell ids), if it is at least ``cutoff`` similar."""
        import difflib

        wanted = normalize(source)
        best, best_ratio = None, cutoff
        for cell in self.cells:
            matcher = difflib.SequenceMatcher(None, wanted, normalize(cell.source), autojunk=False)
            if matcher.real_quick_ratio() < best_ratio or matcher.quick_ratio() < best_ratio:
                continue
            ratio = matcher.ratio()
            if ratio >= best_ratio:
                best, best_ratio = cell, ratio
        return best

    def has_id(self, cell_id: str | None) -> bool:
        return cell_id is not None and cell_id in self.by_id

    @property
    def has_ids(self) -> bool:
        return bool(self.by_id)


@functools.lru_cache(maxsize=4096)
def normalize(source: str) -> str:
    """Sources compare without trailing whitespace (frontends strip or add a final newline).

    Cached: every tracked cell compares the sources of every cell executed before it."""
    return "\n".join(line.rstrip() for line in source.strip("\n").splitlines())


_cache: dict[str, tuple[tuple[int, int], NotebookDocument | None]] = {}
_lock = threading.Lock()


def notebook_file(path: str | None) -> Path | None:
    """The notebook file the kernel runs, when it can be found on disk."""
    if not path:
        return None
    candidate = Path(path).expanduser()
    if not candidate.is_absolute():
        candidate = Path.cwd() / candidate
        if not candidate.is_file():  # an API path relative to the server root
            candidate = Path.cwd() / Path(path).name
    return candidate if candidate.is_file() else None


def read_notebook(path: str | os.PathLike[str] | None) -> NotebookDocument | None:
    """The saved notebook at ``path`` (None when missing, unreadable or not a notebook)."""
    file = notebook_file(os.fspath(path) if path is not None else None)
    if file is None:
        return None
    try:
        stat = file.stat()
    except OSError:
        return None
    key = str(file)
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with _lock:
        document = _parse(file) if stat.st_size <= MAX_NOTEBOOK_BYTES else None
        _cache[key] = (stamp, document)
    return document


def _parse(file: Path) -> NotebookDocument | None:
    try:
        with file.open("rb") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    raw_cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(raw_cells, list):
        return None
    cells = []
    by_id: dict[str, NotebookCell] = {}
    by_source: dict[str, list[NotebookCell]] = {}
    for index, raw in enumerate(raw_cells):
        if not isinstance(raw, dict) or raw.get("cell_type") != "code":
            continue
        source = raw.get("source", "")
        if isinstance(source, list):
            source = "".join(str(s) for s in source)
        cell_id = raw.get("id") if isinstance(raw.get("id"), str) else None
        cell = NotebookCell(index, cell_id, str(source))
        cells.append(cell)
        if cell_id is not None:
            by_id[cell_id] = cell
        by_source.setdefault(normalize(cell.source), []).append(cell)
    return NotebookDocument(str(file), tuple(cells), by_id, by_source)


def clear_cache() -> None:
    """Forget the notebooks read so far (tests)."""
    _cache.clear()
