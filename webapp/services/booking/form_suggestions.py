"""Suggestions for the free-text fields of an application form (city, hospital, department): what the person wrote
on their earlier applications, most recent first, each once, a few at most.

No bookable service's seed names its hospitals: 003 refers to annexes that are not part of the seeds (重疾绿通PLUS
line 690 "附件3：重疾绿通PLUS—医院名单", 二次诊疗意见 line 2521 "附件9", 重疾多学科会诊 line 2623 "附件10"), and 004
line 67 "以被保险人申请服务时的医院合作列表为准". So a network's hospitals are never suggested: only the person's own
earlier entries. Plain Python: no Flask; the caller decides whether the applicant may see the person's bookings.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Booking, Policy
from .apply_forms import clean_text

# Which earlier entries each form field offers: a hospital named anywhere (visit, treatment, opinion) is a hospital.
SOURCES = {
    "city": ("city",),
    "hospital": ("hospital", "treating_hospital", "opinion_hospital"),
    "treating_hospital": ("hospital", "treating_hospital", "opinion_hospital"),
    "opinion_hospital": ("hospital", "treating_hospital", "opinion_hospital"),
    "department": ("department",),
}
MOST = 8  # suggestions per field: a short list an older person can read through
RECENT_APPLICATIONS = 40  # the earlier applications read, newest first


def earlier_entries(session: Session, person_id: int, field_names: tuple[str, ...] | list[str], *,
                    most: int = MOST) -> dict[str, tuple[str, ...]]:
    """For each of `field_names` that takes suggestions (SOURCES), the values the insured person `person_id`'s
    earlier applications gave, newest application first, each once (ignoring case and surrounding space), at most
    `most`. Fields with nothing to suggest are left out."""
    wanted = [name for name in dict.fromkeys(field_names) if name in SOURCES]
    if not wanted:
        return {}
    rows = session.scalars(
        select(Booking.details).join(Policy, Booking.policy_id == Policy.id).where(Policy.insured_id == person_id)
        .order_by(Booking.applied_at.desc(), Booking.id.desc()).limit(RECENT_APPLICATIONS)
    ).all()
    found: dict[str, tuple[str, ...]] = {}
    for name in wanted:
        seen: dict[str, str] = {}
        for details in rows:
            for key in SOURCES[name]:
                value = (details or {}).get(key)
                text = clean_text(value) if isinstance(value, str) else ""
                if text and text.casefold() not in seen and len(seen) < most:
                    seen[text.casefold()] = text
        if seen:
            found[name] = tuple(seen.values())
    return found
