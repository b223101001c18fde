"""One deputy suggestion from the draft to 办结 in a real browser, by the four people who take it there.

The deputy 覃永福 drafts it with a survey report (PDF) attached and submits it, the county congress
office (陆海燕) accepts and assigns it to 田东县教育局, the leader 黄振华 makes it a key suggestion under
their own supervision, the bureau's handler (梁文斌) records a contact and replies (class B with a
commitment and the signed reply document; a first try without the commitment's date is refused), the
deputy downloads the reply document and is dissatisfied, the bureau replies again (class A, with the
deputy's dissatisfaction shown beside the form), the deputy is satisfied and the office closes it. Each person has a
browser context of their own (their own cookies), and every step is taken through the pages' forms.

Assertions are on data (states, the number, units, names, dates, the timeline's steps), with Chinese
wording checked only for the domain's own terms (办理, 办结, …).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from renda.platform import clock
from renda.platform.deadlines import add_months

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "renda-demo-2026"  # the demo's published password (tenants/demo.py)
BASE = "/t/tiandong/suggestions"
PHONE = {"width": 375, "height": 812}
DEPUTY, OFFICE, LEADER, HANDLER = "覃永福", "陆海燕", "黄振华", "梁文斌"  # the demo accounts' names
UNIT = "田东县教育局"
TITLE = "关于改善田东县乡村学校校车接送条件的建议"
CONTENT = "平马镇等乡镇的部分村屯距学校较远，学生上下学依靠无资质车辆，存在安全隐患。建议增开校车线路并加强监管。"
COMMITMENT = "2027年春季学期前在平马镇增开两条校车线路"
REHANDLE_MONTHS = 1  # the tenant setting rehandle_deadline_months, left at its default in the demo
CHINESE = re.compile(r"[\u4e00-\u9fff]")
NUMBER = re.compile(r"第\s*(\d+)\s*号")
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
SURVEY, REPLY_DOC = "平马镇学生上下学情况调研.pdf", "教育局答复函.pdf"

# The timeline of a suggestion that went through every step once, and the 不满意 round twice.
EXPECTED_TIMELINE = [
    ("create", DEPUTY), ("submit", DEPUTY), ("accept", OFFICE), ("assign", OFFICE), ("mark_key", LEADER),
    ("contact", HANDLER), ("reply", HANDLER), ("evaluate_dissatisfied", DEPUTY), ("reply", HANDLER),
    ("commitment_fulfilled", HANDLER),  # the class A reply keeps round 1's commitment
    ("evaluate_satisfied", DEPUTY), ("close", OFFICE),
]


@dataclass
class Person:
    """A signed-in person: their own browser context and page, and the script errors of that page."""

    username: str
    page: Page
    errors: list[str] = field(default_factory=list)


@pytest.fixture
def sign_in(browser: Browser, server: str) -> Iterator[Callable[..., Person]]:
    """sign_in(username, **context options): a new browser context, signed in; all closed at the end."""
    contexts = []

    def open_as(username: str, **options: Any) -> Person:
        context = browser.new_context(base_url=server, locale="zh-CN", **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        person = Person(username, context.new_page())
        person.page.on("pageerror", lambda exc: person.errors.append(str(exc)))
        log_in(person.page, username)
        return person

    yield open_as
    for context in contexts:
        context.close()


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def log_in(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    page.goto("/login")
    form = page.locator("form[action='/login']")
    form.locator("input[name='username']").fill(username)
    form.locator("input[name='password']").fill(password)
    with page.expect_navigation():
        form.locator("button[type='submit']").click()
    assert path_of(page) == "/t/tiandong/", f"{username} did not land on Tiandong's home page"


# -- the suggestion's page --------------------------------------------------------------------------

def shown(page: Page) -> Locator:
    """The suggestion's heading, which carries its id, state and version."""
    return page.locator("main h1#suggestion")


