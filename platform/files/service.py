"""Adding a file to a record, listing a record's files, taking one off, and opening one for download.

These trust their caller on who may act: the subject's module checks that first (its access_<noun>).
Every read is confined to one tenant and one subject type, so an id of another tenant's file, or of a
file of another kind of record, is NotFound exactly like a missing one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePath

from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform import timeline
from renda.platform.config import Settings
from renda.platform.db import utcnow
from renda.platform.errors import N_, NotFound, ValidationFailed
from renda.platform.files.kinds import Accepts, sniff
from renda.platform.files.models import Attachment
from renda.platform.files.storage import CHUNK, chunks, path_of, store

FIELD = "file"  # the field a refusal names; a form with several files says which one (the web layer)
NAME_LENGTH = 200


@dataclass(frozen=True)
class Download:
    """What a response needs to send a stored file: where it is, what it is, what to call it."""

    path: Path
    content_type: str
    filename: str
    size: int

    def chunks(self, size: int = CHUNK) -> Iterator[bytes]:
        return chunks(self.path, size)


def clean_name(filename: str) -> str:
    """The name a file is listed and downloaded under: the last part of what the browser sent (some
    send the whole Windows path), without control characters, at most 200 characters."""
    name = PurePath((filename or "").replace("\\", "/")).name
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip()
    return name[:NAME_LENGTH] or "attachment"


def attach(session: Session, settings: Settings, *, tenant_id: int, subject_type: str, subject_id: int,
           actor_id: int | None, filename: str, data: bytes, accepts: Accepts, step: str = "") -> Attachment:
    """Keep an upload for a record; an empty file, one too large or of a kind not accepted is refused
    before anything is written. The subject's timeline gets an ``attach`` event naming the file and
    the step it came with."""
    if not data:
        raise ValidationFailed.one(FIELD, N_("The file is empty."))
    if len(data) > settings.attachment_max_bytes:
        raise ValidationFailed.one(FIELD, N_("The file is larger than %(mb)s MB."),
                                   mb=settings.attachment_max_bytes // (1024 * 1024))
    content_type = sniff(data, accepts)
    if content_type is None:
        raise ValidationFailed.one(FIELD, accepts.refusal)
    name = clean_name(filename)
    digest = store(settings, tenant_id, data)
    attachment = Attachment(tenant_id=tenant_id, subject_type=subject_type, subject_id=subject_id,
                            step=step[:24], filename=name, content_type=content_type, size=len(data),
                            sha256=digest, uploaded_by=actor_id)
    session.add(attachment)
    session.flush()
    timeline.record(session, tenant_id=tenant_id, subject_type=subject_type, subject_id=subject_id,
                    actor_id=actor_id, action="attach",
                    data={"attachment_id": attachment.id, "filename": name, "step": step})
    return attachment


def find(session: Session, tenant_id: int, subject_type: str, attachment_id: int, *,
         removed_too: bool = False) -> Attachment:
    """The file of that id among the tenant's files of that kind of record; NotFound otherwise, and for
    one taken off its record (unless ``removed_too``)."""
    stmt = select(Attachment).where(Attachment.id == attachment_id, Attachment.tenant_id == tenant_id,
                                    Attachment.subject_type == subject_type)
    if not removed_too:
        stmt = stmt.where(Attachment.removed_at.is_(None))
    found = session.scalars(stmt).first()
    if found is None:
        raise NotFound("attachment")
    return found


def listed(session: Session, tenant_id: int, subject_type: str, subject_id: int) -> list[Attachment]:
    """A record's files, oldest first, in one statement; those taken off it are left out."""
    return list(session.scalars(select(Attachment).where(
        Attachment.tenant_id == tenant_id, Attachment.subject_type == subject_type,
        Attachment.subject_id == subject_id, Attachment.removed_at.is_(None))
        .order_by(Attachment.created_at, Attachment.id)))


def remove(attachment: Attachment, actor_id: int | None) -> None:
    """Take a file off its record: no longer listed or served; the row and the bytes stay (the
    timeline names it, and the same content may belong to other rows)."""
    attachment.removed_at, attachment.removed_by = utcnow(), actor_id


def open_download(settings: Settings, attachment: Attachment) -> Download:
    """The stored file behind a row, for a response to stream; NotFound when its bytes are missing."""
    path = path_of(settings, attachment.tenant_id, attachment.sha256)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise NotFound("attachment file") from None
    return Download(path=path, content_type=attachment.content_type, filename=attachment.filename, size=size)
