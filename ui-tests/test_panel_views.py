"""The panel as a daily tool (issue 14): every view shows something at JupyterLab's default
sidebar width, charts draw every kind of data, the run page charts histories and system
metrics. A seeded store (no kernel), a real JupyterLab, Debian's Chromium."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

TAB = '.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="jupyter-track-sidebar"]'
PANEL = "#jupyter-track-sidebar"
LONG = 60_000
T0 = 1_768_471_200_000


def seed(store: Any) -> dict[str, str]:
    """An experiment with a learning-rate sweep: curves, one-value metrics, a missing param,
    and a run with system metrics. Returns run ids by name."""
    exp = store.get_or_create_experiment("ui-daily")
    found = store.search_runs([exp.experiment_id], "").runs
    if found:
        return {r.info.run_name: r.info.run_id for r in found}
    ids = {}
    for i, lr in enumerate([0.0003, 0.001, 0.01, 0.1]):
        start = T0 + i * 60_000
        info = store.create_run(exp.experiment_id, run_name=f"lr-{lr}", start_time=start)
        params = {"lr": str(lr), "model": "mlp"}
        if i != 2:
            params["depth"] = str(2 + i)  # lr-0.01 has no depth: a missing value
        store.log_params(info.run_id, params)
        points = [("loss", 1.0 / (s + 1) + lr, start + s * 100, s) for s in range(10)]
        points += [("accuracy", 0.8 + i / 50, start + 2000, 0)]
        if i == 0:
            points += [
                ("system/process_memory_rss_megabytes", 100.0 + s, start + s * 1000, s)
                for s in range(5)
            ]
        store.log_metrics(info.run_id, points)
        store.update_run(info.run_id, status="FINISHED", end_time=start + 3000)
        ids[f"lr-{lr}"] = info.run_id
    return ids


def open_panel(page: Page) -> Any:
    """The Track panel at JupyterLab's default sidebar width (not resized)."""
    tab = page.locator(TAB)
    expect(tab).to_be_visible(timeout=LONG)
    if "lm-mod-current" not in (tab.get_attribute("class") or ""):
        tab.click()
    panel = page.locator(PANEL)
    expect(panel).to_be_visible(timeout=LONG)
    return panel


def choose(panel: Any, name: str) -> None:
    option = panel.locator("select.jp-Track-experiment option", has_text=re.compile(f"^{name} "))
    expect(option).to_have_count(1, timeout=LONG)
    panel.locator("select.jp-Track-experiment").select_option(option.get_attribute("value"))
    # the runs of that experiment are loaded (not the previous list, still on screen a moment)
    expect(panel.locator(".jp-Track-table")).to_have_attribute("aria-busy", "false", timeout=LONG)


def test_default_width_shows_name_key_metric_and_age(lab_server: Any, lab_page: Page) -> None:
    seed(lab_server.store())
    panel = open_panel(lab_page)
    choose(panel, "ui-daily")
    table = panel.locator(".jp-Track-table")
    expect(table).to_have_attribute("data-layout", "compact", timeout=LONG)
    rows = panel.locator(".jp-Track-row")
    expect(rows).to_have_count(4, timeout=LONG)
    first = rows.first
    expect(first.locator(".jp-Track-cell-name")).to_have_text("lr-0.1")
    # the key metric (the first metric logged: accuracy) and the age, both inside the panel
    metric = first.locator('[data-column="metrics.accuracy"]')
    expect(metric).to_have_text("0.86", timeout=LONG)
    age = first.locator('[data-column="age"]')
    expect(age).to_have_text(re.compile(r"^\w{3} \d+$|^\d{4}-\d\d-\d\d$"))
    panel_box = panel.bounding_box()
    for cell in (metric, age):
        box = cell.bounding_box()
        assert panel_box and box and box["x"] + box["width"] <= panel_box["x"] + panel_box["width"]


