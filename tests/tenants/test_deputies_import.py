"""Importing deputies from Excel sheets as offices keep them: the preview row by row, the commit
that writes every row or none, and the clear refusals of files that are not what they claim."""

from __future__ import annotations

import io
import secrets
import zipfile
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from renda.platform.access.policy import AccessDenied
from renda.platform.audit import AuditEntry
from renda.platform.db import Scope, set_scope
from renda.platform.errors import ValidationFailed
from renda.platform.identity import service as identity
from renda.platform.identity.principal import load_principal
from renda.platform.tenancy.models import Tenant
from renda.tenants.deputies import importer, service
from renda.tenants.deputies.models import Deputy, DeputyImport
from renda.tenants.deputies.sheet import MAX_ROWS

HEADER = ["序号", "代表编号", "姓名", "性别", "民族", "出生年月", "届次", "选举单位（选区）", "代表团/代表小组",
          "所属乡镇", "联络站", "手机号码", "备注"]


def xlsx(rows: list[list[Any]], header: list[str] | None = None, title: str | None = "田东县第十七届人大代表名册",
         ) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    if title:
        sheet.append([title])  # offices put a title row above the header
    sheet.append(header or HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def person(n: int, code: str, name: str, township: str = "平马镇", station: str = "平马镇人大代表联络站",
           phone: Any = None, term: Any = "第十七届") -> list[Any]:
    return [n, code, name, "男", "壮族", "1970.05", term, "平马镇第一选区", "平马镇代表小组", township, station,
            phone if phone is not None else 13900000000 + n, ""]


def _tenant(s: Session, tenant_id: int) -> Tenant:
    tenant = s.get(Tenant, tenant_id)
    assert tenant is not None
    return tenant


def _deputies(s: Session, tenant_id: int) -> int:
    previous = s.info.get("scope")
    set_scope(s, Scope.system())
    try:
        s.flush()
        return s.scalar(select(func.count()).select_from(Deputy).where(Deputy.tenant_id == tenant_id)) or 0
    finally:
        set_scope(s, previous if isinstance(previous, Scope) else Scope())


@pytest.fixture
def ctx(open_session: Any, principal_of: Any, cast: Any) -> Any:
    """A rolled-back session acting as Tiandong's congress staff, a code prefix unique to the test."""
    s = open_session(Scope.system())
    actor = principal_of(s, "tiandong_admin")
    return s, actor, _tenant(s, cast.tenant.tiandong), f"T{secrets.token_hex(3)}"


def test_preview_says_for_each_row_what_would_happen_and_why_not(ctx: Any, cast: Any) -> None:
    s, actor, tiandong, p = ctx
    existing = service.create_deputy(s, actor, tiandong, org_unit_id=cast.org.pingma, station_ids=[],
                                     fields={"name": "农海燕", "term": "17", "level": "county", "id_code": f"{p}-02",
                                             "phone": "13900000002"})
    same = service.create_deputy(s, actor, tiandong, org_unit_id=cast.org.pingma,
                                 station_ids=[cast.org.pingma_station],
                                 fields={"name": "黄金凤", "term": "17", "level": "county", "id_code": f"{p}-03",
                                         "gender": "male", "ethnicity": "壮族", "birth_date": "1970-05",
                                         "electoral_unit": "平马镇第一选区", "delegation": "平马镇代表小组",
                                         "phone": "13900000003"})
    before = _deputies(s, tiandong.id)
    content = xlsx([
        person(1, f"{p}-01", "韦新民"),
        person(2, f"{p}-02", "农海燕", township="朔良镇", station="朔良镇人大代表联络站"),
        person(3, f"{p}-03", "黄金凤"),
        person(4, f"{p}-04", "陆小华", phone="12345"),
        person(5, f"{p}-05", "梁志强", township="不存在镇"),
        person(6, f"{p}-01", "韦新民"),
        person(7, f"{p}-07", ""),
        person(8, f"{p}-08", "覃桂兰", station="平马镇人大代表联络站、不存在联络站"),
        [None] * len(HEADER),  # empty rows are skipped, not reported
    ])
    preview = importer.preview(s, actor, tiandong, content, "名册.xlsx")
    rows = {row.number: row for row in preview.rows}
    assert [r.number for r in preview.rows] == [3, 4, 5, 6, 7, 8, 9, 10]  # as Excel numbers them
    assert {n: r.action for n, r in rows.items()} == {
        3: "create", 4: "update", 5: "unchanged", 6: "invalid", 7: "invalid", 8: "invalid", 9: "invalid",
        10: "invalid"}
    assert rows[4].deputy_id == existing.id and set(rows[4].changes) == {
        "gender", "ethnicity", "birth_date", "electoral_unit", "delegation", "township", "stations"}
    assert rows[5].deputy_id == same.id
    assert [m.msgid for m in rows[6].errors] == [
        "Enter a mobile number of 11 digits or a landline with its area code, such as 0776-5221234."]
    assert rows[7].errors[0].params == {"name": "不存在镇"}
    assert rows[8].errors[0].msgid == "The same deputy is already on row %(row)s of this sheet."
    assert rows[8].errors[0].params == {"row": 3}
    assert [m.msgid for m in rows[9].errors] == ["Enter a name."]
    assert rows[10].errors[0].params == {"name": "不存在联络站"}
    assert preview.counts == {"create": 1, "update": 1, "unchanged": 1, "invalid": 5}
    assert preview.ignored == ["序号", "备注"] and "township" in preview.columns
    assert preview.token is not None and s.get(DeputyImport, preview.token) is not None
    assert _deputies(s, tiandong.id) == before  # a preview writes no deputy


def test_a_commit_with_an_invalid_row_writes_nothing(ctx: Any) -> None:
    s, actor, tiandong, p = ctx
    content = xlsx([person(1, f"{p}-1", "韦新民"), person(2, f"{p}-2", "农海燕", phone="12345")])
    token = importer.preview(s, actor, tiandong, content).token
    assert token is not None
    before = _deputies(s, tiandong.id)
    audits = s.scalar(select(func.count()).select_from(AuditEntry))
    with pytest.raises(importer.ImportRefused) as caught:
        importer.commit(s, actor, tiandong, token)
    assert caught.value.preview.counts["invalid"] == 1
    with pytest.raises(importer.ImportRefused):
        importer.commit(s, actor, tiandong, content)  # the bytes themselves, no preview kept
    assert _deputies(s, tiandong.id) == before
    assert s.scalar(select(func.count()).select_from(AuditEntry)) == audits


def test_a_clean_sheet_is_written_whole_and_a_second_commit_changes_nothing(ctx: Any, cast: Any) -> None:
    s, actor, tiandong, p = ctx
    rows = [person(i, f"{p}-{i:03d}", f"代表{p}{i}", township="朔良镇" if i % 2 else "平马镇",
                   station="朔良镇人大代表联络站" if i % 2 else "平马镇人大代表联络站") for i in range(1, 41)]
    content = xlsx(rows)
    before = _deputies(s, tiandong.id)
    token = importer.preview(s, actor, tiandong, content, "名册.xlsx").token
    assert token is not None
    result = importer.commit(s, actor, tiandong, token)
    assert result.committed and result.counts == {"create": 40, "update": 0, "unchanged": 0, "invalid": 0}
    assert _deputies(s, tiandong.id) == before + 40
    first = s.scalars(select(Deputy).where(Deputy.tenant_id == tiandong.id, Deputy.id_code == f"{p}-001")).one()
    assert (first.org_unit_id, first.phone, first.level, first.term) == (
        cast.org.shuoliang, "13900000001", "county", 17)
    assert service.station_ids_of(s, first) == [cast.org.shuoliang_station]
    upload = s.get(DeputyImport, token)
    assert upload is not None and upload.committed_at is not None and upload.result == result.counts
    logged = s.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.tenant_id == tiandong.id, AuditEntry.action == "deputy.create",
        AuditEntry.object_id == str(first.id)))
    assert logged == 1
    again = importer.commit(s, actor, tiandong, importer.preview(s, actor, tiandong, content).token or 0)
    assert again.counts == {"create": 0, "update": 0, "unchanged": 40, "invalid": 0}
    assert _deputies(s, tiandong.id) == before + 40


