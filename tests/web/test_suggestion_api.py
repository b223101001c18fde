"""The suggestions' JSON API: the same steps as the pages, by the same people, with the same refusals,
answered as JSON {"error", "message", "fields"} (401, 403, 404, 409, 422)."""

from __future__ import annotations

import datetime as dt
import secrets
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from renda.platform import clock
from renda.platform.config import Settings
from renda.platform.db import Database, Scope
from renda.platform.identity import service as identity
from renda.platform.identity.principal import load_principal
from renda.platform.tenancy.models import Tenant
from renda.tenants.suggestions import attachments
from renda.tenants.suggestions.models import Reply, Suggestion
from renda.web import i18n

from web_support import linked_deputy

STALE = "Someone changed this suggestion in the meantime. Reload it and try again."


def zh(msgid: str) -> str:
    return i18n.translations("zh_CN").gettext(msgid)


@pytest.fixture(scope="module")
def world(db: Database, cast: Any) -> SimpleNamespace:
    tag = secrets.token_hex(3)
    with db.session(Scope.system()) as s:
        tiandong = s.get(Tenant, cast.tenant.tiandong)
        assert tiandong is not None
        for name in ("tiandong_handler", "tiandong_leader"):
            identity.set_password(s, None, tiandong, getattr(cast.user, name), cast.password)
        linked_deputy(s, tiandong, cast.user.tiandong_deputy, "覃永福", cast.org.pingma)
        cosigner = identity.create_user(s, None, tiandong, username=f"api-cosigner-{tag}", display_name="黄丽",
                                        password=cast.password)
        identity.grant_role(s, None, tiandong, cosigner, role="deputy", org_unit_id=cast.org.pingma_station)
        court = identity.create_user(s, None, tiandong, username=f"api-court-{tag}", display_name="法院办理人",
                                     password=cast.password)
        identity.grant_role(s, None, tiandong, court, role="handler", handling_unit_id=cast.unit.tiandong_court)
        s.flush()
        cosigner_deputy = linked_deputy(s, tiandong, cosigner.id, f"黄丽{tag}", cast.org.pingma)
        return SimpleNamespace(tag=tag, api=f"/api/v1/t/{cast.slug.tiandong}/suggestions", cosigner=cosigner.username,
                               cosigner_deputy=cosigner_deputy, court=court.username)


def call(client: TestClient, path: str, body: dict[str, Any] | None = None, expect: int = 200) -> Any:
    response = client.post(path, json=body or {}, headers={"x-csrftoken": client.cookies["csrftoken"]})
    assert response.status_code == expect, response.text
    return response.json()


def test_the_api_takes_a_suggestion_from_draft_to_closed(login: Any, cast: Any, db: Database,
                                                         world: SimpleNamespace) -> None:
    deputy = login(cast.username.tiandong_deputy)
    token = secrets.token_hex(8)
    body = {"title": f"接口建议{world.tag}", "content": "内容", "category": "交通", "term": 17, "session_no": None,
            "cosigner_ids": [world.cosigner_deputy], "client_token": token}
    made = call(deputy, world.api, body, expect=201)
    assert call(deputy, world.api, body, expect=201)["id"] == made["id"]  # the same token: one draft
    sid, url = made["id"], f"{world.api}/{made['id']}"
    assert made["state"] == "draft" and made["cosigners"][0]["confirmed"] is False

    refused = call(deputy, f"{url}/submit", {"version": made["version"]}, expect=422)
    assert refused["error"] == "invalid" and "cosigners" in refused["fields"]
    call(login(world.cosigner), f"{url}/cosign")
    s = call(deputy, f"{url}/submit", {"version": made["version"]})
    assert s["state"] == "submitted" and s["series"] == "t17-between" and s["number"] is not None

    admin = login(cast.username.tiandong_admin)
    s = call(admin, f"{url}/review", {"decision": "accept", "version": s["version"]})
    s = call(admin, f"{url}/assign", {"lead_unit_id": cast.unit.tiandong_transport,
                                      "co_unit_ids": [cast.unit.tiandong_court], "version": s["version"]})
    assert s["state"] == "assigned" and s["colour"] == "green" and {u["lead"] for u in s["units"]} == {True, False}

    handler = login(cast.username.tiandong_handler)
    due = (clock.today() + dt.timedelta(days=200)).isoformat()
    s = call(handler, f"{url}/reply", {"reply_class": "B", "content": "已列入计划", "signed_by": "李局长",
                                       "commitment": "明年完成", "commitment_due": due, "version": s["version"]})
    assert s["state"] == "replied" and len(s["commitments"]) == 1
    s = call(deputy, f"{url}/evaluate", {"evaluation": "dissatisfied", "comment": "太慢", "version": s["version"]})
    assert (s["state"], s["round"]) == ("rehandling", 2)
    s = call(handler, f"{url}/reply", {"reply_class": "A", "content": "已完成", "signed_by": "李局长",
                                       "version": s["version"]})
    s = call(deputy, f"{url}/evaluate", {"evaluation": "basically", "version": s["version"]})
    s = call(admin, f"{url}/close", {"version": s["version"]})
    assert s["state"] == "closed"

    detail = admin.get(url).json()
    assert [e["action"] for e in detail["timeline"]] == [
        "create", "cosign", "submit", "accept", "assign", "reply", "evaluate_dissatisfied", "reply",
        "commitment_fulfilled", "evaluate_satisfied", "close"]  # the class A reply kept round 1's promise
    assert [c["fulfilled_at"] is not None for c in detail["commitments"]] == [True]
    assert [(r["round"], r["reply_class"]) for r in detail["replies"]] == [(1, "B"), (2, "A")]
    listed = admin.get(world.api, params={"q": f"接口建议{world.tag}", "state": "closed"}).json()
    assert listed["total"] == 1 and listed["items"][0]["id"] == sid
    assert admin.get(world.api, params={"q": f"接口建议{world.tag}", "colour": "red"}).json()["total"] == 0
    with db.session(Scope.system()) as session:
        assert session.scalar(select(func.count()).select_from(Reply).where(Reply.suggestion_id == sid)) == 2


