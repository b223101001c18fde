#!/usr/bin/env python3
"""Run a command with PostgreSQL and Redis available for the test suite.

    python scripts/with_services.py -- <command> [args...]
    python scripts/with_services.py --print

Exports RENDA_TEST_DATABASE_URL and RENDA_TEST_REDIS_URL to the command, each
taken from the environment, else a local server on the standard port, else a
throwaway server in a temporary directory (removed afterwards; exit code 3 if
its binaries are missing). RENDA_TEST_FORCE_THROWAWAY=1 skips the local check.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from types import FrameType

DB_VAR, REDIS_VAR = "RENDA_TEST_DATABASE_URL", "RENDA_TEST_REDIS_URL"
LOCAL_DB_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/15"


class ServiceError(Exception):
    pass


def log(msg: str) -> None:
    print(f"with_services: {msg}", file=sys.stderr, flush=True)


def tail(path: str, lines: int = 20) -> str:
    with contextlib.suppress(OSError), open(path, errors="replace") as f:
        return "".join(f.readlines()[-lines:])
    return ""


def redis_pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1.0) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def local_postgres_ok() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5432), timeout=1.0).close()
    except OSError:
        return False
    psql = shutil.which("psql")
    if psql is None:  # nothing better to check with; trust the open port
        return True
    # -X: ignore ~/.psqlrc; -w: fail rather than prompt for a password.
    conn = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-d", "postgres"]
    cmd = [psql, *conn, "-X", "-q", "-w", "-c", "select 1"]
    env = dict(os.environ, PGCONNECT_TIMEOUT="5")
    with contextlib.suppress(subprocess.TimeoutExpired):
        return subprocess.run(cmd, env=env, capture_output=True, timeout=15).returncode == 0
    return False


def resolve(var: str, local_url: str, local_ok: Callable[[], bool]) -> tuple[str, str] | None:
    """(url, source) from the environment or a local server; None if neither."""
    if url := os.environ.get(var):
        return url, f"from ${var}"
    if os.environ.get("RENDA_TEST_FORCE_THROWAWAY") != "1" and local_ok():
        return local_url, "local server"
    return None


def where(url: str) -> str:
    """host:port of a URL, never its user or password."""
    return urllib.parse.urlsplit(url).netloc.rpartition("@")[2] or "default host"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def find_pg_bindir() -> str | None:
    """A directory with both initdb and pg_ctl: PATH first, then the newest Debian version."""

    def version(bindir: str) -> tuple[int, ...]:
        name = os.path.basename(os.path.dirname(bindir))
        return tuple(int(p) for p in name.split(".")) if name.replace(".", "").isdigit() else (0,)

    candidates = []
    if initdb := shutil.which("initdb"):  # resolve symlinks so pg_ctl matches its version
        candidates.append(os.path.dirname(os.path.realpath(initdb)))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    for bindir in candidates:
        if all(os.access(os.path.join(bindir, n), os.X_OK) for n in ("initdb", "pg_ctl")):
            return bindir
    return None


def has_postgres_user() -> bool:
    try:
        return bool(pwd.getpwnam("postgres"))
    except KeyError:
        return False


def as_postgres_user(cmd: list[str]) -> list[str]:
    """initdb and postgres refuse to run as root: run them as the postgres user then."""
    if os.geteuid() != 0:
        return cmd
    if runuser := shutil.which("runuser"):
        return [runuser, "-u", "postgres", "--", *cmd]
    return ["su", "postgres", "-s", "/bin/sh", "-c", shlex.join(cmd)]


def start_postgres(bindir: str, tmp: str, stack: contextlib.ExitStack) -> int:
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")  # checked to exist before we got here
        os.chown(tmp, pw.pw_uid, pw.pw_gid)
    data, logfile = os.path.join(tmp, "pgdata"), os.path.join(tmp, "postgres.log")
    initdb, pg_ctl = os.path.join(bindir, "initdb"), os.path.join(bindir, "pg_ctl")
    init_args = [initdb, "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"]
    # C.UTF-8 is not available everywhere; fall back to the plain C locale.
    for locale in ("--locale=C.UTF-8", "--no-locale"):
        shutil.rmtree(data, ignore_errors=True)
        # cwd=tmp: the postgres user may not be allowed into our working directory.
        done = subprocess.run(as_postgres_user([*init_args, locale]), cwd=tmp, capture_output=True, text=True)
        if done.returncode == 0:
            break
    else:
        raise ServiceError(f"initdb failed:\n{done.stdout}{done.stderr}")

    def stop() -> None:
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            cmd = as_postgres_user([pg_ctl, "-D", data, "-m", "fast", "-w", "stop"])
            subprocess.run(cmd, cwd=tmp, capture_output=True, timeout=60)

    port = free_port()
    # pg_ctl passes -o through the shell, hence the quoting.
    opts = f"-c listen_addresses=127.0.0.1 -c port={port} -c fsync=off"
    opts += f" -c unix_socket_directories={shlex.quote(tmp)}"
    stack.callback(stop)  # registered first, so a half-started server is stopped too
    # New session: a Ctrl-C meant for the tests must not shut the server down under them.
    cmd = as_postgres_user([pg_ctl, "-D", data, "-l", logfile, "-w", "-t", "60", "-o", opts, "start"])
    done = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, start_new_session=True)
    if done.returncode != 0:
        raise ServiceError(f"pg_ctl start failed:\n{done.stdout}{done.stderr}{tail(logfile)}")
    return port


def start_redis(binary: str, tmp: str, stack: contextlib.ExitStack) -> int:
    port, logfile = free_port(), os.path.join(tmp, "redis.log")
    cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp]
    cmd += ["--save", "", "--appendonly", "no", "--daemonize", "no"]  # no persistence, stay a child
    with open(logfile, "wb") as out:  # new session: see start_postgres
        proc = subprocess.Popen(cmd, stdout=out, stderr=out, start_new_session=True)

    def stop() -> None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    stack.callback(stop)
    deadline = time.monotonic() + 20
    while not redis_pong(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise ServiceError(f"redis-server did not start:\n{tail(logfile)}")
        time.sleep(0.1)
    return port


def started_from_terminal() -> bool:
    """True if we are in the terminal's foreground group, i.e. Ctrl-C also reached the child."""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY)
        try:
            return os.tcgetpgrp(fd) == os.getpgrp()
        finally:
            os.close(fd)
    except OSError:  # no controlling terminal
        return False


