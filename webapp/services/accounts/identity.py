"""Resident ID numbers and mobile numbers: validation (by well-kept libraries) and masking for screens.

PIPL: an ID number is sensitive personal information; screens show it masked (SECURITY.md, Privacy).
"""
from __future__ import annotations

from datetime import date

import phonenumbers
from id_validator import validator

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def is_valid_resident_id(number: str) -> bool:
    """GB 11643 resident ID: 18 characters, a real region and birth date, and the ISO 7064 check digit."""
    number = (number or "").strip().upper()
    return len(number) == 18 and bool(validator.is_valid(number))


def resident_id_with_checksum(first17: str) -> str:
    """Complete 17 digits with their check character (used to build demo and test people)."""
    if len(first17) != 17 or not first17.isdigit():
        raise ValueError("expected 17 digits")
    return first17 + _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS)) % 11]


def demo_resident_id(region: str, birth: date, sequence: int) -> str:
    return resident_id_with_checksum(f"{region}{birth:%Y%m%d}{sequence:03d}")


def mask_id_number(number: str) -> str:
    """Show the first 3 and last 4 characters only: 110***********002X."""
    number = number or ""
    if len(number) <= 7:
        return "*" * len(number)
    return number[:3] + "*" * (len(number) - 7) + number[-4:]


def normalise_mobile(raw: str) -> str | None:
    """A mainland China mobile number as 11 digits, or None when it is not one."""
    try:
        parsed = phonenumbers.parse((raw or "").strip(), "CN")
    except phonenumbers.NumberParseException:
        return None
    if parsed.country_code != 86 or not phonenumbers.is_valid_number(parsed):
        return None
    if phonenumbers.number_type(parsed) not in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return None
    return str(parsed.national_number)


def mask_mobile(mobile: str) -> str:
    return mobile[:3] + "****" + mobile[-4:] if len(mobile) == 11 else mobile
