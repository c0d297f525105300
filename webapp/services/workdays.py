"""Statutory working days of mainland China.

Seed 003 (every service table): "以上工作日均以国家公布的法定工作日为准" — a working day is a statutory
working day: weekends and public holidays off, adjusted working weekends (调休) on (DOMAIN.md, 工作日).

Where a day's answer comes from, first match wins:
1. the operators' override table (staff enter next year's schedule when the State Council publishes it,
   or correct a single day);
2. the `chinesecalendar` package, for the years it covers (it knows only years already announced);
3. a fallback for any later year, which never raises. It rests days that are off every year:
   weekends; the statutory holidays fixed by 《全国年节及纪念日放假办法》 (2024): 元旦 1 Jan, 清明 (solar
   term), 劳动节 1–2 May, 端午 (lunar 5/5), 中秋 (lunar 8/15); the weekday the State Council gives off to
   join each to a weekend; and the long breaks granted every year (春节, 劳动节 1–5 May, 国庆 1–8 Oct). It
   cannot know the adjusted working weekends, so it errs on the side of promising later, never earlier. `is_published(year)` tells staff that a year is on the fallback.
"""
from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Mapping

import chinese_calendar
from lunardate import LunarDate

_lock = threading.Lock()
_overrides: dict[date, bool] = {}
_published_by_staff: frozenset[int] = frozenset()
# A calendar in force for one thread's work only (`calendar_of`): the process's own stays what every other request reads.
_scoped: ContextVar[tuple[dict[date, bool], frozenset[int]] | None] = ContextVar("workdays_scoped", default=None)


def _require_date(day: date, name: str = "day") -> date:
    if isinstance(day, datetime) or not isinstance(day, date):
        raise ValueError(f"{name} must be a date (not a datetime), got {type(day).__name__}")
    return day


def _in_force() -> tuple[dict[date, bool], frozenset[int]]:
    scoped = _scoped.get()
    return scoped if scoped is not None else (_overrides, _published_by_staff)


def overrides_version() -> tuple:
    """What the calendar currently depends on besides the package: changes whenever the overrides do."""
    overrides, published = _in_force()
    return (tuple(sorted(overrides.items())), tuple(sorted(published)))


@contextmanager
def calendar_of(overrides: Mapping[date, bool], published_years: frozenset[int] | set[int] = frozenset()):
    """Answer by these overrides inside the block, in this thread (context) only: a transaction computing promises
    by the calendar it is writing, before it commits, shows nothing of it to the process's other requests."""
    token = _scoped.set(({_require_date(d): bool(v) for d, v in overrides.items()}, frozenset(published_years)))
    try:
        yield
    finally:
        _scoped.reset(token)


def set_overrides(overrides: Mapping[date, bool], published_years: frozenset[int] | set[int] = frozenset()) -> None:
    """Replace the operator overrides (day -> is working day) and the years staff entered in full."""
    global _overrides, _published_by_staff
    clean = {_require_date(d): bool(v) for d, v in overrides.items()}
    with _lock:
        _overrides = clean
        _published_by_staff = frozenset(published_years)
        _package_answer.cache_clear()


_FIRST_PACKAGE_YEAR = min(chinese_calendar.constants.holidays).year
_LAST_PACKAGE_YEAR = max(d.year for d in chinese_calendar.constants.holidays)


def is_published(year: int) -> bool:
    """Whether the official schedule of `year` is known (package or staff); otherwise the fallback is used."""
    return _FIRST_PACKAGE_YEAR <= year <= _LAST_PACKAGE_YEAR or year in _in_force()[1]


def unpublished_years(today: date, ahead: int = 1) -> list[int]:
    """Years from this one through `ahead` years on that still run on the fallback (for a staff banner)."""
    return [y for y in range(today.year, today.year + ahead + 1) if not is_published(y)]


