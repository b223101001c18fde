"""The deputy suggestion pages as the cast of Tiandong uses them: a deputy drafts and submits, a
co-signer confirms, the office reviews and assigns, the transport bureau contacts and replies, the
deputy evaluates (once dissatisfied), a leader supervises, the office closes; and the board, the
figures and their Excel sheets. Refused or stale posts change nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import secrets
from types import SimpleNamespace
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from renda.platform import clock
from renda.platform.db import Database, Scope, set_scope
from renda.platform.identity import service as identity
from renda.platform.identity.principal import load_principal
from renda.platform.tenancy.models import Tenant
from renda.platform.timeline import TimelineEvent
from renda.tenants.deputies.models import Deputy
from renda.tenants.suggestions import page_queries, service
from renda.tenants.suggestions.models import Commitment, Cosigner, Reply, Suggestion
from renda.web import i18n
from renda.web.routes.suggestions.pages import EVENT_LABELS, STATE_LABELS

from web_support import count_statements, linked_deputy, post_form

TOKEN = re.compile(r'name="client_token" value="([^"]+)"')
STALE = "Someone changed this suggestion in the meantime. Reload it and try again."


def zh(msgid: str, **params: Any) -> str:
    """What a Chinese reader sees for a message (the catalog's text, or the msgid until translated)."""
    text = i18n.translations("zh_CN").gettext(msgid)
    return text % params if params else text


@pytest.fixture(scope="module")
def world(db: Database, cast: Any) -> SimpleNamespace:
    """Tiandong's deputy, a co-signing deputy and a court handler who can log in, all committed."""
    tag = secrets.token_hex(3)
    with db.session(Scope.system()) as s:
        tiandong = s.get(Tenant, cast.tenant.tiandong)
        assert tiandong is not None
        for name in ("tiandong_handler", "tiandong_leader"):
            identity.set_password(s, None, tiandong, getattr(cast.user, name), cast.password)
        lead = linked_deputy(s, tiandong, cast.user.tiandong_deputy, "覃永福", cast.org.pingma)
        cosigner_user = identity.create_user(s, None, tiandong, username=f"sg-cosigner-{tag}", display_name="黄丽",
                                             password=cast.password)
        identity.grant_role(s, None, tiandong, cosigner_user, role="deputy", org_unit_id=cast.org.pingma_station)
        court_user = identity.create_user(s, None, tiandong, username=f"sg-court-{tag}", display_name="法院办理人",
                                          password=cast.password)
        identity.grant_role(s, None, tiandong, court_user, role="handler", handling_unit_id=cast.unit.tiandong_court)
        s.flush()
        cosigner = linked_deputy(s, tiandong, cosigner_user.id, f"黄丽{tag}", cast.org.pingma)
        return SimpleNamespace(tag=tag, slug=cast.slug.tiandong, base=f"/t/{cast.slug.tiandong}/suggestions",
                               lead=lead, cosigner=cosigner, cosigner_name=cosigner_user.username,
                               court=court_user.username, court_id=court_user.id)


post = post_form


def state_of(db: Database, suggestion_id: int) -> Suggestion:
    with db.session(Scope.system()) as s:
        found = s.get(Suggestion, suggestion_id)
        assert found is not None
        s.expunge(found)
        return found


def version(client: TestClient, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.text
    found = re.search(r'data-version="(\d+)"', page.text)
    assert found, "the page shows the suggestion's version"
    return found.group(1)


def draft(client: TestClient, world: SimpleNamespace, title: str, **fields: Any) -> int:
    form = client.get(f"{world.base}/new")
    assert form.status_code == 200
    token = TOKEN.search(form.text)
    assert token
    response = post(client, f"{world.base}/new", {"title": title, "content": "平马镇部分村屯道路狭窄，雨天通行困难。",
                                                  "category": "交通", "term": "17", "session_no": "6",
                                                  "client_token": token.group(1), **fields})
    assert response.status_code == 303, response.text
    return int(response.headers["location"].split("?")[0].split("/")[-1])


def submitted(deputy: TestClient, world: SimpleNamespace, title: str) -> int:
    sid = draft(deputy, world, title)
    url = f"{world.base}/{sid}"
    assert post(deputy, f"{url}/submit", {"version": version(deputy, url)}).status_code == 303
    return sid


def step(client: TestClient, url: str, action: str, data: dict[str, Any] | None = None, expect: int = 303) -> Any:
    response = post(client, f"{url}/{action}", {"version": version(client, url), **(data or {})})
    assert response.status_code == expect, response.text
    return response


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


# --- revising and withdrawing -----------------------------------------------------------------------


def test_the_lead_deputy_revises_a_draft_and_only_they_and_only_while_it_is_one(
        login: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy = login(cast.username.tiandong_deputy)
    sid = draft(deputy, world, f"待修改{world.tag}", cosigners=[str(world.cosigner)])
    url = f"{world.base}/{sid}"
    page = deputy.get(url).text
    assert f'href="{url}/edit"' in page
    form = deputy.get(f"{url}/edit")
    assert form.status_code == 200 and f'value="待修改{world.tag}"' in form.text
    assert "平马镇部分村屯道路狭窄" in form.text
    assert 'id="cosigners"' in form.text and f'<option value="{world.cosigner}" selected>' in form.text

    empty = post(deputy, f"{url}/edit", {"title": "", "content": "新的内容", "category": "交通",
                                         "version": version(deputy, url)})
    assert empty.status_code == 422 and 'aria-invalid="true"' in empty.text and "新的内容" in empty.text
    assert state_of(db, sid).title == f"待修改{world.tag}"

    seen = version(deputy, url)
    saved = post(deputy, f"{url}/edit", {"title": f"已修改{world.tag}", "content": "补充了具体路段", "category": "道路",
                                         "cosigners": [str(world.cosigner)], "version": seen})
    assert saved.status_code == 303 and saved.headers["location"].endswith("?done=edit")
    revised = state_of(db, sid)
    assert (revised.title, revised.content, revised.category, revised.state) == (
        f"已修改{world.tag}", "补充了具体路段", "道路", "draft")
    assert re.findall(r'<li data-action="(\w+)"', deputy.get(url).text)[-1] == "edit"

    stale = post(deputy, f"{url}/edit", {"title": "过期的修改", "content": "x", "version": seen})
    assert stale.status_code == 409 and zh(STALE) in stale.text and 'id="conflict"' in stale.text
    assert state_of(db, sid).title == f"已修改{world.tag}"

    cosigner = login(world.cosigner_name)  # sees the draft, may not revise it
    assert cosigner.get(url).status_code == 200 and f'href="{url}/edit"' not in cosigner.get(url).text
    assert cosigner.get(f"{url}/edit").status_code == 403
    assert post(cosigner, f"{url}/edit", {"title": "附议人改的", "content": "x",
                                          "version": version(cosigner, url)}).status_code == 403
    admin = login(cast.username.tiandong_admin)  # a draft is the deputy's own
    assert admin.get(f"{url}/edit").status_code == 404
    assert post(admin, f"{url}/edit", {"title": "办公室改的", "content": "x", "version": "1"}).status_code == 404
    assert state_of(db, sid).title == f"已修改{world.tag}"

    assert post(cosigner, f"{url}/cosign").status_code == 303
    step(deputy, url, "submit")
    assert f'href="{url}/edit"' not in deputy.get(url).text
    late = deputy.get(f"{url}/edit")  # submitted meanwhile: the page as it is, and why
    assert late.status_code == 409 and 'data-state="submitted"' in late.text
    assert post(deputy, f"{url}/edit", {"title": "提交后修改", "content": "x",
                                        "version": version(deputy, url)}).status_code == 409
    assert state_of(db, sid).title == f"已修改{world.tag}"


def test_revising_the_text_asks_the_co_signers_again_and_the_list_of_co_signers_can_change(
        login: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy = login(cast.username.tiandong_deputy)
    sid = draft(deputy, world, f"附议变更{world.tag}", cosigners=[str(world.cosigner)])
    url = f"{world.base}/{sid}"
    cosigner = login(world.cosigner_name)
    assert post(cosigner, f"{url}/cosign").status_code == 303

    def cosigners_of() -> list[tuple[int, bool]]:
        with db.session(Scope.system()) as s:
            return [(c.deputy_id, c.confirmed_at is not None) for c in s.scalars(
                select(Cosigner).where(Cosigner.suggestion_id == sid))]

    assert cosigners_of() == [(world.cosigner, True)]
    content = state_of(db, sid).content
    same_words = {"title": f"附议变更{world.tag}", "content": content, "category": "道路",
                  "cosigners": [str(world.cosigner)]}
    assert post(deputy, f"{url}/edit", {**same_words, "version": version(deputy, url)}).status_code == 303
    assert cosigners_of() == [(world.cosigner, True)]  # a new category alone: the endorsement stands

    assert post(deputy, f"{url}/edit", {**same_words, "content": content + "补充：涉及那坡屯。",
                                        "version": version(deputy, url)}).status_code == 303
    assert cosigners_of() == [(world.cosigner, False)]  # they endorsed the earlier words
    timeline = deputy.get(url).text
    assert zh("The text changed: each co-signer confirms it again.") in timeline
    refused = post(deputy, f"{url}/submit", {"version": version(deputy, url)})
    assert refused.status_code in (409, 422) and state_of(db, sid).state == "draft"

    with db.session(Scope.system()) as s:  # a deputy of another county
        pingguo = s.get(Tenant, cast.tenant.pingguo)
        assert pingguo is not None and pingguo.root_org_unit_id is not None
        stranger = Deputy(tenant_id=pingguo.id, name="外县代表", level="county", term=17,
                          org_unit_id=pingguo.root_org_unit_id, user_id=cast.user.pingguo_admin)
        s.add(stranger)
        s.flush()
        stranger_id = stranger.id
    other_county = {**same_words, "cosigners": [str(stranger_id)], "version": version(deputy, url)}
    bad = post(deputy, f"{url}/edit", other_county)
    assert bad.status_code == 422 and cosigners_of() == [(world.cosigner, False)]

    dropped = post(deputy, f"{url}/edit", {k: v for k, v in same_words.items() if k != "cosigners"}
                   | {"version": version(deputy, url)})  # none selected: a browser sends no field
    assert dropped.status_code == 303 and cosigners_of() == []
    step(deputy, url, "submit")
    assert state_of(db, sid).state == "submitted"


def test_the_lead_deputy_withdraws_a_submitted_suggestion_until_it_is_reviewed(
        login: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy = login(cast.username.tiandong_deputy)
    sid = submitted(deputy, world, f"撤回{world.tag}")
    url = f"{world.base}/{sid}"
    number = state_of(db, sid).number
    page = deputy.get(url).text
    assert '<details id="step-withdraw">' in page  # offered folded: opening it is the confirmation
    stale = str(int(version(deputy, url)) - 1)
    refused = post(deputy, f"{url}/withdraw", {"version": stale})
    assert refused.status_code == 409 and zh(STALE) in refused.text and state_of(db, sid).state == "submitted"

    admin = login(cast.username.tiandong_admin)
    assert post(admin, f"{url}/withdraw", {"version": version(admin, url)}).status_code == 403
    assert state_of(db, sid).state == "submitted"

    step(deputy, url, "withdraw")
    back = state_of(db, sid)
    assert (back.state, back.number) == ("draft", number)
    page = deputy.get(url).text
    assert zh("The suggestion is withdrawn: it is a draft again and keeps its number.") in deputy.get(
        f"{url}?done=withdraw").text
    assert 'id="step-withdraw"' not in page and f'href="{url}/edit"' in page
    assert admin.get(url).status_code == 404  # a draft again: the office no longer sees it

    step(deputy, url, "submit")
    assert state_of(db, sid).number == number  # its number stays its own
    step(admin, url, "review", {"decision": "accept"})
    assert 'id="step-withdraw"' not in deputy.get(url).text
    step(deputy, url, "withdraw", expect=409)
    assert state_of(db, sid).state == "accepted"


def test_the_lead_deputy_gives_up_a_draft_and_it_leaves_every_list(
        login: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy = login(cast.username.tiandong_deputy)
    title = f"放弃的草稿{world.tag}"
    sid = draft(deputy, world, title, cosigners=[str(world.cosigner)])
    url = f"{world.base}/{sid}"
    assert '<details id="step-discard">' in deputy.get(url).text
    cosigner = login(world.cosigner_name)
    assert post(cosigner, f"{url}/discard", {"version": version(cosigner, url)}).status_code == 403
    assert state_of(db, sid).state == "draft"

    step(deputy, url, "discard")
    gone = state_of(db, sid)
    assert (gone.state, gone.number) == ("discarded", None) and gone.closed_at is not None
    page = deputy.get(f"{url}?done=discard").text
    assert zh("The draft is given up: it no longer appears in your lists.") in page
    assert 'data-state="discarded"' in page and 'id="step-' not in page and f'href="{url}/edit"' not in page
    assert title not in deputy.get(world.base).text  # out of the deputy's lists
    assert title not in cosigner.get(world.base).text
    late = post(deputy, f"{url}/submit", {"version": version(deputy, url)})
    assert late.status_code == 409 and zh("This draft was given up: nothing more can be done to it.") in late.text

    admin = login(cast.username.tiandong_admin)  # never before the office
    assert admin.get(url).status_code == 404
    assert ids(admin.get(f"{world.base}/board", params={"q": title}).text) == []


def test_the_work_lists_show_their_first_rows_how_many_there_are_and_where_the_rest_are(
        login: Any, cast: Any, db: Database, world: SimpleNamespace, board: SimpleNamespace,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(page_queries, "QUEUE_SHOWN", 1)
    deputy = login(cast.username.tiandong_deputy)
    for i in range(2):
        submitted(deputy, world, f"排队{world.tag}-{i}")
    with db.session(Scope.system()) as s:
        waiting = s.scalar(select(func.count()).select_from(Suggestion).where(
            Suggestion.tenant_id == cast.tenant.tiandong, Suggestion.state == "submitted")) or 0
        red = s.scalar(select(func.count()).select_from(Suggestion).where(
            Suggestion.tenant_id == cast.tenant.tiandong, Suggestion.state.in_(["assigned", "rehandling"]),
            Suggestion.deadline < clock.today())) or 0
    assert waiting >= 2 and red >= 3
    admin = login(cast.username.tiandong_admin)
    page = admin.get(world.base).text
    queue = page[page.index('id="review-queue"'):page.index('id="assign-queue"')]
    assert f"({waiting})" in queue and len(re.findall(r'<tr id="to-review-\d', queue)) == 1
    assert f'href="{world.base}/board?state=submitted"' in queue
    assert zh("The first %(shown)s of %(total)s are shown: see them all on the board") % {
        "shown": 1, "total": waiting} in queue
    leader = login(cast.username.tiandong_leader)
    watch = leader.get(world.base).text
    overdue = watch[watch.index('id="overdue"'):watch.index('id="key-suggestions"')]
    assert f"({red})" in overdue and len(re.findall(r'<tr id="red-\d', overdue)) == 1
    assert f'href="{world.base}/board?colour=red"' in overdue


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


# --- the board --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def board(db: Database, cast: Any, world: SimpleNamespace) -> SimpleNamespace:
    """Nine assigned suggestions of this module's tag: three red (transport), two yellow (court), four green."""
    today = clock.today()
    with db.session(Scope.system()) as s:
        tiandong = s.get(Tenant, cast.tenant.tiandong)
        assert tiandong is not None
        plan = [("red", cast.unit.tiandong_transport)] * 3 + [("yellow", cast.unit.tiandong_court)] * 2 + [
            ("green", cast.unit.tiandong_transport)] * 4
        for i, (colour, unit) in enumerate(plan):
            deputy = load_principal(s, cast.user.tiandong_deputy)
            made = service.create_draft(s, deputy, tiandong, title=f"看板{world.tag}-{colour}-{i}", content="内容",
                                        category=f"类{world.tag}", term=17, session_no=None)
            made = service.submit(s, deputy, tiandong, made.id, version=made.version)
            admin = load_principal(s, cast.user.tiandong_admin)
            made = service.review(s, admin, tiandong, made.id, decision="accept", version=made.version)
            assigned_on = today - dt.timedelta(days=120) if colour == "red" else today
            deadline = {"red": today - dt.timedelta(days=10), "yellow": today + dt.timedelta(days=5),
                        "green": None}[colour]
            service.assign(s, admin, tiandong, made.id, lead_unit_id=unit, deadline=deadline, version=made.version,
                           today=assigned_on)
            set_scope(s, Scope.system())
    return SimpleNamespace(q=f"看板{world.tag}")


def ids(html: str) -> list[str]:
    return re.findall(r'<tr id="row-(\d+)"', html)




def test_the_board_filters_by_colour_and_unit_and_counts_each_colour(
        login: Any, cast: Any, world: SimpleNamespace, board: SimpleNamespace) -> None:
    admin = login(cast.username.tiandong_admin)
    everything = admin.get(f"{world.base}/board", params={"q": board.q})
    assert everything.status_code == 200 and len(ids(everything.text)) == 9
    for colour, n in (("red", 3), ("yellow", 2), ("green", 4)):
        assert re.search(rf'data-count="{colour}">{n}<', everything.text)
        only = admin.get(f"{world.base}/board", params={"q": board.q, "colour": colour})
        assert len(ids(only.text)) == n and set(re.findall(r'<tr id="row-\d+" data-id="\d+" data-colour="(\w+)"',
                                                           only.text)) == {colour}
    court = admin.get(f"{world.base}/board", params={"q": board.q, "unit": cast.unit.tiandong_court})
    assert len(ids(court.text)) == 2 and "田东县人民法院" in court.text
    red_transport = admin.get(f"{world.base}/board", params={"q": board.q, "unit": cast.unit.tiandong_transport,
                                                             "colour": "red", "series": "t17-between"})
    assert len(ids(red_transport.text)) == 3
    paged = admin.get(f"{world.base}/board", params={"q": board.q, "per_page": 4, "page": 3})
    assert len(ids(paged.text)) == 1 and zh("Page %(page)s of %(pages)s", page=3, pages=3) in paged.text

    partial = admin.get(f"{world.base}/board", params={"q": board.q, "colour": "red"},
                        headers={"HX-Request": "true", "HX-Target": "board-rows"})
    assert partial.status_code == 200 and "<html" not in partial.text and 'id="board-filters"' not in partial.text
    assert len(ids(partial.text)) == 3
    leader = login(cast.username.tiandong_leader)
    red_list = leader.get(world.base).text
    assert 'id="overdue"' in red_list and sum(f'id="red-{i}"' in red_list for i in ids(court.text)) == 0


def test_the_board_takes_a_fixed_number_of_statements_whatever_the_page_size(
        login: Any, cast: Any, world: SimpleNamespace, board: SimpleNamespace) -> None:
    """Sign-in, tenant and header badge cost the same on every page; the board's own part stays small."""
    admin = login(cast.username.tiandong_admin)
    totals, own = [], []
    for per_page in (1, 9, 50):
        with count_statements(admin) as seen:
            response = admin.get(f"{world.base}/board", params={"q": board.q, "colour": "", "per_page": per_page})
        assert response.status_code == 200 and len(ids(response.text)) == min(per_page, 9)
        totals.append(len(seen))
        own.append([s for s in seen if re.search(r"\b(suggestions|suggestion_\w+|deputies|handling_units|"
                                                 r"tenant_settings)\b", s)])
    assert totals[0] == totals[1] == totals[2], totals
    assert len(own[2]) == 4, own[2]  # the setting, rows, colour counts, the filters' lists (one UNION)
    assert totals[0] <= 10, totals  # with sign-in (scope, user and grants, directory), tenant root, badge
    with count_statements(admin) as seen:
        partial = admin.get(f"{world.base}/board", params={"q": board.q, "unit": cast.unit.tiandong_court,
                                                           "colour": "yellow"},
                            headers={"HX-Request": "true", "HX-Target": "board-rows"})
    assert len(ids(partial.text)) == 2 and len(seen) == totals[0] - 1  # no filter lists


def test_the_board_and_the_figures_export_to_excel(
        login: Any, cast: Any, world: SimpleNamespace, board: SimpleNamespace) -> None:
    admin = login(cast.username.tiandong_admin)
    sheet = admin.get(f"{world.base}/board.xlsx", params={"q": board.q, "colour": "red"})
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = list(openpyxl.load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))
    assert rows[0][0] == zh("Number") and len(rows) == 4 and all(r[7] == zh("Overdue") for r in rows[1:])

    figures = admin.get(f"{world.base}/figures")
    assert figures.status_code == 200 and "田东县交通运输局" in figures.text and "data-chart=" in figures.text
    assert "/static/vendor/echarts.min.js" in figures.text
    assert "echarts.min.js" not in admin.get(f"{world.base}/board").text
    book = admin.get(f"{world.base}/figures.xlsx")
    table = list(openpyxl.load_workbook(io.BytesIO(book.content)).active.iter_rows(values_only=True))
    assert table[0][1] == zh("Handling unit") and any(r[1] == "田东县交通运输局" and r[6] >= 3 for r in table[1:])
    deputy = login(cast.username.tiandong_deputy)
    assert deputy.get(f"{world.base}/figures").status_code == 403
    assert deputy.get(f"{world.base}/board.xlsx").status_code == 403


def test_the_figures_add_up_by_congress_for_the_city_and_by_place_for_the_county(
        login: Any, cast: Any, db: Database, world: SimpleNamespace, board: SimpleNamespace) -> None:
    def received(tenant_id: int) -> int:
        with db.session(Scope.system()) as s:
            return s.scalar(select(func.count()).select_from(Suggestion).where(
                Suggestion.tenant_id == tenant_id, Suggestion.state.not_in(["draft", "discarded"]))) or 0

    def column(html: str, table: str, figure: str) -> dict[str, int]:
        body = html[html.index(f'id="{table}"'):]
        body = body[:body.index("</table>")]
        return {key: int(n) for key, n in re.findall(
            rf'<tr data-key="(\d+)">.*?data-figure="{figure}">(\d+)<', body, re.S)}

    admin = login(cast.username.tiandong_admin)
    ranking = admin.get(f"{world.base}/figures").text
    assert "?by=place" in ranking and "?by=congress" not in ranking  # one congress: nothing to compare it with
    county = admin.get(f"{world.base}/figures", params={"by": "place"}).text
    places = column(county, "by-place", "received")
    assert len(places) >= 1 and sum(places.values()) == received(cast.tenant.tiandong)
    assert zh("By place of the lead deputy") in county

    with db.session(Scope.system()) as s:
        city_tenant = s.get(Tenant, cast.tenant.city)
        assert city_tenant is not None
        identity.set_password(s, None, city_tenant, cast.user.city_admin, cast.password)
    city_admin = login(cast.username.city_admin)
    city = city_admin.get(f"/t/{cast.slug.baise}/suggestions/figures", params={"by": "congress"})
    assert city.status_code == 200, city.text
    congresses = column(city.text, "by-congress", "received")
    assert congresses[str(cast.tenant.tiandong)] == received(cast.tenant.tiandong)
    assert str(cast.tenant.nanning) not in congresses  # another city's county is not the city's to see
    book = city_admin.get(f"/t/{cast.slug.baise}/suggestions/figures.xlsx")
    sheets = openpyxl.load_workbook(io.BytesIO(book.content))
    assert sheets.sheetnames[1:] == [zh("By congress"), zh("By place")]
    rows = list(sheets[zh("By congress")].iter_rows(values_only=True))
    assert rows[0][:2] == (zh("Congress"), zh("Suggestions received"))
    assert ("田东县人大常委会", received(cast.tenant.tiandong)) in [r[:2] for r in rows[1:]]
