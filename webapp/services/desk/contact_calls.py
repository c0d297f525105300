"""Calling the customer about one application (issue 18 item 3): whose number the desk calls, revealing it to one
staff member (audited, rate-limited), and the outcome of the call.

Whom the desk calls: the person who applied, on the number they applied from (000 line 108: "客户拨打我司热线电话申请
服务后，应保持手机畅通"; 001 line 31: the hospital is "与客户电话确认"). When the insured applied for themself that is
their own account's mobile, then the mobile on their policy when it differs. A guardian is the one called for a
minor or an adult who cannot act for themselves (DOMAIN.md: only the guardian acts for them), so the insured's own
number is not offered. An agent with a power of attorney applied and arranges, so is called first; the insured
signed the power and decides for themself, so their own number follows.

Every reveal is an audit event on the insured ("booking.mobile_view": the insured reads it in their access log,
family.access_log); the number itself is never written to the audit trail or a log line. A staff member may reveal
the numbers of REVEAL_LIMITS' count of different applications per window; opening the same application's numbers
again within REPEAT_FREE counts once, so a day of calls is never stopped, while a stolen staff login cannot read
the whole book of customers.

A call's outcome ("booking.call") is kept with a short note for colleagues. The insured's access log names the
outcome, never the note: the note is a working note between staff, cleaned but not worded for the customer, and may
repeat what a family member said on the phone.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...db import write_transaction
from ...models import Account, Booking
from .. import audit, ratelimit
from ..accounts.identity import mask_mobile
from ..booking.apply_forms import clean_text
from ..ratelimit import Limit
from ..refusals import Refused as Refusal

CALLERS = ("reviewer", "coordinator", "admin")
REVEAL = "booking.mobile_view"  # ends in "view": repeated reveals collapse into one line of the access log
CALL = "booking.call"
LIMITED = "staff.reveal_limited"  # not a "booking." action: kept from the insured's access log
REVEAL_LIMITS = {"hour": Limit(count=30, window=timedelta(hours=1)), "day": Limit(count=100, window=timedelta(days=1))}
REPEAT_FREE = timedelta(hours=12)
OUTCOMES = ("reached", "no_answer", "call_back")
NOTE_MAX = 200

INSURED, GUARDIAN, AGENT = "insured", "guardian", "agent"
APPLICANT_ROLE = {"guardian": GUARDIAN, "power_of_attorney": AGENT}


class Refused(Refusal):
    """Why a number was not shown or a call not noted (calls.*)."""


@dataclass(frozen=True)
class Contact:
    role: str  # insured | guardian | agent
    name: str
    mobile: str


@dataclass(frozen=True)
class Reveal:
    contacts: list[Contact]
    refused: str | None = None


@dataclass(frozen=True)
class Step:
    """One line of an application's calls: a number revealed, or a call and its outcome."""
    at: datetime
    actor_id: int | None
    kind: str  # reveal | call
    whose: tuple[str, ...] = ()
    outcome: str | None = None
    note: str = ""


def contacts(session: Session, booking: Booking) -> list[Contact]:
    """Whom the desk calls about `booking`, first one first (see the module's docstring)."""
    insured = booking.policy.insured
    applicant = session.get(Account, booking.applicant_account_id)
    role = APPLICANT_ROLE.get(booking.acting_as)
    if role is None:  # the insured applied (online, or the desk for them by phone)
        return [Contact(INSURED, insured.name, mobile) for mobile in _distinct(applicant.mobile, insured.mobile)]
    name = (applicant.person.name if applicant.person else applicant.display_name) or ""
    found = [Contact(role, name, applicant.mobile)] if applicant.mobile else []
    if role == AGENT:
        found += [Contact(INSURED, insured.name, m) for m in _distinct(insured.mobile) if m != applicant.mobile]
    return found


def _distinct(*mobiles: str | None) -> list[str]:
    return [m for i, m in enumerate(mobiles) if m and m not in mobiles[:i]]


