"""Whole numbers that arrive as text: ids and versions in requests, terms and settings typed by people.

One parser for all of them, so no caller meets what ``str.isdigit()`` accepts and ``int()`` refuses
(``"³"``), or a number the database cannot hold: both backends store ids in 64 bits (PostgreSQL's
BIGINT, SQLite's INTEGER), and SQLite's driver raises OverflowError on anything larger.
"""

from __future__ import annotations

import re

MAX_ID = 2**63 - 1  # the largest BIGINT (and SQLite INTEGER)

# ASCII digits only: re's \d and str.isdigit() accept every script's digits (and "³", which int() refuses).
_DIGITS = re.compile(r"[0-9]{1,19}")
# What a Chinese keyboard types in full-width mode: ０…９ read as 0…9 where people type numbers.
_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")


def parse_whole(raw: object, *, minimum: int = 0, maximum: int = MAX_ID, full_width: bool = False) -> int | None:
    """``raw`` as a whole number in ``[minimum, maximum]``, or None for anything else.

    Text must be ASCII digits (blanks around them are ignored; no sign, no "_", no exponent); with
    ``full_width`` the full-width digits of a Chinese keyboard count too. An int passes through the
    same bounds (a bool is not a number here).
    """
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str):
        text = raw.translate(_FULL_WIDTH).strip() if full_width else raw.strip()
        if not _DIGITS.fullmatch(text):
            return None
        value = int(text)
    else:
        return None
    return value if minimum <= value <= maximum else None


def parse_id(raw: object) -> int | None:
    """A row id (1 … 2**63 - 1) from text or an int, or None: a value that can name no row."""
    return parse_whole(raw, minimum=1)


def is_id(value: object) -> bool:
    """Whether ``value`` is an int that could be a row's id; access functions answer NotFound otherwise."""
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID
