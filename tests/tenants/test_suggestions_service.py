"""Suggestions from submission to closing through the service actions, and every refusal on the way."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from renda.platform.access.policy import AccessDenied, Principal
from renda.platform.audit import AuditEntry
from renda.platform.db import Scope, set_scope
from renda.platform.errors import Conflict, NotFound, ValidationFailed
from renda.platform.identity import service as identity
from renda.platform.identity.principal import load_principal
from renda.platform.tenancy.models import OrgUnit, Tenant
from renda.platform.timeline import TimelineEvent, events
from renda.tenants.deputies.models import Deputy
from renda.tenants.suggestions import queries, service
from renda.tenants.suggestions.models import Commitment, Reply, Suggestion

TODAY = dt.date(2026, 11, 23)


@dataclass
class World:
    session: Session
    cast: Any
    tiandong: Tenant
    lead: Deputy
    cosigner_user: int
    cosigner: Deputy

    def as_(self, name_or_id: str | int) -> Principal:
        user_id = name_or_id if isinstance(name_or_id, int) else getattr(self.cast.user, name_or_id)
        return load_principal(self.session, user_id)


@pytest.fixture
def world(open_session: Any, cast: Any) -> World:
    session = open_session(Scope.system())
    tiandong = session.get(Tenant, cast.tenant.tiandong)
    assert tiandong is not None
    lead = Deputy(tenant_id=tiandong.id, name="覃永福", level="county", term=17, org_unit_id=cast.org.pingma,
                  user_id=cast.user.tiandong_deputy)
    other = identity.create_user(session, None, tiandong, username=f"cosigner-{secrets.token_hex(3)}",
                                 display_name="黄丽", password=None)
    identity.grant_role(session, None, tiandong, other, role="deputy", org_unit_id=cast.org.pingma_station)
    cosigner = Deputy(tenant_id=tiandong.id, name="黄丽", level="county", term=17, org_unit_id=cast.org.pingma,
                      user_id=other.id)
    session.add_all([lead, cosigner])
    session.flush()
    return World(session, cast, tiandong, lead, other.id, cosigner)


def draft(w: World, **changes: Any) -> Suggestion:
    fields: dict[str, Any] = {"title": "关于加快平马镇农村公路建设的建议", "content": "平马镇部分村屯道路狭窄……",
                              "category": "交通", "term": 17, "session_no": 6}
    fields.update(changes)
    return service.create_draft(w.session, w.as_("tiandong_deputy"), w.tiandong, **fields)


def to_assigned(w: World) -> Suggestion:
    s = draft(w)
    s = service.submit(w.session, w.as_("tiandong_deputy"), w.tiandong, s.id, version=s.version)
    s = service.review(w.session, w.as_("tiandong_admin"), w.tiandong, s.id, decision="accept", version=s.version)
    return service.assign(w.session, w.as_("tiandong_admin"), w.tiandong, s.id,
                          lead_unit_id=w.cast.unit.tiandong_transport, co_unit_ids=[w.cast.unit.tiandong_court],
                          version=s.version, today=TODAY)


def counts(session: Session) -> dict[str, int]:
    previous = session.info.get("scope")
    set_scope(session, Scope.system())
    session.flush()
    try:
        return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) or 0
                for m in (Suggestion, Reply, Commitment, TimelineEvent, AuditEntry)}
    finally:
        set_scope(session, previous)


def test_a_suggestion_goes_from_draft_to_closed_with_a_dissatisfied_round(world: World) -> None:
    w = world
    s = draft(w, cosigner_ids=[w.cosigner.id])
    with pytest.raises(ValidationFailed):  # the co-signer has not confirmed yet
        service.submit(w.session, w.as_("tiandong_deputy"), w.tiandong, s.id, version=s.version)
    service.confirm_cosign(w.session, w.as_(w.cosigner_user), w.tiandong, s.id)
    s = service.submit(w.session, w.as_("tiandong_deputy"), w.tiandong, s.id, version=s.version)
    assert s.state == "submitted" and s.number is not None and s.series == "t17-s6"

    admin = w.as_("tiandong_admin")
    s = service.review(w.session, admin, w.tiandong, s.id, decision="accept", version=s.version)
    s = service.assign(w.session, w.as_("tiandong_admin"), w.tiandong, s.id,
                       lead_unit_id=w.cast.unit.tiandong_transport, co_unit_ids=[w.cast.unit.tiandong_court],
                       version=s.version, today=TODAY)
    assert s.deadline == dt.date(2027, 2, 23)  # three months, the tenant's default

    s = service.record_contact(w.session, w.as_("tiandong_handler"), w.tiandong, s.id, way="visit",
                               summary="到平马镇与代表当面沟通")
    s = service.reply(w.session, w.as_("tiandong_handler"), w.tiandong, s.id, reply_class="B",
                      content="已列入2027年计划", signed_by="李局长", commitment="2027年6月底前完成道路拓宽",
                      commitment_due=dt.date(2027, 6, 30), version=s.version, today=TODAY)
    assert s.state == "replied" and s.reply_class == "B"

    s = service.evaluate(w.session, w.as_("tiandong_deputy"), w.tiandong, s.id, evaluation="dissatisfied",
                         comment="时间太晚", version=s.version, today=TODAY)
    assert (s.state, s.round, s.deadline) == ("rehandling", 2, dt.date(2026, 12, 23))

    s = service.reply(w.session, w.as_("tiandong_handler"), w.tiandong, s.id, reply_class="A", content="已提前完成",
                      signed_by="李局长", version=s.version, today=TODAY)
    s = service.evaluate(w.session, w.as_("tiandong_deputy"), w.tiandong, s.id, evaluation="satisfied",
                         version=s.version, today=TODAY)
    s = service.close(w.session, w.as_("tiandong_admin"), w.tiandong, s.id, version=s.version)
    assert s.state == "closed" and s.closed_at is not None

    set_scope(w.session, Scope.system())
    actions = [e.action for e in events(w.session, w.tiandong.id, "suggestion", s.id)]
    assert actions == ["create", "cosign", "submit", "accept", "assign", "contact", "reply",
                       "evaluate_dissatisfied", "reply", "commitment_fulfilled", "evaluate_satisfied", "close"]
    replies = w.session.scalars(select(Reply).where(Reply.suggestion_id == s.id).order_by(Reply.id)).all()
    assert [(r.round, r.reply_class) for r in replies] == [(1, "B"), (2, "A")]
    # The round-1 promise was kept by the class A reply of round 2: not left open after closing.
    kept = w.session.scalars(select(Commitment).where(Commitment.suggestion_id == s.id)).one()
    assert kept.fulfilled_at is not None and kept.fulfilment_note == "已提前完成"
    fulfilled = [e for e in events(w.session, w.tiandong.id, "suggestion", s.id) if e.action == "commitment_fulfilled"]
    assert fulfilled[0].data == {"commitment_id": kept.id, "by_reply_round": 2}


def test_numbers_follow_each_other_and_a_double_post_makes_one_draft(world: World) -> None:
    w = world
    token = secrets.token_hex(8)
    first = draft(w, client_token=token)
    again = draft(w, client_token=token)
    assert first.id == again.id
    numbers = []
    for s in (first, draft(w), draft(w)):
        numbers.append(service.submit(w.session, w.as_("tiandong_deputy"), w.tiandong, s.id, version=s.version).number)
    assert numbers == sorted(numbers) and len(set(numbers)) == 3 and numbers[2] - numbers[0] == 2


@pytest.mark.parametrize("who, act", [
    # another unit's handler cannot reply
    ("pingguo_admin", lambda w, s: service.reply(w.session, w.as_("pingguo_admin"), w.tiandong, s.id,
                                                  reply_class="A", content="x", signed_by="x", version=s.version)),
    # the deputy may not assign
    ("tiandong_deputy", lambda w, s: service.assign(w.session, w.as_("tiandong_deputy"), w.tiandong, s.id,
                                                     lead_unit_id=w.cast.unit.tiandong_court, version=s.version)),
    # a township chair may not review or assign
    ("tiandong_chair", lambda w, s: service.close(w.session, w.as_("tiandong_chair"), w.tiandong, s.id,
                                                   version=s.version)),
])
def test_the_wrong_people_are_refused_and_nothing_changes(who: str, act: Any, world: World) -> None:
    w = world
    s = to_assigned(w)
    before = counts(w.session)
    with pytest.raises((AccessDenied, NotFound, Conflict)):
        act(w, s)
    assert counts(w.session) == before


def test_a_co_unit_cannot_reply_and_the_lead_unit_of_another_county_cannot_see_it(world: World) -> None:
    w = world
    s = to_assigned(w)
    set_scope(w.session, Scope.system())
    court_user = identity.create_user(w.session, None, w.tiandong, username=f"court-{secrets.token_hex(3)}",
                                      display_name="法院办理人", password=None)
    identity.grant_role(w.session, None, w.tiandong, court_user, role="handler",
                        handling_unit_id=w.cast.unit.tiandong_court)
    w.session.flush()
    before = counts(w.session)
    with pytest.raises(AccessDenied):
        service.reply(w.session, w.as_(court_user.id), w.tiandong, s.id, reply_class="A", content="x",
                      signed_by="x", version=s.version)
    pingguo = w.session.get(Tenant, w.cast.tenant.pingguo)
    assert pingguo is not None
    with pytest.raises(NotFound):
        service.access_suggestion(w.session, w.as_("pingguo_admin"), pingguo, s.id)
    assert counts(w.session) == before
    # The co-unit does give its opinion to the lead unit.
    service.co_unit_opinion(w.session, w.as_(court_user.id), w.tiandong, s.id, opinion="同意主办单位意见")


def test_a_forged_step_and_a_stale_version_are_conflicts(world: World) -> None:
    w = world
    s = draft(w)
    with pytest.raises(Conflict):
        service.submit(w.session, w.as_("tiandong_deputy"), w.tiandong, s.id, version=s.version - 1)
    s = service.submit(w.session, w.as_("tiandong_deputy"), w.tiandong, s.id, version=s.version)
    before = counts(w.session)
    with pytest.raises(Conflict):  # submitting what is already submitted: no such step from here
        service.submit(w.session, w.as_("tiandong_deputy"), w.tiandong, s.id, version=s.version)
    with pytest.raises(Conflict):  # closing before any reply
        service.close(w.session, w.as_("tiandong_admin"), w.tiandong, s.id, version=s.version)
    assert counts(w.session) == before


@pytest.mark.parametrize("changes, field", [
    ({"title": ""}, "title"), ({"title": "长" * 201}, "title"), ({"content": "  "}, "content"),
    ({"term": 0}, "term"), ({"cosigner_ids": [999999]}, "cosigners"),
    ("no_account", "cosigners"),
])
def test_bad_drafts_name_the_field_and_change_nothing(changes: dict[str, Any] | str, field: str,
                                                     world: World) -> None:
    if changes == "no_account":  # a deputy who cannot sign in could never confirm
        nobody = Deputy(tenant_id=world.tiandong.id, name="无账号代表", level="county", term=17,
                        org_unit_id=world.cast.org.pingma)
        world.session.add(nobody)
        world.session.flush()
        changes = {"cosigner_ids": [nobody.id]}
    assert isinstance(changes, dict)
    before = counts(world.session)
    with pytest.raises(ValidationFailed) as refused:
        draft(world, **changes)
    assert field in refused.value.errors
    assert counts(world.session) == before


def test_assigning_to_another_countys_unit_or_a_past_deadline_is_refused(world: World) -> None:
    w = world
    s = draft(w)
    s = service.submit(w.session, w.as_("tiandong_deputy"), w.tiandong, s.id, version=s.version)
    s = service.review(w.session, w.as_("tiandong_admin"), w.tiandong, s.id, decision="accept", version=s.version)
    before = counts(w.session)
    with pytest.raises(ValidationFailed) as refused:
        service.assign(w.session, w.as_("tiandong_admin"), w.tiandong, s.id,
                       lead_unit_id=w.cast.unit.pingguo_housing, version=s.version, today=TODAY)
    assert "lead_unit_id" in refused.value.errors
    with pytest.raises(ValidationFailed) as refused:
        service.assign(w.session, w.as_("tiandong_admin"), w.tiandong, s.id,
                       lead_unit_id=w.cast.unit.tiandong_transport, deadline=TODAY - dt.timedelta(days=1),
                       version=s.version, today=TODAY)
    assert "deadline" in refused.value.errors
    assert counts(w.session) == before


def test_only_the_lead_deputy_evaluates(world: World) -> None:
    w = world
    s = to_assigned(w)
    s = service.reply(w.session, w.as_("tiandong_handler"), w.tiandong, s.id, reply_class="A", content="已解决",
                      signed_by="李局长", version=s.version, today=TODAY)
    before = counts(w.session)
    with pytest.raises((AccessDenied, NotFound)):  # not on this suggestion at all: it is invisible to them
        service.evaluate(w.session, w.as_(w.cosigner_user), w.tiandong, s.id, evaluation="satisfied",
                         version=s.version)
    assert counts(w.session) == before


@pytest.mark.parametrize("name, allowed", [
    ("tiandong_admin", True), ("tiandong_leader", True),
    ("tiandong_deputy", False), ("tiandong_handler", False),
    ("tiandong_chair", False),  # report.view over one township, not the whole county
])
def test_the_board_and_figures_are_for_those_who_oversee_the_county(name: str, allowed: bool, world: World) -> None:
    w = world
    to_assigned(w)
    actor = w.as_(name)
    root = w.session.get(OrgUnit, w.tiandong.root_org_unit_id)
    assert root is not None
    if allowed:
        assert queries.board_for(w.session, actor, w.tiandong, queries.BoardFilter(), TODAY).total >= 1
        assert queries.unit_figures_for(w.session, actor, w.tiandong, TODAY)
        assert sum(f.received for f in queries.node_figures_for(w.session, actor, w.tiandong, root, TODAY)) >= 1
        assert [f.key for f in queries.tenant_figures_for(w.session, actor, [w.tiandong], TODAY)] == [w.tiandong.id]
    else:
        with pytest.raises(AccessDenied):
            queries.board_for(w.session, actor, w.tiandong, queries.BoardFilter(), TODAY)
        with pytest.raises(AccessDenied):
            queries.unit_figures_for(w.session, actor, w.tiandong, TODAY)
        with pytest.raises(AccessDenied):
            queries.node_figures_for(w.session, actor, w.tiandong, root, TODAY)
        assert queries.tenant_figures_for(w.session, actor, [w.tiandong], TODAY) == []  # left out, not shown
