"""Browser tests: a real ``jupyter lab`` driven by pytest-playwright in Debian's Chromium.

Fixtures for every browser test in this folder (sidebar, widgets, ...):

``lab_server`` (session)
    Starts ``python -m jupyterlab`` on a free loopback port with its own token, root folder,
    user-settings folder (the news toast switched off) and a temporary store named by
    ``JUPYTER_TRACK_DB``, which the kernels it starts inherit. It yields a :class:`LabServer`
    with ``url`` (``http://127.0.0.1:PORT/``), ``token``, ``root_dir``, ``db_path``,
    ``settings_dir`` and small helpers (``lab_url``, ``api``, ``write_settings``,
    ``shutdown_sessions``, ``store``); see ``jt_lab.py``, which benchmarks reuse.

``lab_page``
    A Playwright page with JupyterLab loaded (``/lab?reset``) and the splash screen gone.

``browser_type_launch_args`` (session)
    Debian's ``chromium`` (``playwright install`` cannot download a browser here).

pytest-jupyter's autouse loop fixtures (loaded by the root ``conftest.py``) are overridden with
no-ops here: their event loop clashes with Playwright's sync API ("Cannot close a running event
loop").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jt_lab import CHROMIUM_ARGS, LabServer, chromium_path, start_lab

__all__ = ["LabServer"]

ARTIFACTS = Path(__file__).parent / "artifacts"


# ----------------------------------------------------------------------- pytest-jupyter overrides


@pytest.fixture(autouse=True)
def jp_asyncio_loop() -> Iterator[None]:
    """No pytest-jupyter event loop in browser tests (it breaks Playwright's sync API)."""
    yield None


@pytest.fixture(autouse=True)
def jp_server_cleanup() -> Iterator[None]:
    yield


# --------------------------------------------------------------------------------- the browser


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    chromium = chromium_path()
    if chromium is None:
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    return {**browser_type_launch_args, "executable_path": chromium, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # Fixed size, time zone and locale: screenshots and times in the tables are reproducible.
    return {
        **browser_context_args,
        "viewport": {"width": 1400, "height": 900},
        "timezone_id": "UTC",
        "locale": "en-US",
    }


# ----------------------------------------------------------------------------- the lab server


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """One ``jupyter lab`` for the whole session, with a fresh store."""
    server = start_lab(tmp_path_factory.mktemp("lab"))
    try:
        yield server
    finally:
        server.stop()


# ----------------------------------------------------------------------------------- the page


@pytest.fixture
def lab_page(lab_server: LabServer, page: Any) -> Iterator[Any]:
    """JupyterLab loaded in a fresh page; sessions are shut down afterwards."""
    page.goto(lab_server.lab_url(reset=""))
    page.locator("#jupyterlab-splash").wait_for(state="detached", timeout=60_000)
    page.locator(".jp-LabShell").wait_for(timeout=60_000)
    yield page
    lab_server.shutdown_sessions()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Screenshots and other outputs worth keeping (gitignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
