#!/usr/bin/env bash
# Install jupyter-track into .venv and open JupyterLab on a copy of the demo notebook, with the
# extension and the embedded SQLite store (no server to start, nothing else to configure).
#
#   bash scripts/demo.sh [JUPYTER LAB OPTIONS...]
#
# - The notebook is copied to $JT_DEMO_DIR (default ~/jupyter-track-demo) and JupyterLab runs
#   there: the checkout stays clean (outputs and runs never touch examples/demo.ipynb).
# - The store is seeded by running the notebook once in a kernel (as Binder does), so the Track
#   panel has runs, charts and a registered model with champion/challenger aliases at once;
#   Run All in the notebook adds more and shows the widgets.
# - JupyterLab opens on the notebook, not the Launcher: the URL it prints (to open by hand when
#   no browser starts) is the notebook's. Its news and update prompts are switched off.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
DEMO_DIR="${JT_DEMO_DIR:-$HOME/jupyter-track-demo}"
VENV="${JT_DEMO_VENV:-$REPO/.venv}"

if [ ! -x "$VENV/bin/jupyter-track" ]; then
  python3 -m venv "$VENV"
  # shellcheck disable=SC1091
  . "$VENV/bin/activate"
  python -m pip install -q -U pip
  python -m pip install -q -e "$REPO[demo]"
else
  # shellcheck disable=SC1091
  . "$VENV/bin/activate"
fi

mkdir -p "$DEMO_DIR"
if [ ! -e "$DEMO_DIR/demo.ipynb" ]; then
  cp "$REPO/examples/demo.ipynb" "$DEMO_DIR/demo.ipynb"
fi

# JupyterLab settings for the demo only: no "official Jupyter news" or update prompt.
SETTINGS="$DEMO_DIR/.lab-settings"
mkdir -p "$SETTINGS/@jupyterlab/apputils-extension"
echo '{"fetchNews": "false", "checkForUpdates": false}' \
  > "$SETTINGS/@jupyterlab/apputils-extension/notification.jupyterlab-settings"

# Short runs get system metrics too (the default samples every 10 s).
export JUPYTER_TRACK_SYSTEM_METRICS_INTERVAL="${JUPYTER_TRACK_SYSTEM_METRICS_INTERVAL:-1}"
echo "Store: $(jupyter-track db-path)"
if ! jupyter-track runs -e breast-cancer -n 1 >/dev/null 2>&1; then
  echo "Seeding the store: running $DEMO_DIR/demo.ipynb once (about a minute)..."
  (cd "$DEMO_DIR" && python "$REPO/binder/seed_demo.py" demo.ipynb) \
    || echo "seeding failed; the notebook still opens (Run All records the runs)"
fi

ROOT_FLAG=()
[ "$(id -u)" -eq 0 ] && ROOT_FLAG=(--allow-root)
cd "$DEMO_DIR"
exec jupyter lab "${ROOT_FLAG[@]}" \
  --ServerApp.root_dir="$DEMO_DIR" \
  --LabApp.default_url=/lab/tree/demo.ipynb \
  --LabApp.user_settings_dir="$SETTINGS" \
  --LabApp.news_url=None \
  --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate \
  "$@"
