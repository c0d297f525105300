"""Applications taken by the service desk on the phone, and the single-use SMS link that follows (issue 18 item 4).

Seed 003 (lines 488, 614, 945, 1562, 2271 …): "如您通过客服电话申请，客服将发送申请短信链接，请查收短信并按照指引提交
申请材料". The caller is found by mobile number or resident ID number (the blind index: binding.person_by_resident_id);
staff fill the same form as online (services/booking/apply_forms.py) and the application goes through the same
`bookings.apply` as online, for the insured's own account: eligibility is checked and the use held exactly the same
way, and only the first transition differs (its actor is the staff member, detail `channel: phone`).

Decisions (the seeds are silent on them):
- Who: coordinators and admins (`DESK_ROLES`). The reviewer decides the papers of these applications, so the one who
  submits for a caller is never the one who approves (the reviewer role cannot do both).
- For whom: an adult insured person only. A minor's application is made by the verified guardian, with their papers.
- Which number: never one staff type in. The link goes to the mobile of the insured's own account, or, when they have
  none, to the mobile the insurer gave for them. In that case the desk opens the account for that number and binds it
  to the person (`policy_mobile`, the match with policy data that binding.py accepts): nobody can use the account
  without the code texted to that number, which is exactly what a sign-in with it would have proven. A number that
  already belongs to another person's account, or to staff, is refused.
- The link: 32 random bytes (256 bits), stored as its SHA-256; bound to the application, the account and the number;
  valid `LINK_TTL` (72 hours); spent at the successful sign-in it leads to. It shows nothing of the application
  until that sign-in; then it leads to the application's papers checklist.
No Flask here: the views pass the clock, the staff member and the texts.
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from ...db import write_transaction
from ...models import Account, Booking, DeskLink, Person, Policy, Service
from .. import audit
from ..accounts import binding
from ..accounts.id_vault import normalise as normalise_id
from ..accounts.identity import is_valid_resident_id, normalise_mobile
from ..booking import bookings as booking_rules
from ..clock import china_date, require_aware
from ..eligibility import SELF, Reason
from ..family import family
from ..papers import documents
from ..products.catalog_sync import rules_for
from ..refusals import Refused

DESK_ROLES = ("coordinator", "admin")
LINK_TTL = timedelta(hours=72)
TOKEN_BYTES = 32


class DeskRefused(Refused, ValueError):
    """An application at the service desk not started (desk.*); nothing sent."""


@dataclass(frozen=True)
class Found:
    person: Person
    policies: tuple[Policy, ...]


@dataclass(frozen=True)
class DeskOutcome:
    booking: Booking | None
    created: bool
    reasons: tuple[Reason, ...] = ()
    token: str | None = None  # the link's secret, only when a link was made now (it is never stored)
    mobile: str | None = None  # where to text it

    @property
    def ok(self) -> bool:
        return self.booking is not None


def may_take_calls(staff: Account) -> bool:
    return staff.staff_role in DESK_ROLES


def _require_desk(staff: Account) -> None:
    if not may_take_calls(staff):
        raise DeskRefused("desk.not_desk")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def find(session: Session, query: str, *, staff: Account, now: datetime, ip: str | None = None) -> list[Found]:
    """Insured people with this mobile (of their account or on the policy data) or this resident ID number, each
    with the policies they are insured under. Audited: the lookup names whom staff looked at."""
    _require_desk(staff)
    require_aware(now, "now")
    text = (query or "").strip()
    mobile = normalise_mobile(text) if len(text) <= 20 else None
    people: list[Person] = []
    if mobile is not None:
        bound = select(Account.person_id).where(Account.mobile == mobile, Account.person_id.is_not(None))
        people = list(session.scalars(select(Person).where(or_(Person.mobile == mobile, Person.id.in_(bound)))
                                      .order_by(Person.id)))
        how = "mobile"
    elif is_valid_resident_id(normalise_id(text)):
        person = binding.person_by_resident_id(session, normalise_id(text))
        people = [person] if person is not None else []
        how = "id_number"
    else:
        raise DeskRefused("desk.query")
    found = []
    for person in people:
        policies = tuple(session.scalars(select(Policy).where(Policy.insured_id == person.id).order_by(Policy.number)))
        if policies:
            found.append(Found(person, policies))
    with write_transaction(session):
        for item in found:
            audit.record(session, "desk.lookup", now=now, actor_id=staff.id, subject_person_id=item.person.id, ip=ip,
                         detail={"by": how})
        if not found:
            audit.record(session, "desk.lookup", now=now, actor_id=staff.id, ip=ip, detail={"by": how, "found": 0})
    return found


def applicant_of(session: Session, person: Person, now: datetime) -> Account | None:
    """The insured's own account, if they have one (None: the desk will open it for the policy's mobile)."""
    return session.scalar(select(Account).where(Account.person_id == person.id).order_by(Account.id).limit(1))


def destination(session: Session, person: Person, now: datetime) -> str:
    """The number the link will go to, or DeskRefused saying why there is none (nothing is written)."""
    if family.is_minor(person.birth_date, china_date(now)):
        raise DeskRefused("desk.minor")
    own = applicant_of(session, person, now)
    if own is not None:
        if not own.is_active:
            raise DeskRefused("desk.account_closed")
        return own.mobile
    if not person.mobile:
        raise DeskRefused("desk.no_mobile")
    holder = session.scalar(select(Account).where(Account.mobile == person.mobile))
    if holder is not None and (holder.is_staff or holder.person_id is not None or not holder.is_active
                               or holder.claimed_person_id not in (None, person.id)):
        raise DeskRefused("desk.mobile_taken")
    return person.mobile


def _open_account(session: Session, person: Person, *, staff: Account, now: datetime, ip: str | None) -> Account:
    """The insured's account for the mobile the insurer gave (see the module's decisions). In the caller's write."""
    account = session.scalar(select(Account).where(Account.mobile == person.mobile))
    if account is None:
        account = Account(mobile=person.mobile, created_at=now)
        session.add(account)
        session.flush()
    for holder in binding.holders(session, person.id):  # a claim by another number gives way to the policy's own
        if holder.id != account.id and holder.person_id != person.id:
            binding.drop_claim(session, holder, now=now, action="bind.claim_replaced", actor=staff, ip=ip)
    binding.bind_verified(session, account, person, method=binding.POLICY_MOBILE, now=now, ip=ip,
                          note="opened by the desk for a phone application")
    return account


