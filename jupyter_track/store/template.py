"""New SQLite stores start as a copy of an empty store shipped with the package.

Creating the schema statement by statement (61 tables and indexes) is most of what a new store
costs: about 3 ms of SQLite parsing and page writes, the same for every new file. The package
carries the result instead -- ``new-store.sqlite.gz`` (5 KB), an empty store at the current
schema version made by the migrations themselves (:func:`build` writes it;
``tests/store/test_template.py`` fails when it no longer matches them). A new file
is that copy, put in place atomically (written beside it, then linked: never over a file
another process created first).

Nothing depends on the copy being there: a template of another schema version, a filesystem
without hard links or any error leaves the file to be created and migrated as before, and the
migrations run on every open either way (a copy at the current version has nothing to do).
The copy is written without waiting for the disk (an ``fsync`` here costs 1-50 ms): SQLite's
first checkpoint of the new store syncs the database file, and with it the copy. Nothing here
may open the database file beside SQLite once it is in place: closing any descriptor of a file
drops every POSIX lock the process holds on it, SQLite's included (a reader in the same
process would then miss other processes' commits).
"""

from __future__ import annotations

import os
import sqlite3
import zlib
from pathlib import Path

from . import schema

TEMPLATE = Path(__file__).with_name("new-store.sqlite.gz")

_USER_VERSION = slice(60, 64)  # the file header's "user version", big-endian (PRAGMA user_version)


def template_bytes() -> bytes | None:
    """The shipped empty store, when it is at this code's schema version."""
    try:  # zlib reads the gzip format itself (wbits 31): no gzip module on this path
        data = zlib.decompress(TEMPLATE.read_bytes(), wbits=31)
    except (OSError, zlib.error):
        return None
    if len(data) < 100 or not data.startswith(b"SQLite format 3\x00"):
        return None
    if int.from_bytes(data[_USER_VERSION], "big") != schema.SCHEMA_VERSION:
        return None
    return data


def create_from_template(path: Path) -> bool:
    """Create the store file ``path`` as a copy of the template; False when it was not (the
    file exists already, no usable template, no hard links here): the caller creates it."""
    if path.exists():
        return False
    data = template_bytes()
    if data is None:
        return False
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.new")
    try:  # 0666 under the umask, as create_files makes the -wal and -shm files
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError:
        return False
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.close(fd)
        fd = -1
        os.link(temporary, path)  # fails if another process created the store first
    except OSError:
        return False
    finally:
        if fd >= 0:
            os.close(fd)
        temporary.unlink(missing_ok=True)
    return True


def build(target: Path = TEMPLATE) -> Path:
    """Write the template: a new store made by the migrations, checkpointed, compressed.

    ``python -c "from jupyter_track.store.template import build; build()"`` after adding a
    migration."""
    import gzip
    import tempfile

    from .db import migrate

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "new.db"
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
        migrate(conn)
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise RuntimeError("the new store fails SQLite's integrity check")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        conn.close()
        data = path.read_bytes()
    target.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    return target
