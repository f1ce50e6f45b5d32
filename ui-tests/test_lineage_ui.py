"""Lineage in a real JupyterLab and Debian's Chromium: the run detail's stale flags and the
Reproduce button (the notebook it writes opens), the compare view's data warning and package
rows, and "Lineage" on a model version with its HTML report."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from test_models_ui import open_models, seed_model
from test_sidebar import choose_experiment, open_track, row

pytestmark = pytest.mark.browser

LONG = 60_000


@pytest.fixture(autouse=True)
def leave_a_default_workspace(lab_server: Any, lab_page: Page) -> Iterator[None]:
    """Reset the saved workspace afterwards (a notebook or tab left open would leak)."""
    yield
    lab_page.goto(lab_server.lab_url(reset=""))
    lab_page.locator(".jp-LabShell").wait_for(timeout=LONG)


def seed_run(store: Any, experiment: str, name: str, packages: dict[str, str], digest: str) -> str:
    exp = store.get_or_create_experiment(experiment)
    env_hash = f"env-{name}"
    store.put_environment(env_hash, "3.11.7", "Linux", packages)
    info = store.create_run(exp.experiment_id, run_name=name, environment=env_hash)
    store.set_tags(
        info.run_id,
        {
            "jt.input.train.digest": digest,
            "jt.input.train.kind": "file",
            "jt.input.train.source": "/data/train.csv",
            "jt.stale": "true",
            "jt.stale.reasons": "out-of-order",
        },
    )
    store.put_run_lineage(
        info.run_id,
        {
            "stale": True,
            "unseeded": False,
            "flags": [
                {
                    "code": "out-of-order",
                    "message": "cell [4] ran before [3], which sit above it <b>here</b>",
                    "cells": ["[4]"],
                }
            ],
            "seeds": [{"call": "random_state", "value": 42, "name": None, "cell": "tracked"}],
            "unknown": [],
            "cells": [
                {
                    "index": 0,
                    "cell_id": "c1",
                    "execution_count": 1,
                    "source": "x = 41",
                    "provides": ["x"],
                    "status": "ok",
                }
            ],
            "tracked": {"source": "%%track\ny = x + 1\n", "cell_id": "c2"},
            "cwd": None,
        },
    )
    store.log_params(info.run_id, {"C": "0.5"})
    store.update_run(info.run_id, status="FINISHED", end_time=info.start_time + 5)
    return info.run_id


def test_reproduce_from_the_run_detail_opens_the_notebook(lab_server: Any, lab_page: Page) -> None:
    store = lab_server.store()
    run_id = seed_run(store, "ui-lineage", "to-reproduce", {"numpy": "2.0.1"}, "d" * 64)
    panel = open_track(lab_page)
    choose_experiment(panel, "ui-lineage")
    row(panel, "to-reproduce").locator(".jp-Track-link").click()
    detail = panel.locator(".jp-Track-detail")
    lineage = detail.locator(".jp-Track-lineage")
    expect(lineage.locator(".jp-Track-lineage-status")).to_have_attribute(
        "data-stale", "true", timeout=LONG
    )
    flag = lineage.locator('.jp-Track-lineage-flags li[data-code="out-of-order"]')
    expect(flag).to_contain_text("sit above it <b>here</b>")  # user text shown as text
    expect(lineage.locator(".jp-Track-lineage-seeds")).to_have_text("Seeds: random_state=42")

    lineage.get_by_role("button", name="Reproduce", exact=True).click()
    done = lineage.locator(".jp-Track-lineage-result[role=status]")
    expect(done).to_contain_text(f"reproduce-{run_id[:12]}/", timeout=LONG)
    assert (lab_server.root_dir / f"reproduce-{run_id[:12]}" / "reproduce.ipynb").is_file()
    done.get_by_role("button", name="Open reproduce.ipynb").click()
    tab = lab_page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")
    expect(tab).to_contain_text("reproduce.ipynb", timeout=LONG)
    expect(lab_page.locator(".jp-NotebookPanel:visible .jp-Cell").first).to_contain_text(
        "Reproduction of run", timeout=LONG
    )

    # Again: the folder exists; the panel offers to replace it.
    panel = open_track(lab_page)
    lineage = panel.locator(".jp-Track-detail .jp-Track-lineage")
    lineage.get_by_role("button", name="Reproduce", exact=True).click()
    exists = lineage.locator(".jp-Track-lineage-result[role=alert]")
    expect(exists).to_contain_text("exists", timeout=LONG)
    exists.get_by_role("button", name="Replace it").click()
    expect(lineage.locator(".jp-Track-lineage-result[role=status]")).to_be_visible(timeout=LONG)


def test_compare_warns_about_different_data_and_lists_package_changes(
    lab_server: Any, lab_page: Page
) -> None:
    store = lab_server.store()
    seed_run(
        store, "ui-compare-lineage", "old-data", {"numpy": "1.26.4", "pandas": "2.2"}, "a" * 64
    )
    seed_run(store, "ui-compare-lineage", "new-data", {"numpy": "2.0.1", "pandas": "2.2"}, "b" * 64)
    panel = open_track(lab_page)
    choose_experiment(panel, "ui-compare-lineage")
    for name in ("old-data", "new-data"):
        row(panel, name).locator("input[type=checkbox]").check()
    panel.locator(".jp-Track-compare-button").click()
    compare = panel.locator(".jp-Track-compare")
    warning = compare.locator(".jp-Track-compare-lineage .jp-Track-warning")
    expect(warning).to_have_text("these runs trained on different data named `train`", timeout=LONG)
    data = compare.locator('tr.jp-mod-differs[data-key="data.train"] td')
    expect(data).to_have_count(2)
    assert sorted(data.all_inner_texts()) == ["a" * 12, "b" * 12]
    numpy = compare.locator('tr[data-key="environment.numpy"] td')
    assert sorted(numpy.all_inner_texts()) == ["1.26.4", "2.0.1"]
    expect(compare.locator('tr[data-key="environment.pandas"]')).to_have_count(0)


def test_model_version_lineage_in_the_models_tab(lab_server: Any, lab_page: Page) -> None:
    store = lab_server.store()
    seed_model(store, "ui-lineage-model", 1)
    store.set_registered_model_alias("ui-lineage-model", "champion", 1, actor="ana")
    tab = open_models(lab_page, "ui-lineage-model")
    version = tab.locator('.jp-Track-versionRow[data-version="1"]')
    version.get_by_role("button", name="Lineage", exact=True).click()
    card = version.locator(".jp-Track-lineage-card")
    expect(card).to_contain_text("ui-lineage-model-candidate-1", timeout=LONG)
    expect(card.locator(".jp-Track-lineage-aliases")).to_contain_text("champion")
    link = card.locator("a.jp-Track-lineage-report")
    href = link.get_attribute("href")
    assert href is not None and "versions/1/lineage?format=html" in href
    response = lab_page.request.get(href)
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "Lineage of ui-lineage-model version 1" in response.text()
