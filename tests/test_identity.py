"""ID and mobile numbers: validated by libraries, masked on screen (SECURITY.md, Privacy)."""
from datetime import date

import pytest

from webapp.services.accounts.identity import (
    demo_resident_id, is_valid_resident_id, mask_id_number, mask_mobile, normalise_mobile, resident_id_with_checksum,
)


def test_checksum_and_validation():
    number = demo_resident_id("110105", date(1949, 12, 31), 2)
    assert number == "11010519491231002X"  # the GB 11643 example
    assert is_valid_resident_id(number) and is_valid_resident_id(number.lower())
    assert not is_valid_resident_id("110105194912310021")  # wrong check digit
    assert not is_valid_resident_id("11010519491331002X")  # no 13th month
    assert not is_valid_resident_id("")
    with pytest.raises(ValueError):
        resident_id_with_checksum("123")


def test_masking():
    assert mask_id_number("11010519491231002X") == "110***********002X"
    assert mask_id_number("12345") == "*****"
    assert mask_mobile("13800000001") == "138****0001"


@pytest.mark.parametrize("raw, expected", [
    ("13800000001", "13800000001"), (" 138 0000 0001 ", "13800000001"), ("+8613800000001", "13800000001"),
    ("02112345678", None), ("1380000000", None), ("abc", None), ("", None), ("+14155550100", None),
])
def test_mobile_numbers(raw, expected):
    assert normalise_mobile(raw) == expected
