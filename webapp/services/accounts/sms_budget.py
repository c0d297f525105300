"""Daily budgets for the texts the portal sends to numbers nobody has proved are theirs (issue 17 item 4: SMS
pumping, ASVS 2.2.x anti-automation): sign-in codes and "someone is trying your number" alerts.

Two budgets over a sliding 24 hours, both configured (SMS_DAILY_BUDGET, SMS_PREFIX_DAILY_BUDGET): one for all
texts, and one per number block — the first PREFIX_DIGITS digits. Seven digits, not three: "138" is a carrier's
whole range shared by a large share of our customers, so a budget on it would have to be as large as the global
one, while "1380000" is one block of 10 000 numbers in one city and carrier, which is what pumping fraud walks
through and where a handful of genuine sign-ins a day is a lot. A text that would go over a budget is not sent.

Reaching a budget is an alarm: an audit event `sms.budget_reached` and an ERROR line on the `lvtong.security`
logger (operations alert on it), at most once an hour per budget; later refusals in that hour log a WARNING.
There is no staff inbox for operational alarms yet, so the log line is the page.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from .. import audit, ratelimit

log = logging.getLogger("lvtong.security")

PREFIX_DIGITS = 7
WINDOW = timedelta(hours=24)
ALARM_EVERY = timedelta(hours=1)


@dataclass(frozen=True)
class SmsBudget:
    daily: int = 2000  # every text the portal sends in 24 hours
    per_prefix: int = 30  # texts to one block of numbers (first PREFIX_DIGITS digits) in 24 hours


def spend(session: Session, mobile: str, *, budget: SmsBudget, now: datetime, ip: str | None, purpose: str) -> bool:
    """Count one text to `mobile`, or refuse it (False, nothing counted, the alarm raised) when a budget is used up.
    Runs in the caller's write transaction. Texts in flight at the same moment may overshoot by a few: a budget is
    an alarm with a brake, not a quota."""
    prefix = mobile[:PREFIX_DIGITS]
    budgets = {"global": ("sms-day", budget.daily), "prefix": (f"sms-prefix:{prefix}", budget.per_prefix)}
    for scope, (bucket, limit) in budgets.items():
        if ratelimit.hits(session, bucket, now, WINDOW) >= limit:
            _alarm(session, scope, prefix if scope == "prefix" else None, limit, now=now, ip=ip, purpose=purpose)
            return False
    ratelimit.count(session, [bucket for bucket, _ in budgets.values()], now)
    return True


def _alarm(session: Session, scope: str, prefix: str | None, limit: int, *, now: datetime, ip: str | None,
           purpose: str) -> None:
    where = f"prefix {prefix}" if prefix else "all numbers"
    alarm = f"sms-alarm:{scope}:{prefix or ''}"
    if ratelimit.hits(session, alarm, now, ALARM_EVERY):
        log.warning("SMS budget still used up (%s, %s texts in 24 hours): %s refused, ip=%s", where, limit, purpose, ip)
        return
    ratelimit.count(session, [alarm], now)
    audit.record(session, "sms.budget_reached", now=now, ip=ip,
                 detail={"scope": scope, "prefix": prefix, "limit": limit, "window_hours": 24, "purpose": purpose})
    log.error("SMS budget reached (%s, %s texts in 24 hours): texts refused until it frees up; first refused: %s, "
              "ip=%s", where, limit, purpose, ip)


__all__ = ["PREFIX_DIGITS", "SmsBudget", "spend"]
