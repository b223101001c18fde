"""Background jobs: named functions that a worker runs on request or on a cron schedule.

Built on huey (a maintained task queue with a synchronous API, cron schedules, and Redis or
in-memory storage). With ``redis_url`` set the queue lives in Redis and ``renda worker`` runs the
workers and the scheduler; without it (the embedded default) the queue is in memory and the web
process runs them in threads of its own. A job is called as ``func(ctx, **kwargs)`` with a
:class:`JobContext`, whose ``session()`` opens a transaction of its own under the system scope.

A module marks its job functions with ``@jobs.job("deadlines.sweep", cron="*/15 * * * *")``
and lists them in its declaration (``renda.platform.modules.Module.jobs``); installing the deployment's
modules registers them, so the web app and ``renda worker``, which install the same list, know the
same jobs. Marking registers nothing by itself: a job no module declares never runs, and the test of
the module list says so.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from huey import MemoryHuey, RedisHuey, crontab
from huey.api import Huey, TaskWrapper
from huey.consumer import Consumer, Scheduler
from huey.serializer import SignedSerializer
from sqlalchemy.orm import Session

from renda.platform import clock
from renda.platform.config import Settings
from renda.platform.db import Database, Scope

log = logging.getLogger("renda.jobs")

JobFunction = Callable[..., object]
F = TypeVar("F", bound=JobFunction)


def parse_cron(expression: str) -> Callable[[dt.datetime], bool]:
    """A five-field cron expression (minute hour day month weekday; 0 = Sunday) as a test of a time."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"cron expression {expression!r} needs five fields: minute hour day month weekday")
    minute, hour, day, month, weekday = fields
    return crontab(minute=minute, hour=hour, day=day, month=month, day_of_week=weekday, strict=True)


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: JobFunction
    cron: str | None = None
    retries: int = 0
    retry_delay: int = 60  # seconds before huey runs a failed job again (when retries > 0)


class Registry:
    """The jobs a process knows by name. Modules register theirs when imported."""

    def __init__(self) -> None:
        self._specs: dict[str, JobSpec] = {}

    def register(self, name: str, func: JobFunction, *, cron: str | None = None, retries: int = 0,
                 retry_delay: int = 60) -> JobSpec:
        if cron is not None:
            parse_cron(cron)  # a mistyped schedule fails at import, not silently at night
        existing = self._specs.get(name)
        if existing is not None and existing.func is not func:
            raise ValueError(f"another function is already registered as job {name!r}")
        spec = JobSpec(name, func, cron, retries, retry_delay)
        self._specs[name] = spec
        return spec

    def add(self, spec: JobSpec) -> JobSpec:
        return self.register(spec.name, spec.func, cron=spec.cron, retries=spec.retries,
                             retry_delay=spec.retry_delay)

    def specs(self) -> list[JobSpec]:
        return list(self._specs.values())


registry = Registry()
register = registry.register

SPEC_ATTRIBUTE = "__renda_job__"


def job(name: str, *, cron: str | None = None, retries: int = 0, retry_delay: int = 60) -> Callable[[F], F]:
    """Mark a function as the job ``name``; a module's declaration lists it (see the module docstring)."""
    if cron is not None:
        parse_cron(cron)  # a mistyped schedule fails at import, not silently at night

    def decorator(func: F) -> F:
        setattr(func, SPEC_ATTRIBUTE, JobSpec(name, func, cron, retries, retry_delay))
        return func

    return decorator


def spec_of(func: JobFunction) -> JobSpec:
    """The job a function was marked as, or ValueError for a function that is not a job."""
    spec = getattr(func, SPEC_ATTRIBUTE, None)
    if not isinstance(spec, JobSpec):
        raise ValueError(f"{func!r} is not marked with @jobs.job")
    return spec


