"""When the desk looks at an application, and the latest day a service will be arranged.

Online applications are accepted at any hour, but the promise counts from when a person at the service desk
can look at them (DOMAIN.md, "acceptance hours": 000 2.3 Mon–Fri 09:00–18:00 except holidays; 001 08:00–20:00,
closed over the Spring Festival holiday; 003 daily 09:00–21:00). "Within N working days" of an event is the
N-th statutory working day after the event's date (DOMAIN.md, Definitions).
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from .catalog import Arrangement, DeadlineEvent, Hours
from .clock import china_datetime, to_china
from .workdays import add_workdays, is_spring_festival_holiday, is_workday

_MAX_SEARCH_DAYS = 400


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


def arrangement_deadline(
    arrangement: Arrangement,
    hours: Hours,
    *,
    received_at: datetime,
    approved_at: datetime | None = None,
    papers_complete_at: datetime | None = None,
    admission_slip_date: date | None = None,
) -> date | None:
    """The latest day the service is promised to be arranged, or None while its starting event is pending.

    The count starts from the later of the desk receiving the application and the catalog's event: approval
    (000 2.7), complete papers (003: "自收齐完整病历资料起"), or the admission slip's date (000 （二）2.7:
    "自客户申请服务并开具住院单之日起，7个工作日内安排"; 002, 004).
    """
    start = desk_receives(hours, received_at).date()
    event = arrangement.counted_from
    if event is DeadlineEvent.APPROVAL:
        if approved_at is None:
            return None
        start = max(start, desk_receives(hours, approved_at).date())
    elif event is DeadlineEvent.COMPLETE_PAPERS:
        if papers_complete_at is None:
            return None
        start = max(start, desk_receives(hours, papers_complete_at).date())
    elif event is DeadlineEvent.ADMISSION_SLIP_DATE:
        if admission_slip_date is None:
            return None
        start = max(start, admission_slip_date)
    return add_workdays(start, arrangement.working_days)


def promise_if_applied(arrangement: Arrangement, hours: Hours, now: datetime, admission_slip_date: date | None = None) -> date:
    """The day a card can promise to someone applying at `now`, if every paper is in and approved at once."""
    return arrangement_deadline(
        arrangement,
        hours,
        received_at=now,
        approved_at=now,
        papers_complete_at=now,
        admission_slip_date=admission_slip_date or to_china(now).date(),
    )
