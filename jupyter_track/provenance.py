"""Where a run comes from: user, host, Python environment, git state, notebook and cell.

Everything slow is cached per kernel: the package list once (and again only when a
site-packages folder changes), the git state for a few seconds. Capturing provenance for a new
run then costs microseconds.
"""

from __future__ import annotations

import os
import platform
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .gitrefs import read_refs

if TYPE_CHECKING:
    import ast
    import hashlib
else:  # data fingerprints only: not on a run's path
    from .lazy import lazy_module

    hashlib = lazy_module(globals(), "hashlib", "hashlib")

try:  # CPython's own SHA-256 (the same digest as hashlib's): no OpenSSL load for the first run
    from _sha256 import sha256 as _sha256
except ImportError:  # pragma: no cover - other Pythons (3.12+ name it _sha2)
    try:
        from _sha2 import sha256 as _sha256  # type: ignore[no-redef]
    except ImportError:
        from hashlib import sha256 as _sha256  # type: ignore[no-redef]

GIT_TTL_SECONDS = 5.0
GIT_TIMEOUT_SECONDS = 3.0


@dataclass(frozen=True)
class Environment:
    """The Python environment: stored once per distinct ``hash``."""

    hash: str
    python: str
    platform: str
    packages: dict[str, str] = field(repr=False)


@dataclass(frozen=True)
class GitState:
    commit: str | None
    branch: str | None
    dirty: bool
    root: str
    diff: str = field(default="", repr=False)
    remote: str | None = None


def current_user() -> tuple[str, bool]:
    """(user name, verified). In a kernel nothing is verified: the hub user or the OS user."""
    hub_user = os.environ.get("JUPYTERHUB_USER")
    if hub_user:
        return hub_user, False
    global _os_user
    if _os_user is None:  # the password database is read once per process
        try:
            _os_user = _login_name()
        except Exception:
            _os_user = "unknown"
    return _os_user, False


_os_user: str | None = None


def _login_name() -> str:
    """``getpass.getuser()`` (the same environment variables, then the password database),
    without importing ``getpass`` and the terminal modules it brings."""
    for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
        user = os.environ.get(name)
        if user:
            return user
    import pwd

    return pwd.getpwuid(os.getuid())[0]


_hostname: str | None = None


def hostname() -> str:
    global _hostname
    if _hostname is None:
        if hasattr(os, "uname"):  # what gethostname() answers on POSIX, without the socket module
            _hostname = os.uname().nodename
        else:
            import socket

            _hostname = socket.gethostname()
    return _hostname


def notebook_path() -> str | None:
    """The notebook this kernel runs, as the Jupyter server names it (``JPY_SESSION_NAME``).

    VS Code sets ``__vsc_ipynb_file__`` in the user namespace instead.
    """
    path = os.environ.get("JPY_SESSION_NAME")
    if path:
        return path
    main = sys.modules.get("__main__")
    vsc = getattr(main, "__vsc_ipynb_file__", None)
    return str(vsc) if vsc else None


# ------------------------------------------------------------------------------ environment

_env_lock = threading.Lock()
_env_cache: tuple[tuple[float, ...], Environment] | None = None


def _site_dirs_signature() -> tuple[float, ...]:
    stamps = []
    for entry in sys.path:
        if entry.endswith(("site-packages", "dist-packages")):
            try:
                stamps.append(os.stat(entry).st_mtime)
            except OSError:
                continue
    return tuple(stamps)


_SEPARATORS = str.maketrans("_.", "--")


def _normalize(name: str) -> str:
    """PEP 503 project name normalization (``Foo_Bar.baz`` -> ``foo-bar-baz``): runs of ``-``,
    ``_`` and ``.`` become one ``-`` (string methods: a few hundred names per first run)."""
    name = name.translate(_SEPARATORS).lower()
    while "--" in name:
        name = name.replace("--", "-")
    return name


