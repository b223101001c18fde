"""OpenID Connect sign-in against Keycloak (authorization code + PKCE) through python-keycloak.

python-keycloak talks to the provider (discovery, authorization URL, token exchange, refresh,
certificates); this module adds what a relying party must check itself: state (by the caller),
nonce, the ID token's signature against the realm's published keys (cached, fetched again when a
token names a key id the cache does not know), issuer, audience, authorized party and expiry.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from jwcrypto import jwk, jwt
from jwcrypto.common import JWException
from keycloak import KeycloakOpenID
from keycloak.exceptions import KeycloakConnectionError, KeycloakError

from renda.platform.config import Settings
from renda.platform.errors import N_

JWKS_TTL_SECONDS = 3600
LEEWAY_SECONDS = 30


class SsoError(Exception):
    """Sign-in refused. ``msgid`` is what the person is told; the exception text is for the log."""

    def __init__(self, msgid: str, detail: str = "") -> None:
        super().__init__(detail or msgid)
        self.msgid = msgid


class ProviderUnavailable(SsoError):
    def __init__(self, detail: str = "") -> None:
        super().__init__(N_("The unified identity service cannot be reached right now. Try again in a few "
                            "minutes, or sign in with your local account."), detail)


@dataclass(frozen=True)
class Authorization:
    """Where to send the browser, and what to remember until it comes back."""

    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class SignIn:
    claims: dict[str, Any]
    id_token: str
    refresh_token: str | None
    expires_at: float  # when the access token expires (epoch seconds)
    refresh_expires_at: float | None


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OidcClient:
    """One realm's client. Safe to share between requests; the key cache is per process."""

    def __init__(self, settings: Settings) -> None:
        if not settings.keycloak_url:
            raise SsoError(N_("Unified identity sign-in is not configured."), "RENDA_KEYCLOAK_URL is unset")
        self.client_id = settings.keycloak_client_id
        self.openid = KeycloakOpenID(
            server_url=settings.keycloak_url.rstrip("/") + "/",
            realm_name=settings.keycloak_realm,
            client_id=settings.keycloak_client_id,
            client_secret_key=settings.keycloak_client_secret,
            timeout=settings.keycloak_timeout_seconds,
        )
        self._keys: jwk.JWKSet | None = None
        self._keys_fetched = 0.0
        self._lock = threading.Lock()
        self._discovery: dict[str, Any] | None = None

    def close(self) -> None:
        """Release the HTTP connections python-keycloak keeps to the realm."""
        session = getattr(self.openid.connection, "_s", None)
        if session is not None:
            session.close()

    # -- talking to the provider -------------------------------------------------------------

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except KeycloakConnectionError as exc:
            raise ProviderUnavailable(f"{what}: {exc}") from exc
        except KeycloakError as exc:
            raise SsoError(N_("The unified identity service refused the sign-in. Please try again."),
                           f"{what}: {exc}") from exc

    def discovery(self) -> dict[str, Any]:
        if self._discovery is None:
            self._discovery = self._call("discovery", self.openid.well_known)
        return self._discovery

    @property
    def issuer(self) -> str:
        return str(self.discovery()["issuer"])

    def begin(self, redirect_uri: str) -> Authorization:
        """A fresh state, nonce and PKCE verifier, and the provider's authorization URL."""
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        self.discovery()
        # python-keycloak puts these values into the URL as they are: encode them here.
        url = self._call(
            "auth_url", self.openid.auth_url,
            redirect_uri=quote(redirect_uri, safe=""), scope=quote("openid profile email", safe=""),
            state=state, nonce=nonce, code_challenge=_challenge(verifier), code_challenge_method="S256",
        )
        return Authorization(str(url), state, nonce, verifier)

    def finish(self, *, code: str, redirect_uri: str, code_verifier: str, nonce: str) -> SignIn:
        tokens = self._call("token", self.openid.token, grant_type="authorization_code", code=code,
                            redirect_uri=redirect_uri, code_verifier=code_verifier)
        return self._sign_in(tokens, nonce=nonce)

    def refresh(self, refresh_token: str, previous_claims: dict[str, Any]) -> SignIn:
        tokens = self._call("refresh", self.openid.refresh_token, refresh_token)
        signed = self._sign_in(tokens, nonce=None)
        if signed.claims.get("sub") != previous_claims.get("sub"):
            raise SsoError(N_("Your sign-in could not be renewed. Please sign in again."), "subject changed")
        return signed

    def logout_url(self, *, id_token: str, post_logout_redirect_uri: str) -> str | None:
        endpoint = self.discovery().get("end_session_endpoint")
        if not endpoint:
            return None
        query = urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": post_logout_redirect_uri,
                           "client_id": self.client_id})
        return f"{endpoint}?{query}"

    def _sign_in(self, tokens: dict[str, Any], *, nonce: str | None) -> SignIn:
        id_token = tokens.get("id_token")
        if not id_token:
            raise SsoError(N_("The unified identity service refused the sign-in. Please try again."),
                           "no id_token in the token response")
        claims = self.validate_id_token(id_token, nonce=nonce)
        now = time.time()
        refresh_in = tokens.get("refresh_expires_in")
        return SignIn(
            claims=claims, id_token=id_token, refresh_token=tokens.get("refresh_token"),
            expires_at=now + float(tokens.get("expires_in") or 60),
            refresh_expires_at=now + float(refresh_in) if refresh_in else None,
        )

    # -- checking tokens ---------------------------------------------------------------------

    def _jwks(self, *, refresh: bool = False) -> jwk.JWKSet:
        with self._lock:
            stale = time.time() - self._keys_fetched > JWKS_TTL_SECONDS
            if self._keys is None or refresh or stale:
                keys = jwk.JWKSet()
                for cert in self._call("certs", self.openid.certs).get("keys", []):
                    if cert.get("use", "sig") == "sig":
                        keys.add(jwk.JWK(**cert))
                self._keys, self._keys_fetched = keys, time.time()
            return self._keys

    def validate_id_token(self, token: str, *, nonce: str | None) -> dict[str, Any]:
        """The ID token's claims, or SsoError when anything about it is wrong."""
        checks: dict[str, Any] = {"iss": self.issuer, "aud": self.client_id, "exp": None, "iat": None,
                                  "sub": None}
        if nonce is not None:
            checks["nonce"] = nonce
        try:
            claims = self._verify(token, checks, self._jwks())
        except jwt.JWTMissingKey:
            # No cached key verifies it: the realm may have rotated its keys. Look once more.
            try:
                claims = self._verify(token, checks, self._jwks(refresh=True))
            except jwt.JWTMissingKey as exc:
                raise SsoError(N_("The sign-in could not be verified. Please sign in again."),
                               f"no key of the realm verifies the token: {exc}") from exc
        azp = claims.get("azp")
        audiences = claims["aud"] if isinstance(claims.get("aud"), list) else [claims.get("aud")]
        if (azp is not None and azp != self.client_id) or (len(audiences) > 1 and azp is None):
            raise SsoError(N_("The sign-in could not be verified. Please sign in again."), "azp mismatch")
        return claims

    @staticmethod
    def _verify(token: str, checks: dict[str, Any], keys: jwk.JWKSet) -> dict[str, Any]:
        try:
            verified = jwt.JWT(jwt=token, key=keys, check_claims=checks, algs=["RS256", "PS256", "ES256"],
                               expected_type="JWS")
            verified.leeway = LEEWAY_SECONDS
            verified.validate(keys)
            claims: dict[str, Any] = jwt.json_decode(verified.claims)
            return claims
        except jwt.JWTMissingKey:
            raise
        except jwt.JWTExpired as exc:
            raise SsoError(N_("The sign-in has expired. Please sign in again."), f"expired: {exc}") from exc
        except (JWException, ValueError, KeyError) as exc:
            raise SsoError(N_("The sign-in could not be verified. Please sign in again."),
                           f"{type(exc).__name__}: {exc}") from exc
