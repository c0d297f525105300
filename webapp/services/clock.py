"""China time: every rule in the portal is computed in Asia/Shanghai (DOMAIN.md, "Time").

Servers may run in UTC or anywhere else; nothing here reads the process's local zone.
"""
from __future__ import annotations

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def require_aware(moment: datetime, name: str = "datetime") -> datetime:
    """Refuse naive datetimes: a naive time has no place in a rule about a deadline."""
    if not isinstance(moment, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError(f"{name} must be timezone-aware, got a naive datetime")
    return moment


def to_china(moment: datetime) -> datetime:
    """The same instant, expressed in China Standard Time."""
    return require_aware(moment).astimezone(CHINA)


def china_date(moment: datetime) -> date:
    """The calendar day in China at this instant."""
    return to_china(moment).date()


def china_datetime(day: date, at: time = time(0, 0)) -> datetime:
    """An aware datetime for a wall-clock time on a China calendar day."""
    return datetime.combine(day, at, tzinfo=CHINA)


def utc_now() -> datetime:
    """The real clock. Only the edges (views, CLI) call this; services take `now` as an argument."""
    return datetime.now(timezone.utc)
