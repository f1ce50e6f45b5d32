"""Artifact listing and download through a real Jupyter server: confined to the artifact root."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from jupyter_track.store import SQLiteStore

API = ("jupyter-track", "api")
SECRET = b"top secret: outside the artifact root"


@pytest.fixture
def run_with_files(store: SQLiteStore, tmp_path: Path) -> str:
    run_id = store.create_run("0", run_name="files").run_id
    store.write_artifact_bytes(run_id, "plots/curve.png", b"\x89PNG\r\n\x1a\nfake")
    store.write_artifact_bytes(run_id, "report.html", b"<script>alert(document.cookie)</script>")
    store.write_artifact_bytes(run_id, "data/table.csv", b"a,b\n1,2\n")
    store.write_artifact_bytes(run_id, "big.bin", os.urandom(3 * (1 << 20) + 17))
    # things a path must never reach
    (tmp_path / "secret.txt").write_bytes(SECRET)
    (store.artifact_root / "secret.txt").write_bytes(SECRET)
    other = store.create_run("0").run_id
    store.write_artifact_bytes(other, "private.txt", SECRET)
    return run_id


async def fetch(jp_fetch: Any, *path: str, **params: str) -> Any:
    return await jp_fetch(*API, *path, params=params, raise_error=False)


async def test_listing_folders_first(jp_fetch: Any, run_with_files: str) -> None:
    response = await fetch(jp_fetch, "runs", run_with_files, "artifacts")
    body = json.loads(response.body)
    assert response.code == 200
    assert [(i["path"], i["is_dir"]) for i in body["items"]] == [
        ("data", True),
        ("plots", True),
        ("big.bin", False),
        ("report.html", False),
    ]
    response = await fetch(jp_fetch, "runs", run_with_files, "artifacts", path="plots")
    assert [i["path"] for i in json.loads(response.body)["items"]] == ["plots/curve.png"]


async def test_image_is_inline_with_its_type(jp_fetch: Any, run_with_files: str) -> None:
    response = await fetch(
        jp_fetch, "runs", run_with_files, "artifacts", "file", path="plots/curve.png"
    )
    assert response.code == 200
    assert response.body == b"\x89PNG\r\n\x1a\nfake"
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    forced = await fetch(
        jp_fetch, "runs", run_with_files, "artifacts", "file", path="plots/curve.png", download="1"
    )
    assert forced.headers["Content-Disposition"].startswith("attachment;")


async def test_html_is_an_attachment_in_a_sandbox(jp_fetch: Any, run_with_files: str) -> None:
    response = await fetch(
        jp_fetch, "runs", run_with_files, "artifacts", "file", path="report.html"
    )
    assert response.code == 200
    assert response.headers["Content-Disposition"] == "attachment; filename*=UTF-8''report.html"
    assert "sandbox" in response.headers["Content-Security-Policy"]


async def test_large_file_streams_whole(
    jp_fetch: Any, run_with_files: str, store: SQLiteStore
) -> None:
    response = await fetch(jp_fetch, "runs", run_with_files, "artifacts", "file", path="big.bin")
    assert response.code == 200
    expected = store.artifact_file(run_with_files, "big.bin").read_bytes()
    assert response.body == expected
    assert int(response.headers["Content-Length"]) == len(expected)


@pytest.mark.parametrize(
    "path",
    [
        "../secret.txt",
        "../../secret.txt",
        "plots/../../secret.txt",
        "..\\..\\secret.txt",
        "/etc/passwd",
        "C:/Windows/win.ini",
    ],
)
async def test_traversal_and_absolute_paths_are_400(
    jp_fetch: Any, run_with_files: str, path: str
) -> None:
    for route in (("artifacts", "file"), ("artifacts",)):
        response = await fetch(jp_fetch, "runs", run_with_files, *route, path=path)
        assert response.code == 400, (route, path, response.code)
        body = json.loads(response.body)
        assert body["status"] == 400 and body["error"] == "invalid_input"
        assert SECRET not in response.body


async def test_other_runs_files_are_out_of_reach(
    jp_fetch: Any, run_with_files: str, store: SQLiteStore
) -> None:
    ids = [r.info.run_id for r in store.search_runs().runs]
    other = next(i for i in ids if i != run_with_files)
    response = await fetch(
        jp_fetch, "runs", run_with_files, "artifacts", "file", path=f"../../{other}/private.txt"
    )
    assert response.code == 400
    assert SECRET not in response.body


async def test_symlink_leading_outside_is_refused(
    jp_fetch: Any, run_with_files: str, store: SQLiteStore, tmp_path: Path
) -> None:
    folder = store.artifact_dir(run_with_files)
    (folder / "link.txt").symlink_to(tmp_path / "secret.txt")
    (folder / "linkdir").symlink_to(tmp_path)
    for path in ("link.txt", "linkdir/secret.txt"):
        response = await fetch(jp_fetch, "runs", run_with_files, "artifacts", "file", path=path)
        assert response.code in (400, 404), (path, response.code)
        assert SECRET not in response.body


@pytest.mark.parametrize(
    ("path", "code"),
    [("missing.txt", 404), ("plots", 404), ("", 400)],
)
async def test_missing_folder_or_empty_path(
    jp_fetch: Any, run_with_files: str, path: str, code: int
) -> None:
    response = await fetch(jp_fetch, "runs", run_with_files, "artifacts", "file", path=path)
    assert response.code == code
    assert json.loads(response.body)["status"] == code


async def test_unknown_run_is_404(jp_fetch: Any) -> None:
    response = await fetch(jp_fetch, "runs", "abc123", "artifacts", "file", path="x.txt")
    assert response.code == 404
    response = await fetch(jp_fetch, "runs", "abc123", "artifacts")
    assert response.code == 404
