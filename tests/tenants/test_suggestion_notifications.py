"""Steps tell the people they concern: the unit when a suggestion is assigned (or re-assigned) to it, the
deputies when it is answered or returned, the office when a deputy is dissatisfied, the leader who supervises
a key suggestion. In their inbox, and queued for the gateway when they have a phone; never the actor."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from renda.platform.access.policy import Principal
from renda.platform.db import Scope, set_scope
from renda.platform.identity import service as identity
from renda.platform.identity.models import User
from renda.platform.identity.principal import load_principal
from renda.platform.notify.models import Notification, OutboxMessage, Subject
from renda.platform.tenancy.models import Tenant
from renda.tenants.deputies.models import Deputy
from renda.tenants.suggestions import service
from renda.tenants.suggestions.models import Suggestion


@dataclass
class World:
    session: Session
    cast: Any
    tiandong: Tenant
    cosigner_user: int
    sid: int = 0

    def as_(self, user_id: int) -> Principal:
        return load_principal(self.session, user_id)

    def step(self, user_id: int, call: Any, **kw: Any) -> Suggestion:
        set_scope(self.session, Scope.system())
        version = self.session.get_one(Suggestion, self.sid).version
        return call(self.session, self.as_(user_id), self.tiandong, self.sid, version=version, **kw)

    def told(self, kind: str) -> set[int]:
        """Who holds a notification of this kind about this suggestion."""
        set_scope(self.session, Scope.system())
        self.session.flush()
        return set(self.session.scalars(select(Notification.user_id).where(
            Notification.kind == kind, Notification.subject_type == "suggestion",
            Notification.subject_id == self.sid)))


@pytest.fixture
def world(open_session: Any, cast: Any) -> World:
    session = open_session(Scope.system())
    tiandong = session.get_one(Tenant, cast.tenant.tiandong)
    other = identity.create_user(session, None, tiandong, username=f"cosigner-{secrets.token_hex(3)}",
                                 display_name="黄丽", password=None)
    identity.grant_role(session, None, tiandong, other, role="deputy", org_unit_id=cast.org.pingma_station)
    lead = Deputy(tenant_id=tiandong.id, name="覃永福", level="county", term=17, org_unit_id=cast.org.pingma,
                  user_id=cast.user.tiandong_deputy)
    cosigner = Deputy(tenant_id=tiandong.id, name="黄丽", level="county", term=17, org_unit_id=cast.org.pingma,
                      user_id=other.id)
    session.add_all([lead, cosigner])
    session.flush()
    w = World(session, cast, tiandong, other.id)
    s = service.create_draft(session, w.as_(cast.user.tiandong_deputy), tiandong, title="关于朔良镇饮水工程的建议",
                             content="……", term=17, session_no=6, cosigner_ids=[cosigner.id])
    w.sid = s.id
    service.confirm_cosign(session, w.as_(other.id), tiandong, s.id)
    w.step(cast.user.tiandong_deputy, service.submit)
    return w


def accepted_and_assigned(w: World) -> Suggestion:
    admin = w.cast.user.tiandong_admin
    w.step(admin, service.review, decision="accept")
    return w.step(admin, service.assign, lead_unit_id=w.cast.unit.tiandong_transport)


def test_the_unit_is_told_when_the_suggestion_is_assigned_to_it_and_the_office_is_not(world: World) -> None:
    w = world
    s = accepted_and_assigned(w)
    assert w.told("suggestion.assigned") == {w.cast.user.tiandong_handler}
    set_scope(w.session, Scope.system())
    note = w.session.scalars(select(Notification).where(Notification.kind == "suggestion.assigned",
                                                        Notification.user_id == w.cast.user.tiandong_handler,
                                                        Notification.subject_id == w.sid)).one()
    assert note.params == {"number": s.number, "title": s.title, "deadline": s.deadline.isoformat()}
    assert note.subject == Subject("suggestion", w.sid) and note.link is None  # the pages build the link
    assert note.title == "Suggestion No. %(number)s is assigned to your unit"


def test_a_unit_that_asks_to_leave_tells_the_office_and_the_new_unit_is_told_of_the_reassignment(
        world: World) -> None:
    w = world
    accepted_and_assigned(w)
    w.step(w.cast.user.tiandong_handler, service.request_reassignment, reason="不属于本单位职责")
    assert w.cast.user.tiandong_admin in w.told("suggestion.reassign_requested")
    assert w.cast.user.city_admin not in w.told("suggestion.reassign_requested")  # the county's own office
    court = identity.create_user(w.session, None, w.tiandong, username=f"court-{secrets.token_hex(3)}",
                                 display_name="法院办理人", password=None, phone="13800000000")
    identity.grant_role(w.session, None, w.tiandong, court, role="handler", handling_unit_id=w.cast.unit.tiandong_court)
    w.step(w.cast.user.tiandong_admin, service.assign, lead_unit_id=w.cast.unit.tiandong_court)
    assert court.id in w.told("suggestion.assigned")


def test_the_deputies_are_told_of_the_reply_and_of_a_return(world: World) -> None:
    w = world
    accepted_and_assigned(w)
    w.step(w.cast.user.tiandong_handler, service.reply, reply_class="A", content="已解决", signed_by="李局长")
    assert w.told("suggestion.replied") == {w.cast.user.tiandong_deputy, w.cosigner_user}


def test_a_return_for_revision_tells_the_lead_deputy_and_the_cosigners(world: World) -> None:
    w = world
    w.step(w.cast.user.tiandong_admin, service.review, decision="return", note="请补充具体位置")
    assert w.told("suggestion.returned") == {w.cast.user.tiandong_deputy, w.cosigner_user}


def test_dissatisfaction_tells_the_office_at_the_congress_root_and_the_unit(world: World) -> None:
    w = world
    accepted_and_assigned(w)
    w.step(w.cast.user.tiandong_handler, service.reply, reply_class="C", content="暂不具备条件", signed_by="李局长")
    w.step(w.cast.user.tiandong_deputy, service.evaluate, evaluation="dissatisfied", comment="答复笼统")
    told = w.told("suggestion.dissatisfied")
    assert {w.cast.user.tiandong_admin, w.cast.user.tiandong_handler} <= told
    assert not told & {w.cast.user.city_admin, w.cast.user.tiandong_chair, w.cast.user.tiandong_deputy}


def test_the_supervising_leader_is_told_of_a_key_suggestion_and_nobody_is_told_of_a_contact(world: World) -> None:
    w = world
    accepted_and_assigned(w)
    w.step(w.cast.user.tiandong_admin, service.mark_key, supervisor_user_id=w.cast.user.tiandong_leader)
    assert w.told("suggestion.key") == {w.cast.user.tiandong_leader}
    set_scope(w.session, Scope.system())
    before = w.session.scalars(select(Notification.id)).all()
    w.step(w.cast.user.tiandong_handler, service.record_contact, way="visit", summary="当面沟通")
    set_scope(w.session, Scope.system())
    assert w.session.scalars(select(Notification.id)).all() == before


def test_the_gateway_gets_a_message_for_those_with_a_phone_and_the_actor_is_never_told(world: World) -> None:
    w = world
    set_scope(w.session, Scope.system())
    handler = w.session.get_one(User, w.cast.user.tiandong_handler)
    admin = w.session.get_one(User, w.cast.user.tiandong_admin)
    phones = (handler.phone, admin.phone)
    handler.phone, admin.phone = "13900000000", "13700000000"
    try:
        accepted_and_assigned(w)
        w.step(w.cast.user.tiandong_handler, service.reply, reply_class="A", content="已解决", signed_by="李局长")
        set_scope(w.session, Scope.system())
        w.session.flush()
        assigned = w.session.scalars(select(Notification).where(
            Notification.kind == "suggestion.assigned", Notification.subject_id == w.sid)).one()
        replied = w.session.scalars(select(Notification).where(
            Notification.kind == "suggestion.replied", Notification.subject_id == w.sid)).all()
        outbox = {m.notification_id for m in w.session.scalars(select(OutboxMessage).where(
            OutboxMessage.notification_id.in_([assigned.id, *(n.id for n in replied)])))}
        assert outbox == {assigned.id}  # the handler has a phone; the deputies in this cast have none
        assert w.cast.user.tiandong_handler not in w.told("suggestion.replied")  # who replied is not told
    finally:
        handler.phone, admin.phone = phones