def apply_for_caller(session: Session, *, staff: Account, policy_id: int, service_code: str, request_key: str,
                     now: datetime, details: dict, units: int = 1, admission_slip_date=None,
                     ip: str | None = None) -> DeskOutcome:
    """Apply for the insured of `policy_id`, as online (bookings.apply), and make the link to text them (none when
    the application asks for no papers: then `token` is None and only a confirmation is texted).

    Nothing is written when eligibility refuses (checked first for the insured themselves, then again by apply).
    A replayed form (same request key) gives the first application back and makes no second link."""
    _require_desk(staff)
    require_aware(now, "now")
    policy = session.get(Policy, policy_id)
    row = policy and session.scalar(select(Service).where(Service.product_id == policy.product_id,
                                                          Service.code == service_code))
    if row is None or not rules_for(row)[1].bookable:
        raise DeskRefused("desk.no_service")
    person = policy.insured
    mobile = destination(session, person, now)
    account = applicant_of(session, person, now)
    if account is None:
        verdict = booking_rules.eligibility(session, Account(mobile=mobile), policy, row, now, units, actor=SELF)
        if not verdict.allowed:
            return DeskOutcome(None, False, verdict.reasons)
        with write_transaction(session):
            account = _open_account(session, session.get(Person, person.id), staff=staff, now=now, ip=ip)
    outcome = booking_rules.apply(session, account=account, policy_id=policy.id, service_code=row.code,
                                  request_key=request_key, now=now, details=details, units=units,
                                  admission_slip_date=admission_slip_date, ip=ip, desk=staff)
    if not outcome.created:
        return DeskOutcome(outcome.booking, False, outcome.reasons)
    if not documents.required_kinds(rules_for(row)[1], outcome.booking):
        # Nothing to send (an escort asks for no papers): no link; the view texts a plain confirmation.
        return DeskOutcome(outcome.booking, True, (), None, mobile)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with write_transaction(session):
        session.add(DeskLink(token_hash=token_hash(token), booking_id=outcome.booking.id, account_id=account.id,
                             mobile=mobile, created_by_id=staff.id, created_at=now, expires_at=now + LINK_TTL))
        audit.record(session, "desk.link_sent", now=now, actor_id=staff.id, subject_person_id=person.id,
                     target=f"booking:{outcome.booking.id}", ip=ip, detail={"mobile_tail": mobile[-4:]})
    return DeskOutcome(outcome.booking, True, (), token, mobile)


def live_link(session: Session, token: str, now: datetime) -> DeskLink | None:
    """The link this token opens: unknown, used and expired ones are all None (the views answer 404)."""
    require_aware(now, "now")
    if not token or len(token) > 128:
        return None
    link = session.scalar(select(DeskLink).where(DeskLink.token_hash == token_hash(token)))
    if link is None or link.used_at is not None or now >= link.expires_at:
        return None
    return link


def spend(session: Session, link_id: int, *, account: Account, now: datetime, ip: str | None = None) -> Booking | None:
    """Use the link once, for the account it was made for, before it expires: its application, or None."""
    require_aware(now, "now")
    with write_transaction(session):
        done = session.execute(
            update(DeskLink).where(DeskLink.id == link_id, DeskLink.account_id == account.id, DeskLink.used_at.is_(None),
                                   DeskLink.expires_at > now)
            .values(used_at=now).execution_options(synchronize_session=False))
        if done.rowcount != 1:
            return None
        link = session.get(DeskLink, link_id, populate_existing=True)
        booking = session.get(Booking, link.booking_id)
        audit.record(session, "desk.link_used", now=now, actor_id=account.id, subject_person_id=booking.policy.insured_id,
                     target=f"booking:{booking.id}", ip=ip)
    return booking


__all__ = ["DESK_ROLES", "LINK_TTL", "DeskOutcome", "DeskRefused", "Found", "apply_for_caller", "destination", "find",
           "live_link", "may_take_calls", "spend", "token_hash"]
