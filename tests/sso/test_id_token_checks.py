"""Every way an ID token can be wrong is refused, with the message a person would be shown.

Tokens are minted with the test provider's own signing key (tests/oidc), so only the one thing
each case changes is wrong; the keys are fetched from the provider's JWKS endpoint as in production.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from jwcrypto import jwk

from renda.platform.config import Settings
from renda.platform.identity.oidc import OidcClient, SsoError

from sso_support import CLIENT_ID, CLIENT_SECRET

NONCE = "nonce-123"


@pytest.fixture
def client(provider: Any) -> Iterator[OidcClient]:
    oidc = OidcClient(Settings(keycloak_url=provider.server_url, keycloak_realm="renda",
                               keycloak_client_id=CLIENT_ID, keycloak_client_secret=CLIENT_SECRET))
    yield oidc
    oidc.close()


def good_claims(provider: Any, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": provider.issuer, "aud": CLIENT_ID, "azp": CLIENT_ID, "sub": "sub-kc-county",
              "iat": now, "exp": now + 300, "nonce": NONCE, "preferred_username": "kc-county",
              "groups": ["/451000/451022/congress_admin"]}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def test_a_good_token_passes(client: OidcClient, provider: Any) -> None:
    claims = client.validate_id_token(provider.sign(good_claims(provider)), nonce=NONCE)
    assert claims["preferred_username"] == "kc-county"


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    return ".".join((header, payload, flipped))


@pytest.mark.parametrize("case, make, message", [
    ("tampered_signature", lambda p: tampered(p.sign(good_claims(p))), "无法验证本次登录"),
    ("expired", lambda p: p.sign(good_claims(p, iat=int(time.time()) - 900, exp=int(time.time()) - 600)),
     "登录凭据已过期"),
    ("wrong_issuer", lambda p: p.sign(good_claims(p, iss="http://127.0.0.1:1/realms/other")), "无法验证本次登录"),
    ("wrong_audience", lambda p: p.sign(good_claims(p, aud="someone-else", azp="someone-else")),
     "无法验证本次登录"),
    ("wrong_azp", lambda p: p.sign(good_claims(p, aud=[CLIENT_ID, "other"], azp="other")), "无法验证本次登录"),
    ("nonce_mismatch", lambda p: p.sign(good_claims(p, nonce="another-nonce")), "无法验证本次登录"),
    ("no_nonce", lambda p: p.sign(good_claims(p, nonce=None)), "无法验证本次登录"),
    ("unknown_key_id", lambda p: p.sign(good_claims(p), key=jwk.JWK.generate(kty="RSA", size=2048, kid="stranger",
                                                                             alg="RS256", use="sig")),
     "无法验证本次登录"),
    ("not_a_token", lambda p: "not.a.token", "无法验证本次登录"),
])
def test_bad_tokens_are_refused(case: str, make: Any, message: str, client: OidcClient, provider: Any) -> None:
    from renda.web import i18n

    with pytest.raises(SsoError) as refused:
        client.validate_id_token(make(provider), nonce=NONCE)
    i18n.activate("zh_CN")
    assert message in i18n.gettext(refused.value.msgid), case


def test_an_unknown_key_id_fetches_the_keys_again_once(client: OidcClient, provider: Any) -> None:
    client.validate_id_token(provider.sign(good_claims(provider)), nonce=NONCE)
    fetched = client._keys_fetched
    stranger = jwk.JWK.generate(kty="RSA", size=2048, kid="rotated-away", alg="RS256", use="sig")
    with pytest.raises(SsoError):
        client.validate_id_token(provider.sign(good_claims(provider), key=stranger), nonce=NONCE)
    assert client._keys_fetched > fetched  # looked again before refusing
