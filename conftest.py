"""Root pytest configuration: pytest-jupyter's server fixtures for every test folder.

``pytest_plugins`` may only be declared here (the root conftest).
"""

pytest_plugins = ["pytest_jupyter.jupyter_server"]