def installed_packages() -> dict[str, str]:
    """``{normalized name: version}`` of the distributions on ``sys.path`` (first one wins).

    Reads the ``name-version.dist-info`` / ``.egg-info`` folder names, as pip writes them,
    instead of parsing every METADATA file (about 1 ms instead of about 100 ms for 150
    packages); only entries whose folder name carries no version have their metadata read.
    """
    packages: dict[str, str] = {}
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:  # a zip file, a missing folder
            continue
        for name in names:
            if name.endswith(".dist-info"):
                stem = name[: -len(".dist-info")]
            elif name.endswith(".egg-info"):
                stem = name[: -len(".egg-info")]
            else:
                continue
            project, _, rest = stem.partition("-")
            version = rest.split("-", 1)[0]
            if not project or not version:
                found = _read_metadata(os.path.join(entry or ".", name))
                if found is None:
                    continue
                project, version = found
            packages.setdefault(_normalize(project), version)
    return packages


def _read_metadata(path: str) -> tuple[str, str] | None:
    from importlib import metadata

    try:
        dist = metadata.PathDistribution(Path(path))
        name = dist.metadata["Name"] if dist.metadata else None
        version = dist.version
    except Exception:
        return None
    return (name, version) if name and version else None


def platform_string() -> str:
    """``platform.platform()`` without its ``uname -p`` subprocess on Linux.

    On Linux ``platform.platform()`` runs ``uname -p`` (a fork and exec: milliseconds, tens of
    them on a busy machine) for the processor, then leaves it out when it says ``unknown`` (GNU
    coreutils on Debian/Ubuntu) or repeats the machine (Fedora's patched ``uname``). This builds
    the same ``Linux-<release>-<machine>-with-<libc>`` string from ``os.uname()`` and
    ``platform.libc_ver()`` (which asks ``confstr``, no file read). Elsewhere: the standard call.
    """
    if not sys.platform.startswith("linux"):
        return platform.platform()
    uname = os.uname()
    libc, version = platform.libc_ver()
    text = "-".join(
        part.strip()
        for part in (uname.sysname, uname.release, uname.machine, "with", libc + version)
        if part
    )
    for char in ' /\\:;"()':
        text = text.replace(char, "_" if char == " " else "-")
    text = text.replace("unknown", "")
    while "--" in text:
        text = text.replace("--", "-")
    return text.rstrip("-")


ENV_RECHECK_SECONDS = 1.0
"""How long a checked environment is trusted before the site folders are stat'ed again."""
_env_checked_at = -1e9


def environment() -> Environment:
    """The installed distributions with versions, hashed; recomputed after ``pip install``.

    The site folders' modification times say whether anything was installed; they are looked
    at again at most every :data:`ENV_RECHECK_SECONDS` (a run started within a second of a
    ``pip install`` finishing may still record the environment from before it).
    """
    global _env_cache, _env_checked_at
    cached = _env_cache
    now = time.monotonic()
    if cached is not None and now - _env_checked_at < ENV_RECHECK_SECONDS:
        return cached[1]
    signature = _site_dirs_signature()
    if cached is not None and cached[0] == signature:
        _env_checked_at = now
        return cached[1]
    with _env_lock:
        if _env_cache is not None and _env_cache[0] == signature:
            return _env_cache[1]
        packages = installed_packages()
        python = platform.python_version()
        plat = platform_string()
        digest = _sha256()
        digest.update(f"{python}\n{plat}\n".encode())
        for name in sorted(packages):
            digest.update(f"{name}=={packages[name]}\n".encode())
        env = Environment(digest.hexdigest()[:16], python, plat, dict(sorted(packages.items())))
        _env_cache = (signature, env)
        _env_checked_at = now
        return env


# -------------------------------------------------------------------------------------- git

_git_cache: dict[str, tuple[float, GitState | None]] = {}
_git_lock = threading.Lock()


def _git(args: list[str], cwd: str) -> str | None:
    import subprocess

    try:
        out = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout if out.returncode == 0 else None


