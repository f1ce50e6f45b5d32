"""Make the README's screenshots of the Track panel: ``docs/images/sidebar-*.png``.

Runs the demo notebook (``examples/demo.ipynb``) in a fresh store the way JupyterLab does
(``binder/seed_demo.py``), starts a real ``jupyter lab`` on it and photographs the panel in
Debian's Chromium: the runs list with the notebook open (light), a comparison with learning
curves (light), and the runs list in the dark theme.

    python ui-tests/make_docs_screenshots.py [--out docs/images]

Not a test (pytest does not collect it); rerun it when the panel's look changes, then look at
the pictures before committing them.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from jt_lab import CHROMIUM_ARGS, chromium_path, start_lab  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import expect, sync_playwright

    with tempfile.TemporaryDirectory(prefix="jt-docs-") as tmp:
        base = Path(tmp)
        root = base / "root"
        root.mkdir()
        notebook = root / "demo.ipynb"
        shutil.copy(REPO / "examples" / "demo.ipynb", notebook)
        db = base / "store" / "track.db"
        db.parent.mkdir()
        env = {**os.environ, "JUPYTER_TRACK_DB": str(db)}
        subprocess.run(
            [sys.executable, str(REPO / "binder" / "seed_demo.py"), str(notebook)],
            env=env,
            check=True,
        )
        server = start_lab(base, db_path=db)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
                page = browser.new_page(
                    viewport={"width": 1440, "height": 900}, timezone_id="UTC", locale="en-US"
                )
                page.goto(server.lab_url("demo.ipynb", reset=""))
                page.locator(".jp-LabShell").wait_for()
                expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(
                    timeout=60_000
                )
                page.locator(
                    '.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="jupyter-track-sidebar"]'
                ).click()
                panel = page.locator("#jupyter-track-sidebar")
                handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
                box = handle.bounding_box()
                assert box is not None
                y = box["y"] + box["height"] / 2
                page.mouse.move(box["x"] + 2, y)
                page.mouse.down()
                page.mouse.move(760, y, steps=4)
                page.mouse.up()
                option = panel.locator("select.jp-Track-experiment option", has_text="breast")
                expect(option).to_have_count(1, timeout=60_000)
                panel.locator("select.jp-Track-experiment").select_option(
                    option.get_attribute("value")
                )
                expect(panel.locator(".jp-Track-row")).to_have_count(7, timeout=60_000)
                panel.locator('.jp-Track-headcell[data-column="metrics.roc_auc"]').click()
                # (clicking scrolled the header cell into view; show the table from the left)
                panel.locator(".jp-Track-table").evaluate("el => { el.scrollLeft = 0; }")
                page.mouse.move(1400, 880)
                page.wait_for_timeout(500)
                page.screenshot(path=str(args.out / "sidebar-runs.png"))

                for name in ("mlp-lr0.01", "mlp-lr0.003", "mlp-lr0.001", "mlp-lr0.0003"):
                    panel.locator(
                        ".jp-Track-row", has=page.locator(".jp-Track-link", has_text=name)
                    ).locator("input[type=checkbox]").check()
                panel.locator(".jp-Track-compare-button").click()
                compare = panel.locator(".jp-Track-compare")
                compare.get_by_label("Metric").select_option("val_accuracy")
                compare.get_by_label("Differences only").check()
                expect(
                    compare.locator('[data-chart="learning-curves"] .vega-embed svg')
                ).to_be_visible(timeout=60_000)
                expect(compare.locator(".jp-Track-importance")).to_be_visible(timeout=60_000)
                page.wait_for_timeout(800)
                page.screenshot(path=str(args.out / "sidebar-compare.png"))

                panel.locator(".jp-Track-tabbar .lm-TabBar-tab", has_text="Runs").click()
                page.locator(".lm-MenuBar-itemLabel", has_text="Settings").first.click()
                page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Theme$")).click()
                page.locator(
                    ".lm-Menu-itemLabel", has_text=re.compile(r"^JupyterLab Dark$")
                ).click()
                expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false")
                page.mouse.move(1400, 880)
                page.wait_for_timeout(800)
                page.screenshot(path=str(args.out / "sidebar-dark.png"))
                browser.close()
        finally:
            server.stop()
    for name in ("sidebar-runs.png", "sidebar-compare.png", "sidebar-dark.png"):
        print(args.out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
