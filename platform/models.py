"""Every table of the kernel, imported in one place for Alembic and the tests."""

from renda.platform.audit import AuditEntry
from renda.platform.counters import Counter
from renda.platform.db import Base
from renda.platform.files.models import Attachment
from renda.platform.identity.models import Grant, User
from renda.platform.notify.models import Notification, OutboxMessage
from renda.platform.tenancy.models import (
    HandlingUnit,
    JointStation,
    JointStationMember,
    OrgUnit,
    Tenant,
    TenantSetting,
)
from renda.platform.timeline import TimelineEvent
from renda.platform.workdays.models import WorkdayOverride

__all__ = [
    "Attachment", "AuditEntry", "Base", "Counter", "Grant", "HandlingUnit", "JointStation", "JointStationMember",
    "Notification", "OrgUnit", "OutboxMessage", "Tenant", "TenantSetting", "TimelineEvent", "User",
    "WorkdayOverride",
]
