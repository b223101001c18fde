"""The kernel's own declaration: its permissions, its sign-in setting, the outbox's delivery job and the
deadline sweep (over the sources the modules declare)."""

from __future__ import annotations

from renda.platform.access.roles import KernelPermission
from renda.platform.deadline_sweep import sweep_job
from renda.platform.identity.methods import LOGIN_METHODS
from renda.platform.modules import Module
from renda.platform.notify.outbox import deliver_job

MODULE = Module(
    name="platform",
    settings=(LOGIN_METHODS,),
    jobs=(deliver_job, sweep_job),
    permissions=tuple(KernelPermission),
)
