"""The step engine: a module's workflow as a table, and the one place where a step is applied.

A module declares its ``Workflow`` (pure data: states, and for each step from a state the permission
it needs, who besides that may take it, and who is told) and a ``StepEngine`` subclass that answers
the module's own questions (what the actor is to the record; who an audience is). The engine then
does the rest the same way for every module: the refusal a person reads when the step is not possible
from the current state, the version check, the "who may" check, the flush that turns a concurrent
change into a Conflict, the timeline event, the audit entry and the notifications. ``allowed`` asks
the same checks without taking the step, so pages and the API offer exactly what would be accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from renda.platform import audit, timeline
from renda.platform.access.policy import AccessDenied, Principal
from renda.platform.errors import N_, Conflict, Message
from renda.platform.identity.models import User
from renda.platform.notify.models import Subject
from renda.platform.notify.service import Note, notify_many

S = TypeVar("S", bound=str)  # a module's states (a StrEnum)
A = TypeVar("A", bound=str)  # its actions
W = TypeVar("W", bound=str)  # its kinds of "who"
R = TypeVar("R")  # its record (an ORM row with id, tenant_id, state and version)
C = TypeVar("C")  # what an actor is to a record, loaded once for all the steps asked about

NOT_NOW = N_("This step is not possible at the record's current stage.")


@dataclass(frozen=True)
class Step(Generic[S, A, W]):
    """One allowed transition: ``action`` from ``source`` leads to ``target`` (the same state for a step
    that records something without moving on). ``tell`` names the audiences notified when it is taken."""

    action: A
    source: S
    target: S
    permission: str  # a permission's name (the module's enum of them)
    who: W
    tell: tuple[str, ...] = ()


@dataclass(frozen=True)
class Notice:
    """What the people a step tells read: msgids with ``%(name)s`` fields from the engine's notice_params."""

    kind: str  # e.g. "suggestion.assigned"
    title: str
    body: str = ""


class StepRefused(ValueError):
    """This step cannot be taken from the current state. ``msgid`` says why, for people."""

    def __init__(self, state: str, action: str, msgid: str) -> None:
        super().__init__(f"{action} is not possible in state {state}")
        self.state, self.action, self.msgid = state, action, msgid


class Workflow(Generic[S, A, W]):
    """A module's table of steps. Pure: no database, testable state × action without one.

    ``refusals`` gives, per state, the reason read when a step is asked for that the state does not
    have (e.g. "this suggestion is closed"); other states answer ``refused``.
    """

    def __init__(self, steps: Iterable[Step[S, A, W]], *, refusals: Mapping[S, str] | None = None,
                 refused: str = NOT_NOW, notices: Mapping[A, Notice] | None = None) -> None:
        self.steps: tuple[Step[S, A, W], ...] = tuple(steps)
        self.refusals = dict(refusals or {})
        self.refused = refused
        self.notices = dict(notices or {})
        self._by_key: dict[tuple[S, A], Step[S, A, W]] = {}
        for s in self.steps:
            if (s.source, s.action) in self._by_key:
                raise ValueError(f"two steps {s.action} from {s.source}")
            self._by_key[(s.source, s.action)] = s
        silent = {s.action for s in self.steps if s.tell} - set(self.notices)
        if silent:
            raise ValueError(f"steps that tell someone need a notice: {sorted(silent)}")

    def step(self, state: S, action: A) -> Step[S, A, W]:
        """The step ``action`` from ``state``, or StepRefused with the reason."""
        found = self._by_key.get((state, action))
        if found is None:
            raise StepRefused(state, action, self.refusals.get(state, self.refused))
        return found

    def steps_from(self, state: S) -> list[Step[S, A, W]]:
        return [s for s in self.steps if s.source == state]

    def actions_from(self, state: S) -> list[A]:
        return [s.action for s in self.steps_from(state)]


@dataclass
class Taken(Generic[S, A, W]):
    """A step that passed every check, with the actor's part (e.g. their unit's assignment) and the
    record's audited fields before it."""

    step: Step[S, A, W]
    part: Any
    before: dict[str, Any] = field(default_factory=dict)


def check_version(record: Any, version: int | None, stale: str) -> None:
    """The version the actor saw must still be the record's; None: the caller does not check (a note)."""
    if version is not None and version != record.version:
        raise Conflict(Message(stale))


def flush_or_conflict(session: Session, stale: str) -> None:
    """Flush now: a concurrent change of the same versioned row fails here, as a Conflict, not later."""
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(Message(stale)) from None


def save(session: Session, *, actor_id: int | None, record: Any, action: str, before: dict[str, Any] | None,
         after: dict[str, Any], stale: str) -> None:
    """The save-and-audit of every change of a versioned record: flush (a Conflict when someone else saved
    it meanwhile), then one audit entry with the record before and after, when something changed."""
    flush_or_conflict(session, stale)
    if after != before:
        audit.record(session, tenant_id=record.tenant_id, actor_id=actor_id, action=action, obj=record,
                     before=before, after=after)


