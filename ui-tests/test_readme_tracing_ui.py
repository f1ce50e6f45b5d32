"""The README's tracing walkthrough, step by step, in a real JupyterLab and Chromium: its code
blocks (taken from README.md, not copied) run as notebook cells against an OpenAI-compatible
server on loopback; the trace widget appears under the agent's cell with the agent's spans,
opens in the sidebar's Traces tab, and the two prompt versions' evaluation runs compare
row by row in the sidebar (every row got worse on ``no_shouting``)."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jt_notebook import run_all_cells, write_notebook
from playwright.sync_api import Page, expect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from openai_server import OpenAIServer

pytestmark = pytest.mark.browser

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = re.compile(
    r"<!-- section: tracing \(owner: [^)]*\) -->\n(.*?)<!-- end: tracing -->", re.S
)
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
PANEL = "#jupyter-track-sidebar"
TAB = '.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="jupyter-track-sidebar"]'
LONG = 120_000


def readme_block(marker: str) -> str:
    """The README tracing section's python block containing ``marker``."""
    section = SECTION.search(README.read_text())
    assert section is not None, "README has no tracing section"
    (block,) = [b for b in BLOCK.findall(section.group(1)) if marker in b]
    return block


@pytest.fixture
def llm() -> Iterator[OpenAIServer]:
    with OpenAIServer() as server:
        yield server


def test_readme_walkthrough_openai_app_notebook_sidebar_and_evaluation(
    lab_server: Any, lab_page: Page, llm: OpenAIServer, artifacts_dir: Path
) -> None:
    cells = [
        # what a reader has in their environment: a key and (here) the server's address
        f"import os\nos.environ['OPENAI_BASE_URL'] = {llm.base_url!r}\n"
        "os.environ['OPENAI_API_KEY'] = 'readme'",
        readme_block("def agent("),
        readme_block("jt.evaluate("),
    ]
    write_notebook(lab_server.root_dir, "readme-tracing.ipynb", cells)
    page = lab_page
    page.set_viewport_size({"width": 1500, "height": 950})
    page.goto(lab_server.lab_url("readme-tracing.ipynb", reset=""))
    page.locator(".jp-NotebookPanel").first.wait_for(timeout=LONG)
    run_all_cells(page, LONG)
    notebook = page.locator(".jp-NotebookPanel:visible .jp-Notebook")

    # step 1: the agent's cell prints its answer and shows its trace below
    agent_cell = notebook.locator(".jp-Cell").nth(1)
    expect(agent_cell.locator(".jp-OutputArea")).to_contain_text(
        "The tool said: sunny in Paris", timeout=LONG
    )
    view = agent_cell.locator(".jp-TraceWidget .jp-TraceView")
    rows = view.locator(".jp-TraceView-row")
    expect(rows).to_have_count(4, timeout=LONG)  # agent, Completions, get_weather, Completions
    expect(view.locator(".jp-TraceView-header")).to_contain_text("agent")
    expect(view.locator(".jp-TraceView-header")).to_contain_text("2 model calls")
    rows.nth(1).click()
    detail = view.locator(".jp-TraceView-detail")
    expect(detail.locator(".jp-TraceView-msg.jp-mod-user")).to_contain_text(
        "What is the weather in Paris?"
    )
    expect(detail.locator(".jp-TraceView-toolcall-name")).to_have_text("→ get_weather")

    # step 2: the same trace in the sidebar's Traces tab
    agent_cell.get_by_role("button", name="Open in sidebar").click()
    traces = page.locator(f"{PANEL} .jp-Track-tracesTab")
    expect(traces.locator(".jp-TraceView-header")).to_contain_text("agent", timeout=LONG)
    expect(traces.locator(".jp-TraceView-row")).to_have_count(4)

    # step 3: the evaluation cell ran both prompt versions ...
    eval_cell = notebook.locator(".jp-Cell").nth(2)
    expect(eval_cell.locator(".jp-OutputArea")).to_contain_text("no_shouting/mean", timeout=LONG)
    expect(eval_cell.locator(".jp-OutputArea-output.jp-mod-error")).to_have_count(0)
    # ... and the sidebar compares them row by row: every row got worse on no_shouting
    panel = page.locator(PANEL)
    panel.locator('.lm-TabBar-tab[data-tracktab="runs"]').click()
    runs_tab = panel.locator("#jp-Track-tab-runs")
    option = runs_tab.locator(
        "select.jp-Track-experiment option", has_text=re.compile("^prompt-versions ")
    )
    expect(option).to_have_count(1, timeout=LONG)
    runs_tab.locator("select.jp-Track-experiment").select_option(option.get_attribute("value"))
    expect(panel.locator(".jp-Track-row")).to_have_count(2, timeout=LONG)
    for name in ("v1", "v2"):
        panel.locator(
            ".jp-Track-row", has=page.locator(".jp-Track-link", has_text=re.compile(f"^{name}$"))
        ).locator("input[type=checkbox]").check()
    panel.locator(".jp-Track-compare-button").click()
    compare = panel.locator(".jp-Track-evaluation-compare")
    expect(compare.locator("tbody tr")).to_have_count(3, timeout=LONG)
    expect(compare.locator("tbody tr.jp-mod-worse")).to_have_count(3)
    expect(compare.locator('[data-scorer="no_shouting"]')).to_have_text(
        "no_shouting: 3 worse, 0 better"
    )
    compare.screenshot(path=str(artifacts_dir / "readme-evaluation-compare.png"))
