"""The inbox: the signed-in user's notifications across all their tenants, grouped by what they are about
(a suggestion's assignment, reply and reminders together, newest first), and marking them read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from renda.platform.notify import queries, service
from renda.platform.notify.queries import InboxEntry
from renda.web import i18n, links
from renda.web.deps import PrincipalDep, SessionDep
from renda.web.forms import RowId
from renda.web.render import render

router = APIRouter()


@dataclass(frozen=True)
class EntryView:
    """One notification as the page shows it: texts already in the reader's language."""

    id: int
    title: str
    body: str
    link: str | None
    tenant: str
    at: dt.datetime
    unread: bool


def _view(entry: InboxEntry, language: str) -> EntryView:
    n = entry.notification
    title, body = n.render(i18n.gettext)
    tenant = entry.tenant_name_en if language != "zh_CN" and entry.tenant_name_en else entry.tenant_name
    return EntryView(id=n.id, title=title, body=body, link=links.notification_link(entry.tenant_slug, n), tenant=tenant,
                     at=n.created_at, unread=n.read_at is None)


@dataclass
class GroupView:
    """The notifications of one page about one record (or one notification about nothing in particular)."""

    link: str | None
    entries: list[EntryView] = field(default_factory=list)  # newest first

    @property
    def unread(self) -> bool:
        return any(e.unread for e in self.entries)


def _groups(found: list[InboxEntry], language: str) -> list[GroupView]:
    """The page's notifications grouped by their subject (or their stored link), in the order of each
    group's newest; one without either stands alone."""
    groups: dict[object, GroupView] = {}
    for entry in found:
        view, n = _view(entry, language), entry.notification
        key: object = ((entry.tenant_slug, n.subject) if n.subject is not None
                       else ("link", view.link) if view.link else ("one", n.id))
        groups.setdefault(key, GroupView(view.link)).entries.append(view)
    return list(groups.values())


def _back(page: int) -> RedirectResponse:
    return RedirectResponse("/inbox" if page <= 1 else f"/inbox?page={page}", status_code=303)


@router.get("/inbox")
def inbox(request: Request, session: SessionDep, principal: PrincipalDep,
          page: Annotated[int, Query(ge=1, le=100_000)] = 1) -> Response:
    found = queries.inbox(session, principal.user_id, page)
    language = getattr(request.state, "language", i18n.DEFAULT_LANGUAGE)
    return render(request, "inbox/index.html", {
        "groups": _groups(found.entries, language), "page": found.page, "has_next": found.has_next,
    })


@router.post("/inbox/read-all")
def read_all(session: SessionDep, principal: PrincipalDep,
             page: Annotated[int, Form(ge=1, le=100_000)] = 1) -> Response:
    service.mark_all_read(session, principal)
    return _back(page)


@router.post("/inbox/{notification_id}/read")
def read(session: SessionDep, principal: PrincipalDep, notification_id: RowId,
         page: Annotated[int, Form(ge=1, le=100_000)] = 1, open: Annotated[bool, Form()] = False) -> Response:
    """Mark one notification read; with ``open`` go on to what it is about, which marks the others about
    it read too."""
    mark = service.mark_read_with_its_subject if open else service.mark_read
    notification = mark(session, principal, notification_id)
    target = None
    if open:
        target = links.notification_link(queries.entry_of(session, notification).tenant_slug, notification)
    return RedirectResponse(target, status_code=303) if target else _back(page)