def test_rows_without_a_number_match_by_name_and_phone(ctx: Any, cast: Any) -> None:
    s, actor, tiandong, p = ctx
    header = ["姓名", "届次", "联系电话", "代表层级", "专业小组"]
    importer.commit(s, actor, tiandong, xlsx([[f"甲{p}", 17, "13911112222", "乡镇", ""],
                                              [f"乙{p}", 17, "", "县", ""]], header, None))
    result = importer.preview(s, actor, tiandong, xlsx([[f"甲{p}", "十七", "13911112222", "", "法制"],
                                                        [f"乙{p}", "17", "", "", "教科文卫"]], header, None))
    assert [(r.action, r.changes) for r in result.rows] == [("update", ["professional_group"]),
                                                             ("update", ["professional_group"])]
    township = s.scalars(select(Deputy).where(Deputy.name == f"甲{p}")).one()
    assert township.level == "township" and township.org_unit_id == cast.org.tiandong_root


def test_a_township_keeper_may_import_only_their_townships_rows(ctx: Any, cast: Any) -> None:
    s, _, tiandong, p = ctx
    user = identity.create_user(s, None, tiandong, username=f"keeper-{p}", display_name="平马镇", password=None)
    identity.grant_role(s, None, tiandong, user, role="congress_admin", org_unit_id=cast.org.pingma)
    s.flush()
    keeper = load_principal(s, user.id)
    preview = importer.preview(s, keeper, tiandong, xlsx([person(1, f"{p}-1", "韦新民"),
                                                          person(2, f"{p}-2", "农海燕", township="朔良镇")]))
    assert [r.action for r in preview.rows] == ["create", "invalid"]
    assert preview.rows[1].errors[0].params == {"place": "朔良镇"}
    chair = load_principal(s, cast.user.tiandong_chair)
    with pytest.raises(AccessDenied):
        importer.preview(s, chair, tiandong, xlsx([person(1, f"{p}-1", "韦新民")]))


