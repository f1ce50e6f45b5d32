"""The Track panel in a real JupyterLab, a real kernel and Debian's Chromium.

The flow the issue asks for: run ``%%track`` cells in a notebook, see the runs appear in the panel
without refreshing, filter, select two, compare, see the learning-curve chart drawn, open a run
and jump to its cell, and see a malformed filter's error at its position. Plus: user text is shown
as text, the version check, polling pauses while the panel is hidden, and screenshots in the light
and dark themes (one compared against a stored snapshot).
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jt_notebook import run_all_cells, write_notebook
from playwright.sync_api import Page, Request, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from jupyter_track.store import FilterSyntaxError
from jupyter_track.store.search import parse_filter

pytestmark = pytest.mark.browser

HERE = Path(__file__).parent
SNAPSHOTS = HERE / "snapshots"
TAB = '.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="jupyter-track-sidebar"]'
PANEL = "#jupyter-track-sidebar"
LONG = 60_000


# ------------------------------------------------------------------------------------ helpers


def goto_lab(page: Page, url: str) -> None:
    """Load JupyterLab and wait until it has restored its layout (the splash is gone)."""
    page.goto(url)
    page.locator(".jp-LabShell").wait_for(timeout=LONG)
    page.locator("#jupyterlab-splash").wait_for(state="detached", timeout=LONG)


def open_track(page: Page, width: int = 640) -> Any:
    """Show the Track panel (left area) at about ``width`` pixels; return its locator."""
    panel = page.locator(PANEL)
    tab = page.locator(TAB)
    expect(tab).to_be_visible(timeout=LONG)
    if "lm-mod-current" not in (tab.get_attribute("class") or ""):
        tab.click(timeout=LONG)
    expect(panel).to_be_visible(timeout=LONG)
    set_sidebar_width(page, width)
    return panel


def set_sidebar_width(page: Page, width: int) -> None:
    """Drag the handle between the left area and the main area."""
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    panel_box = page.locator(PANEL).bounding_box()
    box = handle.bounding_box()
    assert panel_box is not None and box is not None
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(panel_box["x"] + width, y, steps=4)
    page.mouse.up()


def choose_experiment(panel: Any, name: str) -> None:
    """Pick an experiment in the panel's picker once the server lists it."""
    option = panel.locator("select.jp-Track-experiment option", has_text=re.compile(f"^{name} "))
    expect(option).to_have_count(1, timeout=LONG)
    panel.locator("select.jp-Track-experiment").select_option(option.get_attribute("value"))
    # the runs of that experiment are loaded (not the previous list, still on screen a moment)
    expect(panel.locator(".jp-Track-table")).to_have_attribute("aria-busy", "false", timeout=LONG)


def row(panel: Any, name: str) -> Any:
    return panel.locator(".jp-Track-row", has=panel.page.locator(".jp-Track-link", has_text=name))


def apply_filter(panel: Any, text: str) -> None:
    box = panel.locator(".jp-Track-filter-input")
    box.fill(text)
    box.press("Enter")


def run_names(panel: Any) -> list[str]:
    return sorted(panel.locator(".jp-Track-row .jp-Track-cell-name").all_inner_texts())


# -------------------------------------------------------------------------------- the flow

FLOW_CELLS = [
    "%load_ext jupyter_track\nimport jupyter_track as jt",
    *(
        f"%%track -e ui-flow -n {name} -m acc\n"
        f"lr = {lr}\n"
        "epochs = 8\n"
        "for step in range(epochs):\n"
        f"    jt.log_metric('loss', {scale} / (step + 1), step=step)\n"
        f"acc = {acc}"
        for name, lr, scale, acc in (
            ("alpha", 0.1, 1.0, 0.81),
            ("beta", 0.01, 2.0, 0.93),
            ("gamma", 0.001, 3.0, 0.64),
        )
    ),
]


