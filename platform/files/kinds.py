"""What a file is, told by its first bytes, never by its name; and which kinds a caller accepts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import filetype

from renda.platform.errors import N_

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Word (.doc) files; filetype does not name them
MSWORD = "application/msword"

DOCUMENT_TYPES: Mapping[str, tuple[str, ...]] = {
    "application/pdf": (".pdf",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    MSWORD: (".doc",),
}
PICTURE_TYPES: Mapping[str, tuple[str, ...]] = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
}


@dataclass(frozen=True, eq=False)
class Accepts:
    """The kinds of file one caller takes: content types with their usual name endings, and the
    sentence a person reads when the content is something else."""

    types: Mapping[str, tuple[str, ...]]
    refusal: str  # a msgid

    def __contains__(self, content_type: object) -> bool:
        return content_type in self.types

    @property
    def extensions(self) -> str:
        """The file chooser's hint (``accept="…"``); only a hint: the content decides."""
        return ",".join(ext for endings in self.types.values() for ext in endings)


DOCUMENTS = Accepts(DOCUMENT_TYPES, N_("Only PDF and Word documents can be attached."))
PICTURES = Accepts(PICTURE_TYPES, N_("Only pictures can be attached."))
DOCUMENTS_AND_PICTURES = Accepts({**DOCUMENT_TYPES, **PICTURE_TYPES},
                                 N_("Only PDF, Word documents and pictures can be attached."))


def recognise(data: bytes) -> str | None:
    """The content type the bytes show, whatever it is; None when they show none we know."""
    if data.startswith(OLE_MAGIC):
        return MSWORD
    kind = filetype.guess(data)
    return kind.mime if kind is not None else None


def sniff(data: bytes, accepts: Accepts) -> str | None:
    """The content type the bytes show, if it is one ``accepts`` takes."""
    mime = recognise(data)
    return mime if mime in accepts else None