def _png() -> bytes:
    return b"\x89PNG\r\n\x1a\n" + secrets.token_bytes(200)


def _docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize(("content", "msgid"), [
    (_png(), "This file is not an Excel workbook. Upload the deputies sheet saved as .xlsx."),
    (_docx(), "This file is not an Excel workbook. Upload the deputies sheet saved as .xlsx."),
    (b"PK\x03\x04 truncated", "This file is not an Excel workbook. Upload the deputies sheet saved as .xlsx."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "This is an old Excel file (.xls). Open it in Excel or WPS, "
     "save it as .xlsx and upload that file."),
    (b"", "The file is empty."),
    (bytes(5 * 1024 * 1024 + 1), "The file is larger than %(mb)s MB. Split the sheet and import the parts one by "
     "one."),
    (xlsx([["张三", 17]], ["名字x", "届次"]), "No header row with a 姓名 column was found in the first %(n)s rows "
     "of the first sheet."),
    (xlsx([["张三", "县"]], ["姓名", "级别"]), "The sheet has no %(column)s column. Add it to the header row."),
], ids=["png", "docx", "broken-zip", "xls", "empty", "too-large", "no-header", "no-term-column"])
def test_files_that_are_not_a_deputies_sheet_get_a_clear_message(ctx: Any, content: bytes, msgid: str) -> None:
    s, actor, tiandong, _ = ctx
    uploads = s.scalar(select(func.count()).select_from(DeputyImport))
    with pytest.raises(ValidationFailed) as caught:
        importer.preview(s, actor, tiandong, content, "名册.xlsx")
    assert caught.value.errors["file"].msgid == msgid
    assert s.scalar(select(func.count()).select_from(DeputyImport)) == uploads


def test_a_sheet_with_too_many_rows_is_refused(ctx: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    s, actor, tiandong, p = ctx
    monkeypatch.setattr("renda.tenants.deputies.sheet.MAX_ROWS", 3)
    with pytest.raises(ValidationFailed) as caught:
        importer.preview(s, actor, tiandong, xlsx([person(i, f"{p}-{i}", f"代表{i}") for i in range(4)]))
    assert caught.value.errors["file"].params == {"n": 3}
    assert MAX_ROWS == 5000
