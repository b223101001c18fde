"""The deputy suggestion pages as the cast of Tiandong uses them: a deputy drafts and submits, a
co-signer confirms, the office reviews and assigns, the transport bureau contacts and replies, the
deputy evaluates (once dissatisfied), a leader supervises, the office closes; (the board and
the figures: test_suggestion_board.py). Refused or stale posts change nothing.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from types import SimpleNamespace
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from renda.platform import clock
from renda.platform.db import Database, Scope
from renda.platform.timeline import TimelineEvent
from renda.tenants.suggestions.models import Commitment, Reply, Suggestion
from renda.web import i18n
from renda.web.routes.suggestions.pages import EVENT_LABELS, STATE_LABELS

from suggestion_support import (
    STALE,
    TOKEN,
    draft,
    post,
    state_of,
    step,
    submitted,
    version,
    zh,
)

# --- the whole way --------------------------------------------------------------------------------


def test_a_suggestion_goes_from_draft_to_closed_through_the_pages_with_a_dissatisfied_round(
        login: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy = login(cast.username.tiandong_deputy)
    home = deputy.get(world.base)
    assert home.status_code == 200 and 'id="my-suggestions"' in home.text and f"{world.base}/new" in home.text

    title = f"关于加快平马镇农村公路建设的建议{world.tag}"
    form = deputy.get(f"{world.base}/new")
    token = TOKEN.search(form.text)
    assert token and str(world.cosigner) in form.text
    fields = {"title": title, "content": "平马镇部分村屯道路狭窄。", "category": "交通", "term": "17",
              "session_no": "6", "cosigners": [str(world.cosigner)], "client_token": token.group(1)}
    first = post(deputy, f"{world.base}/new", fields)
    again = post(deputy, f"{world.base}/new", fields)  # a double click: the same draft
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    url = first.headers["location"].split("?")[0]
    sid = int(url.split("/")[-1])

    refused = post(deputy, f"{url}/submit", {"version": version(deputy, url)})
    assert refused.status_code == 422 and zh("%(n)s co-signers have not confirmed yet.", n=1) in refused.text
    assert state_of(db, sid).state == "draft"

    cosigner = login(world.cosigner_name)
    waiting = cosigner.get(world.base)
    assert 'id="cosign-requests"' in waiting.text and title in waiting.text
    assert post(cosigner, f"{url}/cosign").status_code == 303
    assert 'data-confirmed="yes"' in cosigner.get(url).text

    step(deputy, url, "submit")
    number = state_of(db, sid).number
    page = deputy.get(url).text
    assert zh("Term %(term)s, session %(session)s, no. %(number)s", term=17, session=6, number=number) in page
    # nothing more for the deputy now but taking it back before the review
    assert 'data-state="submitted"' in page and re.findall(r'id="step-(\w+)"', page) == ["withdraw"]

    admin = login(cast.username.tiandong_admin)
    queue = admin.get(world.base).text
    assert 'id="review-queue"' in queue and f'id="to-review-{sid}"' in queue
    offered = admin.get(url).text
    assert 'id="step-review"' in offered and 'id="step-assign"' not in offered and 'id="step-close"' not in offered
    step(admin, url, "review", {"decision": "accept", "note": ""})
    assert f'id="to-assign-{sid}"' in admin.get(world.base).text
    step(admin, url, "assign", {"lead_unit_id": str(cast.unit.tiandong_transport),
                                "co_unit_ids": [str(cast.unit.tiandong_court)]})
    assigned = state_of(db, sid)
    assert assigned.state == "assigned" and assigned.deadline is not None
    assert str(assigned.deadline) in admin.get(url).text

    leader = login(cast.username.tiandong_leader)
    step(leader, url, "key", {"supervisor_user_id": str(cast.user.tiandong_leader)})
    assert f'id="key-{sid}"' in leader.get(world.base).text

    handler = login(cast.username.tiandong_handler)
    desk = handler.get(world.base).text
    assert f'id="unit-{sid}"' in desk and 'data-colour="green"' in desk
    step(handler, url, "contact", {"way": "visit", "summary": "到平马镇与代表当面沟通"})
    due = (clock.today() + dt.timedelta(days=200)).isoformat()
    step(handler, url, "reply", {"reply_class": "B", "content": "已列入明年计划", "signed_by": "李局长",
                                 "commitment": "明年6月底前完成道路拓宽", "commitment_due": due})
    assert state_of(db, sid).state == "replied"

    kept = step(deputy, url, "evaluate", {"evaluation": "dissatisfied", "comment": ""}, expect=422)
    assert 'aria-invalid="true"' in kept.text and 'value="dissatisfied" checked' in kept.text
    step(deputy, url, "evaluate", {"evaluation": "dissatisfied", "comment": "时间太晚，希望提前"})
    again_handled = state_of(db, sid)
    assert (again_handled.state, again_handled.round) == ("rehandling", 2)

    step(handler, url, "reply", {"reply_class": "A", "content": "已提前完成道路拓宽", "signed_by": "李局长"})
    with db.session(Scope.system()) as s:
        commitment = s.scalars(select(Commitment).where(Commitment.suggestion_id == sid)).one()
    fulfilled = post(handler, f"{world.base}/commitments/{commitment.id}/fulfil", {"note": "道路拓宽已完工"})
    assert fulfilled.status_code == 303
    step(deputy, url, "evaluate", {"evaluation": "satisfied", "comment": ""})
    step(admin, url, "close", {"note": ""})

    final = admin.get(url).text
    assert 'data-state="closed"' in final
    closed_on = re.search(r'<dt>([^<]+)</dt><dd><time id="closed-on">([\d-]+)</time>', final)
    assert closed_on and closed_on.group(1) == zh("Closed on") == "办结日期"
    assert closed_on.group(2) == clock.today().isoformat()
    actions = re.findall(r'<li data-action="(\w+)"', final)
    assert actions == ["create", "cosign", "submit", "accept", "assign", "mark_key", "contact", "reply",
                       "evaluate_dissatisfied", "reply", "commitment_fulfilled", "evaluate_satisfied", "close"]
    assert "时间太晚，希望提前" in final and "到平马镇与代表当面沟通" in final and "交通运输局办理人员" in final
    with db.session(Scope.system()) as s:
        replies = s.execute(select(Reply.round, Reply.reply_class).where(Reply.suggestion_id == sid)
                            .order_by(Reply.id)).all()
        assert [tuple(r) for r in replies] == [(1, "B"), (2, "A")]


def test_an_htmx_step_gets_the_page_content_at_once(login: Any, cast: Any, world: SimpleNamespace) -> None:
    deputy = login(cast.username.tiandong_deputy)
    sid = draft(deputy, world, f"htmx建议{world.tag}")
    url = f"{world.base}/{sid}"
    response = post(deputy, f"{url}/submit", {"version": version(deputy, url)},
                    headers={"HX-Request": "true", "HX-Target": "main"})
    assert response.status_code == 200 and "<html" not in response.text
    assert 'data-state="submitted"' in response.text and response.headers["HX-Push-Url"] == url


def test_a_stale_version_is_a_409_that_shows_the_suggestion_as_it_is(
        login: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy = login(cast.username.tiandong_deputy)
    sid = submitted(deputy, world, f"过期版本{world.tag}")
    url = f"{world.base}/{sid}"
    admin = login(cast.username.tiandong_admin)
    stale = int(version(admin, url)) - 1
    response = post(admin, f"{url}/review", {"decision": "accept", "version": str(stale)})
    assert response.status_code == 409
    assert zh(STALE) in response.text and 'id="conflict"' in response.text and 'data-state="submitted"' in response.text
    assert state_of(db, sid).state == "submitted"
    # a step the workflow does not allow now is a conflict too
    response = post(admin, f"{url}/close", {"version": version(admin, url)})
    assert response.status_code == 409 and state_of(db, sid).state == "submitted"


def test_invalid_input_is_shown_again_with_its_errors_and_nothing_is_made(
        login: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy = login(cast.username.tiandong_deputy)
    with db.session(Scope.system()) as s:
        before = s.scalar(select(func.count()).select_from(Suggestion)) or 0
    response = post(deputy, f"{world.base}/new", {"title": "", "content": f"保留的内容{world.tag}", "term": "17",
                                                  "session_no": "between", "client_token": secrets.token_hex(8)})
    assert response.status_code == 422
    assert f"保留的内容{world.tag}" in response.text and 'aria-invalid="true"' in response.text
    sid = submitted(deputy, world, f"审查退回{world.tag}")
    admin = login(cast.username.tiandong_admin)
    url = f"{world.base}/{sid}"
    returned = post(admin, f"{url}/review", {"decision": "return", "note": "", "version": version(admin, url)})
    assert returned.status_code == 422 and 'value="return" checked' in returned.text
    with db.session(Scope.system()) as s:
        assert (s.scalar(select(func.count()).select_from(Suggestion)) or 0) == before + 1
    assert state_of(db, sid).state == "submitted"
    between = state_of(db, draft(deputy, world, f"闭会期间建议{world.tag}", session_no="between"))
    assert between.series == "t17-between"


def test_a_handler_of_another_unit_can_neither_see_nor_answer_it(
        login: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy = login(cast.username.tiandong_deputy)
    sid = submitted(deputy, world, f"他单位{world.tag}")
    url = f"{world.base}/{sid}"
    admin = login(cast.username.tiandong_admin)
    step(admin, url, "review", {"decision": "accept"})
    step(admin, url, "assign", {"lead_unit_id": str(cast.unit.tiandong_transport)})
    before = state_of(db, sid)

    court = login(world.court)
    assert court.get(url).status_code == 404
    assert f'id="unit-{sid}"' not in court.get(world.base).text
    reply = post(court, f"{url}/reply", {"reply_class": "A", "content": "x", "signed_by": "x",
                                         "version": str(before.version)})
    assert reply.status_code == 404  # as for a suggestion that does not exist
    assert post(court, f"{url}/contact", {"way": "phone", "summary": "x",
                                          "version": str(before.version)}).status_code == 404
    assert court.get(f"{world.base}/board").status_code == 403
    assert deputy.get(f"{world.base}/board").status_code == 403
    after = state_of(db, sid)
    assert (after.state, after.version) == (before.state, before.version)
    with db.session(Scope.system()) as s:
        assert s.scalar(select(func.count()).select_from(Reply).where(Reply.suggestion_id == sid)) == 0
        last = s.scalars(select(TimelineEvent.action).where(TimelineEvent.subject_type == "suggestion",
                                                            TimelineEvent.subject_id == sid)
                         .order_by(TimelineEvent.id.desc())).first()
        assert last == "assign"
    other_county = court.get(f"/t/{cast.slug.pingguo}/suggestions/{sid}")
    assert other_county.status_code == 403


def test_a_unit_asks_to_be_reassigned_the_office_keeps_it_and_a_co_unit_gives_its_opinion(
        login: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy = login(cast.username.tiandong_deputy)
    sid = submitted(deputy, world, f"调整交办{world.tag}")
    url = f"{world.base}/{sid}"
    admin = login(cast.username.tiandong_admin)
    step(admin, url, "review", {"decision": "accept"})
    step(admin, url, "assign", {"lead_unit_id": str(cast.unit.tiandong_transport),
                                "co_unit_ids": [str(cast.unit.tiandong_court)], "broad": "1"})
    assert state_of(db, sid).broad

    handler = login(cast.username.tiandong_handler)
    page = handler.get(url).text
    assert 'id="step-reply"' in page and 'id="step-co_opinion"' not in page
    step(handler, url, "reassign-request", {"reason": "该事项属于住建部门职责"})
    assert state_of(db, sid).state == "reassign_requested"
    assert f'id="reassign-{sid}"' in admin.get(world.base).text
    refused = step(admin, url, "reassign-refuse", {"note": ""}, expect=422)
    assert 'aria-invalid="true"' in refused.text and state_of(db, sid).state == "reassign_requested"
    step(admin, url, "reassign-refuse", {"note": "道路建设由交通运输局主办"})
    assert state_of(db, sid).state == "assigned"

    court = login(world.court)
    page = court.get(url).text
    assert 'id="step-co_opinion"' in page and 'id="step-reply"' not in page
    step(court, url, "co-opinion", {"opinion": "同意主办单位意见"})
    timeline = admin.get(url).text
    assert re.findall(r'<li data-action="(\w+)"', timeline)[-3:] == ["request_reassign", "refuse_reassign",
                                                                      "co_opinion"]
    assert "该事项属于住建部门职责" in timeline and "同意主办单位意见" in timeline


# --- what the pages say -----------------------------------------------------------------------------


def test_the_timeline_says_what_each_person_did_never_a_state() -> None:
    chinese = i18n.translations("zh_CN")
    states = {chinese.gettext(label) for label in STATE_LABELS.values()}
    for action, label in EVENT_LABELS.items():
        said = chinese.gettext(label)
        assert said != label, f"{action}: untranslated"
        assert said not in states and not said.startswith("已"), f"{action}: {said} reads as a state"


def test_a_class_b_reply_without_its_date_is_refused_at_once_with_every_missing_field_marked(
        login: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy = login(cast.username.tiandong_deputy)
    sid = submitted(deputy, world, f"乙类答复{world.tag}")
    url = f"{world.base}/{sid}"
    admin = login(cast.username.tiandong_admin)
    step(admin, url, "review", {"decision": "accept"})
    step(admin, url, "assign", {"lead_unit_id": str(cast.unit.tiandong_transport)})
    handler = login(cast.username.tiandong_handler)
    reply = {"reply_class": "B", "content": "列入计划", "signed_by": "李局长"}

    first = step(handler, url, "reply", {**reply, "commitment": "", "commitment_due": ""}, expect=422)
    for field in ("commitment", "commitment_due"):
        assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', first.text), field
    assert zh("Give the date by which it will be done.") in first.text and 'value="B" checked' in first.text
    no_date = step(handler, url, "reply", {**reply, "commitment": "年底前完成", "commitment_due": ""}, expect=422)
    assert re.search(r'name="commitment_due"[^>]*aria-invalid="true"', no_date.text)
    assert not re.search(r'name="commitment"[^>]*aria-invalid="true"', no_date.text)
    bad_date = step(handler, url, "reply", {**reply, "commitment": "年底前完成", "commitment_due": "年底"}, expect=422)
    assert zh("Enter a date like 2027-06-30.") in bad_date.text
    with db.session(Scope.system()) as s:
        assert s.scalar(select(func.count()).select_from(Reply).where(Reply.suggestion_id == sid)) == 0
    assert state_of(db, sid).state == "assigned"


def test_the_handler_replying_again_sees_why_the_deputy_was_not_satisfied(
        login: Any, cast: Any, world: SimpleNamespace) -> None:
    deputy = login(cast.username.tiandong_deputy)
    sid = submitted(deputy, world, f"不满意意见{world.tag}")
    url = f"{world.base}/{sid}"
    admin = login(cast.username.tiandong_admin)
    step(admin, url, "review", {"decision": "accept"})
    step(admin, url, "assign", {"lead_unit_id": str(cast.unit.tiandong_transport)})
    handler = login(cast.username.tiandong_handler)
    step(handler, url, "reply", {"reply_class": "A", "content": "已解决", "signed_by": "李局长"})
    assert 'id="dissatisfaction"' not in handler.get(url).text
    step(deputy, url, "evaluate", {"evaluation": "dissatisfied", "comment": f"路面仍未硬化{world.tag}"})

    page = handler.get(url).text
    reply_form = page[page.index('id="step-reply"'):page.index("</details>", page.index('id="step-reply"'))]
    assert 'id="dissatisfaction"' in reply_form and f"路面仍未硬化{world.tag}" in reply_form
    assert 'id="dissatisfaction"' not in deputy.get(url).text  # beside the reply form, for those who reply


def test_the_suggestion_pages_take_their_styles_from_the_shared_stylesheet(
        login: Any, cast: Any, world: SimpleNamespace, app_client: TestClient) -> None:
    deputy = login(cast.username.tiandong_deputy)
    sid = draft(deputy, world, f"样式{world.tag}")
    for path in ("", "/new", f"/{sid}", f"/{sid}/edit"):
        page = deputy.get(f"{world.base}{path}")
        assert page.status_code == 200 and "<style" not in page.text and "/static/renda.css" in page.text, path
    sheet = app_client.get("/static/renda.css").text
    assert all(rule in sheet for rule in (".chip.red", ".timeline", ".sg-list", ".import-row-create", ".files"))
