"""Make the README's screenshots of the Track panel: ``docs/images/panel-<view>-<theme>.png``.

Runs the demo notebook (``examples/demo.ipynb``) in a fresh store the way JupyterLab does
(``binder/seed_demo.py``), starts a real ``jupyter lab`` on it and photographs each view of the
panel -- runs, run, compare, models, traces -- at JupyterLab's default sidebar width, and the
runs table opened in the main area, in the light and the dark theme, in Debian's Chromium.

    python ui-tests/make_docs_screenshots.py [--out docs/images]

Not a test (pytest does not collect it); rerun it when the panel's look changes, then look at
the pictures before committing them.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from jt_lab import CHROMIUM_ARGS, chromium_path, start_lab  # noqa: E402

VIEWS = ("runs", "run", "compare", "models", "traces", "main-runs")
TAB = '.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="jupyter-track-sidebar"]'


def shoot_views(page: Any, server: Any, out: Path, theme: str, expect: Any) -> None:
    """The panel's four views at JupyterLab's default sidebar width, one picture each."""
    page.goto(server.lab_url("demo.ipynb", reset=""))
    page.locator(".jp-LabShell").wait_for()
    light = "true" if theme == "light" else "false"
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", light, timeout=60_000)
    expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=60_000)
    page.locator(TAB).click()
    panel = page.locator("#jupyter-track-sidebar")
    option = panel.locator("select.jp-Track-experiment option", has_text="breast")
    expect(option).to_have_count(1, timeout=60_000)
    panel.locator("select.jp-Track-experiment").select_option(option.get_attribute("value"))
    table = panel.locator(".jp-Track-table")
    expect(table).to_have_attribute("aria-busy", "false", timeout=60_000)
    expect(table).to_have_attribute("data-layout", "compact")

    def shoot(view: str) -> None:
        page.mouse.move(1400, 980)  # no hover highlight
        box = panel.bounding_box()
        assert box is not None
        clip = {"x": 0, "y": 0, "width": box["x"] + box["width"] + 4, "height": 1000}
        page.screenshot(path=str(out / f"panel-{view}-{theme}.png"), clip=clip)

    expect(panel.locator(".jp-Track-row").first).to_be_visible(timeout=60_000)
    shoot("runs")

    panel.locator(".jp-Track-row .jp-Track-link", has_text="mlp-lr0.003").click()
    detail = panel.locator(".jp-Track-detail")
    expect(detail.locator('[data-chart="run-metrics"] svg.marks')).to_be_visible(timeout=60_000)
    shoot("run")

    panel.locator(".jp-Track-tabbar .lm-TabBar-tab", has_text="Runs").click()
    for name in ("mlp-lr0.01", "mlp-lr0.003", "mlp-lr0.001", "mlp-lr0.0003"):
        panel.locator(".jp-Track-row", has=page.locator(".jp-Track-link", has_text=name)).locator(
            "input[type=checkbox]"
        ).check()
    panel.locator(".jp-Track-compare-button").click()
    compare = panel.locator(".jp-Track-compare")
    expect(compare.locator('[data-chart="learning-curves"] svg.marks')).to_be_visible(
        timeout=60_000
    )
    compare.get_by_label("Differences only").check()
    compare.locator('[data-chart="learning-curves"]').scroll_into_view_if_needed()
    expect(compare.locator('[data-chart="scatter"] svg.marks')).to_be_visible(timeout=60_000)
    shoot("compare")

    panel.locator(".jp-Track-tabbar .lm-TabBar-tab", has_text="Models").click()
    expect(panel.locator(".jp-Track-versionRow").first).to_be_visible(timeout=60_000)
    shoot("models")

    panel.locator('.jp-Track-tabbar .lm-TabBar-tab[data-tracktab="traces"]').click()
    traces = panel.locator(".jp-Track-tracesTab")
    option = traces.locator("select.jp-Track-traces-experiment option", has_text="breast")
    expect(option).to_have_count(1, timeout=60_000)
    traces.locator("select.jp-Track-traces-experiment").select_option(option.get_attribute("value"))
    rows = traces.locator("tr.jp-Track-trace-row")
    expect(rows.first).to_be_visible(timeout=60_000)
    rows.first.locator(".jp-Track-trace-open").click()
    expect(traces.locator(".jp-TraceView-header")).to_be_visible(timeout=60_000)
    shoot("traces")

    # "Open in main area": the runs table as a full-width tab (the whole window)
    panel.locator('.jp-Track-tabbar .lm-TabBar-tab[data-tracktab="runs"]').click()
    panel.get_by_role("button", name="Open Runs in the main area").click()
    main = page.locator("#jp-Track-main-runs")
    expect(main.locator(".jp-Track-table")).to_have_attribute("data-layout", "wide", timeout=60_000)
    expect(main.locator(".jp-Track-row").first).to_be_visible(timeout=60_000)
    page.mouse.move(1400, 980)
    page.screenshot(path=str(out / f"panel-main-runs-{theme}.png"))


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
                for theme in ("light", "dark"):
                    server.write_settings(
                        "@jupyterlab/apputils-extension:themes",
                        {"theme": "JupyterLab Light" if theme == "light" else "JupyterLab Dark"},
                    )
                    page = browser.new_page(
                        viewport={"width": 1440, "height": 1000},
                        timezone_id="UTC",
                        locale="en-US",
                    )
                    shoot_views(page, server, args.out, theme, expect)
                    page.close()
                browser.close()
        finally:
            server.stop()
    for theme in ("light", "dark"):
        for view in VIEWS:
            print(args.out / f"panel-{view}-{theme}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
