"""The kernel's own declaration: its permissions, its sign-in setting and the outbox's delivery job."""

from __future__ import annotations

from renda.platform.access.roles import KernelPermission
from renda.platform.identity.methods import LOGIN_METHODS
from renda.platform.modules import Module
from renda.platform.notify.outbox import deliver_job

MODULE = Module(
    name="platform",
    settings=(LOGIN_METHODS,),
    jobs=(deliver_job,),
    permissions=tuple(KernelPermission),
)
