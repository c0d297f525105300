"""ID numbers in the suite (issue 17 item 5): none in any log line (ASVS 14.x), and the keys put back after each test.

Every test runs with a handler on the root logger that looks at each record emitted, at whatever level the test
enabled (the flow test in tests/test_id_encryption.py enables DEBUG, SQLAlchemy's parameters included), and fails
the test at teardown if a checksum-valid resident ID number is in a message or its traceback. The report masks it.
"""
from __future__ import annotations

import logging
import re

import pytest

from webapp.services.accounts import id_vault
from webapp.services.accounts.identity import is_valid_resident_id, mask_id_number

_CANDIDATE = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")


class IdNumberWatch(logging.Handler):
    def __init__(self):
        super().__init__(logging.NOTSET)
        self.found: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = record.getMessage()
            if record.exc_info:
                line += logging.Formatter().formatException(record.exc_info)
        except Exception:  # a record that cannot be formatted is another test's failure to report
            return
        for number in _CANDIDATE.findall(line):
            if is_valid_resident_id(number):
                self.found.append((record.name, mask_id_number(number)))


@pytest.fixture(autouse=True)
def no_id_number_in_logs():
    watch = IdNumberWatch()
    root = logging.getLogger()
    root.addHandler(watch)
    try:
        yield watch
    finally:
        root.removeHandler(watch)
    assert not watch.found, f"a resident ID number reached a log line: {watch.found}"


@pytest.fixture(autouse=True)
def id_keys_as_found():
    """create_app sets the process-wide ID keyring (services/accounts/id_vault.py): a test that builds an app with keys of its
    own (production settings, rotation) leaves the run's keys as it found them."""
    before = id_vault.keyring()
    yield
    id_vault.configure(before)
