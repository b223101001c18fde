"""The platform's files on their own, as a module other than suggestions would use them: the type told by
the content and not the name, each caller's kinds, the size limit, storage that no reader sees half
written, downloads in chunks, and ids that find nothing outside their tenant and kind of record."""

from __future__ import annotations

import hashlib
import io
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform import files
from renda.platform.config import Settings
from renda.platform.db import Scope
from renda.platform.errors import NotFound, ValidationFailed
from renda.platform.files.storage import CHUNK, path_of, store
from renda.platform.timeline import TimelineEvent

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
EXE = b"MZ\x90\x00" + b"\x00" * 200
SCRIPT = b"#!/bin/sh\nrm -rf /\n"
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
LIMIT = 64 * 1024


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(attachments_dir=tmp_path / "files", attachment_max_bytes=LIMIT)


@pytest.fixture
def session(open_session: Any) -> Session:
    return open_session(Scope.system())


def stored(settings: Settings) -> list[Path]:
    root = Path(settings.attachments_dir)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def photo(session: Session, settings: Settings, cast: Any, *, tenant: str = "tiandong", subject_type: str = "opinion",
          subject_id: int = 41, data: bytes = PNG, name: str = "现场.png") -> files.Attachment:
    return files.attach(session, settings, tenant_id=getattr(cast.tenant, tenant), subject_type=subject_type,
                        subject_id=subject_id, actor_id=None, filename=name, data=data, accepts=files.PICTURES,
                        step="submit")


# --- what a file is ----------------------------------------------------------------------------


@pytest.mark.parametrize("data, expected", [
    (PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg"), (DOC, "application/msword"),
    (docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (EXE, None), (SCRIPT, None), (HTML, None), (b"plain words", None),
], ids=["pdf", "png", "jpeg", "doc", "docx", "exe", "script", "html", "text"])
def test_documents_and_pictures_are_told_by_their_content(data: bytes, expected: str | None) -> None:
    assert files.sniff(data, files.DOCUMENTS_AND_PICTURES) == expected


def test_each_caller_takes_only_the_kinds_it_names() -> None:
    assert files.sniff(PNG, files.PICTURES) == "image/png"
    assert files.sniff(PDF, files.PICTURES) is None
    assert files.sniff(PDF, files.DOCUMENTS) == "application/pdf"
    assert files.sniff(PNG, files.DOCUMENTS) is None
    assert files.PICTURES.extensions == ".jpg,.jpeg,.png,.gif,.webp"
    assert len({files.PICTURES.refusal, files.DOCUMENTS.refusal, files.DOCUMENTS_AND_PICTURES.refusal}) == 3


@pytest.mark.parametrize("name, data, expected", [
    ("照片.pdf", PNG, "image/png"),  # a picture named like a document is a picture
    ("报告.png", PDF, None),  # a document named like a picture is still no picture
    ("病毒.jpg", EXE, None),
    ("网页.png", HTML, None),
])
def test_the_name_decides_nothing(name: str, data: bytes, expected: str | None, settings: Settings,
                                  session: Session, cast: Any) -> None:
    if expected is None:
        with pytest.raises(ValidationFailed) as refused:
            photo(session, settings, cast, data=data, name=name)
        assert refused.value.errors["file"].msgid == files.PICTURES.refusal
        assert stored(settings) == []
        return
    row = photo(session, settings, cast, data=data, name=name)
    assert (row.filename, row.content_type) == (name, expected)


# --- the size limit ----------------------------------------------------------------------------


def test_a_file_at_the_limit_is_kept_and_one_byte_more_is_refused(settings: Settings, session: Session,
                                                                   cast: Any) -> None:
    at_limit = PNG + b"\x00" * (LIMIT - len(PNG))
    with pytest.raises(ValidationFailed) as refused:
        photo(session, settings, cast, data=at_limit + b"\x00")
    assert refused.value.errors["file"].msgid == "The file is larger than %(mb)s MB."
    with pytest.raises(ValidationFailed) as empty:
        photo(session, settings, cast, data=b"")
    assert empty.value.errors["file"].msgid == "The file is empty."
    assert stored(settings) == []
    assert session.scalars(select(files.Attachment).where(files.Attachment.subject_id == 41)).all() == []

    assert photo(session, settings, cast, data=at_limit).size == LIMIT


# --- storage -----------------------------------------------------------------------------------


def test_a_file_is_kept_once_per_tenant_and_content_under_its_hash(settings: Settings, session: Session,
                                                                     cast: Any) -> None:
    digest = hashlib.sha256(PNG).hexdigest()
    first = photo(session, settings, cast, subject_id=1)
    again = photo(session, settings, cast, subject_id=2, name="另一张.png")
    elsewhere = photo(session, settings, cast, tenant="pingguo", subject_id=1)

    assert first.sha256 == again.sha256 == elsewhere.sha256 == digest
    assert first.id != again.id
    assert stored(settings) == sorted([Path(settings.attachments_dir) / str(t) / digest[:2] / digest
                                       for t in (cast.tenant.tiandong, cast.tenant.pingguo)])
    assert path_of(settings, cast.tenant.tiandong, digest).read_bytes() == PNG


def test_processes_storing_the_same_file_at_once_all_succeed_and_leave_no_partial_file(settings: Settings) -> None:
    data = PDF + bytes(range(256)) * 512
    with ThreadPoolExecutor(max_workers=8) as pool:
        digests = set(pool.map(lambda _: store(settings, 7, data), range(16)))

    assert digests == {hashlib.sha256(data).hexdigest()}
    assert stored(settings) == [path_of(settings, 7, digests.pop())]
    assert stored(settings)[0].read_bytes() == data


def test_a_write_that_fails_leaves_neither_the_file_nor_its_partial_copy(settings: Settings) -> None:
    data = b"%PDF-1.7 failing"
    target = path_of(settings, 7, hashlib.sha256(data).hexdigest())
    target.mkdir(parents=True)  # something that is no file sits under the final name: the rename fails

    with pytest.raises(OSError):
        store(settings, 7, data)

    assert stored(settings) == [] and [p.name for p in target.parent.iterdir()] == [target.name]


def test_a_stored_name_keeps_only_the_last_part_without_control_characters(settings: Settings, session: Session,
                                                                             cast: Any) -> None:
    row = photo(session, settings, cast, name="C:\\fakepath\\..\\现场\r\n照片.png")
    assert row.filename == "现场照片.png"
    assert photo(session, settings, cast, name="").filename == "attachment"


# --- downloads ---------------------------------------------------------------------------------


def test_a_download_streams_the_bytes_in_chunks_with_its_type_and_name(settings: Settings, session: Session,
                                                                       cast: Any) -> None:
    data = PNG + bytes(range(256)) * ((2 * CHUNK) // 256 + 3)  # over two chunks
    settings = Settings(attachments_dir=settings.attachments_dir, attachment_max_bytes=len(data))
    row = photo(session, settings, cast, data=data, name="大图.png")

    download = files.open_download(settings, row)
    pieces = list(download.chunks())

    assert (download.content_type, download.filename, download.size) == ("image/png", "大图.png", len(data))
    assert len(pieces) == 3 and all(len(p) <= CHUNK for p in pieces) and b"".join(pieces) == data


def test_a_row_whose_bytes_are_missing_is_not_found(settings: Settings, session: Session, cast: Any) -> None:
    row = photo(session, settings, cast)
    path_of(settings, row.tenant_id, row.sha256).unlink()
    with pytest.raises(NotFound):
        files.open_download(settings, row)


# --- finding a file ----------------------------------------------------------------------------


def test_another_tenants_or_another_kind_of_records_file_is_not_found(settings: Settings, session: Session,
                                                                      cast: Any) -> None:
    mine = photo(session, settings, cast, subject_type="opinion", subject_id=41)
    activity = photo(session, settings, cast, subject_type="activity", subject_id=41)

    assert files.find(session, cast.tenant.tiandong, "opinion", mine.id) is mine
    for tenant, subject_type, attachment_id in [
        (cast.tenant.pingguo, "opinion", mine.id),  # another tenant's
        (cast.tenant.tiandong, "suggestion", mine.id),  # another kind of record's
        (cast.tenant.tiandong, "opinion", activity.id),
        (cast.tenant.tiandong, "opinion", 999_999_999),  # none at all
    ]:
        with pytest.raises(NotFound):
            files.find(session, tenant, subject_type, attachment_id)


def test_a_record_lists_its_own_files_and_not_those_taken_off(settings: Settings, session: Session,
                                                               cast: Any) -> None:
    first = photo(session, settings, cast, subject_id=41, name="一.png")
    second = photo(session, settings, cast, subject_id=41, data=JPEG, name="二.jpg")
    photo(session, settings, cast, subject_id=42)
    photo(session, settings, cast, subject_type="activity", subject_id=41)

    assert files.listed(session, cast.tenant.tiandong, "opinion", 41) == [first, second]

    files.remove(first, cast.user.tiandong_admin)
    session.flush()

    assert files.listed(session, cast.tenant.tiandong, "opinion", 41) == [second]
    with pytest.raises(NotFound):
        files.find(session, cast.tenant.tiandong, "opinion", first.id)
    kept = files.find(session, cast.tenant.tiandong, "opinion", first.id, removed_too=True)
    assert kept.removed_by == cast.user.tiandong_admin and kept.removed_at is not None


def test_adding_a_file_is_an_event_on_its_records_timeline(settings: Settings, session: Session, cast: Any) -> None:
    row = photo(session, settings, cast, subject_id=43)
    session.flush()
    events = session.scalars(select(TimelineEvent).where(
        TimelineEvent.tenant_id == cast.tenant.tiandong, TimelineEvent.subject_type == "opinion",
        TimelineEvent.subject_id == 43)).all()
    assert [(e.action, e.data) for e in events] == [
        ("attach", {"attachment_id": row.id, "filename": "现场.png", "step": "submit"})]
