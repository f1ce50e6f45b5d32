"""The ``%%track`` run summary in a real JupyterLab: display data drawn by the extension's
renderer (no widget), real kernel, Debian's Chromium.

The cell runs twice, so the second summary is against the first run of the same cell: its
changed param and its metric's change are marked. User text stays text. "Open in sidebar" opens
the run in the Track panel. After the notebook is saved and reopened with its kernel shut down,
the summary renders again from the saved output alone (a widget would need its saved state and
comm).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from jt_notebook import KERNEL_IDLE, run_all_cells, write_notebook
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

LONG = 90_000
MIME = "application/vnd.jupyter-track.run-summary+json"
NAME = "summary.ipynb"
LABEL = "<img src=x onerror=alert(1)>"

CELLS = [
    "import jupyter_track as jt\nsettings = iter([(0.1, 0.5), (0.01, 0.4)])",
    f"%%track -e summary-ui -p lr -m loss\nlabel = {LABEL!r}\nlr, loss = next(settings)",
]


def cell(page: Page, index: int) -> Any:
    return page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell").nth(index)


def open_notebook(page: Page, lab_server: Any) -> None:
    page.goto(lab_server.lab_url(NAME, reset=""))
    page.locator(".jp-NotebookPanel").first.wait_for(timeout=LONG)


def test_track_summary_renders_compares_opens_and_survives_a_reload(
    lab_server: Any, lab_page: Page
) -> None:
    page = lab_page
    write_notebook(lab_server.root_dir, NAME, CELLS)
    open_notebook(page, lab_server)
    run_all_cells(page, LONG)
    tracked = cell(page, 1)
    expect(tracked.locator(".jp-InputPrompt")).to_contain_text("[2]", timeout=LONG)
    first = tracked.locator(".jp-Track-summaryRenderer")
    expect(first).to_contain_text("FINISHED", timeout=LONG)
    # run the same cell again: the new run's summary is against the first run of this cell
    tracked.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+Enter")
    expect(tracked.locator(".jp-InputPrompt")).to_contain_text("[3]", timeout=LONG)
    summary = tracked.locator(".jp-Track-summaryRenderer")
    expect(summary).to_have_count(1)
    expect(summary.locator(".jp-Track-w-note")).to_contain_text(
        "changes against the previous run", timeout=LONG
    )
    # drawn by the renderer from the MIME type: no widget, no HTML fallback
    expect(summary).to_have_attribute("data-mime-type", MIME)
    expect(tracked.locator(".jp-Track-summary")).to_have_count(0)  # the text/html form
    expect(summary).to_contain_text("summary-ui")
    # styled like the widget (the extension loads the widgets' stylesheet)
    expect(summary.locator(".jp-Track-w-head")).to_have_css("display", "flex")
    lr = summary.locator('tr[data-kind="param"]', has_text="lr")
    expect(lr.locator(".jp-Track-w-changed")).to_have_text("0.01")
    expect(lr).to_contain_text("was 0.1")
    label = summary.locator('tr[data-kind="param"]', has_text="label")
    expect(label).to_contain_text(LABEL)  # user text is text, not markup
    expect(label.locator(".jp-Track-w-changed")).to_have_count(0)
    expect(summary.locator("img")).to_have_count(0)
    loss = summary.locator('tr[data-kind="metric"]', has_text="loss")
    expect(loss).to_contain_text("0.4")
    expect(loss.locator(".jp-Track-w-down")).to_have_text("▼ 0.1")
    run_name = summary.locator(".jp-Track-w-head b").inner_text()
    run_id = summary.locator(".jp-Track-w-head code").get_attribute("title")
    assert run_id and len(run_id) == 32
    assert lab_server.store().get_run(run_id).info.run_name == run_name

    # the button opens this run in the Track panel
    button = summary.get_by_role("button", name="Open in sidebar")
    expect(button).to_be_enabled()
    button.click()
    sidebar = page.locator("#jupyter-track-sidebar")
    expect(sidebar).to_be_visible(timeout=LONG)
    expect(sidebar).to_contain_text(run_name, timeout=LONG)

    # save, shut the kernel down, reopen: the saved output renders the summary again
    tracked.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    saved = lab_server.root_dir / NAME

    def saved_summary() -> dict[str, Any] | None:
        outputs = json.loads(saved.read_text())["cells"][1]["outputs"]
        found = [o["data"][MIME] for o in outputs if MIME in o.get("data", {})]
        return found[0] if found else None

    deadline = page.evaluate("Date.now()") + LONG
    while (payload := saved_summary()) is None or payload["run"]["run_id"] != run_id:
        assert page.evaluate("Date.now()") < deadline, "the notebook was not saved"
        page.wait_for_timeout(250)
    assert payload["params"][1]["key"] == "lr" and payload["params"][1]["changed"] is True
    lab_server.shutdown_sessions()
    page.goto(lab_server.lab_url(reset=""))
    page.locator(".jp-LabShell").wait_for(timeout=LONG)
    open_notebook(page, lab_server)
    reopened = cell(page, 1).locator(".jp-Track-summaryRenderer")
    expect(reopened).to_contain_text(run_name, timeout=LONG)
    expect(reopened.locator('tr[data-kind="param"]', has_text="lr")).to_contain_text("was 0.1")
    expect(reopened.locator(".jp-Track-w-down")).to_have_text("▼ 0.1")
    expect(page.get_by_text(KERNEL_IDLE)).to_be_visible(timeout=LONG)
    lab_server.shutdown_sessions()


def test_summary_of_a_notebook_executed_elsewhere_renders_untrusted(
    lab_server: Any, lab_page: Page, artifacts_dir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A notebook executed headlessly (nbclient, as ``jupyter nbconvert --execute`` does) and
    opened afterwards is not trusted: the renderer is safe (text only), so the summary is drawn
    by it all the same, from the saved output (no widget state exists)."""
    import nbformat
    from nbclient import NotebookClient

    page = lab_page
    monkeypatch.setenv("JUPYTER_TRACK_DB", str(lab_server.db_path))  # the lab's store
    for name in ("JUPYTER_TRACK_URI", "MLFLOW_TRACKING_URI"):  # they would win over it
        monkeypatch.delenv(name, raising=False)
    path = write_notebook(lab_server.root_dir, "executed.ipynb", [*CELLS, CELLS[1]])
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    assert "widgets" not in nb.metadata
    # and an output from a future version: a message says why it is not drawn
    future = nbformat.v4.new_code_cell("")
    future.outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={MIME: {"version": 99}, "text/plain": "run from the future"},
        )
    ]
    nb.cells.append(future)
    nbformat.write(nb, path)
    page.goto(lab_server.lab_url("executed.ipynb", reset=""))
    page.locator(".jp-NotebookPanel").first.wait_for(timeout=LONG)
    second = cell(page, 2).locator(".jp-Track-summaryRenderer")
    expect(second).to_have_attribute("data-mime-type", MIME, timeout=LONG)
    expect(second.locator('tr[data-kind="param"]', has_text="lr")).to_contain_text("was 0.1")
    expect(second.locator('tr[data-kind="metric"]', has_text="loss")).to_contain_text("▼ 0.1")
    expect(second.locator('tr[data-kind="param"]', has_text="label")).to_contain_text(LABEL)
    expect(second.locator(".jp-Track-w-changed")).to_have_css("font-weight", "600")
    run_id = second.locator(".jp-Track-w-head code").get_attribute("title")
    assert run_id and lab_server.store().get_run(run_id).data.params["lr"] == "0.01"
    expect(second.get_by_role("button", name="Open in sidebar")).to_be_enabled()
    expect(cell(page, 1).locator(".jp-Track-summaryRenderer")).to_contain_text("FINISHED")
    expect(cell(page, 3).locator(".jp-Track-summaryRenderer .jp-Track-w-error")).to_contain_text(
        "version 99 is not supported"
    )
    second.scroll_into_view_if_needed()
    second.screenshot(path=str(artifacts_dir / "summary-renderer.png"))
    lab_server.shutdown_sessions()
