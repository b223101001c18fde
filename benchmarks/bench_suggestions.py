#!/usr/bin/env python3
"""The suggestion pages and the deadline sweep on 100,000 suggestions, on PostgreSQL as production runs it.

    python benchmarks/bench_suggestions.py [--reuse] [--suggestions N] [--requests N]

Run by ``make bench`` (through scripts/with_services.py, which finds PostgreSQL and Redis). It creates the
database ``renda_bench`` with the roles of tests/conftest.py (migrated as renda_owner, used as renda_app, so
row-level security is on), loads the demo and ``renda demo --scale`` data (timed), then measures through the
real app, signed in as the demo's county staff (tiandong.admin):

- the supervision board, filtered (state=assigned, colour=red), first page of 50;
- the handling units' figures (the unit ranking);
- the SQL statements of each request (before_cursor_execute on the app's engine), for page sizes 20, 50, 200;
- the deadline sweep over all open suggestions, twice: the first run sends the reminders, the second
  (the steady state, every 15 minutes) finds nothing new.

Targets: each page's median under 100 ms with at most 10 statements, the same for every page size; each
sweep under 2 s. Prints a table, writes benchmarks/results.json, exits 1 when a target is missed.
With ``--reuse`` an existing ``renda_bench`` keeps its data (migrated again; the sweep's earlier
notifications are removed first, so the first sweep starts from the same point each time).
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import Engine, make_url

REPO_ROOT = Path(__file__).resolve().parent.parent
DATABASE = "renda_bench"
TENANT = "tiandong"
STAFF = "tiandong.admin"
BOARD = f"/t/{TENANT}/suggestions/board"
FIGURES = f"/t/{TENANT}/suggestions/figures"
BOARD_FILTER = {"state": "assigned", "colour": "red"}
PAGE_SIZES = (20, 50, 200)
# Not targets, shown for the record: the board as first opened, red alone, and the office's entry page.
INFORMATIONAL = {"board_unfiltered": (BOARD, {}), "board_red": (BOARD, {"colour": "red"}),
                 "entry_page": (f"/t/{TENANT}/suggestions", {}), "figures_by_place": (FIGURES, {"by": "place"})}
# A page's own reads, as opposed to what every signed-in request costs (scope, principal, tenant, badge).
OWN = re.compile(r"\b(suggestions|suggestion_\w+|deputies|handling_units|tenant_settings)\b")
PAGE_MS, MAX_STATEMENTS, SWEEP_S = 100.0, 10, 2.0
SWEEP_KINDS = ("suggestion.due_soon", "suggestion.overdue")


def shared_conftest() -> ModuleType:
    """tests/conftest.py: the roles, database and grant SQL that production and the tests share."""
    spec = importlib.util.spec_from_file_location("renda_tests_conftest", REPO_ROOT / "tests" / "conftest.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


# -- the database -----------------------------------------------------------------------------------

def prepare_database(given: str, reuse: bool) -> tuple[dict[str, str], bool]:
    """URLs of renda_bench (superuser, owner, app), migrated and granted; True when it was created now."""
    conf = shared_conftest()
    base = make_url(given)
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        conf._ensure_roles(admin)
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": DATABASE})
            if exists and not reuse:
                conn.execute(text(f'DROP DATABASE "{DATABASE}" WITH (FORCE)'))
            if not exists or not reuse:
                conf._run_all(conn, conf.database_sql(DATABASE))
    finally:
        admin.dispose()
    created = not (exists and reuse)
    urls = {
        "superuser": base.set(database=DATABASE).render_as_string(hide_password=False),
        "owner": conf._url_as(base, user=conf.OWNER_ROLE, database=DATABASE, password=conf.TEST_ROLE_PASSWORD),
        "app": conf._url_as(base, user=conf.APP_ROLE, database=DATABASE, password=conf.TEST_ROLE_PASSWORD),
    }
    if created:
        with engine(urls["superuser"], autocommit=True) as su, su.connect() as conn:
            conf._run_all(conn, conf.schema_sql())
    with engine(urls["owner"]) as owner:
        conf._upgrade(owner)
        with owner.begin() as conn:
            conf._run_all(conn, conf.app_grants_sql())
    return urls, created


@contextmanager
def engine(url: str, autocommit: bool = False) -> Iterator[Engine]:
    made = create_engine(url, isolation_level="AUTOCOMMIT") if autocommit else create_engine(url)
    try:
        yield made
    finally:
        made.dispose()


def load_data(urls: dict[str, str], n: int) -> dict[str, Any]:
    """The demo and ``n`` suggestions, loaded as the application role (as `renda demo --scale` would)."""
    from renda.platform.db import Database
    from renda.tenants.demo_scale import generate

    with engine(urls["superuser"]) as su, su.connect() as conn:
        have = conn.scalar(text("SELECT count(*) FROM suggestions")) or 0
    if have >= n:
        with engine(urls["superuser"]) as su, su.connect() as conn:
            made = conn.scalar(text("SELECT min(at) FROM audit_log WHERE action = 'suggestion.generate'"))
        with engine(urls["superuser"], autocommit=True) as su, su.connect() as conn:
            conn.execute(text("VACUUM (ANALYZE)"))  # a migration may have rewritten rows: as autovacuum would
        print(f"reusing {have:,} suggestions (generated {made:%Y-%m-%d}; VACUUM ANALYZE done)")
        return {"reused": True, "suggestions": have}
    db = Database(url=urls["app"])
    started, shown = time.perf_counter(), [0.0]

    def progress(done: int, total: int, label: str) -> None:
        if time.perf_counter() - shown[0] > 5 or done == total:
            shown[0] = time.perf_counter()
            print(f"  {label}: {done:,}/{total:,} ({shown[0] - started:.0f} s)", flush=True)

    try:
        print(f"loading the demo and {n - have:,} suggestions …", flush=True)
        summary = generate(db, n - have, progress=progress)
    finally:
        db.dispose()
    seconds = time.perf_counter() - started
    with engine(urls["superuser"], autocommit=True) as su, su.connect() as conn:
        analysed = time.perf_counter()
        conn.execute(text("VACUUM (ANALYZE)"))  # what autovacuum does soon after a bulk load
        vacuum = time.perf_counter() - analysed
    print(f"loaded {summary.suggestions:,} suggestions in {seconds:.1f} s (VACUUM ANALYZE {vacuum:.1f} s)")
    return {"reused": False, "suggestions": have + summary.suggestions, "load_seconds": round(seconds, 1),
            "vacuum_analyze_seconds": round(vacuum, 1), "by_state": summary.by_state, "by_tenant": summary.by_tenant}


def clear_sweep_notifications(urls: dict[str, str]) -> int:
    with engine(urls["superuser"]) as su, su.begin() as conn:
        ids = "SELECT id FROM notifications WHERE kind = ANY(:k)"
        conn.execute(text(f"DELETE FROM outbox_messages WHERE notification_id IN ({ids})"), {"k": list(SWEEP_KINDS)})
        return conn.execute(text("DELETE FROM notifications WHERE kind = ANY(:k)"), {"k": list(SWEEP_KINDS)}).rowcount


# -- measuring --------------------------------------------------------------------------------------

class Timed:
    """The app wrapped so that each request's server time (ASGI call to its end) is recorded."""

    def __init__(self, app: Any) -> None:
        self.app, self.last_ms = app, 0.0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.last_ms = (time.perf_counter() - started) * 1000


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"median_ms": round(statistics.median(ordered), 1), "p95_ms": round(p95, 1),
            "min_ms": round(ordered[0], 1), "max_ms": round(ordered[-1], 1), "n": len(ordered)}


