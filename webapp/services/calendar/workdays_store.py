"""Keep the in-process working-day calendar in step with the operators' override table."""
from __future__ import annotations

import time
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ...models import HolidayOverride, PublishedYear
from .. import workdays

# Each server process keeps its own copy; a change made on one server reaches the others within this many seconds
# (the README says so). Issue 16: at 60 s another server showed the old promise for up to 57 s.
# Reading the table (tens of rows a year) every 5 s costs one query per process per 5 s.
REFRESH_SECONDS = 5
_loaded_at = 0.0


def read_overrides(session: Session) -> tuple[dict[date, bool], set[int]]:
    """The override table and the staff-entered years, as the session sees them (its own uncommitted rows too)."""
    overrides = {row.day: row.is_workday for row in session.scalars(select(HolidayOverride))}
    return overrides, set(session.scalars(select(PublishedYear.year)))


def load_overrides(session: Session) -> None:
    """Read the override table into the calendar used by workdays.is_workday/add_workdays."""
    global _loaded_at
    workdays.set_overrides(*read_overrides(session))
    _loaded_at = time.monotonic()


def refresh_if_stale(session: Session) -> None:
    """Reload the overrides at most once every REFRESH_SECONDS (each worker process keeps its own copy)."""
    if time.monotonic() - _loaded_at < REFRESH_SECONDS:
        return
    try:
        load_overrides(session)
    except SQLAlchemyError:  # a database not migrated yet must not take the whole site down
        session.rollback()


def forget() -> None:
    """Read the table again on the next request, whenever it was last read."""
    global _loaded_at
    _loaded_at = 0.0


def set_override(session: Session, day: date, is_workday: bool, *, now: datetime, name: str | None = None,
                 entered_by_id: int | None = None) -> None:
    """Record one day's status (staff correct a day, or enter next year's schedule day by day). Commits."""
    put_override(session, day, is_workday, now=now, name=name, entered_by_id=entered_by_id)
    session.commit()
    load_overrides(session)


def mark_published(session: Session, year: int, *, now: datetime, entered_by_id: int | None = None) -> None:
    """Say that `year`'s whole State Council schedule has been entered; the staff banner goes away. Commits."""
    put_published(session, year, now=now, entered_by_id=entered_by_id)
    session.commit()
    load_overrides(session)


# Building blocks for a caller's own transaction (services/calendar/holiday_schedule.py); they neither commit nor reload.

def put_override(session: Session, day: date, is_workday: bool, *, now: datetime, name: str | None = None,
                 entered_by_id: int | None = None) -> HolidayOverride:
    """Insert or update one day's override."""
    row = session.get(HolidayOverride, day) or HolidayOverride(day=day)
    row.is_workday, row.name, row.entered_by_id, row.entered_at = is_workday, name, entered_by_id, now
    session.add(row)
    return row


def delete_override(session: Session, day: date) -> bool:
    row = session.get(HolidayOverride, day)
    if row is None:
        return False
    session.delete(row)
    return True


def put_published(session: Session, year: int, *, now: datetime, entered_by_id: int | None = None) -> bool:
    """Mark `year` as entered in full (once: the first marking is kept). False when it already was."""
    if session.get(PublishedYear, year) is not None:
        return False
    session.add(PublishedYear(year=year, entered_by_id=entered_by_id, entered_at=now))
    return True
