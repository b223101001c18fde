"""Documents on the suggestion pages: the files a form brings (a draft's material, a reply document), handed
to the step's service action, which keeps them with the step or refuses both; and the download of one, for
those who may see the suggestion.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import Response

from renda.platform.config import Settings
from renda.platform.errors import N_
from renda.platform.files import Attachment
from renda.tenants.suggestions import attachments
from renda.tenants.suggestions.documents import MAX_FILES, Documents, Upload
from renda.web.deps import TenantDep
from renda.web.downloads import file_response
from renda.web.forms import RowId

router = APIRouter()

STEP_LABELS = {"create": N_("With the draft"), "edit": N_("With a revision of the draft"),
               "reply": N_("Reply document")}
Files = Annotated[list[UploadFile] | None, File()]


def upload_limits(settings: Settings) -> dict[str, Any]:
    """What the file field says it takes."""
    return {"accept": attachments.ACCEPTS.extensions, "max_files": MAX_FILES,
            "max_mb": settings.attachment_max_bytes // (1024 * 1024)}


def documents_of(settings: Settings, files: Sequence[UploadFile] | None) -> Documents:
    """The files a form sent, for the step's service action; an empty file input (no name, no bytes) is no
    file. Reads at most one byte more than the limit, so an oversized file is refused without holding it all.
    """
    found = []
    for file in (files or [])[:MAX_FILES + 1]:  # one more than allowed is enough to be refused
        data = file.file.read(settings.attachment_max_bytes + 1)
        if file.filename or data:
            found.append(Upload(file.filename or "", data))
    return Documents(settings, found)


def size_label(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{max(1, round(size / 1024))} KB"


def download_url(slug: str, attachment: Attachment) -> str:
    return f"/t/{slug}/suggestions/attachments/{attachment.id}"


@router.get("/t/{slug}/suggestions/attachments/{attachment_id:int}")
def download(request: Request, ctx: TenantDep, attachment_id: RowId) -> Response:
    """The file, to whoever may see its suggestion; anyone else gets the 404 of a missing one."""
    return file_response(attachments.open_attachment(ctx.session, request.app.state.settings, ctx.principal,
                                                     ctx.tenant, attachment_id))
