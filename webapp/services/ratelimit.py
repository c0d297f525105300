"""Rate limits kept in the database, so every worker process shares them (SECURITY.md: codes, logins,
uploads and bookings are all rate-limited). A bucket names what is limited: "code-mobile:13800000001".

Checking a limit and counting a hit is a read followed by a write: two requests at the same moment would both
see room for one more. Callers that must not overshoot call `lock` first, inside their write transaction.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from ..models import RateHit
from .clock import require_aware


@dataclass(frozen=True)
class Limit:
    count: int
    window: timedelta


def lock(session: Session, buckets: Iterable[str]) -> None:
    """Serialise everyone checking and counting these buckets until the current transaction ends.

    SQLite needs nothing more: a write transaction (BEGIN IMMEDIATE, db.write_transaction) already holds the
    database's single write lock. PostgreSQL (read committed) takes a transaction-scoped advisory lock per bucket,
    in sorted order so two callers never wait on each other in a cycle.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    for bucket in sorted(set(buckets)):
        key = int.from_bytes(hashlib.blake2b(bucket.encode(), digest_size=8).digest(), "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def hits(session: Session, bucket: str, now: datetime, window: timedelta) -> int:
    require_aware(now, "now")
    return session.scalar(select(func.count()).select_from(RateHit).where(RateHit.bucket == bucket, RateHit.at > now - window))


def blocked(session: Session, buckets: dict[str, Limit], now: datetime) -> bool:
    """True when any bucket is already full."""
    return any(hits(session, bucket, now, limit.window) >= limit.count for bucket, limit in buckets.items())


def spread(session: Session, prefix: str, now: datetime, window: timedelta) -> tuple[int, int]:
    """Hits in the buckets starting with `prefix` ("verify-source:13800000001:"), and how many such buckets had
    any: how often, and from how many sources, one number was guessed at."""
    require_aware(now, "now")
    row = session.execute(select(func.count(), func.count(RateHit.bucket.distinct())).select_from(RateHit)
                          .where(RateHit.bucket.startswith(prefix, autoescape=True), RateHit.at > now - window)).one()
    return row[0], row[1]


def count(session: Session, buckets: dict[str, Limit] | list[str], now: datetime) -> None:
    for bucket in buckets:
        session.add(RateHit(bucket=bucket, at=now))


def sweep(session: Session, now: datetime, older_than: timedelta = timedelta(days=1)) -> int:
    return session.execute(delete(RateHit).where(RateHit.at < now - older_than)).rowcount