def run_child(cmd: list[str], env: dict[str, str]) -> int:
    try:
        child = subprocess.Popen(cmd, env=env)
    except OSError as exc:
        log(f"cannot run {cmd[0]}: {exc}")
        return 127

    def forward(signum: int, _frame: FrameType | None) -> None:
        # A terminal Ctrl-C already went to the child (same process group); sending
        # it again would interrupt pytest's own clean-up.
        if signum == signal.SIGINT and started_from_terminal():
            return
        child.send_signal(signum)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, forward)
    code = child.wait()
    return 128 - code if code < 0 else code  # killed by signal N -> 128+N, like a shell


def main(argv: list[str]) -> int:
    print_only = argv == ["--print"]
    if not print_only and (len(argv) < 2 or argv[0] != "--"):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    db = resolve(DB_VAR, LOCAL_DB_URL, local_postgres_ok)
    redis = resolve(REDIS_VAR, LOCAL_REDIS_URL, lambda: redis_pong(6379))
    if print_only:
        if not (db and redis):
            log("no PostgreSQL/Redis in the environment or running locally; `-- <command>` would start some")
            return 1
        print(f"export {DB_VAR}={shlex.quote(db[0])}\nexport {REDIS_VAR}={shlex.quote(redis[0])}")
        return 0

    # Check for everything we would need before starting anything.
    pg_bindir = None if db else find_pg_bindir()
    redis_bin = None if redis else shutil.which("redis-server")
    problems = []
    if not db and not pg_bindir:
        problems.append(f"no PostgreSQL: set {DB_VAR} or install initdb/pg_ctl (Debian package: postgresql)")
    if not db and pg_bindir and os.geteuid() == 0 and not has_postgres_user():
        problems.append("running as root without a 'postgres' user for initdb (Debian package: postgresql)")
    if not redis and not redis_bin:
        problems.append(f"no Redis: set {REDIS_VAR} or install redis-server (Debian package: redis-server)")
    for problem in problems:
        log(problem)
    if problems:
        return 3

    # Until the child runs, SIGTERM/SIGHUP unwind through `finally` like Ctrl-C does.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: sys.exit(128 + signum))
    stack = contextlib.ExitStack()
    try:
        if db is None or redis is None:
            tmp = tempfile.mkdtemp(prefix="renda-services-")
            stack.callback(shutil.rmtree, tmp, ignore_errors=True)  # runs last
            if db is None:
                assert pg_bindir is not None  # checked above
                port = start_postgres(pg_bindir, tmp, stack)
                db = (f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres", f"throwaway, {pg_bindir}")
            if redis is None:
                assert redis_bin is not None  # checked above
                port = start_redis(redis_bin, tmp, stack)
                redis = (f"redis://127.0.0.1:{port}/15", "throwaway")
        log(f"PostgreSQL at {where(db[0])} ({db[1]}), Redis at {where(redis[0])} ({redis[1]})")
        return run_child(argv[1:], dict(os.environ, **{DB_VAR: db[0], REDIS_VAR: redis[0]}))
    except ServiceError as exc:
        log(str(exc).rstrip())
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        # Do not let a second Ctrl-C leave servers or the temp directory behind.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        stack.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
