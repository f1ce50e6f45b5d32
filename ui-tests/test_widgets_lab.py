"""The notebook widgets in a real JupyterLab (real kernel, Debian's Chromium, no internet).

Each widget renders (the charts are drawn by the bundled vega, nothing comes from a CDN), the
live chart grows while its cell is still running, and a row clicked in the run table shows up
in ``table.selected`` in Python.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from jt_notebook import KERNEL_IDLE, run_all_cells, write_notebook
from playwright.sync_api import Page, Request, expect

pytestmark = pytest.mark.browser

LONG = 90_000


def open_notebook(page: Page, lab_server: Any, name: str) -> None:
    page.goto(lab_server.lab_url(name, reset=""))  # no panels left open by an earlier test
    page.locator(".jp-NotebookPanel").first.wait_for(timeout=LONG)
    expect(page.get_by_text(KERNEL_IDLE)).to_be_visible(timeout=LONG)


def cell(page: Page, index: int) -> Any:
    return page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell").nth(index)


def external_requests(page: Page) -> list[str]:
    seen: list[str] = []

    def record(request: Request) -> None:
        if not request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            seen.append(request.url)

    page.on("request", record)
    return seen


def snapshot(page: Page, locator: Any, artifacts_dir: Path, name: str) -> None:
    """Keep a screenshot of one widget (the README's come from these). The window is made tall
    enough for the whole widget, then put back."""
    size = page.viewport_size
    box = locator.bounding_box()
    if size and box and box["height"] + 200 > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": int(box["height"]) + 400})
        page.wait_for_timeout(300)
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(artifacts_dir / f"widgets-{name}.png"))
    if size:
        page.set_viewport_size(size)


SEED = """import time
import jupyter_track as jt
jt.set_experiment("widgets-ui")
ids = []
runs = [("alpha", 0.1, 2, 1.0), ("beta", 0.01, 3, 0.6), ("gamma", 0.001, 4, 0.8)]
for name, lr, layers, scale in runs:
    with jt.start_run(run_name=name) as run:
        jt.log_params({"lr": lr, "layers": layers, "optimizer": "adam"})
        for step in range(200):
            jt.log_metric("loss", scale * 2 / (1 + step / 20), step=step)
            jt.log_metric("val_loss", scale * 2.2 / (1 + step / 25) + 0.05, step=step)
        jt.log_metric("accuracy", 1 - scale / 3)
        if name == "alpha":  # the kernel's memory, as system metrics record it
            jt.log_metric("system/process_memory_rss_megabytes", 120.0)
        ids.append(run.info.run_id)"""

WIDGET_CELLS = [
    SEED,
    "table = jt.runs(experiment_names=['widgets-ui'])\ntable",
    "print('selected:', table.selected)",
    "jt.compare(ids, metric='val_loss')",
    "%%track -n summary-demo -e widgets-ui\nlr = 0.05\njt.log_metric('loss', 0.42)",
    # the summary as a widget (jupyter_track.widgets.summary.summary() returns one)
    "from jupyter_track.widgets import RunSummaryWidget\n"
    "RunSummaryWidget(jt.get_run(ids[1]), jt.get_run(ids[0]))",
    """class Model:
    def predict(self, rows):
        return [0] * len(rows)
for _ in range(2):
    with jt.start_run():
        jt.log_model(Model(), "model", registered_model_name="churn")
jt.set_registered_model_alias("churn", "champion", 1)
jt.set_registered_model_alias("churn", "challenger", 2)
jt.registry(editable=True)""",
]


def test_each_widget_renders_and_a_clicked_row_reaches_python(
    lab_server: Any, lab_page: Page, artifacts_dir: Path
) -> None:
    page = lab_page
    outside = external_requests(page)
    write_notebook(lab_server.root_dir, "widgets.ipynb", WIDGET_CELLS)
    open_notebook(page, lab_server, "widgets.ipynb")
    run_all_cells(page, LONG)
    expect(cell(page, 6).locator(".jp-InputPrompt")).to_contain_text("[7]", timeout=LONG)

    # the run table: three rows, sortable, filterable
    table = cell(page, 1).locator(".jp-Track-runs")
    expect(table.locator("tbody tr[data-run-id]")).to_have_count(3, timeout=LONG)
    expect(table).to_contain_text("3 runs · 0 selected")
    table.locator("th", has_text="lr").click()
    expect(table.locator("tbody tr[data-run-id] td:nth-child(2)").first).to_have_text("gamma")
    box = table.locator("input.jp-Track-w-filter")
    box.fill("params.lr >> 1")
    box.press("Enter")
    expect(table.locator(".jp-Track-w-error")).to_contain_text("position 11", timeout=LONG)
    expect(table.locator(".jp-Track-w-caret")).to_contain_text("params.lr >> 1")
    box.fill("params.lr < 0.05")
    box.press("Enter")
    expect(table.locator("tbody tr[data-run-id]")).to_have_count(2, timeout=LONG)
    expect(table.locator(".jp-Track-w-error")).to_be_hidden()

    # a click selects a row; Python sees it
    beta = table.locator("tbody tr[data-run-id]", has_text="beta")
    beta.click()
    expect(beta).to_have_class(re.compile("jp-mod-selected"))
    expect(table).to_contain_text("1 selected")
    run_id = beta.get_attribute("data-run-id")
    assert run_id
    printer = cell(page, 2)
    printer.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+Enter")
    expect(printer.locator(".jp-OutputArea-output")).to_contain_text(
        f"selected: ['{run_id}']", timeout=LONG
    )
    snapshot(page, table, artifacts_dir, "runs")

    # the comparison: diff table and four charts drawn by the bundled vega
    compare = cell(page, 3).locator(".jp-Track-compare")
    expect(compare.locator("tr.jp-Track-w-differs", has_text="lr")).to_be_visible(timeout=LONG)
    expect(compare).to_have_attribute("data-drawn", "4", timeout=LONG)
    for chart in ("curves", "parallel", "importance", "scatter"):
        expect(compare.locator(f'[data-chart="{chart}"] canvas')).to_be_visible()
    expect(compare.locator('[data-chart="curves"]').locator("..")).to_contain_text("600 points")
    # the kernel's system/ metrics come last in the metric choices, in their own group
    metric = compare.get_by_label("Metric", exact=True)
    expect(metric.locator("option").last).to_have_attribute(
        "value", "system/process_memory_rss_megabytes"
    )
    expect(metric.locator("optgroup")).to_have_attribute("label", "System (kernel process)")
    snapshot(page, compare, artifacts_dir, "compare")

    # the run summary after a %%track cell (display data drawn by the extension's renderer)
    summary = cell(page, 4).locator(".jp-Track-summaryRenderer.jp-Track-summaryw")
    expect(summary).to_contain_text("summary-demo", timeout=LONG)
    expect(summary).to_contain_text("FINISHED")
    expect(summary.locator("tr", has_text="loss")).to_contain_text("0.42")
    button = summary.get_by_role("button", name="Open in sidebar")
    expect(button).to_be_visible()
    # the widget form, against a previous run: changed params and metric deltas are marked
    versus = cell(page, 5).locator(".jp-Track-summaryw:not(.jp-Track-summaryRenderer)")
    expect(versus.locator("tr", has_text="lr").locator(".jp-Track-w-changed")).to_have_text("0.01")
    expect(versus.locator("tr", has_text="lr")).to_contain_text("was 0.1")
    expect(versus.locator("tr", has_text="val_loss").locator(".jp-Track-w-down")).to_be_visible()
    snapshot(page, versus, artifacts_dir, "summary")

    # the registry: versions and aliases; an alias moved from the browser is audited
    registry = cell(page, 6).locator(".jp-Track-models")
    model = registry.locator('[data-model="churn"]')
    expect(model.locator("tbody tr")).to_have_count(2, timeout=LONG)
    expect(model.locator('[data-alias="champion"]')).to_contain_text("v1")
    model.locator('tr[data-version="2"] input').fill("champion")
    model.locator('tr[data-version="2"]').get_by_role("button", name="Set").click()
    expect(registry.locator('[role="status"]')).to_contain_text(
        "@champion now points to version 2", timeout=LONG
    )
    expect(model.locator('[data-alias="champion"]')).to_contain_text("v2")
    assert lab_server.store().get_model_version_by_alias("churn", "champion").version == 2
    snapshot(page, registry, artifacts_dir, "models")

    # last (it opens a side panel, which narrows the notebook): the summary's button
    if page.evaluate("document.body.dataset.jpTrackSidebar") == "true":
        # the extension is here: the button opens the run in its panel
        expect(button).to_be_enabled()
        button.click()
        sidebar = page.locator("#jupyter-track-sidebar")
        expect(sidebar).to_be_visible(timeout=LONG)
        expect(sidebar).to_contain_text("summary-demo", timeout=LONG)
    else:  # without it the button says why it cannot
        expect(button).to_be_disabled()

    assert outside == [], f"requests left the machine: {outside}"


LIVE_CELLS = [
    "import time\nimport jupyter_track as jt\njt.set_experiment('widgets-live')",
    """chart = jt.live(["loss", "val_loss"])
with jt.start_run(run_name="training"):
    for step in range(120):
        for _ in range(50):  # 50 points per step: fast logging, few redraws
            jt.log_metric("loss", 2 / (1 + step / 10) + (_ % 7) * 0.01, step=step * 50 + _)
        jt.log_metric("val_loss", 2.1 / (1 + step / 12) + 0.1, step=step * 50)
        time.sleep(0.06)""",
]


def test_live_chart_grows_while_the_cell_runs(
    lab_server: Any, lab_page: Page, artifacts_dir: Path
) -> None:
    page = lab_page
    write_notebook(lab_server.root_dir, "live.ipynb", LIVE_CELLS)
    open_notebook(page, lab_server, "live.ipynb")
    run_all_cells(page, LONG)
    running = cell(page, 1)
    live = running.locator(".jp-Track-live")
    expect(live.locator("canvas")).to_be_visible(timeout=LONG)
    # sample while the prompt still says [*]: the logged total (status line) keeps growing and
    # the chart holds points (data-points: rows drawn, bounded, so it may shrink on coarsening)
    totals: list[int] = []
    drawn: list[int] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = live.locator(".jp-Track-w-status").inner_text()
        points = int(live.get_attribute("data-points") or 0)
        if "[*]" not in running.locator(".jp-InputPrompt").inner_text():
            break
        found = re.search(r"([\d,]+) points", status)
        if found and status.startswith("live"):
            total = int(found.group(1).replace(",", ""))
            if not totals or total != totals[-1]:
                totals.append(total)
                drawn.append(points)
        page.wait_for_timeout(150)
    assert len(totals) >= 3, (totals, drawn)
    assert totals == sorted(totals) and totals[-1] < 6120, totals  # grew before the cell ended
    assert all(0 < n <= 2000 for n in drawn[1:]), drawn
    expect(running.locator(".jp-InputPrompt")).to_contain_text("[2]", timeout=LONG)
    expect(live.locator(".jp-Track-w-status")).to_contain_text("stopped", timeout=LONG)
    expect(live.locator(".jp-Track-w-status")).to_contain_text("6,120 points")
    snapshot(page, live, artifacts_dir, "live")


README = Path(__file__).resolve().parent.parent / "README.md"


def readme_block(containing: str) -> str:
    """The README's ```python block that contains ``containing`` (as the reader pastes it)."""
    for block in re.findall(r"```python\n(.*?)```", README.read_text(), re.S):
        if containing in block:
            return str(block)
    raise AssertionError(f"no README example contains {containing!r}")


def test_readme_run_table_example_selects_visible_rows(lab_server: Any, lab_page: Page) -> None:
    """The README's run-table section, pasted into cells: the filtered table, then
    ``table.selected = rows[:2]`` selects the first two rows the table shows (not a run the
    filter hides), and every missing param or metric reads "—" (one rule for both)."""
    page = lab_page
    cells = [
        "import jupyter_track as jt\njt.set_experiment('readme-widgets')\n"
        + readme_block("for lr in (0.1, 0.03, 0.01):"),
        readme_block('table = jt.runs(filter_string="params.optimizer'),
        readme_block("table.selected = [row"),
        # a run the filter hides, logged after the table: it must not be among the selected
        "with jt.start_run(run_name='sgd-hidden'):\n"
        "    jt.log_params({'optimizer': 'sgd'})\n"
        "    jt.log_metric('val_loss', 0.0)\n"
        "print(sorted(jt.get_run(i).data.params['optimizer'] for i in table.selected))",
    ]
    write_notebook(lab_server.root_dir, "readme_table.ipynb", cells)
    open_notebook(page, lab_server, "readme_table.ipynb")
    run_all_cells(page, LONG)
    printer = cell(page, 3)
    expect(printer.locator(".jp-OutputArea-output")).to_contain_text(
        "['adam', 'adam']", timeout=LONG
    )
    table = cell(page, 1).locator(".jp-Track-runs")
    rows = table.locator("tbody tr[data-run-id]")
    expect(rows.first).to_be_visible(timeout=LONG)
    selected = table.locator("tbody tr.jp-mod-selected")
    expect(selected).to_have_count(2, timeout=LONG)
    shown = rows.evaluate_all("rows => rows.slice(0, 2).map(r => r.dataset.runId)")
    picked = selected.evaluate_all("rows => rows.map(r => r.dataset.runId)")
    assert picked == shown
    for row in selected.all():
        expect(row).to_be_visible()
    # missing values: "—" in param and metric cells alike, never a blank cell
    blank = rows.evaluate_all(
        """rows => rows.flatMap(r => [...r.querySelectorAll('td')].slice(1)
            .filter(td => !td.classList.contains('jp-Track-w-dot'))
            .filter(td => td.textContent.trim() === '')
            .map(td => r.dataset.runId + ':' + td.cellIndex))"""
    )
    assert blank == []
