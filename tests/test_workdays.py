"""Working days of mainland China. Seed 003 (every service table): "以上工作日均以国家公布的法定工作日为准"."""
import threading
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from webapp.services import workdays
from webapp.services.workdays import add_workdays, is_published, is_workday, next_workday, workdays_between


@pytest.fixture(autouse=True)
def _no_overrides():
    workdays.set_overrides({})
    yield
    workdays.set_overrides({})


@pytest.mark.parametrize("day, expected", [
    (date(2026, 9, 30), True),   # Wednesday before National Day
    (date(2026, 10, 1), False),  # 国庆节
    (date(2026, 10, 7), False),  # last day of the 2026 National Day holiday
    (date(2026, 10, 8), True),
    (date(2026, 9, 20), True),   # Sunday, adjusted working day (调休) for National Day 2026
    (date(2026, 10, 10), True),  # Saturday, adjusted working day
    (date(2026, 11, 21), False),  # an ordinary Saturday
    (date(2026, 2, 16), False),  # Spring Festival 2026
])
def test_published_2026_schedule(day, expected):
    assert is_workday(day) is expected


def test_national_day_2026_pushes_deadlines_past_the_holiday():
    # DOMAIN.md: "within N working days" = the N-th working day after the event's date.
    assert add_workdays(date(2026, 9, 29), 1) == date(2026, 9, 30)
    assert add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert add_workdays(date(2026, 9, 28), 5) == date(2026, 10, 10)  # 29, 30, 8, 9, then Saturday the 10th
    assert add_workdays(date(2026, 9, 18), 1) == date(2026, 9, 20)  # Friday -> the working Sunday


def test_start_day_never_counts_and_zero_is_start():
    monday = date(2026, 11, 23)
    assert add_workdays(monday, 1) == date(2026, 11, 24)
    assert add_workdays(monday, 0) == monday
    assert add_workdays(date(2026, 11, 21), 1) == monday  # from a Saturday


def test_bad_arguments_raise_value_error():
    from datetime import datetime

    with pytest.raises(ValueError):
        add_workdays(date(2026, 1, 1), -1)
    with pytest.raises(ValueError):
        add_workdays(datetime(2026, 1, 1), 1)
    with pytest.raises(ValueError):
        is_workday(datetime(2026, 1, 1))


def test_unpublished_year_uses_the_fallback_and_never_raises():
    assert not is_published(2027)
    assert is_published(2026)
    assert is_workday(date(2027, 1, 1)) is False  # 元旦, fixed by law
    assert is_workday(date(2027, 10, 5)) is False  # National Day golden week
    assert is_workday(date(2027, 2, 6)) is False  # 春节 (lunar new year 2027-02-06)
    assert is_workday(date(2027, 2, 5)) is False  # 除夕
    assert is_workday(date(2027, 6, 9)) is False  # 端午 (lunar 5/5)
    assert is_workday(date(2027, 9, 15)) is False  # 中秋 (lunar 8/15)
    assert is_workday(date(2027, 4, 5)) is False  # 清明
    assert is_workday(date(2027, 3, 3)) is True  # an ordinary Wednesday
    assert add_workdays(date(2026, 12, 30), 3) == date(2027, 1, 5)
    assert is_workday(date(2199, 6, 3)) in (True, False)  # far future still answers


def test_overrides_win_over_package_and_fallback():
    workdays.set_overrides({date(2026, 11, 23): False, date(2027, 2, 20): True}, {2027})
    assert is_workday(date(2026, 11, 23)) is False  # a Monday staff closed
    assert is_workday(date(2027, 2, 20)) is True  # a Saturday staff made a working day
    assert is_published(2027)
    assert add_workdays(date(2026, 11, 20), 1) == date(2026, 11, 24)


def test_unpublished_years_for_the_staff_banner():
    assert workdays.unpublished_years(date(2026, 11, 21), ahead=1) == [2027]
    workdays.set_overrides({}, {2027})
    assert workdays.unpublished_years(date(2026, 11, 21), ahead=1) == []


def test_workdays_between_and_next_workday():
    assert workdays_between(date(2026, 11, 24), date(2026, 11, 27)) == 3
    assert workdays_between(date(2026, 11, 27), date(2026, 11, 24)) == -3
    assert next_workday(date(2026, 10, 1)) == date(2026, 10, 8)


def test_spring_festival_holiday():
    assert workdays.is_spring_festival_holiday(date(2026, 2, 17))
    assert not workdays.is_spring_festival_holiday(date(2026, 3, 2))
    assert workdays.is_spring_festival_holiday(date(2027, 2, 7))  # fallback year


days = st.dates(min_value=date(2004, 1, 1), max_value=date(2035, 12, 31))


@settings(max_examples=300, deadline=None)
@given(start=days, n=st.integers(min_value=1, max_value=40))
def test_add_workdays_lands_on_a_working_day_after_start(start, n):
    result = add_workdays(start, n)
    assert result > start
    assert is_workday(result)
    assert workdays_between(start, result) == n


@settings(max_examples=200, deadline=None)
@given(start=days, n=st.integers(min_value=0, max_value=30), extra=st.integers(min_value=1, max_value=10))
def test_add_workdays_is_strictly_increasing_in_n(start, n, extra):
    assert add_workdays(start, n) < add_workdays(start, n + extra)


@settings(max_examples=200, deadline=None)
@given(start=days, n=st.integers(min_value=1, max_value=20))
def test_add_workdays_never_skips_a_working_day(start, n):
    result = add_workdays(start, n)
    day = start + timedelta(days=1)
    while day < result:
        n -= is_workday(day)
        day += timedelta(days=1)
    assert n == 1


def test_a_calendar_in_force_for_one_thread_is_not_seen_by_another():
    """staff_queue computes promises by a calendar its transaction is still writing (workdays.calendar_of): no other
    request of the same process may read that calendar, which a rollback could yet undo."""
    saturday = date(2026, 11, 28)
    seen_elsewhere = []
    with workdays.calendar_of({saturday: True}, {2026}):
        assert workdays.is_workday(saturday) and workdays.is_published(2026)
        other = threading.Thread(target=lambda: seen_elsewhere.append(workdays.is_workday(saturday)))
        other.start()
        other.join()
    assert seen_elsewhere == [False] and not workdays.is_workday(saturday)
