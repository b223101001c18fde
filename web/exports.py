"""Excel exports: written row by row in openpyxl's write-only mode, then streamed to the browser.

A board of a county's 30,000 suggestions never sits in memory as a workbook: rows go to a temporary
file as they are read (inside the request's transaction), and the finished file is sent in chunks.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from typing import Any
from urllib.parse import quote

from fastapi.responses import StreamingResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 64 * 1024

Sheet = tuple[str, list[str], Iterable[list[Any]]]  # title, header, rows


def _chunks(path: str) -> Iterator[bytes]:
    try:
        with open(path, "rb") as file:
            while chunk := file.read(CHUNK):
                yield chunk
    finally:
        os.unlink(path)


def attachment_headers(filename: str) -> dict[str, str]:
    """A download's Content-Disposition, with the name in UTF-8 for browsers that read it (RFC 6266)."""
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return {"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"}


def xlsx(filename: str, *sheets: Sheet) -> StreamingResponse:
    """A workbook of the given sheets, each with a bold header row kept in view."""
    book = Workbook(write_only=True)
    bold = Font(bold=True)
    for title, header, rows in sheets:
        sheet = book.create_sheet(title=title[:31])
        sheet.freeze_panes = "A2"
        head = []
        for value in header:
            cell = WriteOnlyCell(sheet, value=value)
            cell.font = bold
            head.append(cell)
        sheet.append(head)
        for row in rows:
            sheet.append(row)
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)
    try:
        book.save(path)
    except BaseException:
        os.unlink(path)
        raise
    return StreamingResponse(_chunks(path), media_type=XLSX, headers=attachment_headers(filename))
