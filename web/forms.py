"""What requests carry as numbers: ids and versions in forms, paths and JSON bodies, page numbers.

Every route reads them through these, which all use the platform's one parser of whole numbers
(``renda.platform.numbers``): ASCII digits only, within what the database stores. Anything else is
"no such id" (a page answers 404 for a path, a form treats it as no choice) or a stale version.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import Field

from renda.platform.numbers import MAX_ID, parse_id, parse_whole

__all__ = ["MAX_COUNT", "MAX_ID", "Count", "IdField", "PageNumber", "RowId", "VersionField", "parse_count",
           "parse_id", "parse_version"]

# Page numbers, terms, session numbers: far beyond any real one, and small enough that no product of
# them (an offset: page × rows per page) leaves 64 bits.
MAX_COUNT = 999_999_999

RowId = Annotated[int, Path(ge=1, le=MAX_ID, description="A row's id")]
"""An id in the path (``/t/{slug}/users/{user_id}``): out of range, it names nothing (the 404 page)."""

PageNumber = Annotated[int, Query(ge=1, le=MAX_COUNT)]

IdField = Annotated[int, Field(ge=1, le=MAX_ID)]
"""An id in a JSON body."""

VersionField = Annotated[int, Field(ge=0, le=MAX_ID, description="The version the caller last saw; a stale "
                                                                  "one is a 409")]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]


def parse_version(raw: str | None) -> int:
    """The version a form was rendered with; a form without one, or with nonsense in it, is stale (-1)."""
    found = parse_id(raw)
    return -1 if found is None else found


def parse_count(raw: str | None, default: int | None = None) -> int | None:
    """A page number, term or other small whole number from a form or query; ``default`` otherwise."""
    found = parse_whole(raw, maximum=MAX_COUNT)
    return default if found is None else found