def measure_pages(urls: dict[str, str], redis_url: str | None, requests: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from renda.platform.config import Settings
    from renda.tenants.demo import DEMO_PASSWORD
    from renda.web.app import create_app

    settings = Settings(database_url=urls["app"], redis_url=redis_url, secret_key="bench",  # noqa: S106 - signs this run's CSRF tokens only
                        login_failures_per_address=1000, jobs_periodic=False)
    app = create_app(settings)
    timed = Timed(app)
    statements: list[str] = []
    event.listen(app.state.db.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *args: statements.append(statement))
    with TestClient(timed, raise_server_exceptions=True) as client:
        client.get("/login")
        signed = client.post("/login", data={"username": STAFF, "password": DEMO_PASSWORD,
                                             "csrftoken": client.cookies["csrftoken"]}, follow_redirects=False)
        assert signed.status_code == 303, signed.text[:500]
        if client.get(BOARD, params=BOARD_FILTER).status_code == 404:
            return {"through": "queries"} | measure_queries(urls, requests)

        def get(url: str, params: dict[str, Any], headers: dict[str, str] | None = None) -> tuple[float, int, int]:
            statements.clear()
            response = client.get(url, params=params, headers=headers or {})
            assert response.status_code == 200, (url, response.status_code, response.text[:500])
            return timed.last_ms, len(statements), sum(bool(OWN.search(s)) for s in statements)

        def run(targets: dict[str, tuple[str, dict[str, Any], dict[str, str]]], n: int) -> dict[str, Any]:
            """3 warm-ups each, then ``n`` rounds taking the pages in turn, so that a busy moment of the
            machine falls on all of them alike."""
            for url, params, headers in targets.values():
                for _ in range(3):
                    get(url, params, headers)
            samples: dict[str, list[tuple[float, int, int]]] = {name: [] for name in targets}
            for _ in range(n):
                for name, (url, params, headers) in targets.items():
                    samples[name].append(get(url, params, headers))
            return {name: summary([t for t, _, _ in got]) | {"statements": max(c for _, c, _ in got),
                                                             "own_statements": max(o for _, _, o in got)}
                    for name, got in samples.items()}

        partial = {"HX-Request": "true", "HX-Target": "board-rows"}
        pages = run({"board": (BOARD, BOARD_FILTER, {}), "figures": (FIGURES, {}, {}),
                     "board_rows_partial": (BOARD, BOARD_FILTER, partial)}, requests)
        sizes = {size: get(BOARD, {**BOARD_FILTER, "per_page": size})[1] for size in PAGE_SIZES}
        info = run({name: (url, params, {}) for name, (url, params) in INFORMATIONAL.items()}, min(requests, 10))
        statements.clear()
        client.get(BOARD, params=BOARD_FILTER)
        listing = [s.split()[0] + " " + _tables(s) for s in statements]
    return {"through": "http", **pages, "statements_by_page_size": sizes, "board_statements": listing,
            "informational": info}


def _tables(statement: str) -> str:
    """The tables a statement reads, e.g. "suggestions deputies", or its function for set_config."""
    if "set_config" in statement:
        return "set_config(renda.*)"
    words = statement.replace("\n", " ").split()
    return " ".join(dict.fromkeys(w.strip('"(),') for i, w in enumerate(words)
                                  if i and words[i - 1] in ("FROM", "JOIN") and w[0].isalpha()))


def measure_queries(urls: dict[str, str], requests: int) -> dict[str, Any]:
    """Without the pages: the same reads in a session scoped as a request of tiandong.admin."""
    from renda.platform.db import Database, Scope
    from renda.platform.identity.models import User
    from renda.platform.identity.principal import load_principal
    from renda.platform.tenancy.service import get_tenant_by_slug
    from renda.tenants.suggestions import queries

    db = Database(url=urls["app"])
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda conn, cursor, statement, *a: statements.append(statement))

    with db.session(Scope.system()) as session:
        user_id = int(session.scalar(select(User.id).where(User.username == STAFF)) or 0)

    def once(read: Callable[[Any, int], Any]) -> tuple[float, int]:
        statements.clear()
        started = time.perf_counter()
        with db.session(Scope()) as session:
            load_principal(session, user_id)
            tenant = get_tenant_by_slug(session, TENANT)
            assert tenant is not None
            read(session, tenant.id)
        return (time.perf_counter() - started) * 1000, len(statements)

    def run(read: Callable[[Any, int], Any]) -> dict[str, Any]:
        for _ in range(3):
            once(read)
        times, counts = zip(*(once(read) for _ in range(requests)), strict=True)
        return summary(list(times)) | {"statements": max(counts), "own_statements": max(counts)}

    def board(per_page: int) -> Callable[[Any, int], Any]:
        return lambda s, t: queries.board(s, t, queries.BoardFilter(state=BOARD_FILTER["state"],
                                                                     colour=BOARD_FILTER["colour"], per_page=per_page))

    try:
        return {"board": run(board(50)), "figures": run(queries.unit_figures),
                "statements_by_page_size": {size: once(board(size))[1] for size in PAGE_SIZES}}
    finally:
        db.dispose()


