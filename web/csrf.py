"""CSRF protection: asgi-csrf (a signed double-submit cookie), and its multipart forms read here.

asgi-csrf 0.11 finds a multipart form's token with a python-multipart API that 0.0.34 no longer has
(``FormParser(FileClass=…)``), so a form with files sent without JavaScript would fail before the app.
This middleware reads such a form's parts itself until the ``csrftoken`` field and hands the token to
asgi-csrf as the ``x-csrftoken`` header, which it checks against the cookie as it checks htmx's; the
body is replayed untouched. The token must come before any file (our forms put it first): a file
first, no token within the first 64 KiB, or one that is not the signed cookie's, is refused here,
as asgi-csrf would refuse it.
"""

from __future__ import annotations

import secrets
from typing import Any

from asgi_csrf import DEFAULT_COOKIE_NAME, DEFAULT_SIGNING_NAMESPACE, Errors, asgi_csrf
from itsdangerous import BadSignature, URLSafeSerializer
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from renda.web import errors

FIELD = b"csrftoken"
HEADER = b"x-csrftoken"
PROTECT = {"/login", "/logout"}  # checked even without cookies
SEARCH_LIMIT = 64 * 1024  # the token sits in the first part; a body without one is not read further


class _Found(Exception):
    """The token field ended (args: the token), or a file part began (args: None)."""


def _token_parser(boundary: bytes) -> MultipartParser:
    part: dict[str, Any] = {}

    def begin() -> None:
        part.clear()
        part.update(field=b"", value=b"", name=None, file=False, data=b"")

    def header_field(data: bytes, start: int, end: int) -> None:
        part["field"] += data[start:end]

    def header_value(data: bytes, start: int, end: int) -> None:
        part["value"] += data[start:end]

    def header_end() -> None:
        if part["field"].lower() == b"content-disposition":
            _, options = parse_options_header(part["value"])
            part["name"], part["file"] = options.get(b"name"), b"filename" in options
        part["field"] = part["value"] = b""

    def headers_finished() -> None:
        if part["file"]:
            raise _Found(None)

    def data(data: bytes, start: int, end: int) -> None:
        if part["name"] == FIELD:
            part["data"] += data[start:end]

    def end() -> None:
        if part["name"] == FIELD:
            raise _Found(part["data"].decode("utf-8", "replace"))

    return MultipartParser(boundary, {
        "on_part_begin": begin, "on_header_field": header_field, "on_header_value": header_value,
        "on_header_end": header_end, "on_headers_finished": headers_finished, "on_part_data": data,
        "on_part_end": end,
    })


async def _read_token(boundary: bytes, receive: Receive) -> tuple[str | None, list[Message]]:
    """The form's token (None: a file came first, or none in reach) and the messages read on the way."""
    parser, messages, seen, more = _token_parser(boundary), [], 0, True
    try:
        while more and seen <= SEARCH_LIMIT:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            seen += len(chunk)
            parser.write(chunk)
            more = message.get("more_body", False)
    except _Found as found:
        return found.args[0], messages
    return None, messages


class CsrfMiddleware:
    """asgi-csrf as a Starlette middleware; htmx sends the token in the x-csrftoken header set once on
    <body hx-headers>, plain forms in a hidden field (first, for forms with files)."""

    def __init__(self, app: ASGIApp, secret: str, secure: bool) -> None:
        self.app = asgi_csrf(app, signing_secret=secret, cookie_secure=secure, cookie_samesite="Lax",
                             always_protect=PROTECT, send_csrf_failed=errors.send_csrf_failed)
        self.signer = URLSafeSerializer(secret)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS", "TRACE"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        content_type, options = parse_options_header(headers.get(b"content-type", b""))
        bearer = headers.get(b"authorization", b"").startswith(b"Bearer ")
        checked = bool(headers.get(b"cookie")) or scope["path"] in PROTECT  # as asgi-csrf decides
        if content_type != b"multipart/form-data" or HEADER in headers or bearer or not checked:
            await self.app(scope, receive, send)
            return
        token, messages = (None, []) if not options.get(b"boundary") else \
            await _read_token(options[b"boundary"], receive)

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        # Decided here, whatever the outcome, so that asgi-csrf never reaches its own multipart reading.
        cookie = cookie_parser(headers.get(b"cookie", b"").decode("latin-1")).get(DEFAULT_COOKIE_NAME, "")
        if token is None:
            await errors.send_csrf_failed(dict(scope), send, Errors.FILE_BEFORE_TOKEN)
        elif not (cookie and secrets.compare_digest(token, cookie) and self._signed(cookie)):
            await errors.send_csrf_failed(dict(scope), send, Errors.MULTIPART_MISMATCH)
        else:
            scope = {**scope, "headers": [*scope["headers"], (HEADER, token.encode("latin-1", "replace"))]}
            await self.app(scope, replay, send)

    def _signed(self, cookie: str) -> bool:
        try:
            self.signer.loads(cookie, DEFAULT_SIGNING_NAMESPACE)
        except BadSignature:
            return False
        return True