def test_run_page_charts_every_metric_and_system_metrics(lab_server: Any, lab_page: Page) -> None:
    seed(lab_server.store())
    panel = open_panel(lab_page)
    choose(panel, "ui-daily")
    panel.locator(".jp-Track-row .jp-Track-link", has_text="lr-0.0003").click()
    detail = panel.locator(".jp-Track-detail")
    expect(detail.locator(".jp-Track-detail-experiment")).to_have_text("ui-daily", timeout=LONG)
    charts = detail.locator('[data-chart="run-metrics"] .vega-embed svg.marks')
    expect(charts).to_be_visible(timeout=LONG)
    # loss has a history; accuracy has one value, which is in the table, not a one-dot chart
    expect(charts.locator(".mark-line path")).to_have_count(1, timeout=LONG)
    expect(detail.locator('tr[data-metric="accuracy"]')).to_contain_text("0.8")
    system = detail.locator('[data-chart="system-metrics"] .vega-embed svg.marks')
    expect(system).to_be_visible(timeout=LONG)
    expect(system).to_contain_text("system/process_memory_rss_megabytes")
    # system metrics stay out of the metrics table
    expect(detail.locator('tr[data-metric^="system/"]')).to_have_count(0)
    # at the default sidebar width no number of the metrics table is cut off
    cells = detail.locator(".jp-Track-metrics td.jp-Track-cell-num")
    expect(cells).to_have_count(6)  # loss and accuracy: last, min, max
    clipped = cells.evaluate_all(
        "cells => cells.filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.textContent)"
    )
    assert clipped == []
    table_box, detail_box = (
        detail.locator(".jp-Track-metrics").bounding_box(),
        detail.bounding_box(),
    )
    assert table_box and detail_box
    assert table_box["x"] + table_box["width"] <= detail_box["x"] + detail_box["width"] + 1


def test_compare_draws_one_value_metrics_and_missing_params(
    lab_server: Any, lab_page: Page
) -> None:
    seed(lab_server.store())
    panel = open_panel(lab_page)
    choose(panel, "ui-daily")
    expect(panel.locator(".jp-Track-row")).to_have_count(4, timeout=LONG)
    panel.locator(".jp-Track-table").click()
    lab_page.keyboard.press("Control+a")
    panel.locator(".jp-Track-compare-button").click()
    compare = panel.locator(".jp-Track-compare")
    # opens on the metric with a history (loss), not the first by name (accuracy)
    expect(compare.get_by_label("Metric", exact=True)).to_have_value("loss", timeout=LONG)
    lines = compare.locator('[data-chart="learning-curves"] .vega-embed svg.marks .mark-line path')
    expect(lines).to_have_count(4, timeout=LONG)
    # a metric with one value per run: bars, never an empty chart
    compare.get_by_label("Metric", exact=True).select_option("accuracy")
    bars = compare.locator('[data-chart="learning-curves"] .vega-embed svg.marks .mark-rect path')
    expect(bars).to_have_count(4, timeout=LONG)
    # the kernel's system/ metrics come last in the metric choices, in a group of their own,
    # and are folded in the side-by-side table until asked for
    options = compare.get_by_label("Metric", exact=True).locator("option")
    expect(options.last).to_have_attribute("value", "system/process_memory_rss_megabytes")
    group = compare.get_by_label("Metric", exact=True).locator("optgroup")
    expect(group).to_have_attribute("label", "System (kernel process)")
    expect(group.locator("option")).to_have_count(1)
    system_rows = compare.locator('tr[data-key^="system."]')
    expect(system_rows).to_have_count(0)
    compare.locator(".jp-Track-systemToggle").click()
    expect(system_rows).to_have_count(1)
    # parallel coordinates: the run without depth crosses at the marked "missing" place
    parallel = compare.locator('[data-chart="parallel-coordinates"] .vega-embed svg.marks')
    expect(parallel).to_contain_text("(missing)", timeout=LONG)
    # its axes: the params (by name), then the metric; their names never overlap
    names = parallel.locator(".role-axis-label text")
    expect(names).to_have_count(4, timeout=LONG)
    assert names.evaluate_all("ts => ts.map(t => t.textContent)") == [
        "depth",
        "lr",
        "model",
        "accuracy",
    ]
    boxes = [b for b in (n.bounding_box() for n in names.all()) if b]
    assert len(boxes) == 4
    for left, right in itertools.pairwise(boxes):
        assert left["x"] + left["width"] <= right["x"] + 0.5, (left, right)
    # param vs metric: lr spans 0.0003..0.1, so its axis is logarithmic by itself
    compare.get_by_label("Param", exact=True).select_option("lr")
    log_x = compare.get_by_label("Log scale for the param")
    expect(log_x).to_be_checked(timeout=LONG)
    scatter = compare.locator('[data-chart="scatter"] .vega-embed svg.marks')
    assert_points_inside_plot(scatter, 4)
    # the toggle: a linear axis on request, still with every point inside the plot
    log_x.uncheck()
    expect(log_x).not_to_be_checked()
    # evenly spaced ticks (0.02, 0.04, ...) instead of decades
    linear_ticks = scatter.locator(".role-axis-label text", has_text=re.compile(r"^0\.0[2468]"))
    expect(linear_ticks.first).to_be_visible(timeout=LONG)
    assert_points_inside_plot(scatter, 4)