class StepEngine(Generic[R, C, S, A, W]):
    """Applies a module's workflow to its records. A module subclasses it once and answers the hooks."""

    subject: ClassVar[str]  # the timeline's subject type and the audit actions' prefix, e.g. "suggestion"
    stale: ClassVar[str]  # the msgid of a version that is no longer the record's
    audited: ClassVar[tuple[str, ...]]  # the record's fields kept before and after in the audit entry

    def __init__(self, workflow: Workflow[S, A, W], states: type[S]) -> None:
        self.workflow = workflow
        self.states = states

    # -- the module's answers ---------------------------------------------------------------------

    def parts(self, session: Session, actor: Principal, record: R) -> C:
        """What the actor is to the record (their deputy, their units' assignments …), loaded once."""
        raise NotImplementedError

    def who(self, actor: Principal, record: R, step: Step[S, A, W], parts: C) -> Any:
        """Whether the actor may take ``step``: the permission and their part, or AccessDenied.
        Returns the part the step is taken as (e.g. the unit's assignment), or None."""
        raise NotImplementedError

    def audience(self, session: Session, record: R, audience: str) -> Iterable[int]:
        """The users an audience named in a step's ``tell`` stands for, for this record."""
        return ()

    def notice_params(self, record: R) -> dict[str, Any]:
        return {}

    # -- the engine -------------------------------------------------------------------------------

    def state_of(self, record: R) -> S:
        return self.states(getattr(record, "state"))  # noqa: B009 - R is any module's row

    def take(self, session: Session, actor: Principal, record: R, action: A, version: int | None
             ) -> Taken[S, A, W]:
        """Every check before a step, in the order people expect to hear of them: not possible now (or
        any more), changed meanwhile, not theirs to take."""
        try:
            step = self.workflow.step(self.state_of(record), action)
        except StepRefused as exc:
            raise Conflict(Message(exc.msgid)) from None
        check_version(record, version, self.stale)
        part = self.who(actor, record, step, self.parts(session, actor, record))
        return Taken(step, part, self.snapshot(record))

    def done(self, session: Session, actor: Principal, record: R, taken: Taken[S, A, W],
             data: dict[str, Any] | None = None) -> R:
        """Move the record on and keep the step: flushed (a Conflict if someone else was quicker), on the
        timeline, in the audit log, and told to those the step names."""
        step = taken.step
        setattr(record, "state", step.target)  # noqa: B010 - R is any module's row
        flush_or_conflict(session, self.stale)
        tenant_id, record_id = getattr(record, "tenant_id"), getattr(record, "id")  # noqa: B009
        event = timeline.record(session, tenant_id=tenant_id, subject_type=self.subject, subject_id=record_id,
                                actor_id=actor.user_id, action=str(step.action), data=data or {})
        audit.record(session, tenant_id=tenant_id, actor_id=actor.user_id, action=f"{self.subject}.{step.action}",
                     obj=record, before=taken.before, after=self.snapshot(record))  # flushes: the event has its id
        self.tell(session, actor, record, step, event)
        return record

    def allowed(self, session: Session, actor: Principal, record: R) -> list[A]:
        """The actions the actor may take now: the steps from the record's state that pass the same who
        check ``take`` makes (the version is the one just read)."""
        parts = self.parts(session, actor, record)
        found: list[A] = []
        for step in self.workflow.steps_from(self.state_of(record)):
            try:
                self.who(actor, record, step, parts)
            except AccessDenied:
                continue
            if step.action not in found:
                found.append(step.action)
        return found

    def snapshot(self, record: R) -> dict[str, Any]:
        return audit.snapshot(record, *self.audited)

    def recipients(self, session: Session, record: R, step: Step[S, A, W]) -> set[int]:
        users: set[int] = set()
        for audience in step.tell:
            users.update(self.audience(session, record, audience))
        return users

    def tell(self, session: Session, actor: Principal, record: R, step: Step[S, A, W],
             event: timeline.TimelineEvent) -> list[Note]:
        """The step's notice to its audiences (never to the actor): in the inbox, and queued for the
        gateway for those with a phone to reach them on."""
        notice = self.workflow.notices.get(step.action)
        users = self.recipients(session, record, step) - {actor.user_id}
        if notice is None or not users:
            return []
        tenant_id = getattr(record, "tenant_id")  # noqa: B009
        params, subject = self.notice_params(record), Subject(self.subject, getattr(record, "id"))  # noqa: B009
        # Told once per step and person: the step's timeline event is the key. The web layer links the subject.
        notes = [Note(tenant_id, user_id, notice.kind, notice.title, notice.body, f"step:{event.id}",
                      params=params, subject=subject) for user_id in sorted(users)]
        return notify_many(session, notes, outbound=_has_phone)


def _has_phone(user: User) -> bool:
    return bool(user.phone)