def test_the_api_refuses_as_json_and_changes_nothing(login: Any, cast: Any, db: Database,
                                                     world: SimpleNamespace) -> None:
    deputy = login(cast.username.tiandong_deputy)
    made = call(deputy, world.api, {"title": f"拒绝{world.tag}", "content": "内容", "term": 17, "session_no": 6},
                expect=201)
    url = f"{world.api}/{made['id']}"
    s = call(deputy, f"{url}/submit", {"version": made["version"]})

    admin = login(cast.username.tiandong_admin)
    stale = call(admin, f"{url}/review", {"decision": "accept", "version": s["version"] - 1}, expect=409)
    assert stale == {"error": "conflict", "message": zh(STALE), "fields": {}}
    early = call(admin, f"{url}/close", {"version": s["version"]}, expect=409)
    assert early["error"] == "conflict"
    missing = call(admin, f"{url}/review", {"decision": "accept"}, expect=422)
    assert missing["error"] == "invalid" and "version" in missing["fields"]
    wrong = call(admin, f"{url}/review", {"decision": "maybe", "version": s["version"]}, expect=422)
    assert "decision" in wrong["fields"]
    s = call(admin, f"{url}/review", {"decision": "accept", "version": s["version"]})
    s = call(admin, f"{url}/assign", {"lead_unit_id": cast.unit.tiandong_transport, "version": s["version"]})

    court = login(world.court)
    # A unit it is not assigned to gets the answer as for a suggestion that does not exist.
    denied = call(court, f"{url}/reply", {"reply_class": "A", "content": "x", "signed_by": "x",
                                          "version": s["version"]}, expect=404)
    assert denied["error"] == "not_found" and denied["message"]
    assert court.get(url).status_code == 404 and court.get(url).json()["error"] == "not_found"
    assert court.get(world.api).status_code == 403
    assert deputy.post(f"{url}/evaluate", json={"evaluation": "satisfied", "version": s["version"]},
                       headers={"x-csrftoken": deputy.cookies["csrftoken"]}).status_code == 409
    stranger = login(None)
    assert stranger.get(url).status_code == 401 and stranger.get(url).json()["error"] == "not_signed_in"
    assert admin.get(f"/api/v1/t/{cast.slug.pingguo}/suggestions/{made['id']}").status_code == 403
    with db.session(Scope.system()) as session:
        after = session.get(Suggestion, made["id"])
        assert after is not None and (after.state, after.version) == ("assigned", s["version"])
        assert session.scalar(select(func.count()).select_from(Reply).where(Reply.suggestion_id == made["id"])) == 0


