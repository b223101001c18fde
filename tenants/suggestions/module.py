"""The suggestions module's declaration: its settings, its deadline sweep, and who carries its permissions."""

from __future__ import annotations

from renda.platform.modules import Module
from renda.tenants.congress.roles import Permission, Role
from renda.tenants.suggestions.settings import SETTINGS
from renda.tenants.suggestions.sweep import SOURCE

P = Permission

MODULE = Module(
    name="suggestions",
    settings=SETTINGS,
    deadline_sources=(SOURCE,),
    grants={
        Role.CONGRESS_ADMIN: {P.SUGGESTION_REVIEW, P.SUGGESTION_ASSIGN, P.SUGGESTION_SUPERVISE},
        Role.CONGRESS_LEADER: {P.SUGGESTION_SUPERVISE},
        Role.TOWNSHIP_CHAIR: {P.SUGGESTION_SUBMIT},
        Role.DEPUTY: {P.SUGGESTION_SUBMIT, P.SUGGESTION_EVALUATE},
        Role.HANDLER: {P.SUGGESTION_REPLY},
    },
)
