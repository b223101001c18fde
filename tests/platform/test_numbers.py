"""The one parser of whole numbers in requests, sheets and forms (renda.platform.numbers)."""

from __future__ import annotations

import pytest

from renda.platform.numbers import MAX_ID, is_id, parse_id, parse_whole


@pytest.mark.parametrize("raw", ["³", "٣", "１", "1_000", "+5", "-3", "12.0", "1e3", "0x10", "", " ", "一",
                                 str(MAX_ID + 1), "9" * 5000, None, 3.0, True, [1]])
def test_anything_but_ascii_digits_within_64_bits_is_no_number(raw: object) -> None:
    assert parse_whole(raw) is None


def test_ascii_digits_and_ints_within_the_bounds_are_numbers() -> None:
    assert parse_whole(" 42 ") == 42
    assert parse_whole("0") == 0 and parse_id("0") is None
    assert parse_id(str(MAX_ID)) == MAX_ID and parse_id(MAX_ID) == MAX_ID
    assert parse_whole(7, maximum=6) is None and parse_whole("7", minimum=8) is None


def test_full_width_digits_count_only_where_people_type_numbers() -> None:
    assert parse_whole("１７") is None
    assert parse_whole("１７", full_width=True) == 17
    assert parse_whole("³", full_width=True) is None


def test_an_id_is_an_int_a_row_could_have() -> None:
    assert is_id(1) and is_id(MAX_ID)
    assert not any(is_id(v) for v in (0, -1, MAX_ID + 1, True, "1", 1.0, None))