def assert_points_inside_plot(svg: Any, count: int) -> None:
    """Every point of a scatter is drawn whole inside the plot area (the domain is padded:
    no point sits clipped on the edge)."""
    points = svg.locator(".mark-symbol path")
    expect(points).to_have_count(count, timeout=LONG)
    frame = svg.locator(".mark-group.role-frame path.background").first.bounding_box()
    assert frame
    for point in points.all():
        box = point.bounding_box()
        assert box, "a point is not drawn"
        assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"]
        assert frame["y"] <= box["y"] and box["y"] + box["height"] <= frame["y"] + frame["height"]


def test_open_in_main_area_shows_the_same_views_full_width(lab_server: Any, lab_page: Page) -> None:
    """The sidebar's Runs, Run and Compare views open as full-width main-area tabs on the same
    state; links inside a main-area view open the other views in the main area."""
    seed(lab_server.store())
    panel = open_panel(lab_page)
    choose(panel, "ui-daily")
    expect(panel.locator(".jp-Track-row")).to_have_count(4, timeout=LONG)
    panel.get_by_role("button", name="Open Runs in the main area").click()
    runs = lab_page.locator("#jp-Track-main-runs")
    expect(runs).to_be_visible(timeout=LONG)
    # the same experiment and rows, now wide: params and metrics columns, not the compact three
    table = runs.locator(".jp-Track-table")
    expect(table).to_have_attribute("data-layout", "wide", timeout=LONG)
    expect(runs.locator(".jp-Track-row")).to_have_count(4, timeout=LONG)
    expect(runs.locator('.jp-Track-headcell[data-column="params.lr"]')).to_be_visible()
    if AXE.exists():
        assert axe_violations(lab_page, "#jp-Track-main-runs") == [], "main-area runs view"
    main_box, side_box = runs.bounding_box(), panel.bounding_box()
    assert main_box and side_box and main_box["width"] > 2 * side_box["width"]
    # a run opened from the main area opens in the main area, its tab named after it
    runs.locator(".jp-Track-row .jp-Track-link", has_text="lr-0.001").click()
    run = lab_page.locator("#jp-Track-main-run")
    expect(run.locator(".jp-Track-detail-name")).to_have_text("lr-0.001", timeout=LONG)
    expect(run.locator('[data-chart="run-metrics"] svg.marks')).to_be_visible(timeout=LONG)
    tab = lab_page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab", has_text="Track: Run lr-0.001")
    expect(tab).to_be_visible()
    # back to the main-area runs, select every run, compare: the comparison opens there
    run.get_by_role("button", name="← Runs").click()
    expect(runs).to_be_visible(timeout=LONG)
    runs.get_by_label("Select all runs").check()
    runs.locator(".jp-Track-compare-button").click()
    compare = lab_page.locator("#jp-Track-main-compare")
    lines = compare.locator('[data-chart="learning-curves"] svg.marks .mark-line path')
    expect(lines).to_have_count(4, timeout=LONG)
    # the sidebar shows the same state: its Run tab has the run the main area opened
    panel.locator('.jp-Track-tabbar .lm-TabBar-tab[data-tracktab="run"]').click()
    expect(panel.locator(".jp-Track-detail-name")).to_have_text("lr-0.001", timeout=LONG)
    # and its Compare tab opens in the main area too (the button names the view)
    panel.locator('.jp-Track-tabbar .lm-TabBar-tab[data-tracktab="compare"]').click()
    panel.get_by_role("button", name="Open Compare in the main area").click()
    expect(compare).to_be_visible(timeout=LONG)
    expect(lines).to_have_count(4, timeout=LONG)


