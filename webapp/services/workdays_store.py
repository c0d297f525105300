"""Keep the in-process working-day calendar in step with the operators' override table."""
from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ..models import HolidayOverride, PublishedYear
from . import workdays

REFRESH_SECONDS = 60
_loaded_at = 0.0


def load_overrides(session: Session) -> None:
    """Read the override table into the calendar used by workdays.is_workday/add_workdays."""
    global _loaded_at
    overrides = {row.day: row.is_workday for row in session.scalars(select(HolidayOverride))}
    years = set(session.scalars(select(PublishedYear.year)))
    workdays.set_overrides(overrides, years)
    _loaded_at = time.monotonic()


def refresh_if_stale(session: Session) -> None:
    """Reload the overrides at most once a minute (each worker process keeps its own copy)."""
    if time.monotonic() - _loaded_at < REFRESH_SECONDS:
        return
    try:
        load_overrides(session)
    except SQLAlchemyError:  # a database not migrated yet must not take the whole site down
        session.rollback()
