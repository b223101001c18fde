"""A real OpenID Connect provider laid out like a Keycloak realm, started for a test.

``start_provider(accounts, clients)`` runs ``node tests/oidc/provider.mjs`` (panva's
``oidc-provider``, installed by ``npm ci`` / ``make assets``) on a free port of 127.0.0.1 and yields a
:class:`ProviderInfo`; python-keycloak talks to it as to Keycloak::

    with start_provider(accounts=[ALICE], clients=[RENDA]) as info:
        kc = KeycloakOpenID(server_url=info.server_url, realm_name=info.realm,
                            client_id="renda", client_secret_key="secret")

Accounts are dicts ``{"username", "password", "sub", "name", "email", "groups": ["/451000/451022/
congress_admin", ...], "realm_roles": [...], "attributes": {...}}``; clients are oidc-provider client
metadata (``client_id``, ``client_secret``, ``redirect_uris``, ``post_logout_redirect_uris``, ...),
authenticating with ``client_secret_post`` by default as python-keycloak does.

Without a browser, :func:`browser_login` and :func:`browser_logout` walk the provider's pages with
an ``httpx.Client`` as a browser would (the client keeps the provider's cookies, i.e. its session).

This is a plain module, not a conftest: load it by path, e.g.::

    spec = importlib.util.spec_from_file_location("oidc_fixture", REPO_ROOT / "tests/oidc/fixture.py")
    oidc_fixture = importlib.util.module_from_spec(spec)
    sys.modules["oidc_fixture"] = oidc_fixture
    spec.loader.exec_module(oidc_fixture)
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import queue
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
from jwcrypto import jwk, jwt

REPO_ROOT = Path(__file__).resolve().parents[2]
PROVIDER_SCRIPT = REPO_ROOT / "tests" / "oidc" / "provider.mjs"
PACKAGE_JSON = REPO_ROOT / "node_modules" / "oidc-provider" / "package.json"
STARTUP_TIMEOUT = 20.0


class ProviderError(RuntimeError):
    """The provider could not be started."""


@dataclass(frozen=True)
class ProviderInfo:
    server_url: str  # "http://127.0.0.1:PORT/": KeycloakOpenID(server_url=...)
    realm: str
    issuer: str  # "http://127.0.0.1:PORT/realms/REALM"
    port: int
    private_jwk: jwk.JWK  # the RSA key (with kid) that signs every token the provider issues
    node_version: str  # e.g. "v20.20.2"
    package_version: str  # oidc-provider's version, e.g. "9.13.3"
    stderr_file: Path  # what the provider wrote on stderr so far (gone after the block)

    def sign(self, claims: Mapping[str, Any], *, key: jwk.JWK | None = None) -> str:
        """A JWT signed like the provider's tokens (RS256, its kid) or with ``key``: forged or expired tokens."""
        signer = key or self.private_jwk
        header = {"alg": "RS256", "typ": "JWT", "kid": signer.get("kid")}
        token = jwt.JWT(header=header, claims=dict(claims))
        token.make_signed_token(signer)
        return token.serialize()


def node_executable() -> str | None:
    return shutil.which("node")


@functools.cache
def _node_version(node: str) -> str:
    return subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout.strip()


def _package_version() -> str:
    if not PACKAGE_JSON.is_file():
        raise ProviderError(
            f"{PACKAGE_JSON.parent} is missing: run `npm ci` in {REPO_ROOT} (`make assets` does it)"
        )
    return str(json.loads(PACKAGE_JSON.read_text(encoding="utf-8"))["version"])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def generate_jwk() -> jwk.JWK:
    return jwk.JWK.generate(kty="RSA", size=2048, kid=secrets.token_urlsafe(12), alg="RS256", use="sig")


def _stop(proc: subprocess.Popen[str], reader: threading.Thread | None) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    if reader is not None:
        reader.join(timeout=5)  # it ends at the pipe's end of file, once the provider has exited
    if proc.stdout is not None:
        proc.stdout.close()


