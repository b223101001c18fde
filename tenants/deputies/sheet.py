"""Reading a deputies sheet as offices keep it: the first worksheet of an .xlsx, a header row of
Chinese column names somewhere in its first rows, one deputy per row below.

Only the reading lives here (size limits, file type, headers, cell values); what each row means
for the stored records is decided by the importer.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from dataclasses import dataclass, field
from typing import Any, NoReturn

import openpyxl

from renda.platform.errors import N_, ValidationFailed

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_UNPACKED = 60 * 1024 * 1024  # an .xlsx is a zip: refuse one that inflates beyond reason
HEADER_SEARCH_ROWS = 10

# Column names as offices write them -> the field they fill ("township" and "stations" name units).
_COLUMNS = {
    "name": ("姓名", "代表姓名", "名字"),
    "gender": ("性别",),
    "ethnicity": ("民族",),
    "birth_date": ("出生年月", "出生日期", "出生年月日", "生日", "出生时间"),
    "level": ("代表层级", "级别", "层级", "代表级别", "层次"),
    "term": ("届次", "届别", "届", "所属届次"),
    "electoral_unit": ("选举单位", "选区", "原选举单位", "选举单位选区"),
    "delegation": ("代表团", "代表小组", "所在代表团", "所在代表小组", "所属代表团", "所属代表小组", "代表团小组"),
    "professional_group": ("专业小组", "专业代表小组", "所属专业小组"),
    "township": ("所属乡镇", "乡镇", "乡镇街道", "所属乡镇街道", "所在乡镇", "街道"),
    "stations": ("联络站", "进站", "所在联络站", "进驻联络站", "联络站点", "代表联络站", "所属联络站", "进站情况"),
    "phone": ("联系电话", "电话", "手机", "手机号码", "手机号", "联系方式", "电话号码"),
    "email": ("电子邮箱", "邮箱", "电子邮件", "email", "e-mail", "邮件"),
    "id_code": ("代表编号", "编号", "代表证号", "代表证编号"),
}
COLUMN_BY_HEADER = {word.lower(): col for col, words in _COLUMNS.items() for word in words}
REQUIRED = {"name": "姓名", "term": "届次"}
_NOISE = re.compile(r"[\s\u3000*＊:：]")
_NOTE = re.compile(r"[（(][^）)]*[）)]")
NOT_EXCEL = N_("This file is not an Excel workbook. Upload the deputies sheet saved as .xlsx.")


def column_of(header: Any) -> str | None:
    """The field a header names: 选举单位（选区） and 代表团/代表小组 are found too."""
    raw = _NOISE.sub("", str(header or "")).lower()
    if not raw:
        return None
    for candidate in (raw, _NOTE.sub("", raw), _NOTE.sub("", raw).replace("（", "").replace("）", "")):
        if candidate in COLUMN_BY_HEADER:
            return COLUMN_BY_HEADER[candidate]
    for part in re.split(r"[/、／]", _NOTE.sub("", raw)):
        if part in COLUMN_BY_HEADER:
            return COLUMN_BY_HEADER[part]
    return None


@dataclass
class Sheet:
    columns: dict[int, str]  # cell index -> field
    ignored: list[str]  # headers that name nothing we keep
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (sheet row number, field -> cell)


def _refuse(msgid: str, **params: Any) -> ValidationFailed:
    return ValidationFailed.one("file", msgid, **params)


def _check_container(content: bytes) -> None:
    if not content:
        raise _refuse(N_("The file is empty."))
    if len(content) > MAX_BYTES:
        raise _refuse(N_("The file is larger than %(mb)s MB. Split the sheet and import the parts one by one."),
                      mb=MAX_BYTES // (1024 * 1024))
    if content.startswith(b"\xd0\xcf\x11\xe0"):
        raise _refuse(N_("This is an old Excel file (.xls). Open it in Excel or WPS, save it as .xlsx and upload "
                         "that file."))
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError):
        raise _refuse(NOT_EXCEL) from None
    if "xl/workbook.xml" not in names:
        raise _refuse(NOT_EXCEL)
    if unpacked > MAX_UNPACKED:
        raise _refuse(N_("The file is larger than %(mb)s MB. Split the sheet and import the parts one by one."),
                      mb=MAX_BYTES // (1024 * 1024))


def read_sheet(content: bytes) -> Sheet:
    """The header and the non-empty rows of the first worksheet, or ValidationFailed on "file"."""
    _check_container(content)
    # A damaged workbook fails in many ways inside openpyxl (read-only mode parses lazily, so while
    # reading the rows too); to the person uploading it they all mean the same.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # styles and extensions openpyxl does not know are harmless here
            book = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        raise _refuse(NOT_EXCEL) from None
    try:
        if not book.worksheets:
            _no_header()
        return _read_rows(book.worksheets[0].iter_rows(values_only=True))
    except ValidationFailed:
        raise
    except Exception:
        raise _refuse(NOT_EXCEL) from None
    finally:
        book.close()


def _no_header() -> NoReturn:
    raise _refuse(N_("No header row with a 姓名 column was found in the first %(n)s rows of the first sheet."),
                  n=HEADER_SEARCH_ROWS)


def _read_rows(rows: Any) -> Sheet:
    sheet: Sheet | None = None
    for number, cells in enumerate(rows, start=1):
        if sheet is None:
            columns = {i: column_of(c) for i, c in enumerate(cells)}
            if "name" in columns.values():
                found: dict[int, str] = {}
                for i, col in columns.items():
                    if col is not None and col not in found.values():
                        found[i] = col
                ignored = [str(c).strip() for i, c in enumerate(cells) if c not in (None, "") and i not in found]
                sheet = Sheet(found, ignored)
                missing = [REQUIRED[col] for col in REQUIRED if col not in found.values()]
                if missing:
                    raise _refuse(N_("The sheet has no %(column)s column. Add it to the header row."),
                                  column="、".join(missing))
            elif number >= HEADER_SEARCH_ROWS:
                _no_header()
            continue
        values = {col: cells[i] for i, col in sheet.columns.items() if i < len(cells)}
        if all(v is None or str(v).strip() == "" for v in values.values()):
            continue
        if len(sheet.rows) >= MAX_ROWS:
            raise _refuse(N_("The sheet has more than %(n)s deputies. Split it and import the parts one by one."),
                          n=MAX_ROWS)
        sheet.rows.append((number, values))
    if sheet is None:
        _no_header()
    return sheet
