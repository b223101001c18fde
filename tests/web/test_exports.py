"""Excel exports are written in write-only mode and streamed; the file on disk goes when it is sent."""

from __future__ import annotations

import glob
import io
import tempfile

import openpyxl
from fastapi import FastAPI
from fastapi.testclient import TestClient

from renda.web.exports import xlsx


def test_an_export_streams_its_sheets_with_a_bold_header_and_leaves_no_file_behind() -> None:
    app = FastAPI()
    before = set(glob.glob(f"{tempfile.gettempdir()}/*.xlsx"))

    @app.get("/sheet.xlsx")
    def sheet() -> object:
        rows = ([i, f"第{i}条建议"] for i in range(1, 5001))  # a generator: never a list in memory
        return xlsx("代表建议-2026.xlsx", ("建议", ["序号", "标题"], rows), ("空表", ["甲"], []))

    response = TestClient(app).get("/sheet.xlsx")
    assert response.status_code == 200
    assert "filename*=UTF-8''%E4%BB%A3%E8%A1%A8" in response.headers["content-disposition"]
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    first = book["建议"]
    assert [c.value for c in first[1]] == ["序号", "标题"] and first["A1"].font.bold
    assert first.max_row == 5001 and first["B5001"].value == "第5000条建议"
    assert first.freeze_panes == "A2"
    assert book.sheetnames == ["建议", "空表"]
    assert set(glob.glob(f"{tempfile.gettempdir()}/*.xlsx")) == before