def expect_state(page: Page, state: str, words: str) -> None:
    """The page shows the suggestion in ``state``, with a label that says ``words`` (a domain term)."""
    expect(shown(page)).to_have_attribute("data-state", state)
    expect(page.locator(f".sg-meta .chip[data-state='{state}']")).to_contain_text(words)


def step(page: Page, name: str) -> Locator:
    """The form of one step (opening its <details> if it is folded)."""
    details = page.locator(f"#steps details#step-{name}")
    expect(details).to_have_count(1)
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    expect(details).to_have_attribute("open", "")
    return details.locator("form")


def send(page: Page, form: Locator) -> None:
    """Send a step's form (htmx swaps #main) and wait for the new page; it must have been accepted."""
    shown(page).evaluate("h1 => { h1.dataset.before = 'yes'; }")
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        form.locator("button[type='submit']").click()
    response = sent.value
    expect(page.locator("main h1#suggestion:not([data-before])")).to_have_count(1)
    if response.status != 200:
        alerts = page.locator("main .alert, main .field-error").all_inner_texts()
        pytest.fail(f"POST {urlsplit(response.url).path} answered {response.status}: {alerts}")
    expect(page.locator("main #done")).to_be_visible()


def expect_whole(element: Locator) -> None:
    """The element lies wholly inside the window, not cut off at its edge or scrolled out of sight."""
    box = element.bounding_box()
    width = element.page.viewport_size["width"] if element.page.viewport_size else 0
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, f"{element} is cut off: {box}"


def timeline(page: Page) -> Locator:
    return page.locator("#timeline ol.timeline > li")


def last_event(page: Page, action: str) -> Locator:
    return page.locator(f"#timeline li[data-action='{action}']").last


def open_from_list(page: Page, list_id: str, suggestion_id: int, number: str) -> None:
    """Follow the suggestion's link in one of the entry page's lists, checking the row on the way."""
    page.goto(BASE)
    row = page.locator(f"table#{list_id} tr#{list_id}-{suggestion_id}")
    expect(row).to_contain_text(number)
    expect(row).to_contain_text(TITLE)
    row.locator(f"a[href='{BASE}/{suggestion_id}']").click()
    page.wait_for_url(f"**{BASE}/{suggestion_id}")
    expect(shown(page)).to_have_attribute("data-id", str(suggestion_id))


# -- the test ---------------------------------------------------------------------------------------

