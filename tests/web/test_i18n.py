"""Every user-facing string has a Simplified Chinese translation, with the same format fields."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
FORMAT_FIELD = re.compile(r"%\(\w+\)s")


def _source_msgids() -> set[str]:
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    ids: set[str] = set()
    found = extract_from_dir(
        ROOT, method_map, options_map,
        keywords={"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)},
        directory_filter=lambda d: Path(d).name not in {".venv", "node_modules", "var", ".git"},
    )
    for _file, _line, message, _comments, _context in found:
        ids.update(m for m in (message if isinstance(message, tuple) else (message,)) if m)
    assert len(ids) > 100, "extraction found too little: is babel.cfg right?"
    return ids


def _catalog(lang: str) -> dict[str, str]:
    with (ROOT / "web/locale" / lang / "LC_MESSAGES/messages.po").open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id and "fuzzy" not in m.flags}


def test_every_message_has_a_chinese_translation() -> None:
    catalog = _catalog("zh_CN")
    missing = sorted(m for m in _source_msgids() if not catalog.get(m))
    assert not missing, "untranslated (run `make messages`, then translate):\n" + "\n".join(missing)


def test_translations_keep_their_format_fields() -> None:
    for msgid, text in _catalog("zh_CN").items():
        if isinstance(msgid, str) and text:
            assert sorted(FORMAT_FIELD.findall(msgid)) == sorted(FORMAT_FIELD.findall(text)), msgid