@dataclass(frozen=True)
class JobContext:
    """What a running job is given: the database, the settings, and translations for messages."""

    db: Database
    settings: Settings
    # language -> an object with gettext(); the web layer passes its catalogs, else msgids stay English.
    translations: Callable[[str], Any] | None = None
    # (tenant slug, a notification's subject) -> the page's path: the web layer's links, else no link.
    links: Callable[[str, Any], str | None] | None = None

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction under the system scope: jobs act for no user and see every tenant."""
        with self.db.session(Scope.system(), write=True) as session:
            yield session

    def gettext(self, language: str | None) -> Callable[[str], str]:
        if self.translations is None:
            return lambda message: message
        return self.translations(language or self.settings.language).gettext

    def link_for(self, tenant_slug: str, subject: Any) -> str | None:
        return self.links(tenant_slug, subject) if self.links is not None else None


class UnknownJob(KeyError):
    """No job of that name is registered."""


class JobQueue:
    """One process's handle on the queue: enqueue by name, and run workers and the scheduler.

    ``start()``/``stop()`` run them in threads of this process (the web process, when the queue is
    in memory; tests); ``run()`` runs them until SIGTERM or SIGINT (``renda worker``).
    """

    def __init__(self, settings: Settings, db: Database, *, translations: Callable[[str], Any] | None = None,
                 links: Callable[[str, Any], str | None] | None = None, registry: Registry = registry,
                 name: str | None = None) -> None:
        self.settings = settings
        self.context = JobContext(db, settings, translations, links)
        self.registry = registry
        self.name = name or settings.jobs_queue
        self.zone = clock.zone(settings.timezone)
        self.huey: Huey
        if settings.redis_url:
            # Messages are pickled: signed with the deployment's secret, a message that anyone else
            # wrote into Redis is refused before it is unpickled.
            self.huey = RedisHuey(self.name, url=settings.redis_url, results=False, blocking=True, read_timeout=1,
                                  serializer=SignedSerializer(secret=settings.secret_key, salt="renda-jobs"))
        else:
            self.huey = MemoryHuey(self.name, results=False)
        self._tasks: dict[str, TaskWrapper] = {}
        self._consumer: _Consumer | None = None
        self._wrap_registered()

    @property
    def in_memory(self) -> bool:
        """Only this process can run what it enqueues: the web process runs the worker itself."""
        return self.settings.redis_url is None

    @property
    def running(self) -> bool:
        """Workers and the scheduler run in this process (started with :meth:`start`)."""
        return self._consumer is not None

    # --- enqueueing -----------------------------------------------------------------------------

    def enqueue(self, name: str, **kwargs: Any) -> str:
        """Queue one run of job ``name`` with JSON-ready keyword arguments; returns the run's id."""
        wrapper = self._task(name)
        json.dumps(kwargs)  # a queued message carries plain data, never ORM objects or sessions
        task = wrapper.task_class((kwargs,))
        self.huey.enqueue(task)
        return str(task.id)

    def pending(self) -> int:
        """Runs waiting for a worker (not counting those scheduled for later)."""
        return int(self.huey.pending_count())

    def due(self, now: dt.datetime) -> list[str]:
        """The periodic jobs whose schedule matches ``now``."""
        return sorted(task.name for task in self.huey.read_periodic(_naive_utc(now)))

    def enqueue_periodic(self, now: dt.datetime) -> list[str]:
        """What the scheduler does each minute: enqueue the periodic jobs due at ``now``.

        On Redis, of all the schedulers sharing this queue (one per ``renda worker``) the first to
        get there enqueues a job for that minute; the others leave it. Returns what this one queued.
        """
        moment = _naive_utc(now)
        queued = []
        for task in self.huey.read_periodic(moment):
            if not self._claim_tick(task.name, moment):
                continue
            try:
                self.huey.enqueue(task)
            except Exception:
                log.exception("could not enqueue periodic job %s", task.name)
                continue
            log.info("periodic job %s enqueued", task.name)
            queued.append(task.name)
        return sorted(queued)

    # --- running --------------------------------------------------------------------------------

    def start(self, workers: int | None = None) -> None:
        """Run workers and the scheduler in daemon threads of this process (no signal handlers)."""
        if self._consumer is not None:
            return
        self._wrap_registered()
        self._consumer = self._make_consumer(workers, signals=False)
        self._consumer.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop taking jobs; wait up to ``timeout`` seconds for the ones running to finish."""
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            consumer.shutdown_timeout = timeout
            consumer.stop(graceful=True)

    def run(self, workers: int | None = None) -> None:
        """Run workers and the scheduler until SIGTERM (graceful) or SIGINT (``renda worker``)."""
        self._wrap_registered()
        self._make_consumer(workers, signals=True).run()

    def close(self) -> None:
        self.stop()
        pool = getattr(self.huey.storage, "pool", None)
        if pool is not None:
            pool.disconnect()

    # --- internals ------------------------------------------------------------------------------

    def _make_consumer(self, workers: int | None, *, signals: bool) -> _Consumer:
        # A blocking Redis read wakes a worker at once; polling memory stays cheap at a short interval.
        return _Consumer(self, signals=signals, workers=workers or self.settings.jobs_workers,
                         periodic=self.settings.jobs_periodic, worker_type="thread",
                         max_delay=0.5 if self.in_memory else 10.0, graceful_signal="TERM")

    def _task(self, name: str) -> TaskWrapper:
        if name not in self._tasks:
            self._wrap_registered()
        try:
            return self._tasks[name]
        except KeyError:
            raise UnknownJob(name) from None

    def _wrap_registered(self) -> None:
        for spec in self.registry.specs():
            if spec.name not in self._tasks:
                self._tasks[spec.name] = self._wrap(spec)

    def _wrap(self, spec: JobSpec) -> TaskWrapper:
        context = self.context

        def run(params: dict[str, Any] | None = None) -> None:
            log.info("job %s starts", spec.name)
            spec.func(context, **(params or {}))

        options: dict[str, Any] = {"name": spec.name, "retries": spec.retries, "retry_delay": spec.retry_delay}
        if spec.cron is None:
            return self.huey.task(**options)(run)
        matches = parse_cron(spec.cron)
        zone = self.zone

        def due(utc_naive: dt.datetime) -> bool:  # huey's clock is naive UTC; schedules read local time
            return bool(matches(utc_naive.replace(tzinfo=dt.UTC).astimezone(zone)))

        return self.huey.periodic_task(due, **options)(run)

    def _claim_tick(self, job_name: str, minute: dt.datetime) -> bool:
        conn = getattr(self.huey.storage, "conn", None)
        if conn is None:
            return True
        key = f"renda:jobs:{self.name}:tick:{job_name}:{minute:%Y%m%d%H%M}"
        return bool(conn.set(key, b"1", nx=True, ex=600))


class _Scheduler(Scheduler):
    """huey's scheduler, enqueuing each periodic job once per minute across all schedulers."""

    def __init__(self, queue: JobQueue, *args: Any) -> None:
        super().__init__(*args)
        self.queue = queue

    def enqueue_periodic_tasks(self, now: dt.datetime | None) -> None:
        self.queue.enqueue_periodic(now or self.huey._get_timestamp())


