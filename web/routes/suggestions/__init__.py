"""The suggestions' pages and API: the entry page, one suggestion and its steps, drafts, documents, the
board and the figures, and ``/api/v1/t/{tenant}/suggestions``."""

from __future__ import annotations

from renda.platform.errors import N_
from renda.tenants.congress.roles import Permission
from renda.tenants.suggestions.access import SUBJECT
from renda.web.modules import NavEntry, WebModule
from renda.web.routes.suggestions import actions, api, attachments, board, drafts, pages

WEB = WebModule(
    # The board's fixed paths come before the pages' /suggestions/{id}.
    routers=(board.router, pages.router, actions.router, drafts.router, attachments.router, api.router),
    nav=(NavEntry("suggestions", N_("Suggestions"), Permission.TENANT_VIEW, 20),),
    links={SUBJECT: pages.suggestion_path},
)
