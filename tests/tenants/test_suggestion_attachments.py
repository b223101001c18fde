"""Attachments: checked by content and size, stored once, served only to those who may see the suggestion."""

from __future__ import annotations

import io
import secrets
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from renda.platform.config import Settings
from renda.platform.db import Scope, set_scope
from renda.platform.errors import NotFound, ValidationFailed
from renda.platform.files import Attachment
from renda.platform.identity.principal import load_principal
from renda.platform.tenancy.models import Tenant
from renda.tenants.deputies.models import Deputy
from renda.tenants.suggestions import attachments, service

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(attachments_dir=tmp_path / "files", attachment_max_bytes=1024 * 1024)


@pytest.fixture
def suggestion(open_session: Any, cast: Any) -> tuple[Session, Tenant, int]:
    session = open_session(Scope.system())
    tiandong = session.get(Tenant, cast.tenant.tiandong)
    assert tiandong is not None
    session.add(Deputy(tenant_id=tiandong.id, name="覃代表", level="county", term=17, org_unit_id=cast.org.pingma,
                       user_id=cast.user.tiandong_deputy))
    session.flush()
    s = service.create_draft(session, load_principal(session, cast.user.tiandong_deputy), tiandong,
                             title="关于校园安全的建议", content="……", term=17, session_no=None,
                             client_token=secrets.token_hex(6))
    return session, tiandong, s.id


@pytest.mark.parametrize("name, data, mime", [
    ("报告.pdf", PDF, "application/pdf"), ("现场.png", PNG, "image/png"),
    ("答复.docx", docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("旧稿.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512, "application/msword"),
])
def test_documents_and_pictures_are_stored_and_served_back(name: str, data: bytes, mime: str, settings: Settings,
                                                           suggestion: Any, cast: Any) -> None:
    session, tiandong, sid = suggestion
    deputy = load_principal(session, cast.user.tiandong_deputy)
    stored = attachments.attach(session, settings, deputy, tiandong, sid, filename=f"C:\\fakepath\\{name}", data=data)
    assert (stored.filename, stored.content_type, stored.size) == (name, mime, len(data))
    opened = attachments.open_attachment(session, settings, deputy, tiandong, stored.id)
    assert opened.path.read_bytes() == data
    assert str(opened.path).startswith(str(settings.attachments_dir / str(tiandong.id)))


@pytest.mark.parametrize("name, data", [
    ("说明.pdf", b"MZ\x90\x00" + b"\x00" * 200),     # an executable renamed .pdf
    ("脚本.pdf", b"#!/bin/sh\nrm -rf /\n"),
    ("空.pdf", b""),
    ("大.pdf", PDF + b"0" * (1024 * 1024)),          # over the size limit
])
def test_wrong_types_empty_and_oversized_files_change_nothing(name: str, data: bytes, settings: Settings,
                                                               suggestion: Any, cast: Any) -> None:
    session, tiandong, sid = suggestion
    deputy = load_principal(session, cast.user.tiandong_deputy)
    with pytest.raises(ValidationFailed) as refused:
        attachments.attach(session, settings, deputy, tiandong, sid, filename=name, data=data)
    assert "file" in refused.value.errors
    set_scope(session, Scope.system())
    assert session.scalar(select(func.count()).select_from(Attachment).where(
        Attachment.subject_type == "suggestion", Attachment.subject_id == sid)) == 0
    assert not settings.attachments_dir.exists() or not any(settings.attachments_dir.rglob("*"))


def test_people_who_may_not_see_the_suggestion_get_nothing(settings: Settings, suggestion: Any, cast: Any) -> None:
    session, tiandong, sid = suggestion
    stored = attachments.attach(session, settings, load_principal(session, cast.user.tiandong_deputy), tiandong, sid,
                                filename="a.pdf", data=PDF)
    # The office does not see a draft yet; nor does a handler of a unit it is not assigned to, nor
    # another county's staff.
    with pytest.raises(NotFound):
        attachments.open_attachment(session, settings, load_principal(session, cast.user.tiandong_admin),
                                    tiandong, stored.id)
    with pytest.raises(NotFound):
        attachments.open_attachment(session, settings, load_principal(session, cast.user.tiandong_handler),
                                    tiandong, stored.id)
    with pytest.raises(NotFound):
        attachments.open_attachment(session, settings, load_principal(session, cast.user.pingguo_admin),
                                    tiandong, stored.id)
    with pytest.raises(NotFound):
        attachments.attach(session, settings, load_principal(session, cast.user.tiandong_handler), tiandong, sid,
                           filename="b.pdf", data=PDF)
