"""Documents of suggestions: PDF, Word documents and pictures, on the suggestion or one of its steps (the
draft's material, a reply document), kept by the platform's files (renda.platform.files). Whoever may
see the suggestion may add documents to it and download them; anyone else is told there is no such file.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from renda.platform import files
from renda.platform.access.policy import Principal
from renda.platform.config import Settings
from renda.platform.errors import NotFound
from renda.platform.files import Attachment
from renda.platform.tenancy.models import Tenant
from renda.tenants.suggestions.access import SUBJECT, access_suggestion

ACCEPTS = files.DOCUMENTS_AND_PICTURES


def attach(session: Session, settings: Settings, actor: Principal, tenant: Tenant, suggestion_id: int, *,
           filename: str, data: bytes, step: str = "") -> Attachment:
    """Store an upload for a suggestion the actor may see; a wrong type or size changes nothing."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)  # whoever may see it may add to it
    return files.attach(session, settings, tenant_id=tenant.id, subject_type=SUBJECT, subject_id=suggestion.id,
                        actor_id=actor.user_id, filename=filename, data=data, accepts=ACCEPTS, step=step)


def access_attachment(session: Session, actor: Principal, tenant: Tenant, attachment_id: int) -> Attachment:
    """A suggestion's document that is still on it, if the actor may see the suggestion; else NotFound
    exactly as for a missing one (another record's file, another tenant's, one taken off its draft)."""
    attachment = files.find(session, tenant.id, SUBJECT, attachment_id)
    access_suggestion(session, actor, tenant, attachment.subject_id)
    return attachment


def open_attachment(session: Session, settings: Settings, actor: Principal, tenant: Tenant,
                    attachment_id: int) -> files.Download:
    """The file for download, or NotFound for anyone who may not see its suggestion."""
    return files.open_download(settings, access_attachment(session, actor, tenant, attachment_id))


def suggestion_of(session: Session, tenant: Tenant, attachment_id: int) -> int | None:
    """The suggestion a document was added to, taken off since or not (the caller shows that
    suggestion's page, which checks who may see it); None when the tenant has no such document."""
    try:
        return files.find(session, tenant.id, SUBJECT, attachment_id, removed_too=True).subject_id
    except NotFound:
        return None
