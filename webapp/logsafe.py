"""Log lines that a request cannot forge: control characters in a logged value are escaped (issue 17 item 6).

A path like `/papers/x%0D%0A2026-12-01 INFO signed in account=1` decodes to a line break, and a refused-access or
CSRF line that logs the path would then carry a second, invented line. Every log record's message (the app's,
the services', gunicorn's access log) goes through `escape_controls` once, in one place: the record factory.
Tracebacks are formatted apart from the message and keep their lines.
"""
from __future__ import annotations

import logging
import re

# C0 and C1 controls, DEL, the Unicode line/paragraph separators and the bidi controls that reorder what a
# terminal shows (U+200E/F, U+202A–E, U+2066–9).
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def escape_controls(text: str) -> str:
    """`a\\r\\nb` → `a\\\\r\\\\nb`: visible, on one line."""
    if not _CONTROLS.search(text):
        return text
    return _CONTROLS.sub(lambda m: _NAMED.get(m.group(), f"\\u{ord(m.group()):04x}" if ord(m.group()) > 0xff
                                               else f"\\x{ord(m.group()):02x}"), text)


class _EscapedRecord(logging.LogRecord):
    def getMessage(self) -> str:  # noqa: N802 (logging's name)
        return escape_controls(super().getMessage())


def install() -> None:
    """Make every log record of this process escape its message (idempotent)."""
    if logging.getLogRecordFactory() is not _EscapedRecord:
        logging.setLogRecordFactory(_EscapedRecord)
