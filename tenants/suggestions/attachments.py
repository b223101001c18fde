"""Attachments of suggestions: PDF, Word and images, recognised by their content, not their name.

Files are stored once per tenant and content (``{tenant_id}/{sha256[:2]}/{sha256}``) under the
configured folder and served only to people who may see the suggestion.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path, PurePath

import filetype
from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform import timeline
from renda.platform.access.policy import Principal
from renda.platform.config import Settings
from renda.platform.errors import N_, NotFound, ValidationFailed
from renda.platform.tenancy.models import Tenant
from renda.tenants.suggestions.access import SUBJECT, access_suggestion
from renda.tenants.suggestions.models import Attachment

# What may be attached, by the type the content shows.
ALLOWED = {
    "application/pdf": ".pdf",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/msword": ".doc",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/webp": ".webp",
}
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Word (.doc) files; filetype does not name them


@dataclass(frozen=True)
class StoredFile:
    attachment: Attachment
    path: Path


def sniff(data: bytes) -> str | None:
    """The content type the bytes show, if it is one we accept."""
    if data.startswith(OLE_MAGIC):
        return "application/msword"
    kind = filetype.guess(data)
    mime = kind.mime if kind is not None else None
    return mime if mime in ALLOWED else None


def attach(session: Session, settings: Settings, actor: Principal, tenant: Tenant, suggestion_id: int, *,
           filename: str, data: bytes, step: str = "") -> Attachment:
    """Store an upload for a suggestion the actor may see; a wrong type or size changes nothing."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)  # whoever may see it may add to it
    name = PurePath((filename or "").replace("\\", "/")).name.strip()[:200] or "attachment"
    if not data:
        raise ValidationFailed.one("file", N_("The file is empty."))
    if len(data) > settings.attachment_max_bytes:
        raise ValidationFailed.one("file", N_("The file is larger than %(mb)s MB."),
                                   mb=settings.attachment_max_bytes // (1024 * 1024))
    mime = sniff(data)
    if mime is None:
        raise ValidationFailed.one("file", N_("Only PDF, Word documents and pictures can be attached."))
    digest = hashlib.sha256(data).hexdigest()
    path = _path(settings, tenant.id, digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part")
        partial.write_bytes(data)
        os.replace(partial, path)  # never a half-written file under the final name
    attachment = Attachment(tenant_id=tenant.id, suggestion_id=suggestion.id, step=step[:24], filename=name,
                            content_type=mime, size=len(data), sha256=digest, uploaded_by=actor.user_id)
    session.add(attachment)
    session.flush()
    timeline.record(session, tenant_id=tenant.id, subject_type=SUBJECT, subject_id=suggestion.id,
                    actor_id=actor.user_id, action="attach",
                    data={"attachment_id": attachment.id, "filename": name, "step": step})
    return attachment


def open_attachment(session: Session, settings: Settings, actor: Principal, tenant: Tenant,
                    attachment_id: int) -> StoredFile:
    """The file for download, or NotFound for anyone who may not see its suggestion."""
    attachment = session.scalars(select(Attachment).where(Attachment.id == attachment_id,
                                                          Attachment.tenant_id == tenant.id,
                                                          Attachment.removed_at.is_(None))).first()
    if attachment is None:  # never there, or taken off its draft
        raise NotFound("attachment")
    access_suggestion(session, actor, tenant, attachment.suggestion_id)  # NotFound for those who may not see it
    path = _path(settings, tenant.id, attachment.sha256)
    if not path.is_file():
        raise NotFound("attachment file")
    return StoredFile(attachment, path)


def _path(settings: Settings, tenant_id: int, digest: str) -> Path:
    return Path(settings.attachments_dir) / str(tenant_id) / digest[:2] / digest
