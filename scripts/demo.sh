#!/usr/bin/env bash
# Install jupyter-track into .venv and open JupyterLab on the demo notebook, with the extension
# and the embedded SQLite store (no server to start, nothing else to configure).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install -q -U pip
python -m pip install -q -e ".[demo]"
ROOT_FLAG=""
[ "$(id -u)" -eq 0 ] && ROOT_FLAG="--allow-root"
echo "Store: $(jupyter-track db-path)"
exec jupyter lab $ROOT_FLAG examples/demo.ipynb "$@"
