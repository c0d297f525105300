"""Policy years and waiting periods exactly as DOMAIN.md defines them ("Definitions the code must follow")."""
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from webapp.services.policy_years import (
    anniversary, cooling_off_ends, policy_year_bounds, policy_year_number, waiting_period_ends,
)


@pytest.mark.parametrize("effective, on, expected", [
    (date(2026, 3, 1), date(2026, 3, 1), (date(2026, 3, 1), date(2027, 3, 1))),  # first day is inclusive
    (date(2026, 3, 1), date(2027, 2, 28), (date(2026, 3, 1), date(2027, 3, 1))),
    (date(2026, 3, 1), date(2027, 3, 1), (date(2027, 3, 1), date(2028, 3, 1))),  # the end is exclusive
    # 29 February: the anniversary in a common year is the month's last day (对应日) ...
    (date(2024, 2, 29), date(2025, 2, 27), (date(2024, 2, 29), date(2025, 2, 28))),
    (date(2024, 2, 29), date(2025, 2, 28), (date(2025, 2, 28), date(2026, 2, 28))),
    # ... and every anniversary is computed from the original date, so leap years get the 29th back.
    (date(2024, 2, 29), date(2028, 2, 28), (date(2027, 2, 28), date(2028, 2, 29))),
    (date(2024, 2, 29), date(2028, 2, 29), (date(2028, 2, 29), date(2029, 2, 28))),
    (date(2025, 1, 31), date(2030, 6, 1), (date(2030, 1, 31), date(2031, 1, 31))),
])
def test_policy_year_bounds(effective, on, expected):
    assert policy_year_bounds(effective, on) == expected


def test_year_numbers():
    assert policy_year_number(date(2025, 11, 22), date(2026, 11, 21)) == 1
    assert policy_year_number(date(2025, 11, 22), date(2026, 11, 22)) == 2


def test_waiting_period_counts_the_effective_date_as_day_one():
    # DOMAIN.md / 002: "等待期90天（含）" — 2026-01-01 + 90 -> 2026-04-01 is the first usable day.
    assert waiting_period_ends(date(2026, 1, 1), 90) == date(2026, 4, 1)
    assert waiting_period_ends(date(2026, 1, 1), 0) == date(2026, 1, 1)
    assert cooling_off_ends(date(2026, 1, 1), 15) == date(2026, 1, 16)


@pytest.mark.parametrize("call", [
    lambda: policy_year_bounds(date(2026, 3, 1), date(2026, 2, 28)),  # before the effective date
    lambda: policy_year_bounds(datetime(2026, 3, 1), date(2026, 4, 1)),
    lambda: policy_year_bounds(date(2026, 3, 1), datetime(2026, 4, 1)),
    lambda: waiting_period_ends(date(2026, 1, 1), -1),
    lambda: waiting_period_ends(datetime(2026, 1, 1), 90),
    lambda: anniversary(date(2026, 1, 1), -1),
])
def test_invalid_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


@given(effective=st.dates(min_value=date(2000, 1, 1), max_value=date(2060, 12, 31)),
       offset=st.integers(min_value=0, max_value=365 * 30))
def test_bounds_contain_the_day_and_span_one_year(effective, offset):
    from datetime import timedelta

    on = effective + timedelta(days=offset)
    start, end = policy_year_bounds(effective, on)
    assert start <= on < end
    assert 365 <= (end - start).days <= 366
    n = policy_year_number(effective, on)
    assert start == anniversary(effective, n - 1) and end == anniversary(effective, n)