def test_track_cells_appear_then_filter_compare_and_go_to_cell(
    lab_server: Any, lab_page: Page, artifacts_dir: Path
) -> None:
    page = lab_page
    write_notebook(lab_server.root_dir, "ui_flow.ipynb", FLOW_CELLS)
    panel = open_track(page)

    # The notebook runs while the panel is open: the runs arrive by polling, no refresh.
    goto_lab(page, lab_server.lab_url("ui_flow.ipynb", reset=""))
    panel = open_track(page)
    run_all_cells(page, LONG)
    choose_experiment(panel, "ui-flow")
    for name in ("alpha", "beta", "gamma"):
        expect(row(panel, name)).to_have_count(1, timeout=LONG)
    expect(panel.locator(".jp-Track-row .jp-Track-status-finished")).to_have_count(3, timeout=LONG)
    # The default columns include the params and metrics the cells logged.
    expect(panel.locator('.jp-Track-headcell[data-column="metrics.acc"]')).to_be_visible()
    expect(row(panel, "beta").locator('[data-column="metrics.acc"]')).to_have_text("0.93")

    # Sorting by a metric column orders the rows by it (descending first for numbers).
    panel.locator('.jp-Track-headcell[data-column="metrics.acc"]').click()
    expect(panel.locator(".jp-Track-row .jp-Track-cell-name").first).to_have_text("beta")

    # Filter with the store's grammar.
    apply_filter(panel, "metrics.acc > 0.75")
    expect(panel.locator(".jp-Track-row")).to_have_count(2, timeout=LONG)
    assert run_names(panel) == ["alpha", "beta"]

    # Select two, compare.
    row(panel, "alpha").locator("input[type=checkbox]").check()
    row(panel, "beta").locator("input[type=checkbox]").check()
    expect(panel.locator(".jp-Track-selected")).to_contain_text("2 selected")
    panel.locator(".jp-Track-compare-button").click()
    compare = panel.locator(".jp-Track-compare")
    expect(compare).to_be_visible()
    expect(compare.locator('tr.jp-mod-differs[data-key="params.lr"]')).to_be_visible(timeout=LONG)
    # Columns follow the table order (sorted by acc, descending: beta first).
    expect(compare.locator('tr[data-key="params.lr"] td')).to_have_text(["0.01", "0.1"])

    # Differences only: a row with the same value in both runs (epochs) disappears.
    epochs = compare.locator('tr[data-key="params.epochs"]')
    expect(epochs).to_be_visible()
    expect(epochs).not_to_have_class(re.compile("jp-mod-differs"))
    compare.get_by_label("Differences only").check()
    expect(epochs).to_have_count(0)
    expect(compare.locator('tr[data-key="params.lr"]')).to_be_visible()
    expect(compare.locator("tbody tr[data-key]:not(.jp-mod-differs)")).to_have_count(0)

    # Learning curves of "loss": vega-embed draws an SVG with line marks.
    compare.get_by_label("Metric", exact=True).select_option("loss")
    chart = compare.locator('[data-chart="learning-curves"] .vega-embed svg.marks')
    expect(chart).to_be_visible(timeout=LONG)
    lines = compare.locator('[data-chart="learning-curves"] .vega-embed svg.marks .mark-line path')
    expect(lines).to_have_count(2, timeout=LONG)
    assert (lines.first.get_attribute("d") or "").count("L") >= 7  # 8 points per curve
    # Hovering the plot shows the nearest point's values (vega-tooltip).
    plot = compare.locator('[data-chart="learning-curves"] .vega-embed svg.marks .mark-line').first
    box = plot.bounding_box()
    assert box is not None
    # A hover that reached a chart being redrawn (a reload re-embeds it) is lost: move again.
    tooltip = page.locator("#vg-tooltip-element.visible")
    for attempt in range(3):
        dx = 0.02 * attempt
        page.mouse.move(box["x"] + box["width"] * (0.3 + dx), box["y"] + box["height"] * 0.5)
        page.mouse.move(box["x"] + box["width"] * (0.32 + dx), box["y"] + box["height"] * 0.52)
        try:
            expect(tooltip).to_be_visible(timeout=15_000)
            break
        except AssertionError:
            continue
    expect(tooltip).to_be_visible(timeout=LONG)
    expect(tooltip).to_contain_text(re.compile("alpha|beta"))
    # Parallel coordinates, the param-vs-metric scatter (a point per run) and the ranking.
    parallel = compare.locator('[data-chart="parallel-coordinates"] .vega-embed svg.marks')
    expect(parallel).to_be_visible(timeout=LONG)
    points = compare.locator('[data-chart="scatter"] .vega-embed svg.marks .mark-symbol path')
    expect(points).to_have_count(2, timeout=LONG)
    expect(compare.locator('.jp-Track-importance tr[data-param="lr"]')).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "flow-compare.png"))

    # Open a run and jump to its cell: first make another cell the active one.
    page.locator(".jp-NotebookPanel .jp-Cell .jp-InputPrompt").first.click()
    compare.locator("thead .jp-Track-link", has_text="beta").click()
    detail = panel.locator(".jp-Track-detail")
    expect(detail.locator(".jp-Track-detail-name")).to_have_text("beta", timeout=LONG)
    expect(detail.locator('tr[data-metric="loss"] .jp-Track-sparkline')).to_be_visible()
    expect(detail.locator(".jp-Track-source")).to_contain_text("%%track -e ui-flow -n beta")
    detail.get_by_role("button", name="Go to cell").click()
    active = page.locator(".jp-NotebookPanel:visible .jp-Cell.jp-mod-active")
    expect(active).to_have_count(1)
    expect(active).to_contain_text("-n beta", timeout=LONG)
    expect(active).to_be_in_viewport()
    page.screenshot(path=str(artifacts_dir / "flow-go-to-cell.png"))

    # The notebook widgets' contract (js/summary.ts): DOM events from inside an output.
    gamma_id = lab_server.store().search_runs(None, "attributes.run_name = 'gamma'").runs[0]
    answers = page.evaluate(
        """(runId) => {
            const el = document.querySelector('.jp-OutputArea-output');
            const probe = {available: false};
            el.dispatchEvent(new CustomEvent('jupyter-track:probe',
                {detail: probe, bubbles: true, composed: true}));
            const open = {runId, handled: false};
            el.dispatchEvent(new CustomEvent('jupyter-track:open-run',
                {detail: open, bubbles: true, composed: true}));
            return [probe.available, open.handled, document.body.dataset.jpTrackSidebar];
        }""",
        gamma_id.info.run_id,
    )
    assert answers == [True, True, "true"]
    expect(detail.locator(".jp-Track-detail-name")).to_have_text("gamma", timeout=LONG)


