"""The deputy's part before the office: draft, co-sign, revise, submit, withdraw, give up."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform import audit, files, timeline
from renda.platform.access.policy import AccessDenied, Principal
from renda.platform.counters import next_number
from renda.platform.db import utcnow
from renda.platform.errors import N_, Conflict, Message, ValidationFailed, check_all
from renda.platform.tenancy.models import Tenant
from renda.platform.tenancy.service import tenant_root
from renda.tenants.deputies.models import Deputy
from renda.tenants.suggestions import effects
from renda.tenants.suggestions.access import SUBJECT, access_suggestion, active_deputy, deputy_ids_of
from renda.tenants.suggestions.documents import Documents, with_documents
from renda.tenants.suggestions.engine import ENGINE, required_text
from renda.tenants.suggestions.models import Cosigner, Suggestion
from renda.tenants.suggestions.workflow import Action, Permission, State

DRAFT_STEPS = ("create", "edit")  # documents that came with the draft; a reply's document is the unit's


def series_of(term: int, session_no: int | None) -> str:
    return f"t{term}-s{session_no}" if session_no else f"t{term}-between"


def counter_of(series: str) -> str:
    """The platform counter a suggestion series numbers from (renda.platform.counters)."""
    return f"{SUBJECT}:{series}"


def drafting_deputy(session: Session, actor: Principal, tenant: Tenant) -> Deputy:
    """The deputy the actor drafts suggestions as in this tenant, or AccessDenied as create_draft answers
    (the new suggestion's page asks before it offers the form)."""
    if Permission.SUGGESTION_SUBMIT not in actor.permissions_in(tenant.id):
        raise AccessDenied(Permission.SUGGESTION_SUBMIT)
    return active_deputy(session, actor, tenant)


def create_draft(session: Session, actor: Principal, tenant: Tenant, *, title: str, content: str,
                 category: str = "", term: int, session_no: int | None, cosigner_ids: Sequence[int] = (),
                 client_token: str | None = None, documents: Documents | None = None) -> Suggestion:
    """A draft by the actor's deputy, with its material; posting the same form twice (one client_token)
    gives one draft. A refused document leaves no draft, and the reverse."""
    deputy = drafting_deputy(session, actor, tenant)
    if client_token:
        earlier = session.scalars(select(Suggestion).where(Suggestion.tenant_id == tenant.id,
                                                           Suggestion.client_token == client_token)).first()
        if earlier is not None:
            return earlier

    def check_term() -> int:
        if not 1 <= term <= 30:
            raise ValidationFailed.one("term", N_("Choose the congress term."))
        if session_no is not None and not 1 <= session_no <= 20:
            raise ValidationFailed.one("session_no", N_("Choose the session, or 'between sessions'."))
        return term

    title, content, category, _, cosigners = check_all(
        lambda: required_text(title, "title", 200), lambda: required_text(content, "content", 20000),
        lambda: (category or "").strip()[:40], check_term,
        lambda: _check_cosigners(session, tenant, deputy.id, cosigner_ids))

    def draft() -> Suggestion:
        suggestion = Suggestion(tenant_id=tenant.id, series=series_of(term, session_no), term=term,
                                session_no=session_no, title=title, content=content, category=category,
                                state=State.DRAFT.value, lead_deputy_id=deputy.id,
                                org_unit_id=tenant_root(session, tenant).id, created_by=actor.user_id,
                                client_token=client_token)
        session.add(suggestion)
        session.flush()
        rows, data = effects.drafted(suggestion, cosigners)
        session.add_all(rows)
        timeline.record(session, tenant_id=tenant.id, subject_type=SUBJECT, subject_id=suggestion.id,
                        actor_id=actor.user_id, action="create", data=data)
        audit.record(session, tenant_id=tenant.id, actor_id=actor.user_id, action="suggestion.create",
                     obj=suggestion, after=ENGINE.snapshot(suggestion))
        return suggestion

    return with_documents(session, actor, tenant, documents, "create", draft)


def _check_cosigners(session: Session, tenant: Tenant, lead_deputy_id: int, cosigner_ids: Sequence[int]
                     ) -> list[int]:
    ids = sorted(set(cosigner_ids) - {lead_deputy_id})
    found = dict(session.execute(select(Deputy.id, Deputy.user_id).where(
        Deputy.tenant_id == tenant.id, Deputy.id.in_(ids), Deputy.active.is_(True))).all())
    if set(found) != set(ids):
        raise ValidationFailed.one("cosigners", N_("A co-signer is not a deputy of this congress."))
    if any(user_id is None for user_id in found.values()):
        # They could never confirm, and the suggestion could never be submitted.
        raise ValidationFailed.one("cosigners", N_("A co-signer has no account to confirm with yet."))
    return ids


def edit_draft(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, title: str,
               content: str, category: str = "", cosigner_ids: Sequence[int] | None = None,
               version: int | None, documents: Documents | None = None) -> Suggestion:
    """The lead deputy revises a draft, or a suggestion returned for revision (退回修改), perhaps adding
    documents.

    ``cosigner_ids`` (None: unchanged) replaces the co-signers; those kept keep their confirmation
    unless the title or the text changed, which they confirm again (they endorsed the earlier words).
    """
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    taken = ENGINE.take(session, actor, suggestion, Action.EDIT, version)
    current = {c.deputy_id: c for c in session.scalars(select(Cosigner).where(
        Cosigner.tenant_id == tenant.id, Cosigner.suggestion_id == suggestion.id))}
    title, content, wanted = check_all(
        lambda: required_text(title, "title", 200), lambda: required_text(content, "content", 20000),
        lambda: sorted(current) if cosigner_ids is None else
        _check_cosigners(session, tenant, suggestion.lead_deputy_id, cosigner_ids))

    def revise() -> Suggestion:
        reworded = (title, content) != (suggestion.title, suggestion.content)
        suggestion.title, suggestion.content, suggestion.category = title, content, (category or "").strip()[:40]
        data: dict[str, Any] = {}
        for deputy_id, row in current.items():
            if deputy_id not in wanted:
                session.delete(row)
            elif reworded and row.confirmed_at is not None:
                row.confirmed_at = None
                data["reconfirm"] = True
        session.add_all(Cosigner(tenant_id=tenant.id, suggestion_id=suggestion.id, deputy_id=i)
                        for i in wanted if i not in current)
        if sorted(current) != wanted:
            data["cosigners"] = wanted
        return ENGINE.done(session, actor, suggestion, taken, data)

    return with_documents(session, actor, tenant, documents, "edit", revise)


def remove_attachment(session: Session, actor: Principal, tenant: Tenant, attachment_id: int, *,
                      version: int | None) -> Suggestion:
    """The lead deputy takes a document off their draft (a revision of it): it is no longer listed or
    served; the row stays, and the timeline names the file. Only the draft's own documents."""
    attachment = files.find(session, tenant.id, SUBJECT, attachment_id)
    suggestion = access_suggestion(session, actor, tenant, attachment.subject_id)
    taken = ENGINE.take(session, actor, suggestion, Action.EDIT, version)
    if attachment.step not in DRAFT_STEPS:
        raise Conflict(Message(N_("Only the draft's own documents can be removed.")))
    files.remove(attachment, actor.user_id)
    suggestion.updated_at = utcnow()  # a revision: the version moves, so a form opened before is stale
    return ENGINE.done(session, actor, suggestion, taken,
                       {"removed_attachment_id": attachment.id, "filename": attachment.filename})


def discard(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, version: int | None
            ) -> Suggestion:
    """The lead deputy gives up a draft: it leaves their lists (a withdrawn one keeps its number, unused)."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    taken = ENGINE.take(session, actor, suggestion, Action.DISCARD, version)
    return ENGINE.done(session, actor, suggestion, taken, effects.discarded(suggestion, utcnow()))


def withdraw(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, version: int | None
             ) -> Suggestion:
    """The lead deputy takes a submitted suggestion back before review; its number stays its own."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    taken = ENGINE.take(session, actor, suggestion, Action.WITHDRAW, version)
    return ENGINE.done(session, actor, suggestion, taken)


def confirm_cosign(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int) -> Suggestion:
    """A co-signer confirms (附议); only while the suggestion is a draft or returned. Confirming again
    changes nothing (a form sent twice)."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    if suggestion.state in (State.DRAFT, State.RETURNED) and _confirmed_already(session, actor, suggestion):
        return suggestion
    taken = ENGINE.take(session, actor, suggestion, Action.COSIGN, None)
    cosigner = ENGINE.parts(session, actor, suggestion).waiting_cosign
    if cosigner is None:  # taken by a twin request between the check and now
        raise AccessDenied(Permission.SUGGESTION_SUBMIT, "confirmed already")
    return ENGINE.done(session, actor, suggestion, taken, effects.cosigned(cosigner, utcnow()))


def _confirmed_already(session: Session, actor: Principal, suggestion: Suggestion) -> bool:
    mine = deputy_ids_of(session, actor, suggestion.tenant_id)
    return session.scalars(select(Cosigner.id).where(
        Cosigner.tenant_id == suggestion.tenant_id, Cosigner.suggestion_id == suggestion.id,
        Cosigner.deputy_id.in_(sorted(mine)), Cosigner.confirmed_at.is_not(None))).first() is not None


def submit(session: Session, actor: Principal, tenant: Tenant, suggestion_id: int, *, version: int | None
           ) -> Suggestion:
    """To the congress office, once every co-signer confirmed; numbered in its series the first time."""
    suggestion = access_suggestion(session, actor, tenant, suggestion_id)
    taken = ENGINE.take(session, actor, suggestion, Action.SUBMIT, version)
    waiting = session.scalars(select(Cosigner).where(Cosigner.tenant_id == tenant.id,
                                                     Cosigner.suggestion_id == suggestion.id,
                                                     Cosigner.confirmed_at.is_(None))).all()
    if waiting:
        raise ValidationFailed.one("cosigners", N_("%(n)s co-signers have not confirmed yet."), n=len(waiting))
    number = next_number(session, tenant.id, counter_of(suggestion.series)) if suggestion.number is None else None
    return ENGINE.done(session, actor, suggestion, taken, effects.submitted(suggestion, number, utcnow()))
