"""Retention: rows kept only while they serve their purpose (PIPL art. 19, the shortest time needed), deleted by
`flask --app wsgi retention` (cron, daily) in bounded batches, each its own transaction, so the job never holds
a long lock and its memory does not grow with the table.

- rate-limit hits: once older than the longest window any limit counts over (24 h: signin.OWNER_ALERT,
  family.REQUEST_LIMIT, reclaim.ATTEMPT_LIMITS, contact_calls.REVEAL_LIMITS, sms_budget.WINDOW);
- sign-in codes: a day after they expired (a code lives 5 minutes; the day leaves room to look into a complaint);
- logins: 90 days after they ended (the person's list of devices shows only live ones);
- audit rows: kept three years, then deleted. They are the record of who processed whose personal information,
  which PIPL art. 56 asks be kept at least three years for the processing art. 55 names (sensitive personal
  information such as health data and minors' data, and data given to others: insurers, service providers); they are the network log the Cybersecurity Law art. 21(3) asks be kept at
  least six months; three years also covers the general limitation period for a claim (Civil Code art. 188)
  and the two years of Insurance Law art. 26 for health insurance.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..db import write_transaction
from ..models import AuditEvent, LoginSession, RateHit, SignInCode
from .clock import require_aware

RATE_HITS_KEPT = timedelta(days=1)  # the longest rate-limit window
CODES_KEPT = timedelta(days=1)  # after the code expired
LOGINS_KEPT = timedelta(days=90)  # after the login ended
AUDIT_KEPT = timedelta(days=3 * 366)  # at least three years, whatever the leap days
BATCH = 1000


@dataclass(frozen=True)
class Trimmed:
    rate_hits: int
    codes: int
    logins: int
    audit_events: int


def trim(session: Session, now: datetime, *, batch: int = BATCH) -> Trimmed:
    """Delete what is past its keeping; returns how many rows of each kind went."""
    require_aware(now, "now")
    if batch < 1:
        raise ValueError("batch must be 1 or more")
    return Trimmed(
        rate_hits=_delete_in_batches(session, RateHit, RateHit.at < now - RATE_HITS_KEPT, batch),
        codes=_delete_in_batches(session, SignInCode, SignInCode.expires_at < now - CODES_KEPT, batch),
        logins=_delete_in_batches(session, LoginSession, LoginSession.ended_at < now - LOGINS_KEPT, batch),
        audit_events=_delete_in_batches(session, AuditEvent, AuditEvent.at < now - AUDIT_KEPT, batch),
    )


def _delete_in_batches(session: Session, model, condition, batch: int) -> int:
    """At most `batch` rows per transaction, found by an index on the condition's column, until none is left."""
    total = 0
    while True:
        with write_transaction(session):
            ids = session.scalars(select(model.id).where(condition).order_by(model.id).limit(batch)).all()
            if ids:
                session.execute(delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False))
        total += len(ids)
        if len(ids) < batch:
            return total
