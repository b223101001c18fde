"""Signing in, the tenant boundary and the tenant switcher, in a real browser against the demo.

Assertions are on data (names, codes, URLs, status codes, the lang attribute), not on UI wording,
so they hold while the translations change.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

pytestmark = pytest.mark.e2e

# The demo's Baise counties (DESIGN §8): slug -> (name, GB/T 2260 code).
BAISE_COUNTIES = {
    "youjiang": ("右江区", "451002"),
    "tianyang": ("田阳区", "451003"),
    "tiandong": ("田东县", "451022"),
    "debao": ("德保县", "451024"),
    "napo": ("那坡县", "451026"),
    "lingyun": ("凌云县", "451027"),
    "leye": ("乐业县", "451028"),
    "tianlin": ("田林县", "451029"),
    "xilin": ("西林县", "451030"),
    "longlin": ("隆林各族自治县", "451031"),
    "jingxi": ("靖西市", "451081"),
    "pingguo": ("平果市", "451082"),
}
DEMO_PASSWORD = "renda-demo-2026"  # the demo's published password (tenants/demo.py)
CHINESE = re.compile(r"[\u4e00-\u9fff]")
PHONE = {"width": 375, "height": 812}


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def log_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Send the login form and wait for the page it leads to (the tenant home, or /login again)."""
    if path_of(page) != "/login":
        page.goto("/login")
    form = page.locator("form[action='/login']")
    form.locator("input[name='username']").fill(username)
    form.locator("input[name='password']").fill(password)
    with page.expect_navigation():
        form.locator("button[type='submit']").click()


def heading(page: Page) -> Locator:
    return page.locator("main h1").first


def test_county_staff_sign_in_in_chinese_and_stay_in_their_county(page: Page) -> None:
    page.goto("/")
    assert path_of(page) == "/login"
    assert page.locator("html").get_attribute("lang") == "zh-CN"

    log_in(page, "tiandong.admin")
    assert path_of(page) == "/t/tiandong/"
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    expect(heading(page)).to_contain_text("田东县")
    expect(heading(page)).to_contain_text("451022")

    header = page.locator("header.topbar")
    expect(header).to_contain_text("田东县")
    assert page.locator("select[name='tenant']").count() == 0, "one tenant: no switcher"
    header_text = header.inner_text()
    main_text = page.locator("main").inner_text()
    for slug, (name, code) in BAISE_COUNTIES.items():
        if slug == "tiandong":
            continue
        assert name not in header_text, f"{name} in the header of a Tiandong user"
        assert name not in main_text and code not in main_text, f"{name} on Tiandong's home page"
    assert page.locator("a[href^='/t/']:not([href^='/t/tiandong/'])").count() == 0

    response = page.goto("/t/pingguo/")
    assert response is not None and response.status == 403
    expect(page.locator("main .status")).to_have_text("403")
    assert "平果市" not in page.locator("body").inner_text(), "the 403 page names the forbidden tenant"

    response = page.goto("/t/no-such-county/")
    assert response is not None and response.status == 404
    expect(page.locator("main .status")).to_have_text("404")


def test_city_staff_switch_between_counties(page: Page) -> None:
    log_in(page, "baise.admin")
    assert path_of(page) == "/t/baise/"
    expect(heading(page)).to_contain_text("百色市")
    expect(heading(page)).to_contain_text("451000")

    switcher = page.locator("select[name='tenant']")
    expect(switcher).to_be_visible()
    expect(switcher).to_have_value("baise")
    options = switcher.locator("option")
    values = set(options.evaluate_all("os => os.map(o => o.value)"))
    assert values == {"baise", *BAISE_COUNTIES}, "the city and its twelve counties, nothing else"

    table = page.locator("main table")
    for slug, (name, code) in BAISE_COUNTIES.items():
        row = table.locator("tbody tr", has=page.locator(f"a[href='/t/{slug}/']"))
        expect(row).to_have_count(1)
        expect(row).to_contain_text(name)
        expect(row).to_contain_text(code)

    # The same figures as a chart, drawn by ECharts from the app's own copy.
    chart = page.locator("main .chart")
    expect(chart.locator("svg")).to_have_count(1)
    for name, _code in list(BAISE_COUNTIES.values())[:3]:
        expect(chart).to_contain_text(name)

    for slug in ("tiandong", "pingguo"):
        name, code = BAISE_COUNTIES[slug]
        switcher.select_option(slug)  # the form submits itself on change
        page.wait_for_url(f"**/t/{slug}/")
        expect(heading(page)).to_contain_text(name)
        expect(heading(page)).to_contain_text(code)
        expect(page.locator("select[name='tenant']")).to_have_value(slug)
        assert page.locator("main table").count() == 0, "a county home lists no counties"


