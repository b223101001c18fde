"""The locks that `make install` and the Dockerfile install from say what pyproject.toml pins.

requirements/runtime.txt and requirements/dev.txt hold the whole tree with hashes (`make lock`); a pin changed
in pyproject.toml without writing them again would be silently ignored, since Renda itself is installed
with --no-deps.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^\s;#]+)")


def _name(raw: str) -> str:
    return re.sub(r"[-_.]+", "-", raw).lower()


def _pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        match = PIN.match(line.strip())
        if match:
            found[_name(match.group(1))] = match.group(2)
    return found


def _project() -> dict:
    with open(REPO_ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]


def _lock(name: str) -> dict[str, str]:
    return _pins((REPO_ROOT / "requirements" / name).read_text().splitlines())


def test_every_dependency_is_pinned_in_pyproject() -> None:
    project = _project()
    for requirement in project["dependencies"] + project["optional-dependencies"]["dev"]:
        assert PIN.match(requirement), f"{requirement!r}: pin it with =="


def test_the_locks_hold_what_pyproject_pins() -> None:
    project = _project()
    runtime, dev = _pins(project["dependencies"]), _pins(project["optional-dependencies"]["dev"])
    runtime_lock, dev_lock = _lock("runtime.txt"), _lock("dev.txt")
    stale = {name: (version, runtime_lock.get(name)) for name, version in runtime.items()
             if runtime_lock.get(name) != version}
    stale |= {name: (version, dev_lock.get(name)) for name, version in (runtime | dev).items()
              if dev_lock.get(name) != version}
    assert stale == {}, "pyproject.toml and requirements/*.txt disagree (pin, lock): run `make lock`"
    assert "pytest" not in runtime_lock  # the runtime's lock has no test tools


def test_every_locked_package_has_hashes() -> None:
    for name in ("runtime.txt", "dev.txt"):
        lines = (REPO_ROOT / "requirements" / name).read_text().splitlines()
        for i, line in enumerate(lines):
            if PIN.match(line):
                assert lines[i + 1].strip().startswith("--hash=sha256:"), f"{name}: {line} has no hash"
