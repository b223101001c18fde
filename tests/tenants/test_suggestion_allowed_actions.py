"""``allowed_actions`` is exactly what the service accepts: for a suggestion in every state and each member of
the cast, every step the state has is tried (each in a savepoint, undone after) and goes through if and only
if it was offered; the steps a state has not are refused to everyone (test_suggestion_workflow.py walks
those). Pages and the API render from allowed_actions, so they can never offer a step the service refuses,
nor hide one it would take."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from renda.platform.access.policy import AccessDenied, Principal
from renda.platform.db import Scope, set_scope
from renda.platform.errors import Conflict, NotFound, ValidationFailed
from renda.platform.identity import service as identity
from renda.platform.identity.principal import load_principal
from renda.platform.tenancy.models import Tenant
from renda.platform.timeline import TimelineEvent
from renda.tenants.deputies.models import Deputy
from renda.tenants.suggestions import service
from renda.tenants.suggestions.models import Suggestion
from renda.tenants.suggestions.workflow import FLOW, Action, State

# The lead deputy and a co-signer, the county's office and leader, the lead unit and a co-unit, a township
# chair (sees the county's suggestions not at all) and another county's office (sees nothing of the county).
CAST = ("lead", "cosigner", "tiandong_admin", "tiandong_leader", "tiandong_handler", "court", "tiandong_chair",
        "pingguo_admin")


@dataclass
class World:
    session: Session
    cast: Any
    tiandong: Tenant
    users: dict[str, int]
    cosigner: Deputy
    principals: dict[str, Principal]

    def as_(self, name: str) -> Principal:
        if name not in self.principals:
            self.principals[name] = load_principal(self.session, self.users[name])
        principal = self.principals[name]
        set_scope(self.session, principal.scope)
        return principal


@pytest.fixture
def world(open_session: Any, cast: Any) -> World:
    session = open_session(Scope.system())
    tiandong = session.get_one(Tenant, cast.tenant.tiandong)
    users = {name: getattr(cast.user, name) for name in CAST if hasattr(cast.user, name)}
    users["lead"] = cast.user.tiandong_deputy
    for name, role, where in (("cosigner", "deputy", {"org_unit_id": cast.org.pingma_station}),
                              ("court", "handler", {"handling_unit_id": cast.unit.tiandong_court})):
        user = identity.create_user(session, None, tiandong, username=f"{name}-{secrets.token_hex(3)}",
                                    display_name=name, password=None)
        identity.grant_role(session, None, tiandong, user, role=role, **where)
        users[name] = user.id
    lead = Deputy(tenant_id=tiandong.id, name="覃永福", level="county", term=17, org_unit_id=cast.org.pingma,
                  user_id=users["lead"])
    cosigner = Deputy(tenant_id=tiandong.id, name="黄丽", level="county", term=17, org_unit_id=cast.org.pingma,
                      user_id=users["cosigner"])
    session.add_all([lead, cosigner])
    session.flush()
    return World(session, cast, tiandong, users, cosigner, {})


def in_state(w: World, state: State) -> Suggestion:
    """A suggestion of Tiandong's deputy brought to ``state`` through the service, co-signed by one deputy
    (who has not confirmed yet while it is a draft), assigned to the transport bureau with the court."""
    t, sid = w.tiandong, 0

    def step(name: str, call: Callable[..., Suggestion], **kw: Any) -> Suggestion:
        s = w.session.get_one(Suggestion, sid)
        return call(w.session, w.as_(name), t, sid, **({"version": s.version} | kw))

    s = service.create_draft(w.session, w.as_("lead"), t, title="关于平马镇道路硬化的建议", content="……", term=17,
                             session_no=6, cosigner_ids=[w.cosigner.id])
    sid = s.id
    if state == State.DRAFT:
        return s
    if state == State.DISCARDED:
        return step("lead", service.discard)
    service.confirm_cosign(w.session, w.as_("cosigner"), t, sid)
    s = step("lead", service.submit)
    decision = {State.RETURNED: "return", State.REFERENCE: "reference"}.get(state)
    if state == State.SUBMITTED or decision:
        return s if decision is None else step("tiandong_admin", service.review, decision=decision, note="请补充")
    step("tiandong_admin", service.review, decision="accept")
    if state == State.ACCEPTED:
        return w.session.get_one(Suggestion, sid)
    s = step("tiandong_admin", service.assign, lead_unit_id=w.cast.unit.tiandong_transport,
             co_unit_ids=[w.cast.unit.tiandong_court])
    if state == State.ASSIGNED:
        return s
    if state == State.REASSIGN_REQUESTED:
        return step("tiandong_handler", service.request_reassignment, reason="不属于本单位职责")
    s = step("tiandong_handler", service.reply, reply_class="A", content="已解决", signed_by="李局长")
    if state == State.REPLIED:
        return s
    if state == State.REHANDLING:
        return step("lead", service.evaluate, evaluation="dissatisfied", comment="未解决")
    s = step("lead", service.evaluate, evaluation="satisfied")
    return s if state == State.EVALUATED else step("tiandong_admin", service.close)


def _call(fn: Callable[..., Any], **kw: Any) -> Callable[[World, Principal, Suggestion], Any]:
    def call(w: World, actor: Principal, s: Suggestion) -> Any:
        return fn(w.session, actor, w.tiandong, s.id, **kw)
    return call


def _versioned(fn: Callable[..., Any], **kw: Any) -> Callable[[World, Principal, Suggestion], Any]:
    def call(w: World, actor: Principal, s: Suggestion) -> Any:
        return fn(w.session, actor, w.tiandong, s.id, version=s.version, **kw)
    return call


# Each service call, with good input, and the workflow actions it takes.
CALLS: dict[str, tuple[set[Action], Callable[[World, Principal, Suggestion], Any]]] = {
    "edit": ({Action.EDIT}, _versioned(service.edit_draft, title="关于平马镇道路硬化的建议（修改）", content="……")),
    "cosign": ({Action.COSIGN}, _call(service.confirm_cosign)),
    "submit": ({Action.SUBMIT}, _versioned(service.submit)),
    "withdraw": ({Action.WITHDRAW}, _versioned(service.withdraw)),
    "discard": ({Action.DISCARD}, _versioned(service.discard)),
    "accept": ({Action.ACCEPT}, _versioned(service.review, decision="accept")),
    "return": ({Action.RETURN}, _versioned(service.review, decision="return", note="请补充")),
    "reference": ({Action.TO_REFERENCE}, _versioned(service.review, decision="reference", note="作参阅件")),
    "assign": ({Action.ASSIGN, Action.REASSIGN}, lambda w, a, s: service.assign(
        w.session, a, w.tiandong, s.id, lead_unit_id=w.cast.unit.tiandong_court, version=s.version)),
    "request_reassign": ({Action.REQUEST_REASSIGN}, _versioned(service.request_reassignment, reason="非本单位职责")),
    "refuse_reassign": ({Action.REFUSE_REASSIGN}, _versioned(service.decide_reassignment, note="维持原交办")),
    "contact": ({Action.CONTACT}, _versioned(service.record_contact, way="phone", summary="电话沟通")),
    "co_opinion": ({Action.CO_OPINION}, _versioned(service.co_unit_opinion, opinion="同意主办单位意见")),
    "reply": ({Action.REPLY}, _versioned(service.reply, reply_class="C", content="条件不具备", signed_by="李局长")),
    "satisfied": ({Action.EVALUATE_SATISFIED}, _versioned(service.evaluate, evaluation="basically")),
    "dissatisfied": ({Action.EVALUATE_DISSATISFIED}, _versioned(service.evaluate, evaluation="dissatisfied",
                                                                comment="答复笼统")),
    "close": ({Action.CLOSE}, _versioned(service.close)),
    "mark_key": ({Action.MARK_KEY}, lambda w, a, s: service.mark_key(
        w.session, a, w.tiandong, s.id, supervisor_user_id=w.cast.user.tiandong_leader, version=s.version)),
}


def test_every_action_is_taken_by_some_service_call() -> None:
    assert set().union(*(actions for actions, _ in CALLS.values())) == set(Action)


def steps_taken(w: World, suggestion_id: int) -> int:
    w.session.flush()
    return w.session.scalar(select(func.count()).select_from(TimelineEvent).where(
        TimelineEvent.subject_type == "suggestion", TimelineEvent.subject_id == suggestion_id)) or 0


@pytest.mark.parametrize("state", list(State), ids=[s.value for s in State])
def test_allowed_actions_are_exactly_the_steps_the_service_accepts(state: State, world: World) -> None:
    w = world
    sid = in_state(w, state).id
    w.session.flush()
    in_another_congress = Suggestion(id=sid, version=1)  # what a caller outside Tiandong can name: its id
    possible = set(FLOW.actions_from(state))
    refused_input = []
    for name in CAST:
        actor = w.as_(name)
        found = w.session.get(Suggestion, sid)  # None: in a congress outside the actor's sight altogether
        allowed = set(service.allowed_actions(w.session, actor, found)) if found else set()
        if found and not service.may_see(w.session, actor, w.tiandong, found):
            assert not allowed, (name, allowed)  # nothing is offered to one who cannot see it
        for call_name, (actions, call) in CALLS.items():
            if not actions & possible:  # refused by the state whoever asks: the workflow's own test walks those
                assert not actions & allowed
                continue
            savepoint = w.session.begin_nested()
            set_scope(w.session, actor.scope)
            try:
                before = steps_taken(w, sid)
                call(w, actor, found or in_another_congress)
                taken = steps_taken(w, sid) > before  # a repeated confirmation is answered, but takes nothing
            except (AccessDenied, NotFound, Conflict):
                taken = False
            except ValidationFailed:  # past every check of the step; the input was refused
                taken = True
                refused_input.append((name, call_name))
            finally:
                savepoint.rollback()
            assert taken == bool(actions & allowed), (state.value, name, call_name, sorted(allowed))
    # The one case the walk's input cannot satisfy: a draft waits for its co-signer's confirmation.
    assert refused_input == ([("lead", "submit")] if state == State.DRAFT else [])
