"""The fast package scan behind ``provenance.environment()`` agrees with importlib.metadata."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from jupyter_track import provenance


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_scan_matches_importlib_metadata() -> None:
    expected: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"] if dist.metadata else None
        if name:
            expected.setdefault(_normalize(name), dist.version)
    assert provenance.installed_packages() == expected


def test_folder_names_without_a_version_fall_back_to_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"
    (site / "Plain_Pkg-1.2.3.dist-info").mkdir(parents=True)
    (site / "Plain_Pkg-1.2.3.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: Plain_Pkg\nVersion: 1.2.3\n"
    )
    (site / "devpkg.egg-info").mkdir()  # `setup.py develop` style: no version in the name
    (site / "devpkg.egg-info" / "PKG-INFO").write_text(
        "Metadata-Version: 1.2\nName: devpkg\nVersion: 0.4.dev1\n"
    )
    (site / "broken.dist-info").mkdir()  # no metadata at all: skipped
    (site / "not_a_dist").mkdir()
    monkeypatch.setattr(sys, "path", [str(site), str(tmp_path / "missing")])
    assert provenance.installed_packages() == {"plain-pkg": "1.2.3", "devpkg": "0.4.dev1"}


def test_environment_hash_changes_with_the_package_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"
    (site / "a-1.0.dist-info").mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [str(site)])
    provenance.clear_caches()
    first = provenance.environment()
    assert first.packages == {"a": "1.0"}
    (site / "b-2.0.dist-info").mkdir()
    provenance.clear_caches()
    second = provenance.environment()
    assert second.packages == {"a": "1.0", "b": "2.0"} and second.hash != first.hash
    provenance.clear_caches()


def test_environment_is_rechecked_after_the_recheck_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site-packages"
    (site / "a-1.0.dist-info").mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [str(site)])
    provenance.clear_caches()
    first = provenance.environment()
    monkeypatch.setattr(provenance, "ENV_RECHECK_SECONDS", 3600.0)
    (site / "b-2.0.dist-info").mkdir()
    os.utime(site, (1, 1))  # a different modification time, whatever the clock's resolution
    assert provenance.environment() is first  # within the interval: trusted
    monkeypatch.setattr(provenance, "ENV_RECHECK_SECONDS", 0.0)
    assert provenance.environment().packages == {"a": "1.0", "b": "2.0"}
    provenance.clear_caches()


def test_repository_lookup_is_cached_per_folder_and_cleared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "lookup"
    folder.mkdir()
    provenance.clear_caches()
    assert provenance.git_state(folder) is None
    subprocess.run(["git", "init", "-q", str(folder)], check=True, capture_output=True)
    assert provenance.git_state(folder) is None  # cached for GIT_TTL_SECONDS
    provenance.clear_caches()
    state = provenance.git_state(folder)
    assert state is not None and state.root == str(folder)
    provenance.clear_caches()