class _Consumer(Consumer):
    """huey's consumer with our scheduler; in-process it leaves the host's signal handlers alone."""

    def __init__(self, queue: JobQueue, *, signals: bool, **options: Any) -> None:
        self._queue = queue
        self._signals = signals
        super().__init__(queue.huey, **options)

    def _create_scheduler(self) -> _Scheduler:
        return _Scheduler(self._queue, self.huey, self.stop_flag, self.scheduler_interval, self.periodic)

    def _set_signal_handlers(self) -> None:
        if self._signals:
            super()._set_signal_handlers()


def _naive_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


# --- the process's queue ---------------------------------------------------------------------------
# Registered once when the process starts (the web app's lifespan, `renda worker`) and looked up by
# the code that enqueues, as the deployment's settings are.

_installed: JobQueue | None = None


def install(queue: JobQueue | None) -> None:
    global _installed
    _installed = queue


def installed() -> JobQueue | None:
    return _installed


def enqueue(name: str, **kwargs: Any) -> str:
    """Queue one run of job ``name`` on this process's queue; returns the run's id."""
    if _installed is None:
        raise RuntimeError("no job queue in this process: the web app or `renda worker` installs one")
    return _installed.enqueue(name, **kwargs)


def request_run(name: str, **kwargs: Any) -> bool:
    """Best effort: ask for a run of ``name`` soon (a periodic run would catch up anyway).

    Used after a commit, where failing would report an error for a change already made: without
    a queue or with Redis unreachable it logs and returns False.
    """
    if _installed is None:
        return False
    try:
        _installed.enqueue(name, **kwargs)
    except Exception:
        log.warning("could not enqueue job %s; its periodic run will catch up", name, exc_info=True)
        return False
    return True
