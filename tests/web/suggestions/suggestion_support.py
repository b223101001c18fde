"""What the suggestion page tests share: Tiandong's people who sign in, and the steps as a person takes them."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from fastapi.testclient import TestClient

from renda.platform.db import Database, Scope
from renda.tenants.suggestions.models import Suggestion
from renda.web import i18n

from web_support import post_form

TOKEN = re.compile(r'name="client_token" value="([^"]+)"')
STALE = "Someone changed this suggestion in the meantime. Reload it and try again."


def zh(msgid: str, **params: Any) -> str:
    """What a Chinese reader sees for a message (the catalog's text, or the msgid until translated)."""
    text = i18n.translations("zh_CN").gettext(msgid)
    return text % params if params else text


post = post_form


def state_of(db: Database, suggestion_id: int) -> Suggestion:
    with db.session(Scope.system()) as s:
        found = s.get(Suggestion, suggestion_id)
        assert found is not None
        s.expunge(found)
        return found


def version(client: TestClient, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.text
    found = re.search(r'data-version="(\d+)"', page.text)
    assert found, "the page shows the suggestion's version"
    return found.group(1)


def draft(client: TestClient, world: SimpleNamespace, title: str, **fields: Any) -> int:
    form = client.get(f"{world.base}/new")
    assert form.status_code == 200
    token = TOKEN.search(form.text)
    assert token
    response = post(client, f"{world.base}/new", {"title": title, "content": "平马镇部分村屯道路狭窄，雨天通行困难。",
                                                  "category": "交通", "term": "17", "session_no": "6",
                                                  "client_token": token.group(1), **fields})
    assert response.status_code == 303, response.text
    return int(response.headers["location"].split("?")[0].split("/")[-1])


def submitted(deputy: TestClient, world: SimpleNamespace, title: str) -> int:
    sid = draft(deputy, world, title)
    url = f"{world.base}/{sid}"
    assert post(deputy, f"{url}/submit", {"version": version(deputy, url)}).status_code == 303
    return sid


def step(client: TestClient, url: str, action: str, data: dict[str, Any] | None = None, expect: int = 303) -> Any:
    response = post(client, f"{url}/{action}", {"version": version(client, url), **(data or {})})
    assert response.status_code == expect, response.text
    return response


def ids(html: str) -> list[str]:
    """The suggestions a board page lists, by id."""
    return re.findall(r'<tr id="row-(\d+)"', html)
