"""The API says which steps the caller may take on a suggestion (``actions``, the service's allowed_actions),
takes documents with the steps that carry them, as the pages do, and a step's notifications reach the inbox."""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from renda.platform.db import Database, Scope
from renda.platform.identity import service as identity
from renda.platform.tenancy.models import Tenant
from renda.tenants.suggestions.models import Reply

from web_support import app_settings, linked_deputy, new_client, sign_in

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture
def sign_in_as(database_url: str, redis_url: str | None, tmp_path: Path, cast: Any
               ) -> Iterator[Callable[[str], TestClient]]:
    """Signed-in clients of an app that keeps its files in this test's folder."""
    settings = app_settings(database_url, redis_url, attachments_dir=tmp_path)
    clients: list[TestClient] = []

    def open_(username: str) -> TestClient:
        client = new_client(settings)
        client.__enter__()
        clients.append(client)
        return sign_in(client, username, cast.password)

    yield open_
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture(scope="module")
def world(db: Database, cast: Any) -> SimpleNamespace:
    tag = secrets.token_hex(3)
    with db.session(Scope.system()) as s:
        tiandong = s.get_one(Tenant, cast.tenant.tiandong)
        identity.set_password(s, None, tiandong, cast.user.tiandong_handler, cast.password)
        linked_deputy(s, tiandong, cast.user.tiandong_deputy, "覃永福", cast.org.pingma)
        court = identity.create_user(s, None, tiandong, username=f"steps-court-{tag}", display_name="法院办理人",
                                     password=cast.password)
        identity.grant_role(s, None, tiandong, court, role="handler", handling_unit_id=cast.unit.tiandong_court)
        return SimpleNamespace(tag=tag, api=f"/api/v1/t/{cast.slug.tiandong}/suggestions", court=court.username)


def call(client: TestClient, path: str, body: dict[str, Any] | None = None, expect: int = 200) -> Any:
    response = client.post(path, json=body or {}, headers={"x-csrftoken": client.cookies["csrftoken"]})
    assert response.status_code == expect, response.text
    return response.json()


def test_each_caller_is_offered_the_steps_the_service_would_take_from_them(
        sign_in_as: Callable[[str], TestClient], cast: Any, world: SimpleNamespace) -> None:
    deputy, admin = sign_in_as(cast.username.tiandong_deputy), sign_in_as(cast.username.tiandong_admin)
    handler, court = sign_in_as(cast.username.tiandong_handler), sign_in_as(world.court)
    s = call(deputy, world.api, {"title": f"可办理的步骤{world.tag}", "content": "内容", "term": 17, "session_no": 6},
             expect=201)
    url = f"{world.api}/{s['id']}"
    assert s["actions"] == ["edit", "submit", "discard"]
    assert admin.get(url).status_code == 404  # a draft is the deputy's alone
    s = call(deputy, f"{url}/submit", {"version": s["version"]})
    assert s["actions"] == ["withdraw"]
    assert admin.get(url).json()["actions"] == ["accept", "return", "to_reference"]
    s = call(admin, f"{url}/review", {"decision": "accept", "version": s["version"]})
    s = call(admin, f"{url}/assign", {"lead_unit_id": cast.unit.tiandong_transport,
                                      "co_unit_ids": [cast.unit.tiandong_court], "version": s["version"]})
    assert s["actions"] == ["mark_key"]
    assert handler.get(url).json()["actions"] == ["request_reassign", "contact", "reply"]
    assert court.get(url).json()["actions"] == ["request_reassign", "contact", "co_opinion"]
    assert deputy.get(url).json()["actions"] == []
    due = "2099-06-30"
    s = call(handler, f"{url}/reply", {"reply_class": "B", "content": "已列入计划", "signed_by": "李局长",
                                       "commitment": "明年完成", "commitment_due": due, "version": s["version"]})
    assert [c["fulfillable"] for c in s["commitments"]] == [True]  # the unit reports it kept ("回头看")
    assert [c["fulfillable"] for c in deputy.get(url).json()["commitments"]] == [False]
    assert deputy.get(url).json()["actions"] == ["evaluate_satisfied", "evaluate_dissatisfied"]


def test_documents_come_with_the_draft_and_the_reply_and_a_refused_one_takes_the_step_with_it(
        sign_in_as: Callable[[str], TestClient], cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy, admin = sign_in_as(cast.username.tiandong_deputy), sign_in_as(cast.username.tiandong_admin)
    handler = sign_in_as(cast.username.tiandong_handler)
    s = call(deputy, world.api, {"title": f"带附件的建议{world.tag}", "content": "内容", "term": 17, "session_no": 6,
                                 "documents": [{"filename": "调研报告.pdf", "content": b64(PDF)}]}, expect=201)
    assert [(a["filename"], a["step"]) for a in s["attachments"]] == [("调研报告.pdf", "create")]
    url = f"{world.api}/{s['id']}"
    s = call(deputy, f"{url}/submit", {"version": s["version"]})
    s = call(admin, f"{url}/review", {"decision": "accept", "version": s["version"]})
    s = call(admin, f"{url}/assign", {"lead_unit_id": cast.unit.tiandong_transport, "version": s["version"]})

    answer = {"reply_class": "A", "content": "已解决", "signed_by": "李局长", "version": s["version"]}
    refused = call(handler, f"{url}/reply", {**answer, "documents": [
        {"filename": "答复.pdf", "content": b64(PDF)}, {"filename": "答复.exe", "content": b64(EXE)}]}, expect=422)
    assert list(refused["fields"]) == ["attachments"] and "答复.exe" in refused["fields"]["attachments"]
    with db.session(Scope.system()) as session:
        assert session.scalar(select(func.count()).select_from(Reply).where(Reply.suggestion_id == s["id"])) == 0
    s = call(handler, f"{url}/reply", {**answer, "documents": [{"filename": "答复.pdf", "content": b64(PDF)}]})
    assert s["state"] == "replied"
    assert [(a["filename"], a["step"]) for a in s["attachments"]] == [("调研报告.pdf", "create"), ("答复.pdf", "reply")]
    download = deputy.get(s["attachments"][1]["url"])
    assert download.status_code == 200 and download.content == PDF

    inbox = deputy.get("/inbox")  # the reply told the deputy
    assert f"第 {s['number']} 号建议已答复" in inbox.text


def test_a_document_that_holds_no_file_is_refused_as_json_and_makes_no_draft(
        sign_in_as: Callable[[str], TestClient], cast: Any, world: SimpleNamespace) -> None:
    deputy = sign_in_as(cast.username.tiandong_deputy)
    title = f"坏附件{world.tag}"
    for content in ("%%%", b64(EXE)):
        refused = call(deputy, world.api, {"title": title, "content": "内容", "term": 17, "session_no": 6,
                                           "documents": [{"filename": "a.pdf", "content": content}]}, expect=422)
        assert refused["error"] == "invalid" and refused["fields"]["attachments"].startswith("a.pdf")
    assert deputy.get(world.api.replace("/api/v1", ""), params={"q": title}).text.count(title) == 0
