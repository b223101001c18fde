"""Sending a stored file (renda.platform.files): streamed in chunks, always as a download, under its
own name in UTF-8 (RFC 6266 / 5987) with a plain-ASCII stand-in for old browsers."""

from __future__ import annotations

from urllib.parse import quote

from fastapi.responses import StreamingResponse

from renda.platform.files import Download


def content_disposition(filename: str) -> str:
    """``attachment`` with the name twice: ASCII-only (what cannot be said there becomes ``_``) and
    exact, percent-encoded UTF-8. Nothing in the name can end the header or add a parameter."""
    ascii_name = "".join(c if " " <= c <= "~" and c not in '"\\%;' else "_" for c in filename) or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def file_response(download: Download) -> StreamingResponse:
    return StreamingResponse(download.chunks(), media_type=download.content_type, headers={
        "Content-Disposition": content_disposition(download.filename),
        "Content-Length": str(download.size),
        # Never shown in our origin (nor guessed into HTML by the browser); and no shared cache keeps it.
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-cache",
    })