def _require(staff: Account) -> None:
    if staff.staff_role not in CALLERS:
        raise Refused("calls.role")


def _buckets(staff: Account) -> dict[str, Limit]:
    return {f"reveal-{name}:{staff.id}": limit for name, limit in REVEAL_LIMITS.items()}


def reveal(session: Session, booking: Booking, staff: Account, *, now: datetime, ip: str | None = None) -> Reveal:
    """The numbers to call about `booking`, for `staff`, audited on the insured; or a refusal (kept in the audit
    trail, not the insured's log) when this staff member has opened too many applications' numbers. One write
    transaction of its own: the rate limit is checked and counted under its lock."""
    _require(staff)
    with write_transaction(session):
        return _reveal(session, booking, staff, now, ip)


def _reveal(session: Session, booking: Booking, staff: Account, now: datetime, ip: str | None) -> Reveal:
    found = contacts(session, booking)
    if not found:
        return Reveal([], "calls.no_number")
    target = f"booking:{booking.id}"
    buckets = _buckets(staff)
    ratelimit.lock(session, buckets)
    if not audit.done_since(session, REVEAL, actor_id=staff.id, target=target, since=now - REPEAT_FREE):
        if ratelimit.blocked(session, buckets, now):
            audit.record(session, LIMITED, now=now, actor_id=staff.id, subject_person_id=booking.policy.insured_id,
                         target=target, ip=ip, detail={"booking": booking.reference})
            return Reveal([], "calls.rate_limited")
        ratelimit.count(session, buckets, now)
    audit.record(session, REVEAL, now=now, actor_id=staff.id, subject_person_id=booking.policy.insured_id,
                 target=target, ip=ip, detail={"booking": booking.reference, "whose": [c.role for c in found]})
    return Reveal(found)


def clean_outcome(outcome: str | None, note: str | None) -> tuple[str, str]:
    """The outcome and note as stored; Refused("calls.outcome") for an outcome not offered,
    Refused("calls.note_long") for a note longer than NOTE_MAX characters."""
    if outcome not in OUTCOMES:
        raise Refused("calls.outcome")
    cleaned = clean_text(note or "", multiline=True)
    if len(cleaned) > NOTE_MAX:
        raise Refused("calls.note_long", max=NOTE_MAX)
    return outcome, cleaned


def note_call(session: Session, booking: Booking, staff: Account, outcome: str | None, note: str | None, *,
              now: datetime, ip: str | None = None) -> None:
    """Record how a call about `booking` went, in a transaction of its own (Refused, with nothing written, as
    clean_outcome says, or for a role that does not call)."""
    _require(staff)
    outcome, note = clean_outcome(outcome, note)
    with write_transaction(session):
        audit.record(session, CALL, now=now, actor_id=staff.id, subject_person_id=booking.policy.insured_id,
                     target=f"booking:{booking.id}", ip=ip,
                     detail={"booking": booking.reference, "outcome": outcome, "note": note})


def history(session: Session, booking: Booking, *, limit: int = 30) -> list[Step]:
    """The application's reveals and calls, oldest first (the last `limit`)."""
    events = audit.events_on(session, f"booking:{booking.id}", (REVEAL, CALL), limit=limit)
    return [Step(at=e.at, actor_id=e.actor_account_id, kind="reveal" if e.action == REVEAL else "call",
                 whose=tuple((e.detail or {}).get("whose") or ()), outcome=(e.detail or {}).get("outcome"),
                 note=(e.detail or {}).get("note") or "") for e in events]


def staff_names(session: Session, steps: list[Step]) -> dict[int, str]:
    ids = {s.actor_id for s in steps if s.actor_id}
    if not ids:
        return {}
    return {a.id: a.display_name or mask_mobile(a.mobile)
            for a in session.scalars(select(Account).where(Account.id.in_(ids)))}
