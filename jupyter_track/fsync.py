"""Asking the disk to keep a file or a folder's entries (``fsync``), best effort."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_path(path: Path, *, directory: bool = False) -> None:
    """``fsync`` the file (or, with ``directory``, the folder: its entries, such as a name just
    linked or renamed into it) at ``path``; a path that cannot be opened or synced is left
    alone (the operating system writes it back later anyway)."""
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