def test_run_detail_artifacts_and_go_to_cell_in_a_closed_notebook(
    lab_server: Any, lab_page: Page, tmp_path: Path
) -> None:
    import io

    from PIL import Image

    # A long notebook that is not open; the run came from its 25th cell.
    sources = [f"x{i} = {i}  # cell {i}" for i in range(30)]
    path = write_notebook(lab_server.root_dir, "closed_nb.ipynb", sources)
    cell = nbformat.read(path, as_version=4).cells[25]
    store = lab_server.store()
    exp = store.get_or_create_experiment("ui-detail")
    info = store.create_run(
        exp.experiment_id,
        run_name="with-artifacts",
        notebook=str(path),
        cell_id=cell.id,
        source=cell.source,
    )
    png = io.BytesIO()
    Image.new("RGB", (40, 20), (200, 30, 30)).save(png, format="PNG")
    store.write_artifact_bytes(info.run_id, "plots/red.png", png.getvalue())
    store.write_artifact_bytes(info.run_id, "notes.txt", b"hello artifacts\n")
    store.log_metrics(info.run_id, [("loss", 1.0 / (s + 1), 0, s) for s in range(10)])
    store.update_run(info.run_id, status="FINISHED", end_time=info.start_time + 10)

    panel = open_track(lab_page)
    choose_experiment(panel, "ui-detail")
    expect(panel.locator(".jp-Track-row")).to_have_count(1, timeout=LONG)
    panel.locator(".jp-Track-row .jp-Track-link").click()
    detail = panel.locator(".jp-Track-detail")
    expect(detail.locator(".jp-Track-detail-name")).to_have_text("with-artifacts", timeout=LONG)

    # The metric's min/max and sparkline.
    loss = detail.locator('tr[data-metric="loss"]')
    expect(loss.locator("td").nth(0)).to_have_text("0.1")
    expect(loss.locator("td").nth(2)).to_have_text("1")
    expect(loss.locator(".jp-Track-sparkline polyline")).to_have_count(1)

    # Images are previewed (fetched with the token header), other files downloaded.
    image = detail.locator('li[data-path="plots/red.png"] img.jp-Track-preview')
    expect(image).to_be_visible(timeout=LONG)
    lab_page.wait_for_function("img => img.naturalWidth === 40", arg=image.element_handle())
    with lab_page.expect_download() as download:
        detail.locator('li[data-path="notes.txt"]').get_by_role("button", name="Download").click()
    saved = tmp_path / "notes.txt"
    download.value.save_as(saved)
    assert saved.read_text() == "hello artifacts\n"
    assert download.value.suggested_filename == "notes.txt"

    # Go to cell opens the notebook and makes that cell the active one, in view.
    detail.get_by_role("button", name="Go to cell").click()
    active = lab_page.locator(".jp-NotebookPanel:visible .jp-Cell.jp-mod-active")
    expect(active).to_contain_text("# cell 25", timeout=LONG)
    expect(active).to_be_in_viewport()
    expect(lab_page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")).to_contain_text(
        "closed_nb.ipynb"
    )


