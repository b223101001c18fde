"""Translations: gettext catalogs (web/locale/*/LC_MESSAGES/messages.po) read with Babel.

The catalogs are compiled in memory when the process starts, so there is no build step whose
output could go stale. The language of a request comes from the ``renda_lang`` cookie, then the
deployment's default (Simplified Chinese).
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = {"zh_CN": "简体中文", "en": "English"}
DEFAULT_LANGUAGE = "zh_CN"
COOKIE = "renda_lang"

_current: ContextVar[NullTranslations] = ContextVar("renda_translations")


@lru_cache
def translations(language: str) -> NullTranslations:
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def pick_language(cookie: str | None, default: str = DEFAULT_LANGUAGE) -> str:
    if cookie in LANGUAGES:
        return cookie
    return default if default in LANGUAGES else DEFAULT_LANGUAGE


def activate(language: str) -> None:
    _current.set(translations(language))


def gettext(message: str, **params: Any) -> str:
    text = _current.get(translations(DEFAULT_LANGUAGE)).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: Any) -> str:
    text = _current.get(translations(DEFAULT_LANGUAGE)).ngettext(singular, plural, n)
    return text % params if params else text
