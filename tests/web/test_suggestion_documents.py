"""Documents on the suggestion pages: a deputy attaches material to the draft (and to a revision of it),
the handling unit attaches its reply document, and both download them; a bad file is refused with a
message under the file field and changes nothing; the download answers 404 to anyone who may not see
the suggestion; and a multipart form is held to its CSRF token like any other.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from renda.platform.db import Database, Scope
from renda.platform.files import Attachment
from renda.platform.identity import service as identity
from renda.platform.identity.principal import load_principal
from renda.platform.tenancy.models import Tenant
from renda.tenants.suggestions import service
from renda.tenants.suggestions.models import Reply, Suggestion
from renda.web import i18n

from web_support import app_settings, linked_deputy, new_client, sign_in

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00" + b"\x00" * 200  # a Windows program, renamed .pdf below
MAX_BYTES = 64 * 1024  # the limit these tests' app runs with
TOKEN = re.compile(r'name="client_token" value="([^"]+)"')
ONLY_ALLOWED = "Only PDF, Word documents and pictures can be attached."
BAD = {"exe": ONLY_ALLOWED, "empty": "The file is empty.", "large": "The file is larger than %(mb)s MB."}
FILE_FIELD = re.compile(r'<input type="file" name="attachments"[^>]*?( aria-invalid="true")?>(.*?)</label>', re.S)


def zh(msgid: str, **params: Any) -> str:
    text = i18n.translations("zh_CN").gettext(msgid)
    return text % params if params else text


@pytest.fixture(scope="module")
def files_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("attachments")


@pytest.fixture
def sign_in_as(database_url: str, redis_url: str | None, files_dir: Path, cast: Any
               ) -> Iterator[Callable[[str], TestClient]]:
    """A signed-in client of an app that keeps its files in this module's folder, with a small limit."""
    settings = app_settings(database_url, redis_url, attachments_dir=files_dir, attachment_max_bytes=MAX_BYTES)
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
    """Tiandong's deputy; a deputy of the same congress with no part in the suggestions; the court's
    handler (a unit they are not assigned to); Pingguo's office. All can sign in."""
    tag = secrets.token_hex(3)
    with db.session(Scope.system()) as s:
        tiandong, pingguo = s.get(Tenant, cast.tenant.tiandong), s.get(Tenant, cast.tenant.pingguo)
        assert tiandong is not None and pingguo is not None
        identity.set_password(s, None, tiandong, cast.user.tiandong_handler, cast.password)
        identity.set_password(s, None, pingguo, cast.user.pingguo_admin, cast.password)
        linked_deputy(s, tiandong, cast.user.tiandong_deputy, "覃永福", cast.org.pingma)
        other = identity.create_user(s, None, tiandong, username=f"doc-other-{tag}", display_name="无关代表",
                                     password=cast.password)
        identity.grant_role(s, None, tiandong, other, role="deputy", org_unit_id=cast.org.pingma_station)
        court = identity.create_user(s, None, tiandong, username=f"doc-court-{tag}", display_name="法院办理人",
                                     password=cast.password)
        identity.grant_role(s, None, tiandong, court, role="handler", handling_unit_id=cast.unit.tiandong_court)
        s.flush()
        linked_deputy(s, tiandong, other.id, f"无关代表{tag}", cast.org.pingma)
        return SimpleNamespace(tag=tag, base=f"/t/{cast.slug.tiandong}/suggestions", other=other.username,
                               court=court.username)


def version(client: TestClient, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.text
    found = re.search(r'data-version="(\d+)"', page.text)
    assert found
    return found.group(1)


def send(client: TestClient, url: str, data: dict[str, Any], files: Sequence[tuple[str, bytes]] = (),
         **kwargs: Any) -> Any:
    """A form with files as htmx sends it: the token in the x-csrftoken header (and in its field, first)."""
    parts = [("attachments", (name, body, "application/octet-stream")) for name, body in files]
    token = client.cookies["csrftoken"]
    return client.post(url, data={"csrftoken": token, **data}, files=parts or None, follow_redirects=False,
                       headers={"x-csrftoken": token}, **kwargs)


def new_draft(client: TestClient, world: SimpleNamespace, title: str, files: Sequence[tuple[str, bytes]] = (),
              expect: int = 303) -> Any:
    token = TOKEN.search(client.get(f"{world.base}/new").text)
    assert token
    response = send(client, f"{world.base}/new", {"title": title, "content": "村屯道路狭窄，雨天通行困难。",
                                                  "category": "交通", "term": "17", "session_no": "6",
                                                  "client_token": token.group(1)}, files)
    assert response.status_code == expect, response.text
    return response


def sid_of(response: Any) -> int:
    return int(response.headers["location"].split("?")[0].split("/")[-1])


def counts(db: Database) -> tuple[int, int, int]:
    with db.session(Scope.system()) as s:
        return (s.scalar(select(func.count()).select_from(Suggestion)) or 0,
                s.scalar(select(func.count()).select_from(Attachment)) or 0,
                s.scalar(select(func.count()).select_from(Reply)) or 0)


def stored_files(files_dir: Path) -> set[Path]:
    return {p for p in files_dir.rglob("*") if p.is_file()}


def links(html: str) -> list[str]:
    return re.findall(r'href="([^"]+/attachments/\d+)"', html)


def assigned(db: Database, cast: Any, title: str) -> int:
    """A suggestion of Tiandong's deputy, submitted, accepted and assigned to the transport bureau."""
    with db.session(Scope.system()) as s:
        tiandong = s.get(Tenant, cast.tenant.tiandong)
        assert tiandong is not None
        deputy = load_principal(s, cast.user.tiandong_deputy)
        made = service.create_draft(s, deputy, tiandong, title=title, content="内容", term=17, session_no=None)
        made = service.submit(s, deputy, tiandong, made.id, version=made.version)
        admin = load_principal(s, cast.user.tiandong_admin)
        made = service.review(s, admin, tiandong, made.id, decision="accept", version=made.version)
        made = service.assign(s, admin, tiandong, made.id, lead_unit_id=cast.unit.tiandong_transport,
                              version=made.version)
        return made.id


# --- attaching and downloading -------------------------------------------------------------------------


def test_a_deputy_attaches_a_pdf_and_a_photo_to_a_new_draft_and_downloads_them(
        sign_in_as: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy = sign_in_as(cast.username.tiandong_deputy)
    form = deputy.get(f"{world.base}/new").text
    assert 'enctype="multipart/form-data"' in form and 'type="file" name="attachments"' in form
    sid = sid_of(new_draft(deputy, world, f"附材料的建议{world.tag}", [("调研报告.pdf", PDF), ("现场照片.png", PNG)]))

    page = deputy.get(f"{world.base}/{sid}").text
    section = page[page.index('id="attachments"'):page.index('id="timeline"')]
    assert "调研报告.pdf" in section and "现场照片.png" in section and zh("With the draft") in section
    timeline = page[page.index('id="timeline"'):]
    assert re.findall(r'<li data-action="(\w+)"', timeline) == ["create"]  # the files are on the draft's entry
    assert len(links(timeline)) == 2

    download = deputy.get(links(section)[0])
    assert download.status_code == 200 and download.content == PDF
    assert download.headers["content-type"] == "application/pdf"
    disposition = download.headers["content-disposition"]
    assert disposition.startswith("attachment") and quote("调研报告.pdf") in disposition
    assert download.headers["x-content-type-options"] == "nosniff"


def test_the_deputy_takes_a_document_off_the_draft_and_only_while_it_is_one(
        sign_in_as: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy = sign_in_as(cast.username.tiandong_deputy)
    sid = sid_of(new_draft(deputy, world, f"移除附件{world.tag}", [("错传的照片.png", PNG), ("调研报告.pdf", PDF)]))
    url = f"{world.base}/{sid}"
    form = deputy.get(f"{url}/edit").text
    documents = form[form.index('id="draft-documents"'):]
    removes = re.findall(r'action="([^"]+/attachments/(\d+)/remove)"', documents)
    assert len(removes) == 2
    photo_url, photo_id = removes[0]
    photo_link = f"{world.base}/attachments/{photo_id}"
    assert deputy.get(photo_link).status_code == 200

    other = sign_in_as(world.other)  # a deputy with no part in it: as if there were no such document
    token = other.cookies["csrftoken"]
    stale_version = version(deputy, url)
    assert other.post(photo_url, data={"csrftoken": token, "version": stale_version},
                      follow_redirects=False).status_code == 404
    office = sign_in_as(cast.username.tiandong_admin)  # the office does not see a draft at all
    assert office.post(photo_url, data={"csrftoken": office.cookies["csrftoken"], "version": stale_version},
                       follow_redirects=False).status_code == 404

    token = deputy.cookies["csrftoken"]
    removed = deputy.post(photo_url, data={"csrftoken": token, "version": stale_version}, follow_redirects=False)
    assert removed.status_code == 303 and removed.headers["location"].endswith(f"/{sid}/edit?done=detach")
    after = deputy.get(removed.headers["location"]).text
    assert zh("The document is removed from the draft.") in after and "错传的照片.png" not in after
    assert "调研报告.pdf" in after and deputy.get(photo_link).status_code == 404  # no longer served
    again = deputy.post(photo_url, data={"csrftoken": token, "version": version(deputy, url)},
                        follow_redirects=False)
    assert again.status_code == 404  # gone already

    page = deputy.get(url).text
    timeline = page[page.index('id="timeline"'):]
    assert zh("%(file)s (removed from the draft)", file="错传的照片.png") in timeline
    assert zh("Removed document") in timeline and re.findall(r'<li data-action="(\w+)"', timeline)[-1] == "edit"
    with db.session(Scope.system()) as s:
        row = s.get(Attachment, int(photo_id))
        assert row is not None and row.removed_at is not None  # kept, for the timeline and the audit

    pdf_url = removes[1][0]
    stale = deputy.post(pdf_url, data={"csrftoken": token, "version": stale_version}, follow_redirects=False)
    assert stale.status_code == 409  # a form from before the first removal
    assert post_submit(deputy, url).status_code == 303
    late = deputy.post(pdf_url, data={"csrftoken": token, "version": version(deputy, url)}, follow_redirects=False)
    assert late.status_code == 409 and 'data-state="submitted"' in late.text  # submitted: it stays
    assert deputy.get(f"{world.base}/attachments/{removes[1][1]}").status_code == 200


def post_submit(client: TestClient, url: str) -> Any:
    return client.post(f"{url}/submit", data={"csrftoken": client.cookies["csrftoken"],
                                              "version": version(client, url)}, follow_redirects=False)


@pytest.mark.parametrize("kind, name, data", [
    ("exe", "说明.pdf", EXE), ("empty", "空白.pdf", b""), ("large", "大文件.pdf", PDF + b"0" * MAX_BYTES)])
def test_a_bad_file_is_refused_under_the_file_field_and_nothing_is_made(
        kind: str, name: str, data: bytes, sign_in_as: Any, cast: Any, db: Database, files_dir: Path,
        world: SimpleNamespace) -> None:
    deputy = sign_in_as(cast.username.tiandong_deputy)
    before, files_before = counts(db), stored_files(files_dir)
    title = f"坏附件{kind}{world.tag}"
    refused = new_draft(deputy, world, title, [("好文件.pdf", PDF), (name, data)], expect=422)
    reason = zh(BAD[kind], mb=MAX_BYTES // (1024 * 1024)) if kind == "large" else zh(BAD[kind])
    field = FILE_FIELD.search(refused.text)
    assert field and field.group(1), "the file field is marked invalid"
    assert zh("%(file)s: %(reason)s", file=name, reason=reason) in field.group(2)  # under the field, naming it
    assert f'value="{title}"' in refused.text  # what was typed is kept
    assert counts(db) == before and stored_files(files_dir) == files_before


def test_a_bad_reply_document_keeps_the_reply_from_being_recorded(
        sign_in_as: Any, cast: Any, db: Database, files_dir: Path, world: SimpleNamespace) -> None:
    sid = assigned(db, cast, f"坏答复件{world.tag}")
    url = f"{world.base}/{sid}"
    handler = sign_in_as(cast.username.tiandong_handler)
    before, files_before = counts(db), stored_files(files_dir)
    refused = send(handler, f"{url}/reply", {"reply_class": "A", "content": "已办理", "signed_by": "李局长",
                                              "version": version(handler, url)}, [("答复.pdf", EXE)])
    assert refused.status_code == 422 and zh(ONLY_ALLOWED) in refused.text
    assert 'value="A" checked' in refused.text  # the reply form again, as it was sent
    assert counts(db) == before and stored_files(files_dir) == files_before
    with db.session(Scope.system()) as s:
        found = s.get(Suggestion, sid)
        assert found is not None and found.state == "assigned"

    # A refused reply (no signature) with a good file: the file is not kept either, and the form says
    # to choose it again.
    unsigned = send(handler, f"{url}/reply", {"reply_class": "A", "content": "已办理", "signed_by": "",
                                              "version": version(handler, url)}, [("答复.pdf", PDF)])
    assert unsigned.status_code == 422 and zh("Nothing was uploaded: choose the files again.") in unsigned.text
    assert counts(db) == before and stored_files(files_dir) == files_before


def test_the_handler_attaches_the_reply_document_and_the_deputy_downloads_it(
        sign_in_as: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    sid = assigned(db, cast, f"答复件{world.tag}")
    url = f"{world.base}/{sid}"
    handler = sign_in_as(cast.username.tiandong_handler)
    form = handler.get(url).text
    reply_form = form[form.index('id="step-reply"'):]
    assert 'enctype="multipart/form-data"' in reply_form[:600] and 'name="attachments"' in reply_form
    sent = send(handler, f"{url}/reply", {"reply_class": "A", "content": "已拓宽道路", "signed_by": "李局长",
                                           "version": version(handler, url)}, [("答复函.pdf", PDF)])
    assert sent.status_code == 303, sent.text

    deputy = sign_in_as(cast.username.tiandong_deputy)
    page = deputy.get(url).text
    replies = page[page.index('id="replies"'):page.index('id="timeline"')]
    reply_entry = page[page.rindex('<li data-action="reply"'):]
    assert "答复函.pdf" in replies and "答复函.pdf" in reply_entry
    assert zh("Reply document") in page[page.index('id="attachments"'):]
    assert 'data-action="attach"' not in page
    download = deputy.get(links(replies)[0])
    assert download.status_code == 200 and download.content == PDF


def test_a_revision_of_the_draft_brings_its_own_documents(
        sign_in_as: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy = sign_in_as(cast.username.tiandong_deputy)
    sid = sid_of(new_draft(deputy, world, f"修改时附件{world.tag}"))
    url = f"{world.base}/{sid}"
    edit = deputy.get(f"{url}/edit").text
    assert 'enctype="multipart/form-data"' in edit
    saved = send(deputy, f"{url}/edit", {"title": f"修改时附件{world.tag}", "content": "补充了照片",
                                         "category": "交通", "version": version(deputy, url)},
                 [("补充照片.png", PNG)])
    assert saved.status_code == 303, saved.text
    page = deputy.get(url).text
    assert "补充照片.png" in page[page.rindex('<li data-action="edit"'):]
    assert zh("With a revision of the draft") in page[page.index('id="attachments"'):]
    assert "补充照片.png" in deputy.get(f"{url}/edit").text  # listed as already attached


# --- who may download --------------------------------------------------------------------------------


def test_only_those_who_see_the_suggestion_download_its_documents(
        sign_in_as: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy = sign_in_as(cast.username.tiandong_deputy)
    sid = sid_of(new_draft(deputy, world, f"谁能下载{world.tag}", [("材料.pdf", PDF)]))
    url = f"{world.base}/{sid}"
    link = links(deputy.get(url).text)[0]
    attachment_id = link.rsplit("/", 1)[1]
    missing = deputy.get(f"{world.base}/attachments/999999999")
    assert missing.status_code == 404

    other, court = sign_in_as(world.other), sign_in_as(world.court)
    office = sign_in_as(cast.username.tiandong_admin)
    for stranger in (other, court, office):  # the office sees nothing of a draft
        refused = stranger.get(link)
        assert refused.status_code == 404 and PDF not in refused.content
        assert refused.text.count(zh("Not found")) == missing.text.count(zh("Not found"))

    # Submitted and assigned to the transport bureau: the office sees it now; the court still not.
    assert send(deputy, f"{url}/submit", {"version": version(deputy, url)}).status_code == 303
    assert office.get(link).status_code == 200
    assert court.get(link).status_code == 404 and other.get(link).status_code == 404

    pingguo = sign_in_as(cast.username.pingguo_admin)
    assert pingguo.get(f"/t/{cast.slug.pingguo}/suggestions/attachments/{attachment_id}").status_code == 404
    assert pingguo.get(link).status_code == 403  # a tenant they hold no grant in, as for every page there


# --- CSRF on multipart forms ---------------------------------------------------------------------------


def multipart(token: str | None, *, token_first: bool = True, **fields: str) -> tuple[bytes, dict[str, str]]:
    """A multipart body as a browser without JavaScript builds it (fields in form order), and its header."""
    boundary = "renda-test-boundary"

    def part(name: str, value: str) -> bytes:
        return f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()

    file = (f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename="a.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n").encode() + PDF + b"\r\n"
    body = b"".join(part(k, v) for k, v in fields.items())
    csrf = part("csrftoken", token) if token is not None else b""
    body = csrf + body + file if token_first else body + file + csrf
    return body + f"--{boundary}--\r\n".encode(), {"content-type": f"multipart/form-data; boundary={boundary}"}


def draft_fields(client: TestClient, world: SimpleNamespace, title: str) -> dict[str, str]:
    token = TOKEN.search(client.get(f"{world.base}/new").text)
    assert token
    return {"title": title, "content": "内容", "term": "17", "session_no": "", "client_token": token.group(1)}


def made(db: Database, title: str) -> list[int]:
    """Attachments of the suggestions titled ``title``: one entry per suggestion, its number of files."""
    with db.session(Scope.system()) as s:
        return [s.scalar(select(func.count()).select_from(Attachment).where(
                    Attachment.subject_type == "suggestion", Attachment.subject_id == i)) or 0
                for i in s.scalars(select(Suggestion.id).where(Suggestion.title == title))]


def test_a_form_with_files_sent_by_htmx_carries_its_token_in_the_header(
        sign_in_as: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy = sign_in_as(cast.username.tiandong_deputy)
    title = f"页面发送{world.tag}"
    fields = draft_fields(deputy, world, title)
    forged, headers = multipart(None, **fields)
    refused = deputy.post(f"{world.base}/new", content=forged, follow_redirects=False,
                          headers={**headers, "x-csrftoken": "forged"})
    assert refused.status_code >= 400 and made(db, title) == []
    sent = deputy.post(f"{world.base}/new", data=fields, files=[("attachments", ("a.pdf", PDF, "application/pdf"))],
                       headers={"x-csrftoken": deputy.cookies["csrftoken"], "HX-Request": "true",
                                "HX-Target": "main"}, follow_redirects=False)
    assert sent.status_code == 200 and "<html" not in sent.text and "a.pdf" in sent.text
    assert made(db, title) == [1]


def test_a_form_with_files_sent_without_javascript_is_held_to_its_csrftoken_field(
        sign_in_as: Any, cast: Any, db: Database, world: SimpleNamespace) -> None:
    deputy = sign_in_as(cast.username.tiandong_deputy)
    title = f"无脚本发送{world.tag}"
    fields = draft_fields(deputy, world, title)
    for token, first in ((None, True), ("forged", True), (deputy.cookies["csrftoken"], False)):
        body, headers = multipart(token, token_first=first, **fields)  # the token after the file is refused too
        refused = deputy.post(f"{world.base}/new", content=body, headers=headers, follow_redirects=False)
        assert refused.status_code == 403 and made(db, title) == []
    body, headers = multipart(deputy.cookies["csrftoken"], **fields)
    assert deputy.post(f"{world.base}/new", content=body, headers=headers, follow_redirects=False).status_code == 303
    assert made(db, title) == [1]
