"""Rate limits kept in the database, so every worker process shares them (SECURITY.md: codes, logins,
uploads and bookings are all rate-limited). A bucket names what is limited: "code-mobile:13800000001"."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ..models import RateHit
from .clock import require_aware


@dataclass(frozen=True)
class Limit:
    count: int
    window: timedelta


def hits(session: Session, bucket: str, now: datetime, window: timedelta) -> int:
    require_aware(now, "now")
    return session.scalar(select(func.count()).select_from(RateHit).where(RateHit.bucket == bucket, RateHit.at > now - window))


def blocked(session: Session, buckets: dict[str, Limit], now: datetime) -> bool:
    """True when any bucket is already full."""
    return any(hits(session, bucket, now, limit.window) >= limit.count for bucket, limit in buckets.items())


def count(session: Session, buckets: dict[str, Limit] | list[str], now: datetime) -> None:
    for bucket in buckets:
        session.add(RateHit(bucket=bucket, at=now))


def sweep(session: Session, now: datetime, older_than: timedelta = timedelta(days=1)) -> int:
    return session.execute(delete(RateHit).where(RateHit.at < now - older_than)).rowcount
