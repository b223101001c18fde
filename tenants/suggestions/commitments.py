"""Commitments (承诺事项) of class B replies: looking one up for whoever may see it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform.access.policy import Principal
from renda.platform.errors import NotFound
from renda.platform.numbers import is_id
from renda.platform.tenancy.models import Tenant
from renda.tenants.suggestions.access import access_suggestion
from renda.tenants.suggestions.models import Commitment


def access_commitment(session: Session, actor: Principal, tenant: Tenant, commitment_id: int,
                      suggestion_id: int | None = None) -> Commitment:
    """The commitment if the actor may see its suggestion (of ``suggestion_id``, when named); NotFound
    otherwise, exactly as for one that does not exist."""
    found = session.scalars(select(Commitment).where(Commitment.id == commitment_id,
                                                     Commitment.tenant_id == tenant.id)).first() \
        if is_id(commitment_id) else None
    if found is None or (suggestion_id is not None and found.suggestion_id != suggestion_id):
        raise NotFound("commitment")
    try:
        access_suggestion(session, actor, tenant, found.suggestion_id)
    except NotFound:
        raise NotFound("commitment") from None
    return found
