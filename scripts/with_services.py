#!/usr/bin/env python3
"""Run a command with PostgreSQL and Redis available for the test suite.

    python scripts/with_services.py -- <command> [args...]
    python scripts/with_services.py --print

The URLs are exported to the command as RENDA_TEST_DATABASE_URL and
RENDA_TEST_REDIS_URL. Each comes, in order of preference, from the environment,
from a local server on the standard port, or from a throwaway server started in
a temporary directory and removed afterwards. RENDA_TEST_FORCE_THROWAWAY=1
skips the local-server check (used to test this script). Standard library only.
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

DB_VAR, REDIS_VAR = "RENDA_TEST_DATABASE_URL", "RENDA_TEST_REDIS_URL"
LOCAL_DB_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS_URL = "redis://127.0.0.1:6379/15"
EXIT_MISSING = 3


class ServiceError(Exception):
    """A throwaway server could not be started."""


def log(msg: str) -> None:
    print(f"with_services: {msg}", file=sys.stderr, flush=True)


def tail(path: str, lines: int = 20) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
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
    cmd = [psql, "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-d", "postgres",
           "-X", "-w", "-q", "-t", "-c", "select 1"]  # -w: fail instead of prompting
    env = dict(os.environ, PGCONNECT_TIMEOUT="5")
    try:
        done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=15)
    except subprocess.TimeoutExpired:
        return False
    return done.returncode == 0


def resolve(var: str, local_url: str, local_ok) -> tuple[str, str] | None:
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
        return sock.getsockname()[1]


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
    pg_ctl = os.path.join(bindir, "pg_ctl")
    initdb = [os.path.join(bindir, "initdb"), "-D", data, "-U", "postgres",
              "--auth=trust", "-E", "UTF8", "--no-sync"]
    # C.UTF-8 is not available everywhere; fall back to the plain C locale.
    for locale in ("--locale=C.UTF-8", "--no-locale"):
        shutil.rmtree(data, ignore_errors=True)
        # cwd=tmp: the postgres user may not be allowed into our working directory.
        done = subprocess.run(as_postgres_user([*initdb, locale]), cwd=tmp,
                              capture_output=True, text=True)
        if done.returncode == 0:
            break
    else:
        raise ServiceError(f"initdb failed:\n{done.stdout}{done.stderr}")

    def stop() -> None:
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            subprocess.run(as_postgres_user([pg_ctl, "-D", data, "-m", "fast", "-w", "stop"]),
                           cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=60)

    port = free_port()
    opts = (f"-c listen_addresses=127.0.0.1 -c port={port} -c fsync=off"
            f" -c unix_socket_directories={shlex.quote(tmp)}")  # pg_ctl runs -o via the shell
    stack.callback(stop)  # registered first, so a half-started server is stopped too
    # New session: a Ctrl-C meant for the tests must not shut the server down under them.
    done = subprocess.run(
        as_postgres_user([pg_ctl, "-D", data, "-l", logfile, "-w", "-t", "60", "-o", opts, "start"]),
        cwd=tmp, capture_output=True, text=True, start_new_session=True)
    if done.returncode != 0:
        raise ServiceError(f"pg_ctl start failed:\n{done.stdout}{done.stderr}{tail(logfile)}")
    return port


def start_redis(binary: str, tmp: str, stack: contextlib.ExitStack) -> int:
    port, logfile = free_port(), os.path.join(tmp, "redis.log")
    cmd = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
           "--appendonly", "no", "--daemonize", "no", "--dir", tmp]
    with open(logfile, "wb") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)

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
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)


def run_child(cmd: list[str], env: dict[str, str]) -> int:
    try:
        child = subprocess.Popen(cmd, env=env)
    except OSError as exc:
        log(f"cannot run {cmd[0]}: {exc}")
        return 127

    def forward(signum: int, _frame) -> None:
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
    if argv == ["--print"]:
        found = [resolve(DB_VAR, LOCAL_DB_URL, local_postgres_ok),
                 resolve(REDIS_VAR, LOCAL_REDIS_URL, lambda: redis_pong(6379))]
        if None in found:
            log("no PostgreSQL and/or Redis in the environment or on the standard ports;"
                " `with_services.py -- <command>` would start throwaway servers")
            return 1
        for var, (url, _) in zip((DB_VAR, REDIS_VAR), found):
            print(f"export {var}={shlex.quote(url)}")
        return 0
    if len(argv) < 2 or argv[0] != "--":
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2

    db = resolve(DB_VAR, LOCAL_DB_URL, local_postgres_ok)
    redis = resolve(REDIS_VAR, LOCAL_REDIS_URL, lambda: redis_pong(6379))
    # Check for everything we would need before starting anything.
    pg_bindir = None if db else find_pg_bindir()
    redis_bin = None if redis else shutil.which("redis-server")
    problems = []
    if not db and not pg_bindir:
        problems.append(f"no PostgreSQL: set {DB_VAR}, run a server on 127.0.0.1:5432, or"
                        " install initdb/pg_ctl (Debian package: postgresql)")
    if not db and pg_bindir and os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            problems.append("running as root and there is no 'postgres' user to run initdb"
                            " as (Debian package postgresql creates it), or run as non-root")
    if not redis and not redis_bin:
        problems.append(f"no Redis: set {REDIS_VAR}, run a server on 127.0.0.1:6379, or"
                        " install redis-server (Debian package: redis-server)")
    if problems:
        for problem in problems:
            log(problem)
        return EXIT_MISSING

    # Until the child runs, SIGTERM/SIGHUP unwind through `finally` like Ctrl-C does.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: sys.exit(128 + signum))
    stack = contextlib.ExitStack()
    try:
        if not (db and redis):
            tmp = tempfile.mkdtemp(prefix="renda-services-")
            stack.callback(shutil.rmtree, tmp, ignore_errors=True)  # runs last
            if not db:
                port = start_postgres(pg_bindir, tmp, stack)
                db = (f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
                      f"throwaway server from {pg_bindir}")
            if not redis:
                port = start_redis(redis_bin, tmp, stack)
                redis = (f"redis://127.0.0.1:{port}/15", "throwaway server")
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
