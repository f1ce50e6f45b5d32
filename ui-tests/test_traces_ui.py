"""The trace view in a real JupyterLab and Debian's Chromium: the sidebar's Traces tab (list,
filter in the filter language, the view, the run link, two traces side by side, a
2,000-span agent trace) and the trace widget after a notebook cell (the same view), which
opens its trace in the sidebar."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jt_notebook import run_all_cells, write_notebook
from playwright.sync_api import Page, expect

from jupyter_track.store.traces import TraceRecord

pytestmark = pytest.mark.browser

TAB = '.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="jupyter-track-sidebar"]'
PANEL = "#jupyter-track-sidebar"
LONG = 90_000
MS = 1_000_000


@pytest.fixture(autouse=True)
def leave_a_default_workspace(lab_server: Any, lab_page: Page) -> Iterator[None]:
    yield
    lab_page.goto(lab_server.lab_url(reset=""))
    lab_page.locator(".jp-LabShell").wait_for(timeout=LONG)


def span(
    span_id: str,
    parent: str | None,
    name: str,
    kind: str,
    start: int,
    end: int,
    *,
    inputs: Any = None,
    outputs: Any = None,
    status: str = "OK",
    message: str | None = None,
    attributes: dict[str, Any] | None = None,
    events: list[Any] | None = None,
) -> tuple[Any, ...]:
    return (
        span_id,
        parent,
        name,
        kind,
        status,
        message,
        start * MS,
        end * MS,
        None if inputs is None else json.dumps(inputs),
        None if outputs is None else json.dumps(outputs),
        json.dumps(attributes) if attributes else None,
        json.dumps(events) if events else None,
    )


def seed(store: Any, experiment: str, run_id: str | None) -> dict[str, str]:
    """An agent trace with a tool-calling chat, a failed trace and a 2,000-span trace, in
    ``experiment`` (trace ids are made from its name)."""
    exp = store.get_or_create_experiment(experiment).experiment_id
    ids = {kind: f"tr-{experiment}-{kind}" for kind in ("agent", "failed", "big")}
    base = 1_800_000_000_000
    chat_in = {
        "model": "gpt-test",
        "messages": [
            {"role": "system", "content": "You answer about weather."},
            {"role": "user", "content": "Weather in Paris?"},
        ],
    }
    chat_out = {
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                        }
                    ],
                },
            }
        ]
    }
    usage = {"mlflow.chat.tokenUsage": {"input_tokens": 9, "output_tokens": 5, "total_tokens": 14}}
    agent = TraceRecord(
        trace_id=ids["agent"],
        experiment_id=exp,
        run_id=run_id,
        name="weather_agent",
        status="OK",
        start_time=base,
        end_time=base + 120,
        execution_time_ms=120,
        total_tokens=14,
        input_tokens=9,
        output_tokens=5,
        request_preview="Weather in Paris?",
        response_preview="Sunny in Paris",
        spans=[
            span(
                "a0",
                None,
                "weather_agent",
                "AGENT",
                base,
                base + 120,
                inputs={"question": "Weather in Paris?"},
                outputs="Sunny in Paris",
            ),
            span(
                "a1",
                "a0",
                "Completions",
                "CHAT_MODEL",
                base + 5,
                base + 60,
                inputs=chat_in,
                outputs=chat_out,
                attributes=usage,
            ),
            span(
                "a2",
                "a0",
                "get_weather",
                "TOOL",
                base + 62,
                base + 80,
                inputs={"city": "Paris"},
                outputs="sunny",
            ),
        ],
    )
    failed = TraceRecord(
        trace_id=ids["failed"],
        experiment_id=exp,
        name="flaky_tool",
        status="ERROR",
        start_time=base + 1000,
        end_time=base + 1010,
        execution_time_ms=10,
        spans=[
            span(
                "f0",
                None,
                "flaky_tool",
                "TOOL",
                base + 1000,
                base + 1010,
                inputs={"x": 1},
                status="ERROR",
                message="TimeoutError: upstream timed out",
                events=[
                    {
                        "name": "exception",
                        "timestamp": (base + 1009) * MS,
                        "attributes": {
                            "exception.type": "TimeoutError",
                            "exception.message": "upstream timed out",
                            "exception.stacktrace": "Traceback ...\nTimeoutError",
                        },
                    }
                ],
            ),
        ],
    )
    big_spans = [span("b0", None, "long_agent", "AGENT", base + 2000, base + 6000)]
    for i in range(1, 2000):
        parent = "b0" if i % 20 == 1 else f"b{i - 1}"
        big_spans.append(
            span(
                f"b{i}",
                parent,
                f"step-{i}",
                "TOOL" if i % 3 else "LLM",
                base + 2000 + i,
                base + 2001 + i,
                inputs={"i": i},
            )
        )
    big = TraceRecord(
        trace_id=ids["big"],
        experiment_id=exp,
        name="long_agent",
        status="OK",
        start_time=base + 2000,
        end_time=base + 6000,
        execution_time_ms=4000,
        spans=big_spans,
    )
    store.write_traces([agent, failed, big])
    return ids


def open_traces(page: Page) -> Any:
    panel = page.locator(PANEL)
    if not panel.is_visible():
        page.locator(TAB).click(timeout=LONG)
    expect(panel).to_be_visible(timeout=LONG)
    panel.locator('.lm-TabBar-tab[data-tracktab="traces"]').click()
    tab = panel.locator(".jp-Track-tracesTab")
    expect(tab).to_be_visible(timeout=LONG)
    return tab


def test_traces_tab_filter_view_compare_and_run_link(
    lab_server: Any, lab_page: Page, artifacts_dir: Path
) -> None:
    store = lab_server.store()
    run = store.create_run("0", run_name="agent-run")
    store.update_run(run.run_id, status="FINISHED")
    ids = seed(store, "ui-traces", run.run_id)
    store.set_trace_tag(ids["agent"], "user", "ana")
    page = lab_page
    page.set_viewport_size({"width": 1500, "height": 950})
    # a wide sidebar, so the tree and the detail sit side by side
    tab = open_traces(page)
    experiment = store.get_experiment_by_name("ui-traces").experiment_id
    tab.locator("select.jp-Track-traces-experiment").select_option(value=experiment)
    rows = tab.locator("tr.jp-Track-trace-row")
    expect(rows).to_have_count(3, timeout=LONG)
    expect(rows.first).to_have_attribute("data-trace-id", ids["big"])
    expect(tab.locator(f'tr[data-trace-id="{ids["agent"]}"]')).to_contain_text("Weather in Paris?")

    # the filter language, with errors shown at their position
    box = tab.locator("input.jp-Track-filter-input")
    box.fill("status = 'ERROR'")
    box.press("Enter")
    expect(rows).to_have_count(1, timeout=LONG)
    expect(rows.first).to_have_attribute("data-trace-id", ids["failed"])
    # the examples: attributes., tags., span. fields
    for text, trace in (
        ("attributes.status = 'ERROR'", "failed"),
        ("tags.user = 'ana'", "agent"),
        ("span.name = 'get_weather'", "agent"),
        ("execution_time_ms > 1000", "big"),
    ):
        box.fill(text)
        box.press("Enter")
        expect(rows).to_have_count(1, timeout=LONG)
        expect(rows.first).to_have_attribute("data-trace-id", ids[trace])
    box.fill("span.type = 'TOOL' AND execution_time_ms < 1000")
    box.press("Enter")
    expect(rows).to_have_count(2, timeout=LONG)
    box.fill("status = ")
    box.press("Enter")
    expect(tab.locator(".jp-Track-filter")).to_contain_text("position 8", timeout=LONG)
    box.fill("")
    box.press("Enter")
    expect(rows).to_have_count(3, timeout=LONG)

    # the view: tree, waterfall, chat as a conversation, tool calls, tokens
    tab.locator(f'tr[data-trace-id="{ids["agent"]}"] .jp-Track-trace-open').click()
    view = tab.locator(".jp-TraceView")
    expect(view.locator(".jp-TraceView-row")).to_have_count(3, timeout=LONG)
    expect(view.locator(".jp-TraceView-header")).to_contain_text("weather_agent")
    expect(view.locator(".jp-TraceView-header")).to_contain_text("14 tokens (9 in, 5 out)")
    expect(view.locator(".jp-TraceView-bar")).to_have_count(3)
    view.locator('.jp-TraceView-row[data-span-id="a1"]').click()
    detail = view.locator(".jp-TraceView-detail")
    expect(detail.locator(".jp-TraceView-tab.jp-mod-active")).to_have_text("Chat")
    expect(detail.locator(".jp-TraceView-msg.jp-mod-user")).to_contain_text("Weather in Paris?")
    expect(detail.locator(".jp-TraceView-toolcall-name")).to_have_text("→ get_weather")
    detail.locator('.jp-TraceView-tab[data-tab="attributes"]').click()
    expect(detail).to_contain_text("mlflow.chat.tokenUsage")
    view.locator('.jp-TraceView-row[data-span-id="a0"]').click()
    detail.locator('.jp-TraceView-tab[data-tab="outputs"]').click()
    expect(detail.locator(".jp-TraceView-tab-content")).to_contain_text("Sunny in Paris")
    view.screenshot(path=str(artifacts_dir / "traces-view.png"))

    # the run link opens the run, whose detail lists the trace and leads back to it
    view.locator(".jp-TraceView-runlink").click()
    panel = page.locator(PANEL)
    expect(panel.locator(".jp-Track-detail-name")).to_have_text("agent-run", timeout=LONG)
    listed = panel.locator(f'.jp-Track-run-traces tr[data-trace-id="{ids["agent"]}"] button')
    expect(listed).to_be_visible(timeout=LONG)
    listed.click()
    expect(tab.locator(".jp-TraceView-header")).to_contain_text("weather_agent", timeout=LONG)

    # back to the list, an error trace, then two traces side by side
    tab.get_by_role("button", name="← Traces").click()
    tab.locator(f'tr[data-trace-id="{ids["failed"]}"] .jp-Track-trace-open').click()
    expect(tab.locator(".jp-TraceView-error")).to_contain_text(
        "TimeoutError: upstream timed out", timeout=LONG
    )
    tab.get_by_role("button", name="← Traces").click()
    tab.locator(f'tr[data-trace-id="{ids["agent"]}"] input[type="checkbox"]').check()
    tab.locator(f'tr[data-trace-id="{ids["failed"]}"] input[type="checkbox"]').check()
    tab.get_by_role("button", name="Compare (2/2)").click()
    compare = tab.locator(".jp-TraceView-compare")
    expect(compare.locator(".jp-TraceView")).to_have_count(2, timeout=LONG)
    expect(compare.locator(".jp-TraceView-compare-summary tr.jp-mod-differs")).not_to_have_count(0)
    expect(compare.locator(".jp-TraceView-compare-summary")).to_contain_text("flaky_tool")
    compare.screenshot(path=str(artifacts_dir / "traces-compare.png"))


def test_a_2000_span_trace_renders(lab_server: Any, lab_page: Page) -> None:
    store = lab_server.store()
    ids = seed(store, "ui-traces-big", None)
    tab = open_traces(lab_page)
    experiment = store.get_experiment_by_name("ui-traces-big").experiment_id
    tab.locator("select.jp-Track-traces-experiment").select_option(value=experiment)
    tab.locator(f'tr[data-trace-id="{ids["big"]}"] .jp-Track-trace-open').click(timeout=LONG)
    view = tab.locator(".jp-TraceView")
    expect(view.locator(".jp-TraceView-row")).to_have_count(2000, timeout=LONG)
    # folding the root hides its 1,999 descendants
    view.locator('.jp-TraceView-row[data-span-id="b0"] .jp-TraceView-toggle').click()
    expect(view.locator(".jp-TraceView-row")).to_have_count(1)


NOTEBOOK = [
    "import jupyter_track as jt\n"
    "from jupyter_track.tracing import SpanType\n"
    "jt.set_experiment('ui-notebook-traces')\n"
    "@jt.trace(span_type=SpanType.TOOL)\n"
    "def lookup(city):\n"
    "    return f'sunny in {city}'\n"
    "@jt.trace(span_type=SpanType.AGENT)\n"
    "def agent(question):\n"
    "    with jt.start_span('plan', span_type=SpanType.CHAIN) as span:\n"
    "        span.set_outputs(['lookup'])\n"
    "    return lookup(question.split()[-1])",
    "agent('weather in Oslo')",
]


def test_the_trace_widget_after_a_cell_opens_in_the_sidebar(
    lab_server: Any, lab_page: Page, artifacts_dir: Path
) -> None:
    write_notebook(lab_server.root_dir, "traces-widget.ipynb", NOTEBOOK)
    page = lab_page
    page.goto(lab_server.lab_url("traces-widget.ipynb", reset=""))
    page.locator(".jp-NotebookPanel").first.wait_for(timeout=LONG)
    run_all_cells(page, LONG)
    cell = page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell").nth(1)
    view = cell.locator(".jp-TraceWidget .jp-TraceView")
    expect(view.locator(".jp-TraceView-row")).to_have_count(3, timeout=LONG)
    expect(view.locator(".jp-TraceView-header")).to_contain_text("agent")
    view.locator(".jp-TraceView-row", has_text="lookup").click()
    detail = view.locator(".jp-TraceView-detail")
    detail.locator('.jp-TraceView-tab[data-tab="outputs"]').click()
    expect(detail.locator(".jp-TraceView-tab-content")).to_contain_text("sunny in Oslo")
    cell.locator(".jp-TraceWidget").screenshot(path=str(artifacts_dir / "widgets-trace.png"))
    # the same trace, in the sidebar's Traces tab
    cell.get_by_role("button", name="Open in sidebar").click()
    tab = page.locator(f"{PANEL} .jp-Track-tracesTab")
    expect(tab.locator(".jp-TraceView-header")).to_contain_text("agent", timeout=LONG)
    expect(tab.locator(".jp-TraceView-row")).to_have_count(3)


def test_evaluation_runs_in_the_run_tab_and_the_compare_tab(
    lab_server: Any, lab_page: Page, artifacts_dir: Path
) -> None:
    import jupyter_track as jt
    from jupyter_track.tracing import scorers

    jt.set_tracking_uri(str(lab_server.db_path))
    try:
        jt.set_experiment("ui-evaluation")
        data = [
            {"inputs": {"q": w}, "expectations": {"expected_response": w}}
            for w in ("alpha", "beta", "gamma")
        ]
        for name, upper in (("prompt-a", set()), ("prompt-b", {"beta"})):
            jt.evaluate(
                data,
                predict_fn=lambda q, upper=upper: q.upper() if q in upper else q,
                scorers=[scorers.ExactMatch(), scorers.Contains("a")],
                run_name=name,
            )
    finally:
        jt.set_tracking_uri(None)
    page = lab_page
    panel = page.locator(PANEL)
    if not panel.is_visible():
        page.locator(TAB).click(timeout=LONG)
    runs_tab = panel.locator("#jp-Track-tab-runs")
    option = runs_tab.locator(
        "select.jp-Track-experiment option", has_text=re.compile("^ui-evaluation ")
    )
    expect(option).to_have_count(1, timeout=LONG)
    runs_tab.locator("select.jp-Track-experiment").select_option(option.get_attribute("value"))
    rows = panel.locator(".jp-Track-row")
    expect(rows).to_have_count(2, timeout=LONG)
    # one run's per-row results in its detail
    panel.locator(".jp-Track-row .jp-Track-link", has_text="prompt-b").click()
    table = panel.locator(".jp-Track-detail .jp-Track-evaluation-table")
    expect(table.locator("tbody tr")).to_have_count(3, timeout=LONG)
    expect(table.locator('tbody tr[data-row="1"] .jp-Track-score.jp-mod-fail')).to_have_count(1)
    # a row's trace opens in the Traces tab
    table.locator('tbody tr[data-row="1"]').get_by_role("button", name="trace").click()
    traces = panel.locator(".jp-Track-tracesTab")
    expect(traces.locator(".jp-TraceView-chip[data-assessment='exact_match']")).to_be_visible(
        timeout=LONG
    )
    # the two runs side by side: the row that got worse comes first
    panel.locator('.lm-TabBar-tab[data-tracktab="runs"]').click()
    for name in ("prompt-a", "prompt-b"):
        panel.locator(".jp-Track-row", has=page.locator(".jp-Track-link", has_text=name)).locator(
            "input[type=checkbox]"
        ).check()
    panel.locator(".jp-Track-compare-button").click()
    compare = panel.locator(".jp-Track-evaluation-compare")
    expect(compare.locator("tbody tr")).to_have_count(3, timeout=LONG)
    worse = compare.locator("tbody tr.jp-mod-worse")
    expect(worse).to_have_count(1)
    expect(worse).to_contain_text("beta")
    expect(compare.locator('[data-scorer="exact_match"]')).to_have_text(
        "exact_match: 1 worse, 0 better"
    )
    compare.screenshot(path=str(artifacts_dir / "evaluation-compare.png"))
