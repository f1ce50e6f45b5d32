"""The Models tab in a real JupyterLab and Debian's Chromium: promote, roll back, and the
compare-and-set conflict when an alias moved after the panel loaded."""

from __future__ import annotations

import getpass
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

TAB = '.jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id="jupyter-track-sidebar"]'
PANEL = "#jupyter-track-sidebar"
LONG = 60_000


@pytest.fixture(autouse=True)
def leave_a_default_workspace(lab_server: Any, lab_page: Page) -> Iterator[None]:
    """Reset the saved workspace afterwards, so later browser tests start from the default
    layout (not from a Track panel left open on the Models tab)."""
    yield
    lab_page.goto(lab_server.lab_url(reset=""))
    lab_page.locator(".jp-LabShell").wait_for(timeout=LONG)


def seed_model(store: Any, name: str, versions: int) -> list[str]:
    """Register ``versions`` real scikit-learn models as versions 1..N of ``name``."""
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    from jupyter_track.models.model import save_model
    from jupyter_track.models.resolve import register_model

    X, y = load_iris(return_X_y=True, as_frame=True)
    run_ids = []
    for i in range(1, versions + 1):
        run = store.create_run("0", run_name=f"{name}-candidate-{i}")
        store.log_metrics(run.run_id, [("accuracy", 0.80 + i / 100, 0, 0)])
        model = LogisticRegression(C=float(i), max_iter=300).fit(X, y)
        with tempfile.TemporaryDirectory() as tmp:
            save_model(model, Path(tmp) / "model", input_example=X.head(2))
            store.add_artifact(run.run_id, Path(tmp) / "model", "model")
        store.update_run(run.run_id, status="FINISHED")
        register_model(store, f"runs:/{run.run_id}/model", name, actor="seed", verified=False)
        run_ids.append(run.run_id)
    return run_ids


def track_registry_requests(page: Page) -> set[Any]:
    """The registry requests the page has in flight (a live set, kept by page events)."""
    pending: set[Any] = set()

    def started(request: Any) -> None:
        if "/registry/" in request.url:
            pending.add(request)

    def ended(request: Any) -> None:
        pending.discard(request)

    page.on("request", started)
    page.on("requestfinished", ended)
    page.on("requestfailed", ended)
    return pending


def wait_settled(page: Page, tab: Any, pending: set[Any]) -> None:
    """Every load the tab started (the refresh when it was shown, the model picked) has its
    answer: a change made in the store after this is one the panel has not seen."""
    expect(tab).to_have_attribute("aria-busy", "false", timeout=LONG)
    deadline = time.monotonic() + LONG / 1000
    while pending and time.monotonic() < deadline:
        page.wait_for_timeout(50)  # lets Playwright deliver the requests' events
    assert not pending, [r.url for r in pending]
    expect(tab).to_have_attribute("aria-busy", "false", timeout=LONG)


def open_models(page: Page, model: str) -> Any:
    """Show the Track panel's Models tab with ``model`` selected, every load it started
    answered; return the tab's locator."""
    pending = track_registry_requests(page)
    panel = page.locator(PANEL)
    if not panel.is_visible():
        page.locator(TAB).click(timeout=LONG)
    expect(panel).to_be_visible(timeout=LONG)
    panel.locator('.lm-TabBar-tab[data-tracktab="models"]').click()
    tab = panel.locator(".jp-Track-models")
    expect(tab).to_be_visible(timeout=LONG)
    option = tab.locator("select.jp-Track-modelPicker option", has_text=model)
    expect(option).to_have_count(1, timeout=LONG)
    tab.locator("select.jp-Track-modelPicker").select_option(model)
    expect(tab.locator(".jp-Track-modelName")).to_have_text(model, timeout=LONG)
    wait_settled(page, tab, pending)
    return tab


def chip(tab: Any, version: int, alias: str) -> Any:
    return tab.locator(f'[data-version="{version}"] .jp-Track-alias[data-alias="{alias}"]')


def accept_dialog(page: Page) -> None:
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_be_visible(timeout=LONG)
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    expect(dialog).to_have_count(0, timeout=LONG)