def test_a_suggestion_from_the_draft_to_closing_with_a_dissatisfied_round(
        sign_in: Callable[..., Person], backend: str, artifacts: Path) -> None:
    today = clock.today()
    deputy, office = sign_in("tiandong.deputy"), sign_in("tiandong.admin")
    leader, handler = sign_in("tiandong.leader"), sign_in("tiandong.handler")

    # 1. The deputy drafts the suggestion and submits it: it gets its number in session 1 of term 17.
    page = deputy.page
    page.goto(BASE)
    new_link = page.locator(f"#my-suggestions a[href='{BASE}/new']")
    assert CHINESE.search(new_link.inner_text()), "the new-suggestion link is not in Chinese"
    new_link.click()
    page.wait_for_url(f"**{BASE}/new")
    form = page.locator(f"main form[action='{BASE}/new']")
    expect(form.locator("input[name='term']")).to_have_value("17")  # the deputy's own term
    form.locator("input[name='title']").fill(TITLE)
    form.locator("textarea[name='content']").fill(CONTENT)
    form.locator("input[name='category']").fill("教育")
    form.locator("select[name='session_no']").select_option("1")
    form.locator("input[name='attachments']").set_input_files(
        {"name": SURVEY, "mimeType": "application/pdf", "buffer": PDF})
    form.locator("button[type='submit']").click()
    page.wait_for_url(re.compile(re.escape(BASE) + r"/\d+$"))
    expect_state(page, "draft", "草稿")
    expect(page.locator("#attachments")).to_contain_text(SURVEY)
    expect(last_event(page, "create").locator("a", has_text=SURVEY)).to_have_count(1)
    suggestion_id = int(shown(page).get_attribute("data-id") or 0)
    url = f"{BASE}/{suggestion_id}"
    expect(shown(page)).to_have_text(TITLE)
    expect(page.locator("main .facts")).to_contain_text(DEPUTY)
    expect(page.locator("main .facts")).to_contain_text("教育")
    assert not NUMBER.search(page.locator("#number").inner_text()), "a draft has no number yet"

    send(page, step(page, "submit"))
    expect_state(page, "submitted", "审查")
    number = page.locator("#number").inner_text().strip()
    assert NUMBER.search(number), f"no number after submitting: {number!r}"
    assert re.findall(r"\d+", number)[:2] == ["17", "1"], f"not term 17, session 1: {number!r}"
    # nothing more for the deputy until the reply but taking it back, folded until they ask for it
    expect(page.locator("#steps details")).to_have_count(1)
    expect(page.locator("#steps details#step-withdraw")).not_to_have_attribute("open", "")

    # 2. The congress office finds it in the review queue, accepts it (立案) and assigns it.
    page = office.page
    open_from_list(page, "to-review", suggestion_id, number)
    expect(page.locator("#number")).to_have_text(number)
    form = step(page, "review")
    form.locator("input[name='decision'][value='accept']").check()
    send(page, form)
    expect_state(page, "accepted", "立案")

    open_from_list(page, "to-assign", suggestion_id, number)
    form = step(page, "assign")
    form.locator("select[name='lead_unit_id']").select_option(label=UNIT)
    send(page, form)
    expect_state(page, "assigned", "办理")
    expect(page.locator("#units li", has_text=UNIT)).to_have_count(1)
    first_deadline = page.locator("#deadline").inner_text()
    assert dt.date.fromisoformat(first_deadline) > today
    expect(last_event(page, "assign")).to_contain_text(UNIT)

    # 3. The leader finds it on the supervision board and makes it a key suggestion under themselves.
    page = leader.page
    page.goto(BASE)
    page.locator(f"main a[href='{BASE}/board']").click()
    page.wait_for_url(f"**{BASE}/board")
    row = page.locator(f"table#board tr#row-{suggestion_id}")
    expect(row).to_contain_text(number)
    expect(row).to_contain_text(UNIT)
    expect(row.locator("[data-state]")).to_have_attribute("data-state", "assigned")
    row.locator(f"a[href='{url}']").click()
    page.wait_for_url(f"**{url}")
    form = step(page, "key")
    form.locator("select[name='supervisor_user_id']").select_option(label=LEADER)
    send(page, form)
    expect_state(page, "assigned", "办理")
    expect(page.locator(".sg-meta .chip.key")).to_contain_text(LEADER)
    expect(last_event(page, "mark_key")).to_contain_text(LEADER)
    page.goto(BASE)  # and it is on the leader's list of key suggestions
    expect(page.locator(f"table#key tr#key-{suggestion_id}")).to_contain_text(number)

    # 4. The bureau's handler finds it among the unit's suggestions, records a contact, replies B.
    page = handler.page
    open_from_list(page, "unit", suggestion_id, number)
    expect(page.locator(".sg-meta .chip.key")).to_be_visible()
    form = step(page, "contact")
    form.locator("select[name='way']").select_option("phone")
    form.locator("textarea[name='summary']").fill("电话联系覃永福代表，了解平马镇学生上下学的具体线路和人数。")
    send(page, form)
    expect_state(page, "assigned", "办理")
    contact = last_event(page, "contact")
    expect(contact).to_contain_text(HANDLER)
    expect(contact).to_contain_text(UNIT)
    expect(contact).to_contain_text("平马镇学生上下学")

    due = (today + dt.timedelta(days=120)).isoformat()
    form = step(page, "reply")
    commitment = form.locator("fieldset.commitment")
    form.locator("input[name='reply_class'][value='B']").check()
    expect(commitment).to_be_visible()  # shown for class B only
    form.locator("textarea[name='content']").fill("我局已将增开校车线路列入2027年工作计划，正在与交通运输部门协调。")
    form.locator("input[name='signed_by']").fill("黄建军")
    # First without the commitment: refused at once, each missing field marked under itself.
    with page.expect_response(lambda r: r.request.method == "POST") as refused:
        form.locator("button[type='submit']").click()
    assert refused.value.status == 422
    form = page.locator("#steps details#step-reply form")
    for name in ("commitment", "commitment_due"):
        expect(form.locator(f"label:has([name='{name}']) .field-error")).to_be_visible()
    expect_state(page, "assigned", "办理")
    commitment = form.locator("fieldset.commitment")
    expect(form.locator("textarea[name='content']")).to_have_value(re.compile("列入2027年工作计划"))
    commitment.locator("textarea[name='commitment']").fill(COMMITMENT)
    commitment.locator("input[name='commitment_due']").fill(due)
    form.locator("input[name='attachments']").set_input_files(
        {"name": REPLY_DOC, "mimeType": "application/pdf", "buffer": PDF})
    send(page, form)
    expect_state(page, "replied", "答复")
    expect(page.locator("#replies article[data-class='B'] a", has_text=REPLY_DOC)).to_have_count(1)
    expect(page.locator("#replies article[data-class='B']")).to_contain_text("黄建军")
    expect(page.locator("#commitments")).to_contain_text(COMMITMENT)
    expect(page.locator("#commitments")).to_contain_text(due)
    expect(page.locator("#steps")).to_have_count(0)  # the deputy's turn

    # 5. The deputy is dissatisfied: it goes back to the unit with a new deadline.
    page = deputy.page
    open_from_list(page, "mine", suggestion_id, number)
    expect(page.locator("#replies article[data-class='B']")).to_be_visible()
    with page.expect_download() as downloading:
        page.locator("#replies article[data-class='B'] a", has_text=REPLY_DOC).click()
    download = downloading.value
    assert download.suggested_filename == REPLY_DOC
    assert Path(download.path()).read_bytes() == PDF, "the reply document is not the one the bureau sent"
    form = step(page, "evaluate")
    form.locator("input[name='evaluation'][value='dissatisfied']").check()
    form.locator("textarea[name='comment']").fill("只列入计划，没有明确今年的过渡措施，请重新办理。")
    send(page, form)
    expect_state(page, "rehandling", "重新办理")
    new_deadline = page.locator("#deadline").inner_text()
    assert new_deadline != first_deadline, "the deadline did not change after 不满意"
    assert dt.date.fromisoformat(new_deadline) == add_months(today, REHANDLE_MONTHS)
    expect(page.locator(".sg-meta .chip:not(#number)", has_text=re.compile(r"(^|\D)2(\D|$)"))).to_have_count(1)
    dissatisfied = last_event(page, "evaluate_dissatisfied")
    expect(dissatisfied).to_contain_text("重新办理")
    expect(dissatisfied).to_contain_text("没有明确今年的过渡措施")
    expect(dissatisfied).to_contain_text(new_deadline)

    # 6. The handler replies again, class A.
    page = handler.page
    open_from_list(page, "unit", suggestion_id, number)
    expect_state(page, "rehandling", "重新办理")
    expect(page.locator("#deadline")).to_have_text(new_deadline)
    expect(last_event(page, "evaluate_dissatisfied")).to_contain_text("没有明确今年的过渡措施")
    form = step(page, "reply")
    expect(form.locator("#dissatisfaction")).to_contain_text("没有明确今年的过渡措施")  # beside the form
    expect(form.locator("input[name='reply_class']:checked")).to_have_count(0)  # a fresh form
    form.locator("input[name='reply_class'][value='A']").check()
    expect(form.locator("fieldset.commitment")).to_be_hidden()
    form.locator("textarea[name='content']").fill("我局已协调开通平马镇两条校车线路，本学期起运行，并建立了乘车安全台账。")
    form.locator("input[name='signed_by']").fill("黄建军")
    send(page, form)
    expect_state(page, "replied", "答复")
    replies = page.locator("#replies article")
    expect(replies).to_have_count(2)
    assert [(r.get_attribute("data-class"), r.get_attribute("data-round")) for r in replies.all()] == [
        ("B", "1"), ("A", "2")]
    kept = last_event(page, "commitment_fulfilled")  # nothing is left owing once it is solved
    expect(kept).to_contain_text(COMMITMENT)
    expect(kept).to_contain_text("第2轮A类答复")

    # 7. The deputy is satisfied.
    page = deputy.page
    page.goto(url)
    form = step(page, "evaluate")
    expect(form.locator("input[name='evaluation']:checked")).to_have_count(0)
    form.locator("input[name='evaluation'][value='satisfied']").check()
    send(page, form)
    expect_state(page, "evaluated", "评价")
    expect(page.locator("main .facts")).to_contain_text("满意")
    expect(page.locator("#steps")).to_have_count(0)

    # 8. The office closes it; the page shows it closed and the timeline has every step, in order.
    page = office.page
    page.goto(url)
    send(page, step(page, "close"))
    expect_state(page, "closed", "办结")
    expect(page.locator("#closed-on")).to_have_text(clock.today().isoformat())
    expect(page.locator(".facts")).to_contain_text("办结日期")
    expect(page.locator("#number")).to_have_text(number)
    expect(page.locator("#steps")).to_have_count(0)
    events = timeline(page)
    expect(events).to_have_count(len(EXPECTED_TIMELINE))
    actions = events.evaluate_all("lis => lis.map(li => li.dataset.action)")
    assert actions == [action for action, _ in EXPECTED_TIMELINE]
    for li, (action, actor) in zip(events.all(), EXPECTED_TIMELINE, strict=True):
        label = li.locator("strong").inner_text()
        assert CHINESE.search(label), f"the {action} entry is labelled {label!r}"
        expect(li.locator(".muted").first).to_contain_text(actor)
    times = events.locator(":scope > .muted time").all_inner_texts()
    assert times == sorted(times), f"the timeline is not in time order: {times}"
    expect(events.nth(3)).to_contain_text(UNIT)  # 交办 names the lead unit
    expect(events.nth(6)).to_contain_text("B")
    expect(events.nth(8)).to_contain_text("A")

    # The closed suggestion on a phone, as the deputy sees it: a screenshot, and nothing wider than it.
    phone = sign_in("tiandong.deputy", viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    phone.page.goto(url)
    expect_state(phone.page, "closed", "办结")
    phone.page.screenshot(path=str(artifacts / f"suggestion-closed-{backend}.png"), full_page=True)
    width = phone.page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page is {width}px wide on a {PHONE['width']}px phone"
    expect_whole(phone.page.locator(".mainnav a[aria-current='page']"))
    expect(phone.page.locator("#attachments")).to_contain_text(SURVEY)

    # The office's sections and the board's search on a phone: every section in sight, the hint whole.
    office_phone = sign_in("tiandong.admin", viewport=PHONE, is_mobile=True, has_touch=True)
    office_phone.page.goto(f"{BASE}/board")
    for link in office_phone.page.locator(".mainnav a").all():
        expect_whole(link)
    search = office_phone.page.locator("#board-filters input[name='q']")
    free, needed = search.evaluate("""i => { const s = getComputedStyle(i), c = document.createElement('canvas')
        .getContext('2d'); c.font = s.font; return [i.clientWidth - parseFloat(s.paddingLeft)
        - parseFloat(s.paddingRight), c.measureText(i.placeholder).width]; }""")
    assert needed <= free, f"the search hint needs {needed:.0f}px and has {free:.0f}px"

    for person in (deputy, office, leader, handler, phone, office_phone):
        assert not person.errors, f"script errors in {person.username}'s pages: {person.errors}"