def test_city_staff_get_403_and_404_pages_outside_their_city(page: Page) -> None:
    log_in(page, "baise.admin")
    assert path_of(page) == "/t/baise/"

    response = page.goto("/t/longan/")  # Long'an belongs to Nanning, not Baise
    assert response is not None and response.status == 403
    expect(page.locator("main .status")).to_have_text("403")
    expect(page.locator("select[name='tenant']")).to_be_visible()

    response = page.goto("/t/no-such-county/")
    assert response is not None and response.status == 404
    expect(page.locator("main .status")).to_have_text("404")

    response = page.goto("/switch?tenant=longan")
    assert response is not None and response.status == 404


@pytest.mark.parametrize(("username", "slug", "name", "shot"), [
    ("tiandong.admin", "tiandong", "田东县", "home-phone"),
    ("baise.admin", "baise", "百色市", "city-home-phone"),  # the switcher and the counties table
])
def test_home_page_fits_a_phone(browser: Browser, server: str, backend: str, artifacts: Path,
                                username: str, slug: str, name: str, shot: str) -> None:
    context = browser.new_context(base_url=server, locale="zh-CN", viewport=PHONE, device_scale_factor=2,
                                  is_mobile=True, has_touch=True)
    try:
        page = context.new_page()
        log_in(page, username)
        assert path_of(page) == f"/t/{slug}/"
        expect(heading(page)).to_contain_text(name)
        page.screenshot(path=str(artifacts / f"{shot}-{backend}.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"
    finally:
        context.close()


def test_wrong_password_then_sign_out(page: Page) -> None:
    page.goto("/login")
    log_in(page, "tiandong.admin", "not-the-password")
    assert path_of(page) == "/login"
    alert = page.locator(".alert.error[role='alert']")
    expect(alert).to_be_visible()
    assert CHINESE.search(alert.inner_text()), f"the error is not in Chinese: {alert.inner_text()!r}"
    expect(page.locator("input[name='username']")).to_have_value("tiandong.admin")

    log_in(page, "tiandong.admin")  # also clears the account's failure count
    assert path_of(page) == "/t/tiandong/"
    menu = page.locator("details.usermenu")
    menu.locator("summary").click()
    expect(menu).to_have_attribute("open", "")
    with page.expect_navigation():
        menu.locator("form[action='/logout'] button[type='submit']").click()
    assert path_of(page) == "/login"

    page.goto("/t/tiandong/")  # the session is gone
    assert path_of(page) == "/login"


def test_htmx_comes_from_the_app_itself(page: Page, traffic: Any, server: str) -> None:
    log_in(page, "baise.admin")
    assert path_of(page) == "/t/baise/"
    assert page.evaluate('typeof htmx !== "undefined"') is True
    assert f"{server}/static/vendor/htmx.min.js" in traffic.requests

    # an htmx-boosted switch (no full page load) stays on the server too
    page.locator("select[name='tenant']").select_option("jingxi")
    page.wait_for_url("**/t/jingxi/")
    expect(heading(page)).to_contain_text("靖西市")
    assert page.evaluate('typeof htmx !== "undefined"') is True

    assert traffic.hosts() == {"127.0.0.1"}, f"requests left the server: {sorted(traffic.hosts())}"
    assert not traffic.page_errors, traffic.page_errors