def test_the_api_offers_every_step_of_the_pages(login: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    """Revising and withdrawing, the unit's contact, co-unit opinion and re-assignment request, the office
    keeping the assignment, a key suggestion and a commitment reported done: each by its own people."""
    deputy = login(cast.username.tiandong_deputy)
    made = call(deputy, world.api, {"title": f"接口全步骤{world.tag}", "content": "内容", "term": 17,
                                    "cosigner_ids": [world.cosigner_deputy]}, expect=201)
    url = f"{world.api}/{made['id']}"
    s = call(deputy, f"{url}/edit", {"title": f"接口全步骤{world.tag}", "content": "补充后的内容", "category": "道路",
                                     "cosigner_ids": [], "version": made["version"]})
    assert (s["content"], s["category"], s["cosigners"]) == ("补充后的内容", "道路", [])
    # No longer a co-signer, so the draft is out of their sight altogether.
    assert call(login(world.cosigner), f"{url}/edit", {"title": "x", "content": "x", "version": s["version"]},
                expect=404)["error"] == "not_found"
    s = call(deputy, f"{url}/submit", {"version": s["version"]})
    s = call(deputy, f"{url}/withdraw", {"version": s["version"]})
    assert s["state"] == "draft" and s["number"] is not None  # it keeps its number
    s = call(deputy, f"{url}/submit", {"version": s["version"]})

    admin = login(cast.username.tiandong_admin)
    s = call(admin, f"{url}/review", {"decision": "accept", "version": s["version"]})
    s = call(admin, f"{url}/assign", {"lead_unit_id": cast.unit.tiandong_transport,
                                      "co_unit_ids": [cast.unit.tiandong_court], "version": s["version"]})
    s = call(login(cast.username.tiandong_leader), f"{url}/key",
             {"supervisor_user_id": cast.user.tiandong_leader, "version": s["version"]})
    assert s["is_key"] is True

    handler, court = login(cast.username.tiandong_handler), login(world.court)
    s = call(handler, f"{url}/contact", {"way": "phone", "summary": "电话沟通了办理思路"})
    assert call(handler, f"{url}/contact", {"way": "telepathy", "summary": "x"}, expect=422)["fields"]
    s = call(court, f"{url}/co-opinion", {"opinion": "同意主办单位意见"})
    s = call(handler, f"{url}/reassignment-request", {"reason": "该事项属于住建部门职责", "version": s["version"]})
    assert call(court, f"{url}/keep-assignment", {"version": s["version"]}, expect=403)["error"] == "forbidden"
    s = call(admin, f"{url}/keep-assignment", {"note": "仍由交通运输局主办", "version": s["version"]})
    due = (clock.today() + dt.timedelta(days=90)).isoformat()
    s = call(handler, f"{url}/reply", {"reply_class": "B", "content": "已列入计划", "signed_by": "李局长",
                                       "commitment": "三个月内完成", "commitment_due": due, "version": s["version"]})
    commitment = s["commitments"][0]["id"]
    assert call(deputy, f"{url}/commitments/{commitment}/fulfil", {"note": "x"}, expect=403)["error"] == "forbidden"
    assert call(handler, f"{world.api}/{made['id'] + 10**6}/commitments/{commitment}/fulfil", {"note": "x"},
                expect=404)["error"] == "not_found"
    s = call(handler, f"{url}/commitments/{commitment}/fulfil", {"note": "已按承诺完成"})
    assert s["commitments"][0]["fulfilled_at"] is not None
    assert [e["action"] for e in s["timeline"]] == [
        "create", "edit", "submit", "withdraw", "submit", "accept", "assign", "mark_key", "contact", "co_opinion",
        "request_reassign", "refuse_reassign", "reply", "commitment_fulfilled"]
    assert s["attachments"] == []


def test_the_api_lists_a_drafts_documents_and_the_deputy_removes_one(
        login: Any, cast: Any, db: Database, world: SimpleNamespace, tmp_path: Any) -> None:
    deputy = login(cast.username.tiandong_deputy)
    made = call(deputy, world.api, {"title": f"接口附件{world.tag}", "content": "内容", "term": 17}, expect=201)
    other = call(deputy, world.api, {"title": f"接口附件二{world.tag}", "content": "内容", "term": 17}, expect=201)
    with db.session(Scope.system()) as s:
        tiandong = s.get(Tenant, cast.tenant.tiandong)
        assert tiandong is not None
        actor = load_principal(s, cast.user.tiandong_deputy)
        attached = attachments.attach(s, Settings(attachments_dir=tmp_path), actor, tiandong, made["id"],
                                      filename="说明.pdf", data=b"%PDF-1.7\n%%EOF\n", step="create")
        attachment_id = attached.id
    url = f"{world.api}/{made['id']}"
    listed = deputy.get(url).json()["attachments"]
    assert [(a["id"], a["filename"], a["step"]) for a in listed] == [(attachment_id, "说明.pdf", "create")]
    assert listed[0]["url"].endswith(f"/suggestions/attachments/{attachment_id}")
    assert call(deputy, f"{world.api}/{other['id']}/attachments/{attachment_id}/remove",
                {"version": other["version"]}, expect=404)["error"] == "not_found"  # not that draft's
    s = call(deputy, f"{url}/attachments/{attachment_id}/remove", {"version": made["version"]})
    assert s["attachments"] == [] and s["timeline"][-1]["data"]["filename"] == "说明.pdf"


def test_the_api_gives_up_a_draft(login: Any, cast: Any, world: SimpleNamespace) -> None:
    deputy = login(cast.username.tiandong_deputy)
    made = call(deputy, world.api, {"title": f"接口放弃{world.tag}", "content": "内容", "term": 17}, expect=201)
    url = f"{world.api}/{made['id']}"
    s = call(deputy, f"{url}/discard", {"version": made["version"]})
    assert s["state"] == "discarded" and s["timeline"][-1]["action"] == "discard"
    assert call(deputy, f"{url}/submit", {"version": s["version"]}, expect=409)["error"] == "conflict"
    admin = login(cast.username.tiandong_admin)
    assert admin.get(url).status_code == 404
    assert admin.get(world.api, params={"q": f"接口放弃{world.tag}"}).json()["total"] == 0
