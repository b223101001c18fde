"""Actions on suggestions: one function per thing a person does (STYLE item 1), by who does it:

- drafting.py: the deputy's part before the office (draft, co-sign, revise, submit, withdraw, give up);
- office.py: the congress office's (review, assign, keep an assignment, key suggestions, close);
- units.py: the handling units' (re-assignment requests, contact, co-units' opinions, the reply, promises kept);
- evaluation.py: the deputy's evaluation of the reply.

Every action finds the suggestion inside what the actor may see (access.py), then takes its step through
the platform's step engine (engine.py: the workflow's state, the version the actor saw, the permission and
who may take it; the timeline event, the audit entry and the notifications in the same transaction), and
changes the rows as effects.py says. ``allowed_actions`` answers which steps a person may take now.
This module gathers them under one name for the pages, the API, the CLI and the jobs.
"""

from renda.tenants.suggestions.access import (
    STAFF_PERMISSIONS,
    SUBJECT,
    access_suggestion,
    may_see,
    overseen,
    oversees,
    require_oversight,
)
from renda.tenants.suggestions.documents import MAX_FILES, Documents, Upload
from renda.tenants.suggestions.drafting import (
    DRAFT_STEPS,
    confirm_cosign,
    create_draft,
    discard,
    drafting_deputy,
    edit_draft,
    remove_attachment,
    series_of,
    submit,
    withdraw,
)
from renda.tenants.suggestions.engine import allowed_actions, require_step
from renda.tenants.suggestions.evaluation import EVALUATIONS, evaluate
from renda.tenants.suggestions.office import REVIEW_ACTIONS, assign, close, decide_reassignment, mark_key, review
from renda.tenants.suggestions.units import (
    CONTACT_WAYS,
    co_unit_opinion,
    fulfil_commitment,
    fulfillable,
    record_contact,
    reply,
    request_reassignment,
)

__all__ = [
    "CONTACT_WAYS", "DRAFT_STEPS", "EVALUATIONS", "MAX_FILES", "REVIEW_ACTIONS", "STAFF_PERMISSIONS", "SUBJECT",
    "Documents", "Upload", "access_suggestion", "allowed_actions", "assign", "close", "co_unit_opinion",
    "confirm_cosign", "create_draft", "decide_reassignment", "discard", "drafting_deputy", "edit_draft", "evaluate",
    "fulfil_commitment", "fulfillable", "mark_key", "may_see", "overseen", "oversees", "record_contact",
    "remove_attachment", "reply", "request_reassignment", "require_oversight", "require_step", "review",
    "series_of", "submit", "withdraw",
]
