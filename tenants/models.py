"""Every table of the congress work, imported in one place for Alembic and the tests."""

from renda.tenants.deputies.models import Deputy, DeputyImport, DeputyStation
from renda.tenants.suggestions.models import (
    Assignment,
    Attachment,
    Commitment,
    Cosigner,
    Reply,
    Suggestion,
)

__all__ = ["Assignment", "Attachment", "Commitment", "Cosigner", "Deputy", "DeputyImport", "DeputyStation", "Reply",
           "Suggestion"]
