"""The deputies' pages: the registry, one deputy, the Excel import."""

from __future__ import annotations

from renda.platform.errors import N_
from renda.tenants.congress.roles import Permission
from renda.web.modules import NavEntry, WebModule
from renda.web.routes.deputies import pages

WEB = WebModule(routers=(pages.router,), nav=(NavEntry("deputies", N_("Deputies"), Permission.DEPUTY_MANAGE, 10),))
