"""Documents on the suggestion pages: the files a form brings (a draft's material, a reply document),
attached with the step they came with, and the download of one, for those who may see the suggestion.

A form's step and its files are one change: the step is taken first, then each file is attached,
all inside a savepoint, so a refused file leaves the step untaken (and the reverse).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import FileResponse, Response

from renda.platform.config import Settings
from renda.platform.errors import N_, Message, ValidationFailed
from renda.tenants.suggestions import attachments
from renda.tenants.suggestions.models import Attachment
from renda.web.deps import TenantContext, TenantDep
from renda.web.forms import RowId

router = APIRouter()

FIELD = "attachments"  # the forms' file input
MAX_FILES = 5  # per form: a suggestion's material or a reply document, not an archive
ACCEPT = ".pdf,.doc,.docx,.jpg,.jpeg,.png,.gif,.webp"  # the file chooser's hint; the content decides
STEP_LABELS = {"create": N_("With the draft"), "edit": N_("With a revision of the draft"),
               "reply": N_("Reply document")}
Files = Annotated[list[UploadFile] | None, File()]
T = TypeVar("T")


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes


class FileMessage(Message):
    """A refusal that names the file it is about: "报告.exe：只能上传 PDF、Word 文档和图片。"."""

    def __init__(self, filename: str, message: Message) -> None:
        super().__init__(message.msgid, **message.params)
        self.filename = filename

    def render(self, gettext: Any) -> str:
        return str(gettext("%(file)s: %(reason)s")) % {"file": self.filename, "reason": super().render(gettext)}


def upload_limits(settings: Settings) -> dict[str, Any]:
    """What the file field says it takes."""
    return {"accept": ACCEPT, "max_files": MAX_FILES, "max_mb": settings.attachment_max_bytes // (1024 * 1024)}


def read_uploads(settings: Settings, files: Sequence[UploadFile] | None) -> list[Upload]:
    """The files a form sent; an empty file input (no name, no bytes) is no file.

    Reads at most one byte more than the limit, so an oversized file is refused without holding it all.
    """
    found = []
    for file in files or []:
        data = file.file.read(settings.attachment_max_bytes + 1)
        if file.filename or data:
            found.append(Upload(file.filename or "", data))
    if len(found) > MAX_FILES:
        raise ValidationFailed.one(FIELD, N_("At most %(n)s files at once."), n=MAX_FILES)
    return found


def with_files(ctx: TenantContext, settings: Settings, uploads: Sequence[Upload], step: str,
               take: Callable[[], T], suggestion_id: Callable[[T], int]) -> T:
    """Take a step, then attach ``uploads`` to its suggestion; all or nothing (see the module's docstring)."""
    with ctx.session.begin_nested():
        result = take()
        ctx.session.flush()
        target = suggestion_id(result)
        for upload in uploads:
            try:
                attachments.attach(ctx.session, settings, ctx.principal, ctx.tenant, target,
                                   filename=upload.filename, data=upload.data, step=step)
            except ValidationFailed as exc:
                reason = next(iter(exc.errors.values()))  # attach() says one thing: empty, too large, or not allowed
                raise ValidationFailed({FIELD: FileMessage(upload.filename or "—", reason)}) from None
    return result


def size_label(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{max(1, round(size / 1024))} KB"


def download_url(slug: str, attachment: Attachment) -> str:
    return f"/t/{slug}/suggestions/attachments/{attachment.id}"


@router.get("/t/{slug}/suggestions/attachments/{attachment_id:int}")
def download(request: Request, ctx: TenantDep, attachment_id: RowId) -> Response:
    """The file, to whoever may see its suggestion; anyone else gets the 404 of a missing one."""
    stored = attachments.open_attachment(ctx.session, request.app.state.settings, ctx.principal, ctx.tenant,
                                         attachment_id)
    return FileResponse(stored.path, media_type=stored.attachment.content_type,
                        filename=stored.attachment.filename,
                        # Always a download, never shown in our origin; and no shared cache keeps it.
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-cache"})

