"""Every user-visible string is translated (issue 3, Language). The .po files are the source of truth (README,
"Translations"): every msgid the code and templates use has a reviewed (non-empty, not fuzzy) Chinese msgstr,
and every placeholder survives translation, plural forms included."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from babel.messages.checkers import python_format
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
ZH = ROOT / "webapp/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
# The Makefile's `make messages` extracts with `-k _l -k lazy_gettext -k N_` on top of Babel's default keywords.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_": None}
# %(name)s, %(n)d, %(share).1f and {name}, {name!r}, {n:>3}: what gettext's callers fill in.
PLACEHOLDER = re.compile(r"%\(\w+\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|\{\w*(?:[!:][^{}]*)?\}")


def _catalog():
    with ZH.open("rb") as f:
        return read_po(f, locale="zh_CN")


def _in_webapp(dirpath: str) -> bool:
    """Walk only webapp/ (not .venv, node_modules, tests), skipping __pycache__ as pybabel does."""
    relative = Path(dirpath).relative_to(ROOT).parts
    return relative[0] == "webapp" and not relative[-1].startswith((".", "_"))


def _extracted() -> dict[str, str | tuple]:
    """What `pybabel extract -F babel.cfg` finds, run in-process: singular msgid -> msgid (or (singular, plural))."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found = {}
    for _filename, _lineno, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, KEYWORDS, directory_filter=_in_webapp):
        if isinstance(message, tuple):
            message = tuple(message[:2])
        key = message[0] if isinstance(message, tuple) else message
        if key:
            found[key] = message
    return found


def _forms(message) -> tuple[tuple, tuple]:
    ids = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
    strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
    return tuple(ids), tuple(strings)


def test_every_message_in_the_code_has_a_reviewed_chinese_translation():
    wanted = _extracted()
    assert len(wanted) > 1000  # the extraction really read the code and the templates
    catalog = _catalog()
    missing, untranslated, fuzzy, plural_differs = [], [], [], []
    for key, msgid in sorted(wanted.items()):
        message = catalog.get(msgid if isinstance(msgid, str) else msgid[0])
        if message is None:
            missing.append(key)
            continue
        ids, strings = _forms(message)
        if ids != (msgid if isinstance(msgid, tuple) else (msgid,)):
            plural_differs.append(key)
        if not all(strings):
            untranslated.append(key)
        if message.fuzzy:
            fuzzy.append(key)
    # Run `make messages`, fill each msgstr (and review each fuzzy one) in the .po, then `make translations`.
    problems = {"not in the .po": missing, "empty msgstr": untranslated, "fuzzy (review, then drop the flag)": fuzzy,
                "another msgid_plural (or none) in the .po": plural_differs}
    assert {what: keys for what, keys in problems.items() if keys} == {}

def test_every_chinese_entry_keeps_its_placeholders():
    differ = []
    for message in _catalog():
        if message.id:
            # A plural (ngettext) has a tuple of msgids; Chinese has one form, which says what msgid_plural says.
            ids, strings = _forms(message)
            for string in strings:
                if string and Counter(PLACEHOLDER.findall(ids[-1])) != Counter(PLACEHOLDER.findall(string)):
                    differ.append(f"{ids[-1]} -> {string}")
    assert differ == []

def test_babel_finds_no_format_error_in_the_chinese_catalog():
    """Babel's own check (what `pybabel compile` reports): %-placeholders of the same names and types."""
    catalog = _catalog()
    errors = []
    for message in catalog:
        if message.id and message.python_format:
            try:
                python_format(catalog, message)
            except Exception as error:  # babel raises TranslationError
                errors.append(f"{_forms(message)[0][0]}: {error}")
    assert errors == []
