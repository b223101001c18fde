"""What a deputy's record must satisfy, field by field: the form and the sheet import share these.

Each ``clean_*`` takes what a person typed (or a spreadsheet cell) and returns the stored value,
or raises ValidationFailed for its field with a message that says what to write instead.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from renda.platform import clock
from renda.platform.errors import N_, ValidationFailed
from renda.platform.numbers import parse_whole
from renda.tenants.deputies.models import LEVELS

NAME_MAX = 50
TEXT_MAX = 100
TERM_MAX = 30

LEVEL_LABELS = {
    "national": N_("National"),
    "provincial": N_("Provincial (autonomous region)"),
    "city": N_("City"),
    "county": N_("County"),
    "township": N_("Township level"),
}
GENDER_LABELS = {"male": N_("Male"), "female": N_("Female")}

# How offices write a level in their sheets (and the codes themselves).
_LEVEL_WORDS = {
    "national": ("全国", "全国人大", "全国人大代表", "国家级"),
    "provincial": ("省", "省级", "自治区", "省人大代表", "自治区人大代表", "省（自治区）", "省、自治区"),
    "city": ("市", "市级", "设区的市", "地级市", "市人大代表"),
    "county": ("县", "县级", "区", "县区", "县（市、区）", "县级市", "县人大代表", "区人大代表"),
    "township": ("乡", "镇", "乡镇", "乡级", "乡镇级", "街道", "乡人大代表", "镇人大代表", "乡镇人大代表"),
}
LEVEL_BY_WORD = {word: code for code, words in _LEVEL_WORDS.items() for word in (*words, code)}
_GENDER_WORDS = {"男": "male", "女": "female", "m": "male", "f": "female", "male": "male", "female": "female"}

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
LANDLINE_RE = re.compile(r"^0\d{2,3}-?[1-9]\d{6,7}(-\d{1,6})?$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ID_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_DATE_RE = re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})(?:\s*[-./月]\s*(\d{1,2})\s*日?)?\s*月?$")
_DIGITS = "零一二三四五六七八九"


def text(value: Any) -> str:
    """A cell or form value as trimmed text; a whole number typed into Excel loses its ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace("\u3000", " ").strip()


def clean_name(value: Any) -> str:
    name = text(value)
    if not name:
        raise ValidationFailed.one("name", N_("Enter a name."))
    if len(name) > NAME_MAX:
        raise ValidationFailed.one("name", N_("At most %(n)s characters."), n=NAME_MAX)
    return name


def clean_text(field: str, value: Any, limit: int = TEXT_MAX) -> str:
    clean = text(value)
    if len(clean) > limit:
        raise ValidationFailed.one(field, N_("At most %(n)s characters."), n=limit)
    return clean


def clean_gender(value: Any) -> str:
    raw = text(value).lower().removesuffix("性")
    if not raw:
        return ""
    if raw not in _GENDER_WORDS:
        raise ValidationFailed.one("gender", N_("Choose male or female."))
    return _GENDER_WORDS[raw]


def clean_level(value: Any) -> str:
    raw = text(value)
    level = LEVEL_BY_WORD.get(raw) or LEVEL_BY_WORD.get(raw.lower())
    if level not in LEVELS:
        raise ValidationFailed.one("level", N_("Choose the level: national, provincial, city, county or township."))
    return level


def _chinese_number(raw: str) -> int | None:
    """一 … 三十 (offices write 第十七届); None for anything else."""
    if not raw or any(ch not in _DIGITS + "十" for ch in raw):
        return None
    if "十" not in raw:
        return _DIGITS.index(raw) if len(raw) == 1 else None
    tens, _, ones = raw.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        return None
    return (_DIGITS.index(tens) if tens else 1) * 10 + (_DIGITS.index(ones) if ones else 0)


def clean_term(value: Any) -> int:
    raw = text(value).removeprefix("第").removesuffix("届").strip()
    number = parse_whole(raw, full_width=True)
    if number is None:
        number = _chinese_number(raw)
    if number is None or not 1 <= number <= TERM_MAX:
        raise ValidationFailed.one("term", N_("Enter the term as a number from 1 to %(n)s (第五届 is 5)."),
                                   n=TERM_MAX)
    return number


def clean_birth_date(value: Any) -> dt.date | None:
    """A date, or a month (stored as its first day): 1975-03-12, 1975.03, 1975年3月, 197503."""
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, dt.date):
        day: dt.date | None = value
    else:
        raw = text(value)
        if not raw:
            return None
        if re.fullmatch(r"\d{6}|\d{8}", raw):
            raw = f"{raw[:4]}-{raw[4:6]}" + (f"-{raw[6:]}" if len(raw) == 8 else "")
        match = _DATE_RE.match(raw)
        try:
            day = dt.date(int(match[1]), int(match[2]), int(match[3] or 1)) if match else None
        except ValueError:
            day = None
    if day is None or not dt.date(1900, 1, 1) <= day <= clock.today():
        raise ValidationFailed.one("birth_date", N_("Enter a date such as 1975-03-12 or 1975.03."))
    return day


def clean_phone(value: Any) -> str:
    """A mainland mobile (13812345678) or a landline with its area code (0776-5221234)."""
    raw = re.sub(r"[\s()（）]", "", text(value))
    raw = raw.removeprefix("+86").removeprefix("0086") if len(raw) > 11 else raw
    if not raw:
        return ""
    if MOBILE_RE.fullmatch(raw) or LANDLINE_RE.fullmatch(raw):
        return raw
    raise ValidationFailed.one("phone", N_("Enter a mobile number of 11 digits or a landline with its area code, "
                                           "such as 0776-5221234."))


def clean_email(value: Any) -> str:
    email = text(value)
    if not email:
        return ""
    if len(email) > 255 or not EMAIL_RE.fullmatch(email):
        raise ValidationFailed.one("email", N_("Enter a valid email address."))
    return email


def clean_id_code(value: Any) -> str | None:
    code = text(value)
    if not code:
        return None
    if not ID_CODE_RE.fullmatch(code):
        raise ValidationFailed.one("id_code", N_("Use at most 32 letters, digits, hyphens or underscores."))
    return code


def mask_phone(phone: str) -> str:
    """138****5678: enough to recognise a number, not enough to call it."""
    if len(phone) < 8:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


CLEANERS = {
    "name": clean_name,
    "gender": clean_gender,
    "ethnicity": lambda v: clean_text("ethnicity", v, 20),
    "birth_date": clean_birth_date,
    "level": clean_level,
    "term": clean_term,
    "electoral_unit": lambda v: clean_text("electoral_unit", v),
    "delegation": lambda v: clean_text("delegation", v),
    "professional_group": lambda v: clean_text("professional_group", v),
    "phone": clean_phone,
    "email": clean_email,
    "id_code": clean_id_code,
}
FIELDS = tuple(CLEANERS)


def clean_fields(raw: dict[str, Any]) -> dict[str, Any]:
    """Clean every field given (and only those), reporting all their errors at once."""
    errors = {}
    clean: dict[str, Any] = {}
    for field, value in raw.items():
        try:
            clean[field] = CLEANERS[field](value)
        except ValidationFailed as exc:
            errors.update(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return clean
