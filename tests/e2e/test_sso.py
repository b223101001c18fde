"""Single sign-on in a real browser: the app's button, the provider's page, two tenants, logout."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def sign_in_with_unified_identity(page: Page, server: str, username: str, password: str) -> None:
    page.goto(f"{server}/login")
    page.get_by_role("link", name="统一身份认证登录").click()
    page.wait_for_selector("input[name=password]")  # the provider's own sign-in page
    assert not page.url.startswith(server)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("#kc-login")
    page.wait_for_url(re.compile(re.escape(server) + r"/t/[a-z0-9-]+/$"))


def test_unified_identity_user_lands_in_their_county(page: Page, server: str, sso_password: str) -> None:
    sign_in_with_unified_identity(page, server, "kc.tiandong", sso_password)
    assert page.url == f"{server}/t/tiandong/"
    expect(page.locator("main h1")).to_contain_text("田东县")
    expect(page.locator("select[name=tenant]")).to_have_count(0)  # one county: no switcher
    assert page.goto(f"{server}/t/pingguo/").status == 403


def test_one_sign_in_two_tenants_and_logout_ends_both_sessions(page: Page, server: str,
                                                              sso_password: str) -> None:
    sign_in_with_unified_identity(page, server, "kc.two", sso_password)
    switcher = page.locator("select[name=tenant]")
    assert set(switcher.locator("option").evaluate_all("os => os.map(o => o.value)")) == {"tiandong", "pingguo"}
    for slug, code in (("pingguo", "451082"), ("tiandong", "451022")):
        if page.url != f"{server}/t/{slug}/":
            switcher.select_option(slug)
            page.wait_for_url(f"**/t/{slug}/")
        expect(page.locator("main h1")).to_contain_text(code)

    page.locator("details.usermenu summary").click()
    page.get_by_role("button", name="退出登录").click()
    page.wait_for_url(f"{server}/login**")
    # The provider's session ended too: the button leads to its sign-in form again.
    page.get_by_role("link", name="统一身份认证登录").click()
    page.wait_for_selector("input[name=password]")
    assert not page.url.startswith(server)
