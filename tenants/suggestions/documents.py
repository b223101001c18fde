"""Documents that come with a step (a draft's material, a reply document): taken by the step's own
service action, so pages and the API attach them the same way, and kept together with the step or not
at all. A refused file names itself: "报告.exe：只能上传 PDF、Word 文档和图片。".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from renda.platform.access.policy import Principal
from renda.platform.config import Settings
from renda.platform.errors import N_, Message, ValidationFailed
from renda.platform.tenancy.models import Tenant
from renda.tenants.suggestions import attachments
from renda.tenants.suggestions.models import Suggestion

FIELD = "attachments"  # where a refused file's message goes (the forms' file input)
MAX_FILES = 5  # per step: a suggestion's material or a reply document, not an archive


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True)
class Documents:
    """The files sent with a step, and the deployment's settings that say where and how large."""

    settings: Settings
    uploads: Sequence[Upload]


class FileMessage(Message):
    """A refusal that names the file it is about."""

    def __init__(self, filename: str, message: Message) -> None:
        super().__init__(message.msgid, **message.params)
        self.filename = filename

    def render(self, gettext: Any) -> str:
        return str(gettext("%(file)s: %(reason)s")) % {"file": self.filename, "reason": super().render(gettext)}


def with_documents(session: Session, actor: Principal, tenant: Tenant, documents: Documents | None, step: str,
                   take: Callable[[], Suggestion]) -> Suggestion:
    """Take the step, then attach each document to its suggestion, inside a savepoint: a refused file
    leaves the step untaken (and the reverse), while the caller's transaction goes on."""
    uploads = list(documents.uploads) if documents is not None else []
    if len(uploads) > MAX_FILES:
        raise ValidationFailed.one(FIELD, N_("At most %(n)s files at once."), n=MAX_FILES)
    if documents is None:
        return take()
    with session.begin_nested():
        suggestion = take()
        session.flush()
        for upload in uploads:
            try:
                attachments.attach(session, documents.settings, actor, tenant, suggestion.id,
                                   filename=upload.filename, data=upload.data, step=step)
            except ValidationFailed as exc:
                reason = next(iter(exc.errors.values()))  # attach() says one thing: empty, too large, or not allowed
                raise ValidationFailed({FIELD: FileMessage(upload.filename or "—", reason)}) from None
    return suggestion
