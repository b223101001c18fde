"""Every table of the congress work, imported in one place for Alembic and the tests."""

from renda.tenants.deputies.models import Deputy, DeputyImport, DeputyStation
from renda.tenants.suggestions.models import (
    Assignment,
    Commitment,
    Cosigner,
    Reply,
    Suggestion,
)

__all__ = ["Assignment", "Commitment", "Cosigner", "Deputy", "DeputyImport", "DeputyStation", "Reply",
           "Suggestion"]
