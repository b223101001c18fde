"""The suggestion workflow's per-tenant settings and their legal or customary defaults (DOMAIN.md)."""

from __future__ import annotations

from renda.platform.errors import N_
from renda.platform.tenancy.settings import SettingSpec
from renda.tenants.suggestions.workflow import ReplyClass

SUGGESTIONS = N_("Deputy suggestions")

SETTINGS = (
    SettingSpec("suggestion_deadline_months", "int", 3, N_("Reply deadline (months from assignment)"),
                N_("Deputies Law: three months from assignment."), 1, 12, group=SUGGESTIONS),
    SettingSpec("suggestion_hard_deadline_months", "int", 6,
                N_("Reply deadline for broad or hard suggestions (months)"),
                N_("Deputies Law: at most six months for suggestions that are broad or hard to settle."),
                1, 12, group=SUGGESTIONS),
    SettingSpec("near_due_days", "int", 15, N_("Near-due window (days before the deadline)"),
                N_("Within this window a suggestion turns yellow."), 1, 60, group=SUGGESTIONS),
    SettingSpec("reassign_window_workdays", "int", 10,
                N_("Re-assignment request window (working days after receipt)"), "", 1, 30,
                group=SUGGESTIONS),
    SettingSpec("rehandle_deadline_months", "int", 1, N_("Deadline for re-handling after 'dissatisfied' (months)"),
                "", 1, 6, group=SUGGESTIONS),
    SettingSpec("co_unit_lead_days", "int", 30,
                N_("Co-units send their opinion to the lead unit (days before the deadline)"), "", 0, 90,
                group=SUGGESTIONS),
    SettingSpec("reply_classes", "choices", [ReplyClass.A.value, ReplyClass.B.value, ReplyClass.C.value],
                N_("Reply result classes in use"),
                N_("A solved, B being solved or planned, C later or for reference; D reference only."),
                options=tuple(c.value for c in ReplyClass),
                option_labels={ReplyClass.A.value: N_("A · solved or basically solved"),
                               ReplyClass.B.value: N_("B · being solved or planned"),
                               ReplyClass.C.value: N_("C · to be solved later"),
                               ReplyClass.D.value: N_("D · for reference only")},
                group=SUGGESTIONS),
)
