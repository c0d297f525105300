"""Dates and times for people: per language, always in China time (flask-babel is set to Asia/Shanghai).

zh: 11月28日 周五 · 11月24日 周一 12:00 · 5小时后;  en: Fri 28 Nov · Mon 24 Nov 12:00 · in 5 hours.
"""
from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from flask_babel import format_date, format_datetime, format_timedelta, get_locale

from .services.clock import require_aware, to_china

_PATTERNS = {
    "zh": {"day": "M月d日 EEE", "day_year": "yyyy年M月d日 EEE", "moment": "M月d日 EEE HH:mm", "short": "yyyy-MM-dd"},
    "en": {"day": "EEE d MMM", "day_year": "EEE d MMM yyyy", "moment": "EEE d MMM HH:mm", "short": "yyyy-MM-dd"},
}


def _pattern(name: str) -> str:
    language = "en" if str(get_locale()).startswith("en") else "zh"
    return _PATTERNS[language][name]


def day(value: date | datetime | None, with_year: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_china(value).date()
    return format_date(value, _pattern("day_year" if with_year else "day"))


def moment(value: datetime | None) -> str:
    if value is None:
        return ""
    return format_datetime(require_aware(value), _pattern("moment"))


def iso_day(value: date | None) -> str:
    return value.isoformat() if value else ""


def fromiso(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def fromisodate(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def relative(value: datetime | None, now: datetime) -> str:
    """'in 5 hours' / '5小时后'; '3 days ago' / '3天前'."""
    if value is None:
        return ""
    return format_timedelta(value - now, granularity="minute", threshold=1.0, add_direction=True)


def span(value: datetime | None, now: datetime) -> str:
    """How long from `now` until `value`, without a direction: '3 hours' / '3小时'."""
    if value is None:
        return ""
    return format_timedelta(value - now, granularity="minute", threshold=1.0)


def clock(value: datetime | None) -> str:
    """The time of day in China: '15:30'."""
    return to_china(value).strftime("%H:%M") if value is not None else ""


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(day=day, moment=moment, iso_day=iso_day, fromiso=fromiso, fromisodate=fromisodate,
                                 clock=clock)
    app.jinja_env.globals.update(relative=relative, span=span)