# ------------------------------------------------------------- keyboard and screen readers

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
# The rules about names and roles screen readers rely on (colour contrast is the theme's).
AXE_RULES = [
    "aria-allowed-attr",
    "aria-command-name",
    "aria-required-attr",
    "aria-required-children",
    "aria-required-parent",
    "aria-roles",
    "aria-valid-attr",
    "aria-valid-attr-value",
    "button-name",
    "image-alt",
    "input-button-name",
    "label",
    "link-name",
    "select-name",
    "svg-img-alt",
]


def axe_violations(page: Page, root: str = "#jupyter-track-sidebar") -> list[str]:
    """axe-core (the npm package, loaded from node_modules: no CDN) over the Track panel (or
    another part of the page, ``root``)."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async ([root, rules]) => {
            const r = await axe.run(root, {runOnly: {type: 'rule', values: rules}});
            return r.violations.map(v => v.id + ': ' + v.nodes.map(n => n.html).join(' | '));
        }""",
        [root, AXE_RULES],
    )
    return list(result)


@pytest.mark.skipif(not AXE.exists(), reason="node_modules/axe-core missing (jlpm install)")
def test_every_view_has_screen_reader_labels(lab_server: Any, lab_page: Page) -> None:
    seed(lab_server.store())
    panel = open_panel(lab_page)
    choose(panel, "ui-daily")
    expect(panel.locator(".jp-Track-row")).to_have_count(4, timeout=LONG)
    assert axe_violations(lab_page) == [], "runs view"
    panel.locator(".jp-Track-row .jp-Track-link", has_text="lr-0.0003").click()
    expect(panel.locator('[data-chart="run-metrics"] svg.marks')).to_be_visible(timeout=LONG)
    assert axe_violations(lab_page) == [], "run view"
    panel.locator(".jp-Track-tabbar .lm-TabBar-tab", has_text="Runs").click()
    panel.locator(".jp-Track-table").focus()
    lab_page.keyboard.press("Control+a")
    panel.locator(".jp-Track-compare-button").click()
    compare = panel.locator(".jp-Track-compare")
    expect(compare.locator('[data-chart="scatter"] svg.marks')).to_be_visible(timeout=LONG)
    assert axe_violations(lab_page) == [], "compare view"


def test_the_runs_table_works_from_the_keyboard(lab_server: Any, lab_page: Page) -> None:
    seed(lab_server.store())
    panel = open_panel(lab_page)
    choose(panel, "ui-daily")
    names = panel.locator(".jp-Track-row .jp-Track-cell-name")
    expect(names).to_have_count(4, timeout=LONG)
    # a header is reached with Tab and sorts with Enter, with a visible focus ring
    header = panel.locator('.jp-Track-headcell[data-column="name"]')
    panel.get_by_label("Select all runs").focus()
    lab_page.keyboard.press("Tab")  # the status header
    lab_page.keyboard.press("Tab")  # the name header
    expect(header).to_be_focused()
    outline = header.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline != "none"
    lab_page.keyboard.press("Enter")
    expect(header).to_have_attribute("aria-sort", "ascending")
    expect(names.first).to_have_text("lr-0.0003")
    # the new order reloads the runs: wait until the table holds the reloaded rows
    table = panel.locator(".jp-Track-table")
    expect(table).to_have_attribute("aria-busy", "false", timeout=LONG)
    # arrows select, Enter opens the run (each key sent to the table, wherever focus went)
    table.press("ArrowDown")
    expect(panel.locator(".jp-Track-row.jp-mod-selected")).to_have_count(1)
    table.press("Enter")
    expect(panel.locator(".jp-Track-detail-name")).to_have_text("lr-0.0003", timeout=LONG)
