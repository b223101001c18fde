"""The pages of what notifications are about: each subject type's page, built in the web layer.

The platform and the business modules name a notification's subject (a type and an id, in a tenant)
and never write a URL; the inbox and the webhook's messages ask here for the page to open. Each web
module declares the pages of the subject types it shows (``WebModule.links``).
"""

from __future__ import annotations

from functools import cache

from renda.platform.notify.models import Notification, Subject
from renda.web.modules import PageOf, web_modules


@cache
def _pages() -> dict[str, PageOf]:
    pages: dict[str, PageOf] = {}
    for module in web_modules():
        for subject_type, page in module.links.items():
            if pages.setdefault(subject_type, page) is not page:
                raise ValueError(f"two web modules give a page for {subject_type!r}")
    return pages


def registered() -> frozenset[str]:
    """The subject types that have a page."""
    return frozenset(_pages())


def link_for(tenant_slug: str, subject: Subject) -> str | None:
    """The path of the subject's page, or None for a type without pages."""
    page = _pages().get(subject.type)
    return page(tenant_slug, subject.id) if page is not None else None


def local_path(link: str | None) -> str | None:
    """Only paths inside Renda are followed: a stored link never sends anyone elsewhere."""
    if link and link.startswith("/") and not link.startswith(("//", "/\\")):
        return link
    return None


def notification_link(tenant_slug: str, notification: Notification) -> str | None:
    """Where the inbox's "Open" goes: the subject's page, else the path stored with an older notification."""
    subject = notification.subject
    built = link_for(tenant_slug, subject) if subject is not None else None
    return built or local_path(notification.link)
