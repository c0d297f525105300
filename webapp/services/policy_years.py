"""Policy years, waiting and cooling-off periods (DOMAIN.md, "Definitions the code must follow").

- Year n runs from the (n-1)-th anniversary of the effective date, inclusive, to the n-th, exclusive. Every
  anniversary is computed from the original effective date; when that month has no such day (29 February)
  the anniversary is the last day of the month (对应日). Unused uses expire at the year's end (002 二、2(1):
  "当前保单年度内未使用的服务次数，不可延期或累积至次年使用").
- A waiting period of N days counts the effective date as day 1, so the first usable day is
  effective + N days (002: "等待期90天（含）后"; 2026-01-01 + 90 -> 2026-04-01). Renewals have none
  (003: "续期服务则无等待期限定").
"""
from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta


def _require_date(value: date, name: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError(f"{name} must be a date (not a datetime), got {type(value).__name__}")
    return value


def anniversary(effective: date, years: int) -> date:
    """The `years`-th anniversary of `effective` (0 gives `effective`), clamped to the month's last day."""
    _require_date(effective, "effective")
    if years < 0:
        raise ValueError("years must not be negative")
    year = effective.year + years
    last_day = calendar.monthrange(year, effective.month)[1]
    return date(year, effective.month, min(effective.day, last_day))


def policy_year_number(effective: date, on: date) -> int:
    """1 for the first policy year, 2 for the second, and so on."""
    _require_date(effective, "effective")
    _require_date(on, "on")
    if on < effective:
        raise ValueError(f"{on} is before the effective date {effective}")
    n = on.year - effective.year
    if anniversary(effective, n) > on:
        n -= 1
    return n + 1


def policy_year_bounds(effective: date, on: date) -> tuple[date, date]:
    """The policy year containing `on`: (start inclusive, end exclusive)."""
    n = policy_year_number(effective, on)
    return anniversary(effective, n - 1), anniversary(effective, n)


def waiting_period_ends(effective: date, waiting_days: int) -> date:
    """The first day a service may be used after a waiting period of `waiting_days` days."""
    _require_date(effective, "effective")
    if isinstance(waiting_days, bool) or not isinstance(waiting_days, int) or waiting_days < 0:
        raise ValueError("waiting_days must be a non-negative int")
    return effective + timedelta(days=waiting_days)


def cooling_off_ends(effective: date, cooling_off_days: int) -> date:
    """The first day after the cooling-off period, counted like the waiting period (effective date = day 1).

    000 2.5(2): a service is refused "未过本保险产品的犹豫期".
    """
    return waiting_period_ends(effective, cooling_off_days)