@contextlib.contextmanager
def start_provider(
    accounts: list[dict[str, Any]],
    clients: list[dict[str, Any]],
    realm: str = "renda",
    id_token_ttl: int = 300,
    access_token_ttl: int = 300,
    *,
    refresh_token_ttl: int = 1800,
    rotate_refresh_token: bool = False,
) -> Iterator[ProviderInfo]:
    """Run the provider until the block ends; raise ProviderError (with its stderr) if it won't start."""
    node = node_executable()
    if node is None:
        raise ProviderError("node is not on PATH")
    package_version = _package_version()
    private_jwk = generate_jwk()
    with tempfile.TemporaryDirectory(prefix="renda-oidc-") as tmp:
        accounts_file = Path(tmp) / "accounts.json"
        accounts_file.write_text(json.dumps(accounts), encoding="utf-8")
        stderr_path = Path(tmp) / "stderr.log"
        last_error = ""
        for _attempt in range(3):  # the free port may be taken between the probe and node's bind
            port = _free_port()
            env = {
                **os.environ,
                "OIDC_PORT": str(port),
                "OIDC_REALM": realm,
                "OIDC_CLIENTS": json.dumps(clients),
                "OIDC_ACCOUNTS": str(accounts_file),
                "OIDC_JWKS": json.dumps({"keys": [json.loads(private_jwk.export_private())]}),
                "OIDC_ID_TOKEN_TTL": str(id_token_ttl),
                "OIDC_ACCESS_TOKEN_TTL": str(access_token_ttl),
                "OIDC_REFRESH_TOKEN_TTL": str(refresh_token_ttl),
                "OIDC_ROTATE_REFRESH_TOKEN": "1" if rotate_refresh_token else "0",
            }
            with stderr_path.open("w", encoding="utf-8") as stderr:
                proc = subprocess.Popen(
                    [node, str(PROVIDER_SCRIPT)],
                    cwd=REPO_ROOT,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=stderr,
                    text=True,
                )
            lines: queue.Queue[str | None] = queue.Queue()
            reader = _drain_stdout(proc, lines)
            try:
                issuer = _wait_ready(proc, lines)
            except ProviderError as exc:
                _stop(proc, reader)
                last_error = f"{exc}\n--- provider stderr ---\n{stderr_path.read_text(encoding='utf-8')}"
                if "EADDRINUSE" in last_error:
                    continue
                raise ProviderError(last_error) from None
            try:
                yield ProviderInfo(
                    server_url=f"http://127.0.0.1:{port}/",
                    realm=realm,
                    issuer=issuer,
                    port=port,
                    private_jwk=private_jwk,
                    node_version=_node_version(node),
                    package_version=package_version,
                    stderr_file=stderr_path,
                )
            finally:
                _stop(proc, reader)
            return
        raise ProviderError(last_error)


def _drain_stdout(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> threading.Thread:
    """Read the provider's stdout into ``lines`` (None at its end), so that its pipe never fills."""

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=pump, name="oidc-provider-stdout", daemon=True)
    reader.start()
    return reader


def _wait_ready(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> str:
    """The issuer from the provider's READY line."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise ProviderError(f"the OIDC provider did not print READY within {STARTUP_TIMEOUT:.0f} s")
        try:
            line = lines.get(timeout=remaining)
        except queue.Empty:
            continue
        if line is None:
            raise ProviderError(f"the OIDC provider exited with status {proc.wait()} before READY")
        if line.startswith("READY "):
            return line.removeprefix("READY ").strip()


# --- a browser without a browser ---------------------------------------------------------------

_FORM = re.compile(r"<form\b[^>]*\baction=\"([^\"]*)\"", re.IGNORECASE)
_HIDDEN = re.compile(r"<input\b[^>]*\btype=\"hidden\"[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r"\b(name|value)=\"([^\"]*)\"", re.IGNORECASE)


@dataclass(frozen=True)
class Page:
    """A page the walk stopped at: a sign-in form (or an error page) of the provider."""

    url: str
    status_code: int
    text: str

    @property
    def form_action(self) -> str | None:
        match = _FORM.search(self.text)
        return urljoin(self.url, unescape(match.group(1))) if match else None

    @property
    def is_login_form(self) -> bool:
        return 'id="kc-login"' in self.text and 'name="password"' in self.text


def follow(client: httpx.Client, response: httpx.Response, stop_at: str) -> httpx.Response:
    """Follow redirects (and self-submitting forms) until a Location starting with ``stop_at``."""
    for _ in range(20):
        location = response.headers.get("location")
        if response.is_redirect and location:
            target = urljoin(str(response.url), location)
            if target.startswith(stop_at):
                return response
            response = client.get(target)
            continue
        if response.status_code == 200 and "document.forms[0].submit()" in response.text:
            response = submit_hidden_form(client, response)
            continue
        return response
    raise AssertionError("too many redirects")


def submit_hidden_form(client: httpx.Client, response: httpx.Response) -> httpx.Response:
    """Do what a self-submitting page's script does: POST its form's hidden inputs."""
    action = _FORM.search(response.text)
    assert action, response.text
    data = {}
    for tag in _HIDDEN.findall(response.text):
        attrs = {k.lower(): unescape(v) for k, v in _ATTR.findall(tag)}
        data[attrs["name"]] = attrs.get("value", "")
    return client.post(urljoin(str(response.url), unescape(action.group(1))), data=data)


def open_login(client: httpx.Client, auth_url: str, redirect_uri: str) -> httpx.Response:
    """Start an authorization request: a login page, or (with a provider session) the redirect."""
    return follow(client, client.get(auth_url), redirect_uri)


def browser_login(
    client: httpx.Client, auth_url: str, redirect_uri: str, username: str, password: str
) -> dict[str, str] | Page:
    """Sign in through the provider's form; the callback's query (code, state, iss) or the page shown."""
    response = open_login(client, auth_url, redirect_uri)
    if not response.is_redirect:
        page = Page(str(response.url), response.status_code, response.text)
        if not page.is_login_form:
            return page
        assert page.form_action
        response = follow(
            client, client.post(page.form_action, data={"username": username, "password": password}), redirect_uri
        )
        if not response.is_redirect:
            return Page(str(response.url), response.status_code, response.text)
    return callback_params(response)


def callback_params(response: httpx.Response) -> dict[str, str]:
    location = urljoin(str(response.url), response.headers["location"])
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def browser_logout(client: httpx.Client, logout_url: str, stop_at: str) -> httpx.Response:
    """Open an RP-initiated logout URL; the final redirect (to ``stop_at``) or the page shown."""
    return follow(client, client.get(logout_url), stop_at)