def _find_repo_root(start: Path) -> Path | None:
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return None


_root_cache: dict[str, tuple[float, Path | None]] = {}


def git_state(cwd: str | os.PathLike[str] | None = None) -> GitState | None:
    """Commit, branch, dirty flag and diff of the repository holding ``cwd`` (None if none)."""
    where = os.fspath(cwd) if cwd else os.getcwd()
    now = time.monotonic()
    found = _root_cache.get(where)
    if found is not None and now - found[0] < GIT_TTL_SECONDS:
        root = found[1]
    else:  # looking for .git up the folders costs a stat per level: cached like the state
        root = _find_repo_root(Path(where).absolute())
        _root_cache[where] = (now, root)
    if root is None:
        return None
    key = str(root)
    cached = _git_cache.get(key)
    if cached is not None and now - cached[0] < GIT_TTL_SECONDS:
        return cached[1]
    with _git_lock:
        cached = _git_cache.get(key)
        if cached is not None and now - cached[0] < GIT_TTL_SECONDS:
            return cached[1]
        refs = read_refs(root)  # from the files: three git processes fewer
        if refs is not None:
            commit, branch, remote = refs
        else:
            commit = (_git(["rev-parse", "HEAD"], key) or "").strip() or None
            branch = (_git(["rev-parse", "--abbrev-ref", "HEAD"], key) or "").strip() or None
            remote = (_git(["config", "--get", "remote.origin.url"], key) or "").strip() or None
        status = _git(["status", "--porcelain", "--untracked-files=no"], key)
        dirty = bool(status and status.strip())
        diff = (_git(["diff", "HEAD"], key) or "") if dirty and commit else ""
        state = GitState(commit, branch, dirty, key, diff, remote)
        _git_cache[key] = (time.monotonic(), state)
        return state


def clear_caches() -> None:
    """Forget cached git and environment state (tests; after switching branches)."""
    global _env_cache
    _env_cache = None
    _git_cache.clear()
    _root_cache.clear()


def system_tags(git: GitState | None, env: Environment) -> dict[str, str]:
    """Tags every new run gets: who, where, which Python, which commit."""
    user, verified = current_user()
    tags = {
        "jt.user": user,
        "jt.user.verified": "true" if verified else "false",
        "jt.host": hostname(),
        "jt.python": env.python,
        "jt.platform": env.platform,
        "jt.environment": env.hash,
        "mlflow.user": user,
    }
    if git is not None:
        tags["jt.git.root"] = git.root
        tags["jt.git.dirty"] = "true" if git.dirty else "false"
        if git.commit:
            tags["jt.git.commit"] = git.commit
            tags["mlflow.source.git.commit"] = git.commit
        if git.branch:
            tags["jt.git.branch"] = git.branch
        if git.remote:
            tags["jt.git.remote"] = git.remote
    notebook = notebook_path()
    if notebook:
        tags["jt.notebook"] = notebook
        tags["mlflow.source.name"] = notebook
        tags["mlflow.source.type"] = "NOTEBOOK"
    else:  # MLflow's: the script, else what the interpreter was started with ("-c", ...)
        tags["mlflow.source.name"] = script_path() or (sys.argv[0] if sys.argv else "") or "-"
        tags["mlflow.source.type"] = "LOCAL"
    reproduced_from = os.environ.get("JUPYTER_TRACK_REPRODUCED_FROM")
    if reproduced_from:  # set by a reproduction notebook (jupyter_track.lineage.reproduce)
        tags["jt.reproduced_from"] = reproduced_from
    return tags


def script_path() -> str | None:
    """The Python script this process runs (``python train.py``), None in a kernel or shell."""
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if not path or ("IPython" in sys.modules and _in_ipython()):
        return None
    name = os.path.basename(path)
    if name.startswith(("ipykernel_launcher", "pytest", "__main__")) or not name.endswith(".py"):
        return None
    return os.path.abspath(path)


def _in_ipython() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