def measure_sweep(urls: dict[str, str]) -> dict[str, Any]:
    """Two sweeps under the system scope, each in its own transaction (commit included)."""
    from renda.platform import clock
    from renda.platform.db import Database, Scope
    from renda.platform.deadline_sweep import sweep
    from renda.tenants.suggestions.models import Suggestion
    from renda.tenants.suggestions.sweep import SOURCE
    from renda.tenants.suggestions.workflow import OPEN_STATES

    db = Database(url=urls["app"])
    today = clock.today()
    runs = []
    try:
        with db.session(Scope.system()) as session:
            open_count = session.scalar(select(func.count()).select_from(Suggestion).where(
                Suggestion.state.in_(sorted(OPEN_STATES)))) or 0
        for _ in range(2):
            started = time.perf_counter()
            with db.session(Scope.system()) as session:
                result = sweep(session, today, only=[SOURCE])
            runs.append({"seconds": round(time.perf_counter() - started, 2), "reminded": result.reminded,
                         "escalated": result.escalated})
    finally:
        db.dispose()
    return {"open_suggestions": open_count, "first": runs[0], "second": runs[1]}


# -- report -----------------------------------------------------------------------------------------

def verdicts(pages: dict[str, Any], sweep: dict[str, Any]) -> list[tuple[str, str, bool]]:
    sizes = pages["statements_by_page_size"]
    out = [(f"{name} median < {PAGE_MS:.0f} ms", f"{pages[name]['median_ms']} ms", pages[name]["median_ms"] < PAGE_MS)
           for name in ("board", "figures")]
    out += [(f"{name} statements per request ≤ {MAX_STATEMENTS}",
             f"{pages[name]['statements']} ({pages[name]['own_statements']} of them the page's own reads)",
             pages[name]["statements"] <= MAX_STATEMENTS) for name in ("board", "figures")]
    out.append(("board statements same for page sizes " + "/".join(map(str, PAGE_SIZES)),
                "/".join(str(sizes[s]) for s in PAGE_SIZES), len(set(sizes.values())) == 1))
    for which in ("first", "second"):
        out.append((f"sweep, {which} run < {SWEEP_S:.0f} s", f"{sweep[which]['seconds']} s",
                    sweep[which]["seconds"] < SWEEP_S))
    return out