def test_promote_an_alias_from_the_version_menu(
    lab_server: Any, lab_page: Page, artifacts_dir: Path
) -> None:
    store = lab_server.store()
    seed_model(store, "ui-promote", 2)
    store.set_registered_model_alias("ui-promote", "champion", 1, actor="seed")
    page = lab_page
    tab = open_models(page, "ui-promote")
    expect(chip(tab, 1, "champion")).to_be_visible()
    row2 = tab.locator('[data-version="2"]')
    expect(row2.locator(".jp-Track-link")).to_have_text("ui-promote-candidate-2")
    expect(row2.locator(".jp-Track-metric")).to_have_text("accuracy 0.82")

    # promote: version 2's menu, "Move champion here", confirm
    row2.locator(".jp-Track-versionMenu").click()
    row2.get_by_role("menuitem", name="Move champion here (from v1)").click()
    expect(page.locator(".jp-Dialog-body")).to_contain_text(
        "Move champion of ui-promote from version 1 to version 2?"
    )
    accept_dialog(page)
    expect(chip(tab, 2, "champion")).to_be_visible(timeout=LONG)
    expect(chip(tab, 1, "champion")).to_have_count(0)
    assert store.get_aliases("ui-promote") == {"champion": 2}
    moved = store.alias_history("ui-promote", "champion")[-1]
    assert (moved.action, moved.old_value, moved.new_value) == ("set_alias", "1", "2")
    # a laptop server (a token, no hub) attributes to its owner, the OS user: a stable,
    # readable name, marked unverified (the attribution rule of server/identity.py)
    assert not moved.actor_verified and moved.actor == getpass.getuser()
    expect(tab.locator(".jp-Track-timeline li").first).to_contain_text(
        f"{getpass.getuser()} (unverified)"
    )
    first = tab.locator(".jp-Track-timeline li").first
    expect(first).to_contain_text("moved champion v1 → v2")
    # kernel-side changes (here the seeding) are marked unverified in the timeline
    registered = tab.locator('.jp-Track-timeline li[data-action="create_model_version"]')
    expect(registered.first).to_contain_text("seed (unverified)")

    # a new alias from "Set alias…": the input dialog is the confirmation
    row1 = tab.locator('[data-version="1"]')
    row1.locator(".jp-Track-versionMenu").click()
    row1.get_by_role("menuitem", name="Set alias…").click()
    page.locator(".jp-Dialog input").fill("challenger")
    accept_dialog(page)
    expect(chip(tab, 1, "challenger")).to_be_visible(timeout=LONG)
    assert store.get_aliases("ui-promote") == {"challenger": 1, "champion": 2}

    # the source run opens in the Run tab
    row2.locator(".jp-Track-link").click()
    detail = page.locator(PANEL).locator(".jp-Track-detail")
    expect(detail.locator(".jp-Track-detail-name")).to_have_text(
        "ui-promote-candidate-2", timeout=LONG
    )
    page.locator(PANEL).locator('.lm-TabBar-tab[data-tracktab="models"]').click()
    page.screenshot(path=str(artifacts_dir / "models-promote.png"))


def test_roll_back_an_alias(lab_server: Any, lab_page: Page) -> None:
    store = lab_server.store()
    seed_model(store, "ui-rollback", 2)
    store.set_registered_model_alias("ui-rollback", "champion", 1, actor="seed")
    store.set_registered_model_alias("ui-rollback", "champion", 2, actor="seed")
    page = lab_page
    tab = open_models(page, "ui-rollback")
    champion = chip(tab, 2, "champion")
    expect(champion).to_be_visible()
    champion.locator(".jp-Track-aliasChip").click()
    champion.get_by_role("menuitem", name="Roll back champion").click()
    expect(page.locator(".jp-Dialog-body")).to_contain_text("Roll champion of ui-rollback back")
    accept_dialog(page)
    expect(chip(tab, 1, "champion")).to_be_visible(timeout=LONG)
    expect(tab.locator(".jp-Track-aliasSummaryItem[data-alias=champion]")).to_have_text(
        "@champion → v1"
    )
    assert store.get_aliases("ui-rollback") == {"champion": 1}
    last = store.alias_history("ui-rollback", "champion")[-1]
    assert (last.action, last.old_value, last.new_value, last.actor_verified) == (
        "rollback_alias",
        "2",
        "1",
        False,  # a laptop server's owner, unverified (no hub authenticated anyone)
    )
    expect(tab.locator(".jp-Track-timeline li").first).to_contain_text(
        "rolled back champion v2 → v1"
    )


def test_a_stale_alias_move_is_refused_and_the_panel_refreshes(
    lab_server: Any, lab_page: Page, artifacts_dir: Path
) -> None:
    store = lab_server.store()
    seed_model(store, "ui-conflict", 3)
    store.set_registered_model_alias("ui-conflict", "champion", 1, actor="seed")
    page = lab_page
    tab = open_models(page, "ui-conflict")
    expect(chip(tab, 1, "champion")).to_be_visible()
    # someone else moves champion to version 2 after the panel loaded
    store.set_registered_model_alias("ui-conflict", "champion", 2, actor="someone-else")
    before = store.alias_history("ui-conflict", "champion")

    row3 = tab.locator('[data-version="3"]')
    row3.locator(".jp-Track-versionMenu").click()
    row3.get_by_role("menuitem", name="Move champion here (from v1)").click()
    accept_dialog(page)
    error = tab.locator(".jp-Track-models-error")
    expect(error).to_be_visible(timeout=LONG)
    expect(error).to_contain_text("now points to version 2")
    expect(error).to_contain_text("The panel was reloaded.")
    # the panel reloaded: champion is shown where it really is, and nothing was written
    expect(chip(tab, 2, "champion")).to_be_visible(timeout=LONG)
    expect(chip(tab, 1, "champion")).to_have_count(0)
    expect(chip(tab, 3, "champion")).to_have_count(0)
    assert store.get_aliases("ui-conflict") == {"champion": 2}
    assert store.alias_history("ui-conflict", "champion") == before
    expect(tab.locator(".jp-Track-timeline li").first).to_contain_text("someone-else")
    page.screenshot(path=str(artifacts_dir / "models-conflict.png"))