def fallback_rest_days(year: int) -> set[date]:
    """Days off in a year whose schedule is not published yet (see the module docstring).

    Besides the statutory days themselves, the State Council joins each short holiday to a weekend by giving a
    weekday off (and moving work to a weekend): a Tuesday holiday brings Monday off, a Thursday one Friday, one
    on a weekend the Monday after; 劳动节 has run 1–5 May and 国庆 1–8 October, 春节 from 腊月二十八. Resting
    those weekdays too keeps the fallback's promises never earlier than the published schedule's (checked
    against 2025–2026 in tests/test_staff_queue.py). The lunar and solar-term tables end in 2099/2100; past
    them only the fixed-date days are known.
    """
    rest = {date(year, 5, d) for d in range(1, 6)} | {date(year, 10, d) for d in range(1, 9)}
    short = [date(year, 1, 1)]
    spring_festival = _lunar_new_year(year)
    if spring_festival is not None:
        short += [d for d, name in chinese_calendar.get_solar_terms(date(year, 4, 1), date(year, 4, 10)) if name == "清明"]
        short += [LunarDate(year, 5, 5).to_solar_date(), LunarDate(year, 8, 15).to_solar_date()]
        rest |= {spring_festival + timedelta(days=k) for k in range(-2, 8)}  # 腊月二十八 .. 初八
    for day in short:
        rest |= {day, *_bridge(day)}
    return rest


def _bridge(day: date) -> set[date]:
    """The weekday given off to join a one-day holiday to its weekend."""
    return {1: {day - timedelta(days=1)}, 3: {day + timedelta(days=1)}, 5: {day + timedelta(days=2)},
            6: {day + timedelta(days=1)}}.get(day.weekday(), set())


def _lunar_new_year(year: int) -> date | None:
    if not 1901 <= year <= 2099:
        return None
    return LunarDate(year, 1, 1).to_solar_date()


_fallback_cache: dict[int, frozenset[date]] = {}


def _fallback_is_workday(day: date) -> bool:
    rest = _fallback_cache.get(day.year)
    if rest is None:
        rest = _fallback_cache.setdefault(day.year, frozenset(fallback_rest_days(day.year)))
    return day.weekday() < 5 and day not in rest


@lru_cache(maxsize=8192)
def _package_answer(day: date) -> bool:
    return _answer_without_overrides(day, _published_by_staff)


def _answer_without_overrides(day: date, published_by_staff: frozenset[int]) -> bool:
    if _FIRST_PACKAGE_YEAR <= day.year <= _LAST_PACKAGE_YEAR:
        return chinese_calendar.is_workday(day)
    if day.year in published_by_staff:
        # Staff entered the year's whole schedule as overrides: every other day is an ordinary weekday or weekend.
        return day.weekday() < 5
    return _fallback_is_workday(day)


def is_workday(day: date) -> bool:
    """True on a statutory working day of mainland China (overrides, then the package, then the fallback)."""
    _require_date(day)
    scoped = _scoped.get()
    if scoped is not None:
        override = scoped[0].get(day)
        return override if override is not None else _answer_without_overrides(day, scoped[1])
    override = _overrides.get(day)
    if override is not None:
        return override
    return _package_answer(day)


def add_workdays(start: date, n: int) -> date:
    """The n-th working day after `start`; `start` itself never counts (DOMAIN.md, "Within N working days").

    `n == 0` gives `start` back unchanged; a negative `n` is a ValueError.
    """
    _require_date(start, "start")
    if isinstance(n, bool) or not isinstance(n, int):
        raise ValueError("n must be an int")
    if n < 0:
        raise ValueError("n must not be negative")
    day = start
    while n:
        day += timedelta(days=1)
        if is_workday(day):
            n -= 1
    return day


def next_workday(day: date) -> date:
    """`day` itself when it is a working day, else the first working day after it."""
    _require_date(day)
    while not is_workday(day):
        day += timedelta(days=1)
    return day


def workdays_between(after: date, through: date) -> int:
    """How many working days lie in (after, through]; negative when `through` is before `after`."""
    _require_date(after, "after")
    _require_date(through, "through")
    if through < after:
        return -workdays_between(through, after)
    count, day = 0, after
    while day < through:
        day += timedelta(days=1)
        count += is_workday(day)
    return count


def is_spring_festival_holiday(day: date) -> bool:
    """Within the Spring Festival public holiday (001: "春节法定假期不提供服务")."""
    _require_date(day)
    if _FIRST_PACKAGE_YEAR <= day.year <= _LAST_PACKAGE_YEAR:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        return bool(on_holiday) and name == chinese_calendar.Holiday.spring_festival.value
    spring_festival = _lunar_new_year(day.year)
    return spring_festival is not None and spring_festival - timedelta(days=1) <= day <= spring_festival + timedelta(days=6)