# ----------------------------------------------------------------------------- datasets

FULL_HASH_LIMIT = 64 * 1024 * 1024
SAMPLE_BYTES = 1024 * 1024
MAX_FOLDER_FILES = 10_000


@dataclass(frozen=True)
class DatasetFingerprint:
    """What identifies the data a run read: a digest plus a description of its shape."""

    name: str
    kind: str  # file, folder, dataframe, polars, huggingface, array, url
    digest: str
    source: str | None = None
    rows: int | None = None
    size: int | None = None
    schema: dict[str, str] = field(default_factory=dict)
    sampled: bool = False  # True when a large file was hashed from samples, not in full


_digest_cache: dict[tuple[str, int, int], tuple[str, bool]] = {}


def _file_digest(path: Path) -> tuple[str, bool]:
    stat = path.stat()
    key = (str(path.absolute()), stat.st_size, stat.st_mtime_ns)
    cached = _digest_cache.get(key)
    if cached is None:
        cached = _digest_cache[key] = _compute_file_digest(path, stat.st_size)
    return cached


def _compute_file_digest(path: Path, size: int) -> tuple[str, bool]:
    digest = hashlib.sha256()
    if size <= FULL_HASH_LIMIT:
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        return digest.hexdigest(), False
    # large file: size + head + middle + tail (documented as a sampled digest)
    digest.update(str(size).encode())
    with path.open("rb") as fh:
        for offset in (0, size // 2, max(0, size - SAMPLE_BYTES)):
            fh.seek(offset)
            digest.update(fh.read(SAMPLE_BYTES))
    return digest.hexdigest(), True


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def _url_fingerprint(url: str, name: str | None) -> DatasetFingerprint:
    """A URL is recorded, never fetched: its digest is the SHA-256 of the URL text."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    label = name or (parts.path.rstrip("/").rsplit("/", 1)[-1] or parts.netloc or "url")
    return DatasetFingerprint(label, "url", hashlib.sha256(url.encode()).hexdigest(), url)


def _polars_fingerprint(frame: object, name: str | None) -> DatasetFingerprint:
    """polars hashes the rows itself (``hash_rows``, fixed seeds): no copy of the data."""
    if not hasattr(frame, "hash_rows"):  # a LazyFrame: nothing to hash until it is collected
        raise ValueError("dataset: a polars LazyFrame has no rows yet; log_input(frame.collect())")
    hashed = frame.hash_rows(seed=0)  # type: ignore[attr-defined]
    digest = hashlib.sha256(hashed.to_numpy().tobytes())
    schema = {str(k): str(v) for k, v in frame.schema.items()}  # type: ignore[attr-defined]
    digest.update(repr(sorted(schema.items())).encode())
    return DatasetFingerprint(
        name or "dataframe",
        "polars",
        digest.hexdigest(),
        rows=int(frame.height),  # type: ignore[attr-defined]
        schema=schema,
    )


def _hf_fingerprint(dataset: object, name: str | None) -> DatasetFingerprint:
    """A Hugging Face ``datasets.Dataset`` carries its own fingerprint (of its source files and
    every transform applied): used as is, nothing is read or copied."""
    fingerprint_ = getattr(dataset, "_fingerprint", None)
    if not fingerprint_:
        raise ValueError("dataset: this Hugging Face dataset has no fingerprint")
    info = getattr(dataset, "info", None)
    label = name or getattr(info, "dataset_name", None) or "dataset"
    files = getattr(dataset, "cache_files", None) or []
    source = files[0].get("filename") if files and isinstance(files[0], dict) else None
    features = getattr(dataset, "features", None) or {}
    schema = {str(k): str(v) for k, v in dict(features).items()}
    split = getattr(dataset, "split", None)
    if split is not None:
        schema["split"] = str(split)
    return DatasetFingerprint(
        str(label),
        "huggingface",
        str(fingerprint_),
        source,
        rows=int(getattr(dataset, "num_rows", 0) or 0),
        schema=schema,
    )


def fingerprint(data: object, name: str | None = None) -> DatasetFingerprint:
    """Fingerprint a file or folder path, a URL (recorded, not fetched), a pandas or polars
    DataFrame, a Hugging Face ``datasets.Dataset`` or a numpy array."""
    if isinstance(data, str) and _URL.match(data):
        if not data.lower().startswith("file://"):
            return _url_fingerprint(data, name)
        data = data[len("file://") :]
    if isinstance(data, (str, os.PathLike)):
        path = Path(data).expanduser()
        label = name or path.name
        if path.is_file():
            digest, sampled = _file_digest(path)
            return DatasetFingerprint(
                label,
                "file",
                digest,
                str(path.absolute()),
                size=path.stat().st_size,
                sampled=sampled,
            )
        if path.is_dir():
            digest = hashlib.sha256()
            total, sampled_any = 0, False
            files = sorted(p for p in path.rglob("*") if p.is_file())[:MAX_FOLDER_FILES]
            for file in files:
                file_digest, sampled = _file_digest(file)
                sampled_any |= sampled
                total += file.stat().st_size
                digest.update(f"{file.relative_to(path).as_posix()}\0{file_digest}\n".encode())
            return DatasetFingerprint(
                label,
                "folder",
                digest.hexdigest(),
                str(path.absolute()),
                rows=len(files),
                size=total,
                sampled=sampled_any,
            )
        raise ValueError(f"dataset {str(data)!r}: no such file or folder")
    module = type(data).__module__
    if module.startswith("pandas") and hasattr(data, "columns"):
        import pandas as pd

        frame = data
        hashed = pd.util.hash_pandas_object(frame, index=True).to_numpy()  # type: ignore[arg-type]
        digest = hashlib.sha256(hashed.tobytes())
        digest.update(",".join(map(str, frame.columns)).encode())  # type: ignore[attr-defined]
        schema = {str(c): str(t) for c, t in frame.dtypes.items()}  # type: ignore[attr-defined]
        return DatasetFingerprint(
            name or "dataframe", "dataframe", digest.hexdigest(), rows=len(frame), schema=schema
        )  # type: ignore[arg-type]
    if module.startswith("polars"):
        return _polars_fingerprint(data, name)
    if module.startswith("datasets"):
        if type(data).__name__ in ("DatasetDict", "IterableDatasetDict"):
            raise ValueError("dataset: a DatasetDict holds several splits; log one (ds['train'])")
        if not hasattr(data, "_fingerprint"):
            raise ValueError(
                f"dataset: a {type(data).__name__} (streaming) has no fingerprint to record"
            )
        return _hf_fingerprint(data, name)
    if module.startswith("numpy") and hasattr(data, "tobytes"):
        import numpy as np

        array = np.ascontiguousarray(data)
        digest = hashlib.sha256(array.tobytes())
        digest.update(f"{array.shape}{array.dtype}".encode())
        return DatasetFingerprint(
            name or "array",
            "array",
            digest.hexdigest(),
            rows=int(array.shape[0]) if array.ndim else 1,
            size=int(array.nbytes),
            schema={"shape": str(array.shape), "dtype": str(array.dtype)},
        )
    raise ValueError(
        "dataset: expected a path, a URL, a pandas or polars DataFrame, a Hugging Face "
        f"datasets.Dataset or a numpy array, got {type(data).__name__}"
    )


def referenced_files(source: str | ast.Module, limit: int = 20) -> list[str]:
    """String literals in ``source`` (code or its parse tree) that name existing files
    (``pd.read_csv("data.csv")``)."""
    import ast

    if isinstance(source, ast.Module):
        tree = source
    else:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            return []
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value
            if 0 < len(text) < 512 and "\n" not in text and ("/" in text or "." in text):
                try:
                    if os.path.isfile(text) and text not in found:
                        found.append(text)
                except (OSError, ValueError):
                    continue
            if len(found) >= limit:
                break
    return found
