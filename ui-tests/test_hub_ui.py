"""The Track panel in alice's JupyterLab on a real JupyterHub: it opens on the team store (the
badge says so), shows bob's run, and switches to alice's personal store and back.

alice logs in through the hub's login form in Chromium; bob's run comes from bob's own kernel.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from test_models_ui import open_models
from test_sidebar import LONG, goto_lab, open_track, row

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def login(hub: Any, page: Page, user: str) -> None:
    """Log in through the hub's form and land in the user's JupyterLab."""
    import hubtools

    page.goto(hub.url + "hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", hubtools.PASSWORD)
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{user}/**", timeout=LONG)
    goto_lab(page, hub.url + f"user/{user}/lab?reset")


def test_alice_sees_bobs_run_in_the_team_store(hub: Any, page: Page) -> None:
    name = f"bob-ui-{uuid.uuid4().hex[:6]}"
    hub.start_server("alice")
    hub.start_server("bob")
    kernel = hub.kernel("bob")
    try:
        kernel.execute(
            "import jupyter_track as jt\n"
            f"with jt.start_run(run_name={name!r}):\n"
            "    jt.log_metric('loss', 0.25)\n"
        )
    finally:
        kernel.shutdown()

    login(hub, page, "alice")
    panel = open_track(page)

    badge = panel.locator(".jp-Track-storeBadge")
    expect(badge).to_have_text("team store", timeout=LONG)
    expect(badge).to_have_attribute("data-store", "team")
    expect(panel.locator(".jp-Track-storeline")).to_contain_text("alice @ team service")
    bob_row = row(panel, name)
    expect(bob_row).to_be_visible(timeout=LONG)
    expect(bob_row).to_contain_text("bob")

    # alice's own server's store has no run of bob's
    panel.locator(".jp-Track-storeSwitch").click()
    expect(badge).to_have_text("personal store", timeout=LONG)
    expect(row(panel, name)).to_have_count(0, timeout=LONG)
    panel.locator(".jp-Track-storeSwitch").click()
    expect(badge).to_have_text("team store", timeout=LONG)
    expect(row(panel, name)).to_be_visible(timeout=LONG)


def test_the_models_tab_shows_access_and_grants_enable_bob(hub: Any, browser: Any) -> None:
    model = f"churn-{uuid.uuid4().hex[:6]}"
    hub.start_server("alice")
    hub.start_server("bob")
    kernel = hub.kernel("alice")
    try:
        kernel.execute(
            "import jupyter_track as jt\n"
            "from jupyter_track.store import open_store\n"
            "with jt.start_run() as run:\n"
            "    pass\n"
            "store = open_store()\n"
            f"store.create_registered_model({model!r})\n"
            f"store.create_model_version({model!r}, source='runs:/' + run.info.run_id + '/m', "
            "run_id=run.info.run_id)\n"
        )
    finally:
        kernel.shutdown()

    bob = browser.new_context(viewport={"width": 1400, "height": 900})
    alice = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        bob_page = bob.new_page()
        login(hub, bob_page, "bob")
        bob_tab = open_models(bob_page, model)
        menu = bob_tab.locator('[data-version="1"] .jp-Track-versionMenu')
        expect(menu).to_be_disabled(timeout=LONG)
        expect(menu).to_have_attribute("title", re.compile("You need EDIT on this model"))
        expect(bob_tab.locator(".jp-Track-accessYou")).to_contain_text("bob")
        expect(bob_tab.locator(".jp-Track-grantButton")).to_be_disabled()

        alice_page = alice.new_page()
        login(hub, alice_page, "alice")
        alice_tab = open_models(alice_page, model)
        expect(alice_tab.locator(".jp-Track-accessYou")).to_contain_text("MANAGE")
        alice_tab.locator('input[aria-label="User or group name"]').fill("bob")
        alice_tab.locator('select[aria-label="Permission"]').select_option("EDIT")
        alice_tab.locator(".jp-Track-grantButton").click()
        granted = alice_tab.locator('.jp-Track-grant[data-principal="bob"]')
        expect(granted).to_contain_text("EDIT", timeout=LONG)
        expect(granted).to_contain_text("by alice")

        bob_tab.locator(".jp-Track-refreshModels").click()
        expect(menu).to_be_enabled(timeout=LONG)
    finally:
        bob.close()
        alice.close()


def test_the_runs_tab_shows_an_experiments_access_and_alice_makes_it_private(
    hub: Any, browser: Any
) -> None:
    """alice picks her experiment in the Runs tab: its Access section says she manages it;
    bob sees it without the right to grant. She grants bob READ and makes it private to
    everyone else (NO_PERMISSIONS to everyone); the service then answers carol's... every
    other user's lists without it, and bob keeps it."""
    experiment = f"access-ui-{uuid.uuid4().hex[:6]}"
    hub.start_server("alice")
    hub.start_server("bob")
    kernel = hub.kernel("alice")
    try:
        kernel.execute(
            "import jupyter_track as jt\n"
            f"jt.set_experiment({experiment!r})\n"
            "with jt.start_run(run_name='in-access-ui'):\n"
            "    jt.log_metric('loss', 0.5)\n"
        )
    finally:
        kernel.shutdown()

    bob = browser.new_context(viewport={"width": 1400, "height": 900})
    alice = browser.new_context(viewport={"width": 1400, "height": 900})
    try:
        bob_page = bob.new_page()
        login(hub, bob_page, "bob")
        bob_panel = open_track(bob_page)
        bob_panel.locator("select.jp-Track-experiment").select_option(label=f"{experiment} (1)")
        bob_access = bob_panel.locator(".jp-Track-experimentAccess")
        bob_access.locator("summary").click()
        expect(bob_access.locator(".jp-Track-accessYou")).to_contain_text("bob", timeout=LONG)
        expect(bob_access.locator(".jp-Track-grantButton")).to_be_disabled()
        expect(bob_access.locator("form.jp-Track-grantForm")).to_have_attribute(
            "title", re.compile("You need MANAGE on this experiment")
        )

        alice_page = alice.new_page()
        login(hub, alice_page, "alice")
        panel = open_track(alice_page)
        panel.locator("select.jp-Track-experiment").select_option(label=f"{experiment} (1)")
        access = panel.locator(".jp-Track-experimentAccess")
        access.locator("summary").click()
        expect(access.locator(".jp-Track-accessYou")).to_contain_text("MANAGE", timeout=LONG)
        access.locator('input[aria-label="User or group name"]').fill("bob")
        access.locator('select[aria-label="Permission"]').select_option("READ")
        access.locator(".jp-Track-grantButton").click()
        granted = access.locator('.jp-Track-grant[data-principal="bob"]')
        expect(granted).to_contain_text("READ", timeout=LONG)
        expect(granted).to_contain_text("by alice")
        access.locator('select[aria-label="Grant to"]').select_option("everyone")
        access.locator('select[aria-label="Permission"]').select_option("NO_PERMISSIONS")
        access.locator(".jp-Track-grantButton").click()
        expect(access.locator('.jp-Track-grant[data-principal="*"]')).to_contain_text(
            "NO_PERMISSIONS", timeout=LONG
        )
    finally:
        bob.close()
        alice.close()
    # what the service now answers: private to everyone but alice and bob, each change audited
    for user, sees in (("alice", True), ("bob", True), ("admin", True)):
        names = [e["name"] for e in hub.service("GET", "experiments", user).json()["experiments"]]
        assert (experiment in names) is sees, user
    experiment_id = next(
        e["experiment_id"]
        for e in hub.service("GET", "experiments", "alice").json()["experiments"]
        if e["name"] == experiment
    )
    grants = hub.service("GET", f"permissions/experiment/{experiment_id}", "alice").json()
    history = [(h["action"], h["principal"], h["actor"]) for h in grants["history"]]
    assert ("grant", "bob", "alice") in history, history
