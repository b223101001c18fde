"""A stored file sent to the browser: streamed, always a download, under its exact name in UTF-8 and a
plain-ASCII stand-in, and no name can break the header."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from renda.platform.files import Download
from renda.platform.files.storage import CHUNK
from renda.web.downloads import content_disposition, file_response


@pytest.mark.parametrize("name, plain", [
    ("调研报告.pdf", "____.pdf"),
    ("report 2024.pdf", "report 2024.pdf"),
    ('a"b\\c;d%e.pdf', "a_b_c_d_e.pdf"),
    ("evil\r\nSet-Cookie: x=1.pdf", "evil__Set-Cookie: x=1.pdf"),
])
def test_the_header_names_the_file_exactly_and_safely(name: str, plain: str) -> None:
    header = content_disposition(name)
    assert header == f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"
    assert header.isascii() and "\r" not in header and "\n" not in header
    assert header.count('"') == 2 and header.count(";") == 2


def test_a_download_is_streamed_with_its_type_length_and_name(tmp_path: Path) -> None:
    data = b"%PDF-1.7\n" + bytes(range(256)) * (CHUNK // 128)
    path = tmp_path / "stored"
    path.write_bytes(data)
    app = FastAPI()
    app.get("/file")(lambda: file_response(Download(path, "application/pdf", "答复函.pdf", len(data))))

    with TestClient(app) as client, client.stream("GET", "/file") as response:
        pieces = list(response.iter_raw())

    assert response.status_code == 200 and b"".join(pieces) == data
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["content-disposition"].endswith("UTF-8''" + quote("答复函.pdf"))
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "private" in response.headers["cache-control"]
