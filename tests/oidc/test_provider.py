"""The test OpenID Connect provider speaks Keycloak's layout and tokens to python-keycloak.

It is panva's oidc-provider (tests/oidc/provider.mjs); these tests drive it the way the app will:
KeycloakOpenID for discovery, the authorization URL, the token, refresh, certs, userinfo,
introspection and logout calls, and an httpx client standing in for the browser.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import hashlib
import importlib.util
import secrets
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from jwcrypto import jwk
from jwcrypto.jwt import JWTExpired, JWTInvalidClaimValue, JWTMissingKey
from keycloak import KeycloakOpenID
from keycloak.exceptions import KeycloakAuthenticationError, KeycloakPostError

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None, reason="node is not on PATH: the test OpenID provider runs on Node.js"
)


def _load_fixture() -> ModuleType:
    name = "oidc_fixture"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("fixture.py"))
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


oidc = _load_fixture()

REALM = "renda"
CLIENT_ID = "renda-web"
CLIENT_SECRET = "renda-web-secret"
REDIRECT_URI = "http://127.0.0.1:9/auth/callback?next=%2Fdesk"  # a query that needs encoding
POST_LOGOUT_URI = "http://127.0.0.1:9/signed-out"
ID_TOKEN_TTL = 240
ACCESS_TOKEN_TTL = 120

ALICE = {
    "username": "alice",
    "password": "alice-password-1",
    "sub": "8f2c6b0e-1d2a-4c3b-9e8f-0a1b2c3d4e5f",
    "name": "李 Alice",
    "email": "alice@example.cn",
    "groups": ["/451000/451022/congress_admin", "/451000/451022/45102201/station_staff"],
    "realm_roles": ["platform_admin", "offline_access"],
    "attributes": {"phone_number": "13800000000"},
}
BOB = {
    "username": "bob",
    "password": "bob-password-1",
    "sub": "1b0c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
    "name": "Bob",
    "email": "bob@example.cn",
    "groups": [],
    "realm_roles": [],
    "attributes": {},
}
CLIENTS = [
    {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [REDIRECT_URI],
        "post_logout_redirect_uris": [POST_LOGOUT_URI],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_post",
    }
]


@pytest.fixture(scope="module")
def provider() -> Iterator[Any]:
    with oidc.start_provider(
        accounts=[ALICE, BOB], clients=CLIENTS, realm=REALM, id_token_ttl=ID_TOKEN_TTL,
        access_token_ttl=ACCESS_TOKEN_TTL,
    ) as info:
        yield info


@pytest.fixture
def kc(provider: Any) -> KeycloakOpenID:
    return KeycloakOpenID(
        server_url=provider.server_url, realm_name=REALM, client_id=CLIENT_ID, client_secret_key=CLIENT_SECRET
    )


@pytest.fixture
def browser() -> Iterator[httpx.Client]:
    with httpx.Client(follow_redirects=False, timeout=10) as client:
        yield client


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def auth_url(kc: KeycloakOpenID, *, state: str, nonce: str, challenge: str | None, method: str | None = "S256") -> str:
    # python-keycloak pastes the values into the URL as they are: pass them encoded.
    return kc.auth_url(
        redirect_uri=quote(REDIRECT_URI, safe=""),
        scope=quote("openid profile email", safe=""),
        state=quote(state, safe=""),
        nonce=quote(nonce, safe=""),
        code_challenge=challenge,
        code_challenge_method=method,
    )


def login(kc: KeycloakOpenID, browser: httpx.Client, user: dict[str, Any]) -> dict[str, Any]:
    """The whole sign-in: authorization request, form, code, tokens; returns what the app would keep."""
    verifier, challenge = pkce_pair()
    state, nonce = "st/" + secrets.token_urlsafe(8) + " +&=", "n+" + secrets.token_urlsafe(8)
    params = oidc.browser_login(
        browser, auth_url(kc, state=state, nonce=nonce, challenge=challenge), REDIRECT_URI, user["username"],
        user["password"],
    )
    assert isinstance(params, dict), params
    assert params["state"] == state
    tokens = kc.token(grant_type="authorization_code", code=params["code"], redirect_uri=REDIRECT_URI,
                      code_verifier=verifier)
    return {"params": params, "tokens": tokens, "nonce": nonce, "state": state}


def keys(kc: KeycloakOpenID) -> jwk.JWKSet:
    return jwk.JWKSet.from_json(httpx.get(kc.well_known()["jwks_uri"]).text)


def test_discovery_has_keycloak_paths(kc: KeycloakOpenID, provider: Any) -> None:
    base = f"{provider.server_url}realms/{REALM}"
    assert provider.issuer == base
    config = kc.well_known()
    assert config["issuer"] == base
    assert config["authorization_endpoint"] == f"{base}/protocol/openid-connect/auth"
    assert config["token_endpoint"] == f"{base}/protocol/openid-connect/token"
    assert config["jwks_uri"] == f"{base}/protocol/openid-connect/certs"
    assert config["userinfo_endpoint"] == f"{base}/protocol/openid-connect/userinfo"
    assert config["end_session_endpoint"] == f"{base}/protocol/openid-connect/logout"
    assert config["introspection_endpoint"] == f"{base}/protocol/openid-connect/token/introspect"
    assert config["revocation_endpoint"] == f"{base}/protocol/openid-connect/revoke"
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert "client_secret_post" in config["token_endpoint_auth_methods_supported"]
    assert {"groups", "realm_access", "preferred_username", "azp", "sid"} <= set(config["claims_supported"])
    assert provider.package_version == "9.13.3"
    assert provider.node_version.startswith("v")


def test_certs_and_realm_public_key_are_the_signing_key(kc: KeycloakOpenID, provider: Any) -> None:
    certs = kc.certs()
    assert [k["kid"] for k in certs["keys"]] == [provider.private_jwk["kid"]]
    assert all("d" not in k for k in certs["keys"])
    public_pem = provider.private_jwk.export_to_pem(private_key=False, password=None).decode()
    body = "".join(line for line in public_pem.splitlines() if "-----" not in line)
    assert kc.public_key() == body


def test_code_flow_gives_keycloak_shaped_tokens(kc: KeycloakOpenID, browser: httpx.Client, provider: Any) -> None:
    done = login(kc, browser, ALICE)
    params, tokens = done["params"], done["tokens"]
    assert params["iss"] == provider.issuer  # RFC 9207, as Keycloak sends it too
    assert {"access_token", "id_token", "refresh_token"} <= tokens.keys()
    assert tokens["token_type"].lower() == "bearer"
    assert tokens["expires_in"] == ACCESS_TOKEN_TTL

    claims = kc.decode_token(tokens["id_token"], key=keys(kc), check_claims={"iss": provider.issuer, "aud": CLIENT_ID})
    assert claims["sub"] == ALICE["sub"]
    assert claims["azp"] == CLIENT_ID
    assert claims["nonce"] == done["nonce"]
    assert claims["preferred_username"] == "alice"
    assert claims["name"] == ALICE["name"]
    assert claims["email"] == ALICE["email"]
    assert claims["email_verified"] is True
    assert claims["groups"] == ALICE["groups"]
    assert claims["realm_access"] == {"roles": ALICE["realm_roles"]}
    assert claims["phone_number"] == "13800000000"
    assert claims["typ"] == "ID"
    assert claims["sid"]
    assert claims["exp"] - claims["iat"] == ID_TOKEN_TTL
    assert abs(claims["auth_time"] - time.time()) < 60
    # decode_token without a key fetches certs() itself
    assert kc.decode_token(tokens["id_token"])["sub"] == ALICE["sub"]

    info = kc.userinfo(tokens["access_token"])
    assert isinstance(info, dict)
    assert info["sub"] == ALICE["sub"]
    assert info["preferred_username"] == "alice"
    assert info["groups"] == ALICE["groups"]
    assert info["realm_access"] == {"roles": ALICE["realm_roles"]}
    assert "azp" not in info

    introspected = kc.introspect(tokens["access_token"])
    assert introspected["active"] is True
    assert introspected["sub"] == ALICE["sub"]
    assert introspected["client_id"] == CLIENT_ID


def test_user_without_groups_gets_empty_lists(kc: KeycloakOpenID, browser: httpx.Client) -> None:
    claims = kc.decode_token(login(kc, browser, BOB)["tokens"]["id_token"], key=keys(kc))
    assert claims["groups"] == []
    assert claims["realm_access"] == {"roles": []}


def test_refresh_token_grant(kc: KeycloakOpenID, browser: httpx.Client, provider: Any) -> None:
    tokens = login(kc, browser, ALICE)["tokens"]
    first = kc.decode_token(tokens["id_token"], key=keys(kc))
    refreshed = kc.refresh_token(tokens["refresh_token"])
    assert refreshed["access_token"] != tokens["access_token"]
    assert refreshed["refresh_token"]
    again = kc.decode_token(refreshed["id_token"], key=keys(kc), check_claims={"iss": provider.issuer})
    assert again["sub"] == ALICE["sub"]
    assert again["groups"] == ALICE["groups"]
    assert again["sid"] == first["sid"]
    assert again["azp"] == CLIENT_ID
    assert again["auth_time"] == first["auth_time"]
    assert kc.userinfo(refreshed["access_token"]) == kc.userinfo(tokens["access_token"])
    # Without rotation (Keycloak's default "Revoke Refresh Token: off") the refresh token stays usable.
    assert kc.refresh_token(tokens["refresh_token"])["access_token"]


def test_refresh_token_rotation_when_asked() -> None:
    with oidc.start_provider(accounts=[ALICE], clients=CLIENTS, rotate_refresh_token=True) as info, \
            httpx.Client() as browser:
        kc = KeycloakOpenID(server_url=info.server_url, realm_name=REALM, client_id=CLIENT_ID,
                            client_secret_key=CLIENT_SECRET)
        tokens = login(kc, browser, ALICE)["tokens"]
        refreshed = kc.refresh_token(tokens["refresh_token"])
        assert refreshed["refresh_token"] != tokens["refresh_token"]
        assert kc.refresh_token(refreshed["refresh_token"])["access_token"]
        with pytest.raises(KeycloakPostError):  # reuse of a rotated token revokes the grant
            kc.refresh_token(tokens["refresh_token"])


def test_python_keycloak_async_api(kc: KeycloakOpenID, browser: httpx.Client) -> None:
    verifier, challenge = pkce_pair()

    async def flow() -> None:
        try:
            url = await kc.a_auth_url(redirect_uri=quote(REDIRECT_URI, safe=""), scope="openid%20profile",
                                      state="s", nonce="n", code_challenge=challenge, code_challenge_method="S256")
            params = oidc.browser_login(browser, url, REDIRECT_URI, "alice", ALICE["password"])
            assert isinstance(params, dict)
            tokens = await kc.a_token(grant_type="authorization_code", code=params["code"],
                                      redirect_uri=REDIRECT_URI, code_verifier=verifier)
            claims = await kc.a_decode_token(tokens["id_token"])
            assert claims["groups"] == ALICE["groups"]
            refreshed = await kc.a_refresh_token(tokens["refresh_token"])
            info = await kc.a_userinfo(refreshed["access_token"])
            assert isinstance(info, dict) and info["preferred_username"] == "alice"
            assert await kc.a_logout(refreshed["refresh_token"]) == {}
        finally:
            await kc.connection.aclose()  # else its httpx.AsyncClient leaks a socket (ResourceWarning)

    # A thread of its own: the browser tests' Playwright keeps an event loop running in this one.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, flow()).result()


def test_auth_url_values_must_be_pre_encoded(kc: KeycloakOpenID, browser: httpx.Client) -> None:
    # python-keycloak does not encode: a redirect URI with a query falls apart (and so would a state
    # or nonce with "&", "+", "#" or "%").
    _, challenge = pkce_pair()
    raw = kc.auth_url(redirect_uri=REDIRECT_URI, scope="openid", state="s", nonce="n", code_challenge=challenge,
                      code_challenge_method="S256")
    page = oidc.open_login(browser, raw, REDIRECT_URI)
    assert page.status_code == 400
    assert "invalid_redirect_uri" in page.text


def test_single_sign_on_session_skips_the_form(kc: KeycloakOpenID, browser: httpx.Client) -> None:
    first = login(kc, browser, ALICE)
    _, challenge = pkce_pair()
    response = oidc.open_login(browser, auth_url(kc, state="s2", nonce="n2", challenge=challenge), REDIRECT_URI)
    assert response.is_redirect
    params = oidc.callback_params(response)
    assert params["state"] == "s2"
    assert params["code"] != first["params"]["code"]


def test_wrong_password_shows_the_form_again(kc: KeycloakOpenID, browser: httpx.Client) -> None:
    _, challenge = pkce_pair()
    page = oidc.browser_login(browser, auth_url(kc, state="s", nonce="n", challenge=challenge), REDIRECT_URI,
                              "alice", "not-her-password")
    assert isinstance(page, oidc.Page)
    assert page.status_code == 200
    assert page.is_login_form
    assert "Invalid username or password." in page.text
    assert 'value="alice"' in page.text
    assert ">Sign In</button>" in page.text

    page = oidc.browser_login(browser, auth_url(kc, state="s", nonce="n", challenge=challenge), REDIRECT_URI,
                              "nobody", "x")
    assert isinstance(page, oidc.Page) and page.is_login_form


def test_pkce_is_required(kc: KeycloakOpenID, browser: httpx.Client) -> None:
    # No code_challenge: the provider answers the redirect URI with an error, as Keycloak does.
    response = oidc.open_login(browser, auth_url(kc, state="s", nonce="n", challenge=None, method=None), REDIRECT_URI)
    assert response.is_redirect
    params = oidc.callback_params(response)
    assert params["error"] == "invalid_request"
    assert "PKCE" in params["error_description"]
    # Only S256.
    response = oidc.open_login(browser, auth_url(kc, state="s", nonce="n", challenge="x" * 43, method="plain"),
                               REDIRECT_URI)
    assert oidc.callback_params(response)["error"] == "invalid_request"


def test_code_without_its_verifier_is_refused(kc: KeycloakOpenID, browser: httpx.Client) -> None:
    _, challenge = pkce_pair()
    params = oidc.browser_login(browser, auth_url(kc, state="s", nonce="n", challenge=challenge), REDIRECT_URI,
                                "alice", ALICE["password"])
    assert isinstance(params, dict)
    with pytest.raises(KeycloakPostError) as refused:
        kc.token(grant_type="authorization_code", code=params["code"], redirect_uri=REDIRECT_URI)
    assert refused.value.response_code == 400
    assert b"invalid_grant" in (refused.value.response_body or b"")
    with pytest.raises(KeycloakPostError):
        kc.token(grant_type="authorization_code", code=params["code"], redirect_uri=REDIRECT_URI,
                 code_verifier="a-wrong-verifier-" + "x" * 43)


def test_wrong_client_secret_is_refused(provider: Any, browser: httpx.Client, kc: KeycloakOpenID) -> None:
    verifier, challenge = pkce_pair()
    params = oidc.browser_login(browser, auth_url(kc, state="s", nonce="n", challenge=challenge), REDIRECT_URI,
                                "alice", ALICE["password"])
    assert isinstance(params, dict)
    wrong = KeycloakOpenID(server_url=provider.server_url, realm_name=REALM, client_id=CLIENT_ID,
                           client_secret_key="wrong")
    with pytest.raises(KeycloakAuthenticationError) as refused:
        wrong.token(grant_type="authorization_code", code=params["code"], redirect_uri=REDIRECT_URI,
                    code_verifier=verifier)
    assert refused.value.response_code == 401


def test_rp_initiated_logout_ends_the_session(kc: KeycloakOpenID, browser: httpx.Client) -> None:
    done = login(kc, browser, ALICE)
    query = urlencode({"id_token_hint": done["tokens"]["id_token"], "post_logout_redirect_uri": POST_LOGOUT_URI,
                       "state": "bye/1"})
    response = oidc.browser_logout(browser, f"{kc.well_known()['end_session_endpoint']}?{query}", POST_LOGOUT_URI)
    assert response.is_redirect
    assert response.headers["location"] == f"{POST_LOGOUT_URI}?state=bye%2F1"

    _, challenge = pkce_pair()
    page = oidc.open_login(browser, auth_url(kc, state="s", nonce="n", challenge=challenge), REDIRECT_URI)
    assert page.status_code == 200
    assert 'id="kc-login"' in page.text
    # The refresh token lived only as long as the session.
    with pytest.raises(KeycloakPostError):
        kc.refresh_token(done["tokens"]["refresh_token"])


def test_python_keycloak_logout_ends_the_session(kc: KeycloakOpenID, browser: httpx.Client, provider: Any) -> None:
    done = login(kc, browser, ALICE)
    wrong = KeycloakOpenID(server_url=provider.server_url, realm_name=REALM, client_id=CLIENT_ID,
                           client_secret_key="wrong")
    with pytest.raises(KeycloakAuthenticationError):
        wrong.logout(done["tokens"]["refresh_token"])
    assert kc.logout(done["tokens"]["refresh_token"]) == {}
    with pytest.raises(KeycloakPostError):
        kc.refresh_token(done["tokens"]["refresh_token"])
    assert kc.introspect(done["tokens"]["access_token"]) == {"active": False}
    _, challenge = pkce_pair()
    page = oidc.open_login(browser, auth_url(kc, state="s", nonce="n", challenge=challenge), REDIRECT_URI)
    assert page.status_code == 200
    assert 'id="kc-login"' in page.text


def test_minted_tokens_check_issuer_audience_expiry_and_key(kc: KeycloakOpenID, provider: Any) -> None:
    now = int(time.time())
    good = {"iss": provider.issuer, "aud": CLIENT_ID, "sub": ALICE["sub"], "iat": now, "exp": now + 300}
    # jwcrypto checks exp only when asked: once check_claims is given, "exp": None must be in it.
    checks = {"iss": provider.issuer, "aud": CLIENT_ID, "exp": None}
    key_set = keys(kc)
    assert kc.decode_token(provider.sign(good), key=key_set, check_claims=checks)["sub"] == ALICE["sub"]
    expired = provider.sign({**good, "exp": now - 3600})
    assert kc.decode_token(expired, key=key_set, check_claims={"iss": provider.issuer})["sub"] == ALICE["sub"]
    with pytest.raises(JWTExpired):
        kc.decode_token(expired, key=key_set)
    with pytest.raises(JWTExpired):
        kc.decode_token(provider.sign({**good, "exp": now - 3600}), key=key_set, check_claims=checks)
    with pytest.raises(JWTInvalidClaimValue, match="'iss'"):
        kc.decode_token(provider.sign({**good, "iss": "http://evil/realms/renda"}), key=key_set, check_claims=checks)
    with pytest.raises(JWTInvalidClaimValue, match="'aud'"):
        kc.decode_token(provider.sign({**good, "aud": "other"}), key=key_set, check_claims=checks)
    with pytest.raises(JWTMissingKey):  # another key (its kid is not in the provider's certs)
        kc.decode_token(provider.sign(good, key=oidc.generate_jwk()), key=key_set, check_claims=checks)