def test_settings_columns_chooser_and_palette(lab_server: Any, lab_page: Page) -> None:
    store = lab_server.store()
    exp = store.get_or_create_experiment("ui-columns")
    info = store.create_run(exp.experiment_id, run_name="cols", tags={"team": "blue"})
    store.log_params(info.run_id, {"lr": "0.3", "depth": "4"})
    store.log_metrics(info.run_id, [("acc", 0.5, 0, 0), ("f1", 0.25, 0, 0)])
    store.update_run(info.run_id, status="FINISHED", end_time=info.start_time + 10)

    # Default columns come from the settings (read at page load).
    lab_server.write_settings("jupyter-track:plugin", {"defaultColumns": ["params.lr"]})
    try:
        goto_lab(lab_page, lab_server.lab_url(reset=""))
        panel = open_track(lab_page)
        choose_experiment(panel, "ui-columns")
        expect(panel.locator(".jp-Track-row")).to_have_count(1, timeout=LONG)
        headers = panel.locator(".jp-Track-headcell[data-column]")
        expect(headers).to_have_count(6)  # status, name, start, duration, user, lr
        expect(panel.locator('.jp-Track-headcell[data-column="params.lr"]')).to_be_visible()

        # The column chooser adds a tag column; the row shows its value.
        panel.get_by_role("button", name=re.compile("^Columns")).click()
        panel.locator('.jp-Track-columns-popup input[data-column="tags.team"]').check()
        cell = panel.locator('.jp-Track-row [data-column="tags.team"]')
        expect(cell).to_have_text("blue", timeout=LONG)
        lab_page.keyboard.press("Escape")
        expect(panel.locator(".jp-Track-columns-popup")).to_have_count(0)

        # The command palette lists the panel's commands. Ctrl+Shift+C toggles it, so it is
        # pressed only while the palette is closed and then waited for (a press resent after
        # a slow first one would close it); the palette also closes when it loses the focus,
        # so each search first checks it is still open, and a search that matched nothing
        # (its input lost) is typed again.
        search = lab_page.locator(".lm-CommandPalette-input")
        items = lab_page.locator(".lm-CommandPalette-item .lm-CommandPalette-itemLabel")

        def find(label: str) -> None:
            # one search per command: other plugins add Track commands too, and the palette
            # only renders the items in view
            for _ in range(3):
                if not search.is_visible():
                    lab_page.locator("body").press("Control+Shift+C")
                    expect(search).to_be_visible(timeout=LONG)
                try:
                    search.fill(label, timeout=15_000)
                    expect(items.filter(has_text=label)).to_have_count(1, timeout=15_000)
                    return
                except (AssertionError, PlaywrightTimeoutError):
                    continue
            expect(items.filter(has_text=label)).to_have_count(1)

        for label in ("Track: Open Runs Panel", "Track: Compare Selected", "Track: Refresh Runs"):
            find(label)
        # Enter runs the palette's active item, the only match: a click can miss an item the
        # palette is redrawing (commands' state changes redraw it)
        search.press("Enter")
        expect(search).to_be_hidden(timeout=LONG)
        expect(cell).to_have_text("blue")
    finally:
        lab_server.remove_settings("jupyter-track:plugin")