def print_report(pages: dict[str, Any], sweep: dict[str, Any], checks: list[tuple[str, str, bool]]) -> None:
    print(f"\nmeasured through {'the app (HTTP, TestClient)' if pages['through'] == 'http' else 'queries.py'}")
    print(f"{'request':<28}{'median':>10}{'p95':>10}{'min':>10}{'max':>10}{'SQL':>6}{'own':>6}")
    rows: list[tuple[str, Any]] = [(n, pages[n]) for n in ("board", "board_rows_partial", "figures") if n in pages]
    rows += [(f"({name})", r) for name, r in pages.get("informational", {}).items()]
    for name, r in rows:
        print(f"{name:<28}{r['median_ms']:>8.1f}ms{r['p95_ms']:>8.1f}ms{r['min_ms']:>8.1f}ms{r['max_ms']:>8.1f}ms"
              f"{r['statements']:>6}{r['own_statements']:>6}")
    print("SQL: statements per request; own: those reading suggestion, deputy, unit or setting tables")
    print(f"board statements by page size: {pages['statements_by_page_size']}")
    for which in ("first", "second"):
        r = sweep[which]
        print(f"sweep {which:<7} {r['seconds']:>6.2f} s  reminded {r['reminded']:,}, escalated {r['escalated']:,} "
              f"(open suggestions: {sweep['open_suggestions']:,})")
    print()
    for label, value, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {label}: {value}")


def main(argv: list[str]) -> int:
    from renda.web.modules import install_modules

    install_modules()  # the settings and jobs the modules declare, as in every Renda process
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", action="store_true", help=f"keep an existing {DATABASE} and its data")
    parser.add_argument("--suggestions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page (after 3 warm-ups)")
    parser.add_argument("--database-url", default=os.environ.get("RENDA_TEST_DATABASE_URL"),
                        help="a superuser URL of the cluster (default: $RENDA_TEST_DATABASE_URL)")
    parser.add_argument("--redis-url", default=os.environ.get("RENDA_TEST_REDIS_URL"))
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "benchmarks" / "results.json")
    args = parser.parse_args(argv)
    if not args.database_url or not args.database_url.startswith("postgresql"):
        print("needs PostgreSQL: set RENDA_TEST_DATABASE_URL or run `make bench`", file=sys.stderr)
        return 2
    load_before = os.getloadavg()
    urls, created = prepare_database(args.database_url, args.reuse)
    print(f"database {DATABASE} {'created' if created else 'reused'}")
    data = load_data(urls, args.suggestions)
    if data["reused"]:
        print(f"removed {clear_sweep_notifications(urls):,} notifications of earlier sweeps")
    pages = measure_pages(urls, args.redis_url, args.requests)
    sweep = measure_sweep(urls)
    checks = verdicts(pages, sweep)
    print_report(pages, sweep, checks)
    with engine(urls["superuser"]) as su, su.connect() as conn:
        server = conn.scalar(text("SHOW server_version"))
    results = {
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python benchmarks/bench_suggestions.py", *argv]) + " (make bench)",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "postgresql": server,
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()]},
        "data": data, "pages": pages, "sweep": sweep,
        "targets": [{"target": label, "measured": value, "met": ok} for label, value, ok in checks],
    }
    args.output.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str) + "\n")
    print(f"\nwrote {args.output.relative_to(REPO_ROOT) if args.output.is_relative_to(REPO_ROOT) else args.output}")
    return 0 if all(ok for _, _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
