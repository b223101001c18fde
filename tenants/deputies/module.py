"""The deputies module's declaration: the office keeps the registry of deputies."""

from __future__ import annotations

from renda.platform.modules import Module
from renda.tenants.congress.roles import Permission, Role

MODULE = Module(
    name="deputies",
    grants={Role.CONGRESS_ADMIN: {Permission.DEPUTY_MANAGE}},
)