def test_malformed_filter_shows_the_server_error_at_its_position(
    lab_server: Any, lab_page: Page, artifacts_dir: Path
) -> None:
    store = lab_server.store()
    exp = store.get_or_create_experiment("ui-filter")
    info = store.create_run(exp.experiment_id, run_name="only")
    store.update_run(info.run_id, status="FINISHED", end_time=info.start_time + 1000)

    panel = open_track(lab_page)
    choose_experiment(panel, "ui-filter")
    expect(row(panel, "only")).to_have_count(1, timeout=LONG)

    bad = "metrics.acc > 0.5 AND (params.lr = "
    with pytest.raises(FilterSyntaxError) as expected:
        parse_filter(bad)
    apply_filter(panel, bad)
    error = panel.locator(".jp-Track-filter-error")
    expect(error).to_be_visible(timeout=LONG)
    expect(error.locator(".jp-Track-filter-message")).to_contain_text("position")
    where = error.locator(".jp-Track-filter-where")
    assert where.get_attribute("data-position") == str(expected.value.position)
    expect(panel.locator(".jp-Track-filter-input")).to_have_attribute("aria-invalid", "true")
    # The table is empty while the filter is wrong, and the error goes once it is fixed.
    expect(panel.locator(".jp-Track-row")).to_have_count(0)
    lab_page.screenshot(path=str(artifacts_dir / "filter-error.png"))
    apply_filter(panel, "params.lr IS NULL")
    expect(error).to_have_count(0, timeout=LONG)
    expect(row(panel, "only")).to_have_count(1, timeout=LONG)


def test_user_text_is_rendered_as_text(lab_server: Any, lab_page: Page) -> None:
    store = lab_server.store()
    exp = store.get_or_create_experiment("ui-html")
    name = '<img src=x onerror="window.__jtXss=1"><b>bold</b>'
    info = store.create_run(exp.experiment_id, run_name=name, tags={"note": "<i>tag</i>"})
    store.log_params(info.run_id, {"html": "<script>window.__jtXss=2</script>"})
    store.update_run(info.run_id, status="FINISHED", end_time=info.start_time + 5)

    panel = open_track(lab_page)
    choose_experiment(panel, "ui-html")
    expect(panel.locator(".jp-Track-row")).to_have_count(1, timeout=LONG)
    link = panel.locator(".jp-Track-row .jp-Track-link")
    expect(link).to_have_text(name, timeout=LONG)
    link.click()
    detail = panel.locator(".jp-Track-detail")
    expect(detail.locator(".jp-Track-detail-name")).to_have_text(name)
    expect(detail).to_contain_text("<script>window.__jtXss=2</script>")
    expect(detail).to_contain_text("<i>tag</i>")
    assert panel.locator("b, i, img, script").count() == 0
    assert lab_page.evaluate("() => window.__jtXss") is None


