"""Run a notebook's code cells in a fresh kernel the way JupyterLab does, to seed the store.

Like JupyterLab (and unlike nbconvert/nbclient), every execute request carries the cell's id in
its metadata (``cellId``) and the kernel gets ``JPY_SESSION_NAME`` = the notebook's path, so the
runs it makes know their notebook and cell and the Track panel's "Go to cell" finds them.

    python binder/seed_demo.py examples/demo.ipynb
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
from jupyter_client.manager import start_new_kernel


def run_notebook(path: Path, timeout: float = 900) -> int:
    nb = nbformat.read(path, as_version=4)
    env = {**os.environ, "JPY_SESSION_NAME": str(path.absolute())}
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(path.parent), env=env)
    try:
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            content = {
                "code": cell.source,
                "silent": False,
                "store_history": True,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            }
            msg = kc.session.msg("execute_request", content, metadata={"cellId": cell.get("id")})
            kc.shell_channel.send(msg)
            while True:
                reply = kc.get_shell_msg(timeout=timeout)
                if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                    break
            if reply["content"]["status"] != "ok":
                error = reply["content"]
                print(f"cell {index} failed: {error.get('ename')}: {error.get('evalue')}")
                return 1
            print(f"cell {index} ok")
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return 0


if __name__ == "__main__":
    sys.exit(run_notebook(Path(sys.argv[1] if len(sys.argv) > 1 else "examples/demo.ipynb")))
