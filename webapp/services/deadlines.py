"""When the desk looks at an application, and the latest day a service will be arranged (issue 14, item 5).

Online applications are accepted at any hour, but the promise counts from when a person at the service desk
can look at them (DOMAIN.md, "acceptance hours": 000 2.3 Mon–Fri 09:00–18:00 except holidays; 001 08:00–20:00,
closed over the Spring Festival holiday; 003 daily 09:00–21:00). "Within N working days" of an event is the
N-th statutory working day after the event's date (DOMAIN.md, Definitions).

The promise counts from the latest of the application and every event the seed names (catalog
`arrangement.counted_from`), each taken on the day the desk can act on it; the admission slip counts from the
date written on it. A missing event means no promise yet: a date promised before the papers are in or the
slip is issued would be a promise the vendor never made (a real 002 case came out 5 working days early).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from .clock import china_datetime, require_aware, to_china
from .outcomes import service_rules
from .products.catalog import Arrangement, DeadlineEvent, Hours, default_catalog
from .workdays import add_workdays, is_spring_festival_holiday, is_workday

_MAX_SEARCH_DAYS = 400
# The events a promise can count from, as the stable entry point `promised_by` names them.
EVENTS = {
    "applied": DeadlineEvent.APPLICATION,
    "approved": DeadlineEvent.APPROVAL,
    "papers_complete": DeadlineEvent.COMPLETE_PAPERS,
    "admission_slip": DeadlineEvent.ADMISSION_SLIP_DATE,
}


def desk_open_on(hours: Hours, day: date) -> bool:
    if hours.days == "workdays" and not is_workday(day):
        return False
    if hours.days == "weekdays" and (day.weekday() >= 5 or not is_workday(day)):  # 000 （一）2.3: 调休 weekends stay closed
        return False
    return not (hours.closed_for_spring_festival and is_spring_festival_holiday(day))


def desk_receives(hours: Hours, at: datetime) -> datetime:
    """The moment (China time) a person at the desk will look at something submitted at `at`."""
    local = to_china(at)
    day = local.date()
    for _ in range(_MAX_SEARCH_DAYS):
        if desk_open_on(hours, day):
            opens, closes = china_datetime(day, hours.opens), china_datetime(day, hours.closes)
            if local < opens:
                return opens
            if local < closes:
                return local
        day += timedelta(days=1)
        local = china_datetime(day, time(0, 0))
    raise ValueError("the desk is never open within a year of this date")  # a catalog error, not user input


def _checked(events: Mapping[str, datetime | None]) -> dict[DeadlineEvent, datetime]:
    unknown = set(events) - set(EVENTS)
    if unknown:
        raise ValueError(f"unknown events {sorted(unknown)}; expected some of {sorted(EVENTS)}")
    return {EVENTS[name]: require_aware(when, name) for name, when in events.items() if when is not None}


def _count(arrangement: Arrangement, hours: Hours, known: dict[DeadlineEvent, datetime]) -> date | None:
    applied = known.get(DeadlineEvent.APPLICATION)
    if applied is None:
        return None
    start = desk_receives(hours, applied).date()
    for event in arrangement.counted_from:
        when = known.get(event)
        if when is None:
            return None
        # The slip's own date (002 "住院条开具之日起"); every other event from when the desk can act on it.
        day = to_china(when).date() if event is DeadlineEvent.ADMISSION_SLIP_DATE else desk_receives(hours, when).date()
        start = max(start, day)
    return add_workdays(start, arrangement.working_days)


@dataclass(frozen=True)
class Promise:
    """The promise the desk works to now: the arrangement, or its first step while no slip is known."""

    by: date | None
    first_step: bool = False  # 001 without a slip: the expert visit that will yield one
    working_days: int = 0


def promise(arrangement: Arrangement, hours: Hours, events: Mapping[str, datetime | None]) -> Promise:
    known = _checked(events)
    if arrangement.without_slip is not None and DeadlineEvent.ADMISSION_SLIP_DATE not in known:
        step = arrangement.without_slip
        return Promise(_count(step, hours, known), first_step=True, working_days=step.working_days)
    return Promise(_count(arrangement, hours, known), working_days=arrangement.working_days)


def promised_by(product: str, service: str, events: Mapping[str, datetime]) -> date | None:
    """The day the arrangement of `service` (catalog codes) is promised by; None while an event it needs is missing.

    `events` maps `applied`, `papers_complete`, `approved`, `admission_slip` to aware datetimes. 001's admission
    without a slip has no promise until the expert visit yields one (`promise` gives that first step).
    """
    rules = service_rules(product, service)
    if rules.arrangement is None:
        raise ValueError(f"{product}/{service} is not arranged by the desk")
    known = _checked(events)
    hours = default_catalog().product(product).hours_for(rules)
    return _count(rules.arrangement, hours, known)


def slip_moment(day: date | None) -> datetime | None:
    """The admission slip's date as the event `promise` takes."""
    return china_datetime(day) if day is not None else None


def promise_if_applied(arrangement: Arrangement, hours: Hours, now: datetime) -> date | None:
    """The day a card can promise to someone applying at `now`, if every paper is in and approved at once."""
    return promise(arrangement, hours, {name: now for name in EVENTS}).by