def test_version_mismatch_is_shown(lab_server: Any, page: Page) -> None:
    def fake_info(route: Any) -> None:
        response = route.fetch()
        body = response.json()
        body["version"] = "99.0.0"
        route.fulfill(response=response, body=json.dumps(body))

    page.route(re.compile(r".*/jupyter-track/api/info(\?.*)?$"), fake_info)
    goto_lab(page, lab_server.lab_url(reset=""))
    panel = open_track(page)
    banner = panel.locator(".jp-Track-version")
    expect(banner).to_be_visible(timeout=LONG)
    expect(banner).to_contain_text("99.0.0")
    expect(banner).to_contain_text("Version mismatch")


def test_polling_pauses_while_the_panel_is_hidden(lab_server: Any, lab_page: Page) -> None:
    page = lab_page
    polls: list[str] = []

    def on_request(request: Request) -> None:
        if "/jupyter-track/api/runs" in request.url:
            polls.append(request.url)

    page.on("request", on_request)
    open_track(page)
    deadline = time.monotonic() + 30
    while len(polls) < 3 and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert len(polls) >= 3, "the panel does not poll while visible"

    page.locator(TAB).click()  # collapse the left area: the panel is hidden
    expect(page.locator(PANEL)).to_be_hidden()
    # the poll finished the tick it was in and went to standby (its phase on the panel)
    expect(page.locator(PANEL)).to_have_attribute("data-poll", "standby", timeout=LONG)
    before = len(polls)
    page.wait_for_timeout(3000)  # an absence: watched over three poll intervals
    assert len(polls) == before, f"{len(polls) - before} polls while hidden"

    page.locator(TAB).click()
    deadline = time.monotonic() + 30
    while len(polls) == before and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert len(polls) > before, "polling did not resume when the panel was shown again"


# ---------------------------------------------------------------------------- screenshots

SNAPSHOT_EXPERIMENT = "ui-snapshot"
# A fixed day long ago: the table shows absolute times (UTC in these tests) and fixed durations.
T0 = 1_768_471_200_000  # 2026-01-15 10:00:00 UTC


def seed_snapshot_runs(store: Any) -> None:
    exp = store.get_or_create_experiment(SNAPSHOT_EXPERIMENT)
    if store.search_runs([exp.experiment_id], "").runs:
        return
    models = [
        ("logistic", {"C": "1.0", "model": "logistic"}, 0.958, 0.995, "FINISHED"),
        ("forest", {"max_depth": "6", "model": "forest"}, 0.944, 0.976, "FINISHED"),
        ("boosting", {"max_depth": "3", "model": "boosting"}, 0.951, 0.983, "FINISHED"),
        ("mlp-lr0.01", {"lr": "0.01", "model": "mlp"}, 0.958, 0.993, "FINISHED"),
        ("mlp-lr0.1", {"lr": "0.1", "model": "mlp"}, 0.902, 0.951, "FAILED"),
    ]
    for i, (name, params, acc, auc, status) in enumerate(models):
        start = T0 + i * 60_000
        info = store.create_run(exp.experiment_id, run_name=name, start_time=start, user_id="ada")
        store.log_params(info.run_id, params)
        store.log_metrics(
            info.run_id, [("accuracy", acc, start + 1000, 0), ("roc_auc", auc, start + 1000, 0)]
        )
        store.update_run(info.run_id, status=status, end_time=start + 1500 + i * 2345)


def switch_theme(page: Page, theme: str) -> None:
    page.locator(".lm-MenuBar-itemLabel", has_text="Settings").first.click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Theme$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(f"^{theme}$")).click()
    light = "true" if "Light" in theme else "false"
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", light, timeout=LONG)
    # the theme's CSS transitions have ended (a state, not a guessed duration)
    page.wait_for_function(
        "() => document.getAnimations().every("
        "a => !(a instanceof CSSTransition) || a.playState !== 'running')",
        timeout=LONG,
    )


