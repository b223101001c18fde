"""Errors that service actions raise and every delivery (pages, API, CLI) turns into messages.

Messages are English msgids marked with ``N_`` and translated where they are shown, so the
platform stays free of any request or language.
"""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:
    """Mark a message for extraction; translation happens at display time."""
    return message


class Message:
    def __init__(self, msgid: str, **params: Any) -> None:
        self.msgid = msgid
        self.params = params

    def render(self, gettext: Any) -> str:
        text = gettext(self.msgid)
        return text % self.params if self.params else text

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, {self.params!r})"


class ValidationFailed(ValueError):
    """Input that breaks a rule; nothing was changed. ``errors`` maps field name to message."""

    def __init__(self, errors: dict[str, Message]) -> None:
        super().__init__(", ".join(f"{k}: {v.msgid}" for k, v in errors.items()))
        self.errors = errors

    @classmethod
    def one(cls, field: str, msgid: str, **params: Any) -> ValidationFailed:
        return cls({field: Message(msgid, **params)})


class NotFound(LookupError):
    """No such row within what the actor may see (the same answer as for another tenant's row)."""


class Conflict(RuntimeError):
    """The change collides with the current state (for example, a concurrent edit)."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.msgid)
        self.message = message


def check_all(*checks: Any) -> list[Any]:
    """Run every check (a callable) and raise one ValidationFailed with all their errors.

    Returns the checks' results in order when none failed, so a form shows every problem at once.
    """
    errors: dict[str, Message] = {}
    results = []
    for check in checks:
        try:
            results.append(check())
        except ValidationFailed as exc:
            errors.update(exc.errors)
            results.append(None)
    if errors:
        raise ValidationFailed(errors)
    return results
