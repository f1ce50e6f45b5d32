"""Root pytest configuration: pytest-jupyter's server fixtures for every test folder, and the
session's one real JupyterHub (``hub``) for the hub tests of ``tests/`` and ``ui-tests/``.

``pytest_plugins`` may only be declared here (the root conftest).
"""

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest_plugins = ["pytest_jupyter.jupyter_server"]

sys.path.insert(0, str(Path(__file__).parent / "tests"))  # hubtools, for tests/ and ui-tests/


@pytest.fixture(scope="session")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One real JupyterHub with the team service, shared by every hub test of the session
    (``tests/`` and ``ui-tests/``); see ``tests/hubtools.py``."""
    import hubtools

    if hubtools.proxy_command() is None:
        pytest.skip("configurable-http-proxy is not installed (bash .ci/run installs it)")
    server = hubtools.start_hub(tmp_path_factory.mktemp("hub"))
    try:
        yield server
    finally:
        server.stop()