def pixel_difference(a: Path, b: Path) -> float:
    """The share of pixels whose colour differs by more than a small amount (0..1)."""
    import numpy as np
    from PIL import Image

    left = np.asarray(Image.open(a).convert("RGB"), dtype=np.int16)
    right = np.asarray(Image.open(b).convert("RGB"), dtype=np.int16)
    if left.shape != right.shape:
        return 1.0
    changed = np.abs(left - right).max(axis=2) > 24
    return float(changed.mean())


@pytest.fixture
def theme_reset(lab_server: Any) -> Iterator[None]:
    yield
    lab_server.remove_settings("@jupyterlab/apputils-extension:themes")


def rows_picture(page: Page, table: Any, path: Path) -> None:
    """The table's header and rows, not the empty space under them (whose height is the
    window's, not the table's)."""
    box = table.bounding_box()
    last = table.locator(".jp-Track-row").last.bounding_box()
    assert box and last
    height = last["y"] + last["height"] - box["y"]
    page.screenshot(
        path=str(path), clip={"x": box["x"], "y": box["y"], "width": box["width"], "height": height}
    )


def test_screenshots_light_and_dark(
    lab_server: Any, lab_page: Page, artifacts_dir: Path, theme_reset: None
) -> None:
    page = lab_page
    seed_snapshot_runs(lab_server.store())
    panel = open_track(page, width=620)
    choose_experiment(panel, SNAPSHOT_EXPERIMENT)
    expect(panel.locator(".jp-Track-row")).to_have_count(5, timeout=LONG)
    page.mouse.move(1300, 850)  # no hover highlight in the pictures
    table = panel.locator(".jp-Track-table")

    page.screenshot(path=str(artifacts_dir / "sidebar-light.png"))
    rows_picture(page, table, artifacts_dir / "runs-table-light.png")
    switch_theme(page, "JupyterLab Dark")
    expect(panel).to_be_visible()
    page.screenshot(path=str(artifacts_dir / "sidebar-dark.png"))
    rows_picture(page, table, artifacts_dir / "runs-table-dark.png")
    # Dark theme really is dark: the table background is not the light one.
    background = table.evaluate(
        "el => getComputedStyle(el.closest('.jp-Track-panel')).backgroundColor"
    )
    channels = [int(c) for c in re.findall(r"\d+", background)[:3]]
    assert sum(channels) / 3 < 100, background
    switch_theme(page, "JupyterLab Light")

    # The light runs table against the stored snapshot (tolerant: fonts may differ slightly).
    snapshot = SNAPSHOTS / "runs-table-light.png"
    current = artifacts_dir / "runs-table-light.png"
    if os.environ.get("UPDATE_SNAPSHOTS") or not snapshot.exists():
        SNAPSHOTS.mkdir(exist_ok=True)
        snapshot.write_bytes(current.read_bytes())
        if not os.environ.get("UPDATE_SNAPSHOTS"):
            pytest.fail(f"no snapshot yet: wrote {snapshot}; check it and commit it")
    difference = pixel_difference(snapshot, current)
    assert difference < 0.02, (
        f"{difference:.1%} of the pixels differ from {snapshot} (see {current}); "
        "if the change is intended, rerun with UPDATE_SNAPSHOTS=1"
    )


def test_keyboard_and_mouse_selection(lab_server: Any, lab_page: Page) -> None:
    seed_snapshot_runs(lab_server.store())
    panel = open_track(lab_page)
    choose_experiment(panel, SNAPSHOT_EXPERIMENT)
    rows = panel.locator(".jp-Track-row")
    expect(rows).to_have_count(5, timeout=LONG)
    selected = panel.locator(".jp-Track-row.jp-mod-selected .jp-Track-cell-name")

    rows.nth(0).locator('[data-column="duration"]').click()
    expect(selected).to_have_text(["mlp-lr0.1"])
    lab_page.keyboard.press("Shift+ArrowDown")
    lab_page.keyboard.press("Shift+ArrowDown")
    expect(selected).to_have_text(["mlp-lr0.1", "mlp-lr0.01", "boosting"])
    rows.nth(4).locator('[data-column="duration"]').click(modifiers=["Control"])
    expect(selected).to_have_count(4)
    expect(panel.locator(".jp-Track-selected")).to_contain_text("4 selected")
    # Shift+click: the range from the last clicked row (logistic) replaces the selection.
    rows.nth(3).locator('[data-column="duration"]').click(modifiers=["Shift"])
    expect(selected).to_have_text(["forest", "logistic"])
    lab_page.keyboard.press("Escape")
    expect(selected).to_have_count(0)
    rows.nth(1).locator('[data-column="duration"]').click()
    lab_page.keyboard.press("ArrowDown")
    expect(selected).to_have_text(["boosting"])
    lab_page.keyboard.press("Enter")
    expect(panel.locator(".jp-Track-detail-name")).to_have_text("boosting", timeout=LONG)


