"""The operators' corrections to the working-day calendar (see services/workdays.py)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class HolidayOverride(Base):
    __tablename__ = "holiday_overrides"

    day: Mapped[date] = mapped_column(primary_key=True)
    is_workday: Mapped[bool]
    name: Mapped[str | None] = mapped_column(String(64))  # e.g. 春节, 国庆节调休上班
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    entered_at: Mapped[datetime]


class PublishedYear(Base):
    """A year whose whole State Council schedule staff have entered as overrides."""

    __tablename__ = "published_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    entered_at: Mapped[datetime]
