"""Every user-visible string is translated (issue 3, Language): the catalog is current with the code, every
Chinese entry is filled, and every placeholder survives translation."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
ZH = ROOT / "webapp/translations/zh_Hans_CN/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|\{[a-z_]+\}")


def _catalog():
    with ZH.open("rb") as f:
        return read_po(f, locale="zh_CN")


def test_every_message_in_the_code_is_in_the_catalog(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l", "-k",
                    "lazy_gettext", "-k", "N_", "--no-location", "-o", str(pot), "."], cwd=ROOT, check=True,
                   capture_output=True)
    with pot.open("rb") as f:
        wanted = {m.id for m in read_po(f) if m.id}
    have = {m.id for m in _catalog() if m.id and m.string}
    assert sorted(wanted - have) == []


def test_every_chinese_entry_keeps_its_placeholders():
    for message in _catalog():
        if message.id:
            # A plural (ngettext) has a tuple of msgids; Chinese has one form, which says what msgid_plural says.
            ids = message.id if isinstance(message.id, (tuple, list)) else (message.id,)
            strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
            for string in strings:
                assert string, ids[0]
                assert sorted(PLACEHOLDER.findall(ids[-1])) == sorted(PLACEHOLDER.findall(string)), ids[0]