def test_new_and_finished_runs_appear_by_themselves(lab_server: Any, lab_page: Page) -> None:
    store = lab_server.store()
    exp = store.get_or_create_experiment("ui-live")
    running = store.create_run(exp.experiment_id, run_name="still-running")
    store.log_metrics(running.run_id, [("loss", 0.9, running.start_time + 1, 0)])

    panel = open_track(lab_page)
    choose_experiment(panel, "ui-live")
    row_running = row(panel, "still-running")
    expect(row_running.locator(".jp-Track-status-running")).to_have_count(1, timeout=LONG)
    expect(row_running.locator('[data-column="metrics.loss"]')).to_have_text("0.9")

    # Changes made by another process show up without any click: a new metric value of the
    # running run, a new run, and the running run finishing.
    store.log_metrics(running.run_id, [("loss", 0.25, running.start_time + 2, 1)])
    expect(row_running.locator('[data-column="metrics.loss"]')).to_have_text("0.25", timeout=LONG)
    fresh = store.create_run(exp.experiment_id, run_name="newcomer")
    expect(row(panel, "newcomer")).to_have_count(1, timeout=LONG)
    store.update_run(running.run_id, status="FINISHED", end_time=running.start_time + 5000)
    expect(row_running.locator(".jp-Track-status-finished")).to_have_count(1, timeout=LONG)
    expect(row_running.locator('[data-column="duration"]')).to_have_text("5.0s")
    store.update_run(fresh.run_id, status="FAILED", end_time=fresh.start_time + 10)
    expect(row(panel, "newcomer").locator(".jp-Track-status-failed")).to_have_count(1, timeout=LONG)
    expect(panel.locator(".jp-Track-count")).to_have_text("2 runs")


def test_sorting_when_not_every_run_is_loaded_asks_the_server(
    lab_server: Any, lab_page: Page
) -> None:
    store = lab_server.store()
    exp = store.get_or_create_experiment("ui-many")
    if not store.search_runs([exp.experiment_id], "").runs:
        for i in range(150):  # the oldest run has the best accuracy
            info = store.create_run(
                exp.experiment_id, run_name=f"r{i:03d}", start_time=T0 + i * 1000
            )
            store.log_metrics(info.run_id, [("acc", 1 - i / 150, T0 + i * 1000, 0)])
            store.update_run(info.run_id, status="FINISHED", end_time=T0 + i * 1000 + 10)
    lab_server.write_settings("jupyter-track:plugin", {"maxRuns": 100})
    try:
        goto_lab(lab_page, lab_server.lab_url(reset=""))
        panel = open_track(lab_page)
        choose_experiment(panel, "ui-many")
        expect(panel.locator(".jp-Track-count")).to_have_text("100 of 150 runs", timeout=LONG)
        names = panel.locator(".jp-Track-row .jp-Track-cell-name")
        expect(names.first).to_have_text("r149")  # newest first
        panel.locator('.jp-Track-headcell[data-column="metrics.acc"]').click()
        # r000 was not loaded; the server sends the best 100 instead.
        expect(names.first).to_have_text("r000", timeout=LONG)
        expect(panel.locator(".jp-Track-count")).to_have_text("100 of 150 runs")
    finally:
        lab_server.remove_settings("jupyter-track:plugin")
