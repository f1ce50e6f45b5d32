"""The Track panel in alice's JupyterLab on a real JupyterHub: it opens on the team store (the
badge says so), shows bob's run, and switches to alice's personal store and back.

alice logs in through the hub's login form in Chromium; bob's run comes from bob's own kernel.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from test_sidebar import LONG, goto_lab, open_track, row

pytestmark = [pytest.mark.browser, pytest.mark.slow]


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

    import hubtools

    page.goto(hub.url + "hub/login")
    page.fill("#username_input", "alice")
    page.fill("#password_input", hubtools.PASSWORD)
    page.click("#login_submit")
    page.wait_for_url("**/user/alice/**", timeout=LONG)
    goto_lab(page, hub.url + "user/alice/lab?reset")
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
