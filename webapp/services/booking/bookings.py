"""Applying for a service and moving a booking through its life, atomically.

Quota safety (SECURITY.md, "Quotas and bookings under concurrency"): a use is held by a conditional
`UPDATE … WHERE held + used + units <= quota` whose row count is checked, inside a write transaction
(BEGIN IMMEDIATE on SQLite, a row lock on PostgreSQL), with a CHECK constraint behind it. State moves are
conditional on the state read (`WHERE state = :old`), so a cancellation refunds at most once. A replayed
submission carries the same request key, unique per account, and gets the first result back.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ...db import write_transaction
from ...models import Account, Booking, BookingTransition, Entitlement, Policy, Service
from .. import audit, deadlines, ratelimit
from . import notifications
from ..family import family
from .booking_states import CUSTOMER, FAILED_BOOKING, OPEN, STAFF, Effect, IllegalMove, State, move
from ..products.catalog_sync import rules_for
from ..clock import china_date, require_aware
from ..cutoffs import change_deadline, may_change_free
from ..outcomes import counts_by_days, late_change_counts
from ..outcomes import spent as units_spent
from ..eligibility import Actor, Eligibility, Reason, Usage, check, quota_amount, quota_period, usage_from
from .people import actor_for, diagnosis_facts, policy_facts
from ..refusals import Refused

_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


class StaleBooking(Refused, RuntimeError):
    """Someone else moved the booking first; reload and try again (key "stale")."""

    def __init__(self, booking_id: int | None = None):
        super().__init__("stale", booking_id=booking_id)


class NotEntitled(LookupError):
    """The actor may not act for this booking's insured person (views answer 404)."""


class ChangeRefused(Refused, ValueError):
    """A customer's or staff's move on a booking not made (cancel.*, change.*, close.*, …); nothing changed."""


# Applications an account makes online per hour: a made one counts, a refused one does not; over the limit the
# submission is not looked at (SECURITY.md: bookings are rate-limited).
APPLY_LIMIT = ratelimit.Limit(20, timedelta(hours=1))


@dataclass(frozen=True)
class ApplyOutcome:
    booking: Booking | None
    created: bool
    reasons: tuple[Reason, ...] = ()
    limited: bool = False  # refused for the account's hourly limit, before anything else was looked at

    @property
    def ok(self) -> bool:
        return self.booking is not None


@dataclass(frozen=True)
class CancelQuote:
    """What cancelling at a given moment would mean (outcomes.py decides what it spends):
    withdraw — not arranged yet; free — inside the free change period (a new date may be asked for too);
    uncounted — the change period is over, but the seed counts only a missed appointment, so cancelling spends
    nothing; counted — cancelling now spends the use; impossible — not online (the seed allows no change)."""

    outcome: str  # withdraw | free | uncounted | counted | impossible
    rule: str
    deadline: datetime | None


def new_reference() -> str:
    return "LT" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def entitlement_for(session: Session, policy: Policy, service_row: Service, on: date) -> Entitlement:
    """The entitlement row a use on `on` spends, created on first need (safe when two create it at once)."""
    product, service = rules_for(service_row)
    facts = policy_facts(policy)
    start, end = quota_period(product, service, facts, on)
    lookup = select(Entitlement).where(
        Entitlement.policy_id == policy.id, Entitlement.pool == service.pool, Entitlement.period_start == start
    )
    quota = quota_amount(service, facts)
    found = session.scalar(lookup)
    if found is not None:
        if found.quota is not None and quota is not None and found.quota < quota:
            # An add-on recorded after the period's row was made (003 门诊陪诊 lines 1526-1530): raise, never lower.
            session.execute(update(Entitlement).where(Entitlement.id == found.id, Entitlement.quota < quota)
                            .values(quota=quota).execution_options(synchronize_session=False))
            session.refresh(found)
        return found
    try:
        with session.begin_nested():
            found = Entitlement(policy_id=policy.id, pool=service.pool, period_start=start, period_end=end, quota=quota)
            session.add(found)
    except IntegrityError:
        found = session.scalar(lookup)
    return found


def usage_of(session: Session, policy: Policy, service_row: Service, on: date) -> Usage:
    """Quota, held and used for the period containing `on`. Reads only: a period nobody has used yet has
    no row, and its full quota is reported without creating one (cards call this on every page view)."""
    product, service = rules_for(service_row)
    facts = policy_facts(policy)
    start, _ = quota_period(product, service, facts, on)
    ent = session.scalar(select(Entitlement).where(
        Entitlement.policy_id == policy.id, Entitlement.pool == service.pool, Entitlement.period_start == start
    ))
    return usage_from(ent, quota_amount(service, facts))


def eligibility(session: Session, account: Account, policy: Policy, service_row: Service, now: datetime,
                units: int = 1, *, actor: Actor | None = None) -> Eligibility:
    """May `account` apply for this service now? Reads only."""
    product, service = rules_for(service_row)
    today = china_date(now)
    actor = actor or actor_for(session, account, policy.insured_id, today)
    usage = usage_of(session, policy, service_row, max(today, policy.effective_date)) if service.bookable else None
    return check(product, service, policy_facts(policy), actor, now,
                 diagnoses=diagnosis_facts(session, policy.insured_id), usage=usage, units=units)


def apply(
    session: Session,
    *,
    account: Account,
    policy_id: int,
    service_code: str,
    request_key: str,
    now: datetime,
    details: dict | None = None,
    units: int = 1,
    admission_slip_date: date | None = None,
    ip: str | None = None,
    desk: Account | None = None,
    limit: ratelimit.Limit | None = None,
) -> ApplyOutcome:
    """Apply for a service; hold its use. Refusals come back as reasons (and are audited), never half-done.
    `desk`: the staff member who took the application by phone for `account` (services/desk/desk_applications.py).
    `limit` (the portal's APPLY_LIMIT): applications made by `account` in its window; over it the outcome is
    `limited` and only the refusal is audited. One write transaction for the limit, the hold and the audit."""
    require_aware(now, "now")
    if not request_key or len(request_key) > 64:
        raise ValueError("request_key must be 1–64 characters")
    bucket = {f"apply:{account.id}": limit} if limit is not None else {}
    try:
        with write_transaction(session):
            ratelimit.lock(session, bucket)
            if ratelimit.blocked(session, bucket, now):
                audit.record(session, "booking.rate_limited", now=now, actor_id=account.id, ip=ip)
                return ApplyOutcome(None, created=False, limited=True)
            outcome = _apply(session, account, policy_id, service_code, request_key, now, details or {}, units,
                             admission_slip_date, ip, desk)
            if outcome.created:
                ratelimit.count(session, bucket, now)
            return outcome
    except IntegrityError:
        # A concurrent replay of the same submission won the race: give its result back.
        existing = _by_key(session, account.id, request_key)
        if existing is None:
            raise
        return ApplyOutcome(existing, created=False)


def _by_key(session: Session, account_id: int, request_key: str) -> Booking | None:
    return session.scalar(select(Booking).where(Booking.applicant_account_id == account_id, Booking.request_key == request_key))


def _apply(session, account, policy_id, service_code, request_key, now, details, units, admission_slip_date, ip, desk=None):
    existing = _by_key(session, account.id, request_key)
    if existing is not None:
        return ApplyOutcome(existing, created=False)

    def refuse(policy, reasons) -> ApplyOutcome:
        # A replay of this submission may have committed since the look-up above (on PostgreSQL the hold below
        # waits for its row lock, then finds the quota taken by that very booking): answer with it, not a refusal.
        won = _by_key(session, account.id, request_key)
        return ApplyOutcome(won, created=False) if won is not None else _refuse(session, desk or account, policy, now, ip, reasons)

    policy = session.get(Policy, policy_id)
    service_row = policy and session.scalar(
        select(Service).where(Service.product_id == policy.product_id, Service.code == service_code)
    )
    if policy is None or service_row is None:
        return refuse(None, (Reason("service.unknown"),))
    product, service = rules_for(service_row)
    standing = family.standing_of(session, account, policy.insured_id, china_date(now))
    actor = standing.actor
    if actor.verified and actor.relation != "none" and not standing.may(family.APPLY):
        return refuse(policy, (Reason("actor.view_only"),))
    verdict = eligibility(session, account, policy, service_row, now, units, actor=actor)
    if not verdict.allowed:
        return refuse(policy, verdict.reasons)
    ent = entitlement_for(session, policy, service_row, china_date(now))
    held = session.execute(
        update(Entitlement)
        .where(Entitlement.id == ent.id, or_(Entitlement.quota.is_(None), Entitlement.held + Entitlement.used + units <= Entitlement.quota))
        .values(held=Entitlement.held + units)
        .execution_options(synchronize_session=False)
    )
    if held.rowcount != 1:
        return refuse(policy, (Reason("quota.in_progress"),))
    session.refresh(ent)
    relation = actor.relation
    booking = Booking(
        reference=new_reference(), policy_id=policy.id, service_id=service_row.id, entitlement_id=ent.id,
        applicant_account_id=account.id, acting_as=relation, request_key=request_key, state=State.APPLIED.value,
        units=units, change_rule=service.change_rule, details=details, admission_slip_date=admission_slip_date,
        applied_at=now, updated_at=now,
    )
    booking.arrange_by = _deadline(product, service, booking)
    session.add(booking)
    session.flush()
    by_phone = {"channel": "phone"} if desk else {}  # the timeline says the desk made it for the caller
    transition = _log(session, booking, None, State.APPLIED, (desk or account).id, "staff" if desk else _role(relation),
                      now, Effect.HOLD, detail=by_phone)
    notifications.record_transition(session, booking, transition)
    audit.record(session, "booking.apply", now=now, actor_id=(desk or account).id, subject_person_id=policy.insured_id,
                 target=f"booking:{booking.id}", ip=ip, detail={"service": service.code, "acting_as": relation, **by_phone})
    return ApplyOutcome(booking, created=True)


def _refuse(session, account, policy, now, ip, reasons) -> ApplyOutcome:
    audit.record(session, "booking.refused", now=now, actor_id=account.id,
                 subject_person_id=policy.insured_id if policy else None, ip=ip,
                 detail={"reasons": [r.key for r in reasons]})
    return ApplyOutcome(None, created=False, reasons=tuple(reasons))


def promise_of(booking: Booking, rules=None, **overrides) -> deadlines.Promise:
    """What the desk has promised for `booking` now, with any of its event times replaced by `overrides`."""
    product, service = rules or rules_for(booking.service)
    events = {"applied": booking.applied_at, "approved": booking.approved_at,
              "papers_complete": booking.papers_complete_at,
              "admission_slip": deadlines.slip_moment(booking.admission_slip_date), **overrides}
    return deadlines.promise(service.arrangement, product.hours_for(service), events)


def _deadline(product, service, booking: Booking, **overrides) -> date | None:
    return promise_of(booking, (product, service), **overrides).by


def _role(relation: str) -> str:
    return "customer" if relation == "self" else "proxy"


def _log(session, booking, from_state, to_state, actor_id, actor_role, now, effect, rule=None, reason=None,
         detail=None, units=None) -> BookingTransition:
    transition = BookingTransition(
        booking_id=booking.id, from_state=from_state.value if from_state else None, to_state=to_state.value,
        actor_account_id=actor_id, actor_role=actor_role, at=now, quota_effect=effect.value, rule=rule,
        reason=reason, detail=detail or {}, units=units,
    )
    session.add(transition)
    session.flush()
    return transition


def _move(session: Session, booking_id: int, to: State, *, actor: Account, now: datetime, rule: str | None = None,
          reason: str | None = None, detail: dict | None = None, values: dict | None = None,
          decide=None) -> Booking:
    """Move one booking in its own write transaction; `decide(booking)` may pick the target at commit time."""
    require_aware(now, "now")
    with write_transaction(session):
        booking = session.get(Booking, booking_id, populate_existing=True)
        if booking is None:
            raise LookupError(booking_id)
        who = STAFF if actor.is_staff else CUSTOMER
        role = "staff"
        if who == CUSTOMER:
            standing = family.standing_of(session, actor, booking.policy.insured_id, china_date(now))
            if not standing.may(family.APPLY):  # change and cancel need the "apply" scope too
                raise NotEntitled(booking_id)
            role = _role(standing.relation)
        if decide is not None:
            to, rule, detail = decide(booking)
        frm = State(booking.state)
        effect = move(frm, to, who)
        detail = dict(detail or {})
        spent = detail.pop("units", booking.units)  # decide() says how many a spend uses (outcomes.py)
        if effect is Effect.SPEND and spent == 0:
            effect = Effect.RELEASE  # the state says what happened; the seed does not count it
        changes = {"state": to.value, "updated_at": now, **(values or {})}
        if to not in (State.APPLIED, State.UNDER_REVIEW, State.APPROVED, State.SCHEDULED):
            changes["closed_at"] = now
        done = session.execute(
            update(Booking).where(Booking.id == booking.id, Booking.state == frm.value).values(**changes)
            .execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:
            raise StaleBooking(booking_id)
        _apply_effect(session, booking, effect, spent)
        transition = _log(session, booking, frm, to, actor.id, role, now, effect, rule, reason, detail,
                          units=spent if effect is Effect.SPEND else None)
        notifications.record_transition(session, booking, transition)
        audit.record(session, f"booking.{to.value}", now=now, actor_id=actor.id, subject_person_id=booking.policy.insured_id,
                     target=f"booking:{booking.id}", detail={"rule": rule} if rule else {})
    session.refresh(booking)
    return booking


def _apply_effect(session: Session, booking: Booking, effect: Effect, spent: int) -> None:
    """Release what the booking held; of it, `spent` units are used (days served of a days quota)."""
    if effect is Effect.NONE:
        return
    values = {"held": Entitlement.held - booking.units}
    if effect is Effect.SPEND:
        values["used"] = Entitlement.used + spent
    done = session.execute(
        update(Entitlement).where(Entitlement.id == booking.entitlement_id, Entitlement.held >= booking.units)
        .values(**values).execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise RuntimeError(f"entitlement {booking.entitlement_id} holds less than booking {booking.id} took")


def start_review(session, booking_id, *, staff, now):
    return _move(session, booking_id, State.UNDER_REVIEW, actor=staff, now=now)


def mark_papers_complete(session: Session, booking_id: int, *, staff: Account, now: datetime) -> Booking:
    """Record that every paper is in; services counted from complete papers get their deadline now."""
    with write_transaction(session):
        booking = session.get(Booking, booking_id, populate_existing=True)
        if not staff.is_staff:
            raise IllegalMove(booking.state, booking.state, CUSTOMER)
        booking.papers_complete_at = now
        product, service = rules_for(booking.service)
        booking.arrange_by = _deadline(product, service, booking)
        booking.updated_at = now
        audit.record(session, "booking.papers_complete", now=now, actor_id=staff.id, target=f"booking:{booking.id}")
    return booking


def record_admission_slip(session: Session, booking_id: int, *, staff: Account, now: datetime, issued_on: date) -> Booking:
    """The admission slip the expert visit yielded (001 二【服务流程】7 line 107: "就诊后，如主诊专家开具入院通知单，
    8-10个工作日内好人生为客户协调该院安排住院"): the admission's promise now counts from its date."""
    with write_transaction(session):
        booking = session.get(Booking, booking_id, populate_existing=True)
        if not staff.is_staff:
            raise IllegalMove(booking.state, booking.state, CUSTOMER)
        product, service = rules_for(booking.service)
        if not service.arrangement or not service.arrangement.from_slip:
            raise ChangeRefused("slip.not_needed")
        if State(booking.state) not in (State.APPLIED, State.UNDER_REVIEW, State.APPROVED):
            raise ChangeRefused("slip.too_late")
        if issued_on > china_date(now) or issued_on < china_date(booking.applied_at) - timedelta(days=366):
            raise ChangeRefused("slip.date")
        booking.admission_slip_date = issued_on
        booking.arrange_by = _deadline(product, service, booking)
        booking.updated_at = now
        audit.record(session, "booking.admission_slip", now=now, actor_id=staff.id, target=f"booking:{booking.id}",
                     detail={"issued_on": issued_on.isoformat(),
                             "arrange_by": booking.arrange_by.isoformat() if booking.arrange_by else None})
    return booking


def approve(session, booking_id, *, staff, now, papers_complete_at: datetime | None = None):
    """Eligibility approved. The deadline counts from complete papers where the catalog says so (003: "自收齐完整
    病历资料起"), so the review gives the moment the last paper arrived; without one, approval is that moment."""
    booking = session.get(Booking, booking_id)
    product, service = rules_for(booking.service)
    # Approval is decided on complete papers (003: "收到完整材料后的一个工作日内审核").
    papers = booking.papers_complete_at or papers_complete_at or now
    values = {"approved_at": now, "papers_complete_at": papers,
              "arrange_by": _deadline(product, service, booking, approved=now, papers_complete=papers)}
    return _move(session, booking_id, State.APPROVED, actor=staff, now=now, values=values,
                 detail={"arrange_by": values["arrange_by"].isoformat() if values["arrange_by"] else None})


def reject(session, booking_id, *, staff, now, reason: str):
    return _move(session, booking_id, State.REJECTED, actor=staff, now=now, reason=reason)


def withdraw(session, booking_id, *, actor, now):
    """Withdraw an application not yet arranged; one whose use a late change counted ends counted (see `cancel`)."""

    def decide(booking: Booking):
        if changed_late(booking):
            return State.CANCELLED_COUNTED, LATE_CHANGE, {"at": now.isoformat(), "units": booking.units}
        return State.WITHDRAWN, None, {}

    return _move(session, booking_id, State.WITHDRAWN, actor=actor, now=now, decide=decide)


def schedule(session, booking_id, *, staff, now, starts_at: datetime, appointment: dict):
    require_aware(starts_at, "starts_at")
    booking = session.get(Booking, booking_id)
    deadline = change_deadline(booking.change_rule, starts_at)
    return _move(session, booking_id, State.SCHEDULED, actor=staff, now=now,
                 values={"starts_at": starts_at, "appointment": appointment},
                 detail={"starts_at": starts_at.isoformat(), "free_change_until": deadline.isoformat() if deadline else None})


def record_failed_booking(session: Session, booking_id: int, *, staff: Account, now: datetime, asked_for: str,
                          alternatives: str) -> Booking:
    """The named expert (or hospital) could not be booked: say so, and which alternatives were offered. The
    booking stays with the coordinator; the customer accepts one (it is arranged) or declines (000 Q&A: then the
    use is not counted, `release_failed_booking`). Logged as a step without a move, so the customer sees it."""
    require_aware(now, "now")
    if not staff.is_staff:
        raise IllegalMove(State.APPROVED, State.APPROVED, CUSTOMER)
    with write_transaction(session):
        booking = session.get(Booking, booking_id, populate_existing=True)
        if booking is None:
            raise LookupError(booking_id)
        if booking.state != State.APPROVED.value:
            raise ChangeRefused("arrange.not_approved")
        booking.updated_at = now
        transition = _log(session, booking, State.APPROVED, State.APPROVED, staff.id, "staff", now, Effect.NONE,
                          rule=FAILED_BOOKING, detail={"asked_for": asked_for, "alternatives": alternatives})
        notifications.record_transition(session, booking, transition)
        audit.record(session, "booking.failed_booking", now=now, actor_id=staff.id,
                     subject_person_id=booking.policy.insured_id, target=f"booking:{booking.id}")
    return booking


def alternatives_offered(booking: Booking) -> BookingTransition | None:
    """The last failed-booking step since the booking was last approved (or changed), if it is still open."""
    for transition in reversed(booking.transitions):
        if transition.rule == FAILED_BOOKING and transition.to_state == State.APPROVED.value:
            return transition if booking.state == State.APPROVED.value else None
        if transition.to_state != State.APPROVED.value or transition.from_state != State.APPROVED.value:
            return None
    return None


def release_failed_booking(session, booking_id, *, staff, now, reason: str):
    """000 Q&A: the named expert could not be booked and the customer declined the alternatives — not counted.
    The coordinator records it (the customer said so by phone); online the customer uses decline_alternatives."""
    if not staff.is_staff:
        raise IllegalMove(State.APPROVED, State.CANCELLED_FREE, CUSTOMER)
    booking = session.get(Booking, booking_id)
    if booking is None:
        raise LookupError(booking_id)
    offered = alternatives_offered(booking)
    if offered is None:
        raise ChangeRefused("arrange.no_failed_booking")
    detail = {"failed_at": offered.at.isoformat(), "asked_for": offered.detail.get("asked_for"),
              "alternatives": offered.detail.get("alternatives")}
    return _move(session, booking_id, State.CANCELLED_FREE, actor=staff, now=now, rule="booking_failed_declined",
                 reason=reason, detail=detail)


def decline_alternatives(session: Session, booking_id: int, *, actor: Account, now: datetime) -> Booking:
    """The customer (or a family member who may apply for them) accepts none of the alternatives offered after a
    failed booking of a named expert: the service ends and is not counted (000 Q&A: "若客户不同意，本次服务中止，
    不计算客户已使用服务"). Only while alternatives are on offer."""

    def decide(booking: Booking):
        offered = alternatives_offered(booking)
        if offered is None:
            raise ChangeRefused("arrange.no_failed_booking")
        return State.CANCELLED_FREE, "booking_failed_declined", {
            "failed_at": offered.at.isoformat(), "asked_for": offered.detail.get("asked_for"),
            "alternatives": offered.detail.get("alternatives")}

    return _move(session, booking_id, State.CANCELLED_FREE, actor=actor, now=now, decide=decide)


def cancel_quote(booking: Booking, now: datetime) -> CancelQuote:
    """What cancelling at `now` would mean, for the confirmation step and for the commit itself."""
    require_aware(now, "now")
    if changed_late(booking) and booking.state in (State.APPROVED.value, State.SCHEDULED.value):
        # A late change already made this use count (003 同城专车接送 Q&A(2) line 636): ending it now spends it.
        deadline = change_deadline(booking.change_rule, booking.starts_at) if booking.starts_at else None
        return CancelQuote("counted", booking.change_rule, deadline)
    if booking.state in (State.APPLIED.value, State.UNDER_REVIEW.value, State.APPROVED.value):
        return CancelQuote("withdraw", booking.change_rule, None)
    if booking.state != State.SCHEDULED.value:
        return CancelQuote("impossible", booking.change_rule, None)
    deadline = change_deadline(booking.change_rule, booking.starts_at)
    if deadline is None:
        return CancelQuote("impossible", booking.change_rule, None)
    if may_change_free(booking.change_rule, booking.starts_at, now):
        return CancelQuote("free", booking.change_rule, deadline)
    _, service = rules_for(booking.service)
    counted = units_spent(service, "cancel", starts_at=booking.starts_at, at=now, booked_units=booking.units) > 0
    return CancelQuote("counted" if counted else "uncounted", booking.change_rule, deadline)


def cancel_spends(booking: Booking, now: datetime) -> int:
    """Units a cancellation at `now` would spend, as `cancel` decides them: by the customer online, or through the
    service line where it cannot be cancelled online (staff record it the same way). 0 for a closed booking."""
    quote = cancel_quote(booking, now)
    if State(booking.state) not in OPEN or booking.starts_at is None or quote.outcome in ("withdraw", "free"):
        return 0
    if changed_late(booking):
        return booking.units
    _, service = rules_for(booking.service)
    return units_spent(service, "cancel", starts_at=booking.starts_at, at=now, booked_units=booking.units,
                       served_units=_served(booking, service, now))


def cancel(session: Session, booking_id: int, *, actor: Account, now: datetime) -> Booking:
    """Cancel a scheduled booking; whether it counts as used is decided here, by the server clock, at commit."""

    def decide(booking: Booking):
        quote = cancel_quote(booking, now)
        if quote.outcome == "withdraw":
            return State.WITHDRAWN, None, {}
        if quote.outcome == "impossible" and not actor.is_staff:
            raise ChangeRefused("cancel.not_cancellable")
        detail = {"at": now.isoformat(), "starts_at": booking.starts_at.isoformat() if booking.starts_at else None,
                  "free_until": quote.deadline.isoformat() if quote.deadline else None}
        if quote.outcome == "free":
            return State.CANCELLED_FREE, booking.change_rule, detail
        if changed_late(booking):
            return State.CANCELLED_COUNTED, LATE_CHANGE, {**detail, "units": booking.units}
        _, service = rules_for(booking.service)
        units = units_spent(service, "cancel", starts_at=booking.starts_at, at=now, booked_units=booking.units,
                            served_units=_served(booking, service, now))
        if units == 0:  # the seed counts only a missed appointment (outcomes.py)
            return State.CANCELLED_FREE, LATE_CANCEL_UNCOUNTED, detail
        return State.CANCELLED_COUNTED, booking.change_rule, {**detail, "units": units}

    return _move(session, booking_id, State.CANCELLED_FREE, actor=actor, now=now, decide=decide)


def changed_late(booking: Booking) -> bool:
    """Whether a change after the deadline has already made this booking's use count (`request_change`)."""
    return any(t.rule == LATE_CHANGE for t in booking.transitions)


def late_change_allowed(booking: Booking, now: datetime) -> bool:
    """A scheduled booking past its free change time whose service still takes a change, counting the use."""
    if booking.state != State.SCHEDULED.value:
        return False
    _, service = rules_for(booking.service)
    return late_change_counts(service) and cancel_quote(booking, now).outcome == "counted"


def request_change(session: Session, booking_id: int, *, actor: Account, now: datetime, wishes: dict) -> Booking:
    """Ask for another date; the coordinator arranges again. Free while a change is free. After that only where the
    seed takes a late change and counts it (003 同城专车接送 Q&A(2) lines 634-638: "未能提前4小时取消或变更已预约的服务，
    视为服务已使用，但服务人员会将尽力提供服务，但无法保证服务落实"): the use stays held and every ending spends it.
    Elsewhere a late change is refused."""

    def decide(booking: Booking):
        detail = {"wishes": wishes, "previous_starts_at": booking.starts_at.isoformat() if booking.starts_at else None}
        if cancel_quote(booking, now).outcome == "free":
            return State.APPROVED, booking.change_rule, detail
        if late_change_allowed(booking, now):
            return State.APPROVED, LATE_CHANGE, detail
        raise ChangeRefused("change.not_free")

    return _move(session, booking_id, State.APPROVED, actor=actor, now=now, decide=decide, values={"starts_at": None})


def _closing_detail(booking: Booking, now: datetime, staff: Account) -> dict:
    """The timestamps a closing decision records (and the customer sees): the appointment and the decision."""
    if not staff.is_staff:
        raise IllegalMove(booking.state, "closed", CUSTOMER)
    if booking.starts_at is None:
        raise ChangeRefused("close.not_scheduled")
    if now < booking.starts_at:
        raise ChangeRefused("close.before_appointment")
    return {"starts_at": booking.starts_at.isoformat(), "recorded_at": now.isoformat()}


def complete(session, booking_id, *, staff, now, served_units: int | None = None):
    """The service was delivered: the use is spent (rule "delivered"). A days quota (003 nursing aide) spends the
    days served, which staff give (`served_units`, at most the days booked; outcomes.py)."""
    def decide(booking: Booking):
        detail = _closing_detail(booking, now, staff)
        _, service = rules_for(booking.service)
        served = _served_given(booking, service, served_units)
        units = units_spent(service, "completed", starts_at=booking.starts_at, at=now, booked_units=booking.units,
                            served_units=served)
        return State.COMPLETED, "delivered", {**detail, "units": units}

    return _move(session, booking_id, State.COMPLETED, actor=staff, now=now, decide=decide)


def mark_no_show(session, booking_id, *, staff, now, minutes_late: int | None = None):
    """No-show, or a late arrival the seed treats as one (000 （一）2.9(5): "迟到30分钟（含）以上…视为放弃")."""

    def decide(booking: Booking):
        detail = _closing_detail(booking, now, staff)
        _, service = rules_for(booking.service)
        if minutes_late is None:
            units = units_spent(service, "no_show", starts_at=booking.starts_at, at=now, booked_units=booking.units,
                                served_units=_served(booking, service, now))
            return State.NO_SHOW, "no_show" if units else NO_SHOW_UNCOUNTED, {**detail, "units": units}
        limit = service.late_arrival_minutes
        if limit is None or minutes_late < limit:
            raise ChangeRefused("close.late_not_counted")
        return State.NO_SHOW, "late_arrival", {**detail, "minutes_late": minutes_late, "limit": limit}

    return _move(session, booking_id, State.NO_SHOW, actor=staff, now=now, decide=decide)


COUNTED = frozenset({State.COMPLETED, State.NO_SHOW, State.CANCELLED_COUNTED})
LATE_CHANGE = "late_change_counted"  # a change after the deadline, taken and counted (003 同城专车接送 Q&A(2))
LATE_CANCEL_UNCOUNTED = "late_cancel_uncounted"  # after the change deadline, where the seed counts only a no-show
NO_SHOW_UNCOUNTED = "no_show_uncounted"  # a no-show of a service whose seed does not count one
VENDOR_FAILED = "vendor_failed"


def _served(booking: Booking, service, now: datetime) -> int:
    """Days of a days quota served by `now`: whole days since the start, at most the days booked (003 nursing aide:
    "每天最长24小时"); 0 for a count quota."""
    if not counts_by_days(service) or booking.starts_at is None or now <= booking.starts_at:
        return 0
    return min(booking.units, -(-int((now - booking.starts_at).total_seconds()) // 86400))


def _served_given(booking: Booking, service, served_units: int | None) -> int:
    if not counts_by_days(service):
        return 0
    if served_units is None:
        raise ChangeRefused("close.days_needed")
    if isinstance(served_units, bool) or not isinstance(served_units, int) or not 0 <= served_units <= booking.units:
        raise ChangeRefused("close.days_range")
    return served_units


def close_vendor_failed(session: Session, booking_id: int, *, staff: Account, now: datetime, reason: str) -> Booking:
    """The vendor could not deliver (the expert cancelled the clinic, force majeure, no indication where the seed
    does not count it): the booking closes uncounted and the use goes back at once (001 注意事项3/4; 003 护工 七5:
    "供应商当次服务免责，并为被保险人保留当次服务权益"). Staff give the reason; the customer sees it."""
    reason = (reason or "").strip()[:255]
    if not staff.is_staff:
        raise IllegalMove("scheduled", State.CANCELLED_FREE.value, CUSTOMER)
    if not reason:
        raise ChangeRefused("close.reason_needed")

    def decide(booking: Booking):
        if State(booking.state) not in (State.APPROVED, State.SCHEDULED):
            raise ChangeRefused("close.not_open")
        if changed_late(booking):
            # The late change counted the use and the seed promises only best effort after it (003 同城专车接送 Q&A(2)).
            return State.CANCELLED_COUNTED, LATE_CHANGE, {"recorded_at": now.isoformat(), "units": booking.units}
        return State.CANCELLED_FREE, VENDOR_FAILED, {"recorded_at": now.isoformat()}

    return _move(session, booking_id, State.CANCELLED_FREE, actor=staff, now=now, reason=reason, decide=decide)


def reverse_counted_use(session: Session, booking_id: int, *, admin: Account, now: datetime, reason: str) -> Booking:
    """An admin upholds the customer's appeal: the spent use is given back to the quota it came from. The
    booking keeps its state (what happened stays true); a "refund" step records who, when and why. Once only."""
    require_aware(now, "now")
    reason = (reason or "").strip()
    if admin.staff_role != "admin":
        raise IllegalMove("counted", "reversed", STAFF if admin.is_staff else CUSTOMER)
    if not reason:
        raise ChangeRefused("reverse.reason_needed")
    with write_transaction(session):
        booking = session.get(Booking, booking_id, populate_existing=True)
        if booking is None:
            raise LookupError(booking_id)
        state = State(booking.state)
        spent = next((t for t in reversed(booking.transitions) if t.quota_effect == Effect.SPEND.value), None)
        if state not in COUNTED or spent is None:
            raise ChangeRefused("reverse.not_counted")
        units = spent.units if spent.units is not None else booking.units
        done = session.execute(
            update(Booking).where(Booking.id == booking.id, Booking.use_reversed_at.is_(None))
            .values(use_reversed_at=now, updated_at=now).execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:
            raise ChangeRefused("reverse.already")
        given = session.execute(
            update(Entitlement).where(Entitlement.id == booking.entitlement_id, Entitlement.used >= units)
            .values(used=Entitlement.used - units).execution_options(synchronize_session=False)
        )
        if given.rowcount != 1:
            raise RuntimeError(f"entitlement {booking.entitlement_id} has less used than booking {booking.id} spent")
        detail = {"counted_rule": spent.rule, "counted_at": spent.at.isoformat()}
        transition = _log(session, booking, state, state, admin.id, "staff", now, Effect.REFUND, rule="appeal_upheld",
                          reason=reason[:255], detail=detail, units=units)
        notifications.record_transition(session, booking, transition)
        audit.record(session, "booking.use_reversed", now=now, actor_id=admin.id,
                     subject_person_id=booking.policy.insured_id, target=f"booking:{booking.id}",
                     detail={"rule": detail["counted_rule"]})
    session.refresh(booking)
    return booking


__all__ = [
    "ApplyOutcome", "CancelQuote", "ChangeRefused", "IllegalMove", "close_vendor_failed", "NotEntitled", "StaleBooking", "apply", "approve", "cancel",
    "decline_alternatives",
    "cancel_quote", "complete", "eligibility", "entitlement_for", "usage_of", "mark_no_show", "mark_papers_complete",
    "record_failed_booking", "reject", "release_failed_booking", "request_change", "reverse_counted_use", "schedule",
    "start_review", "withdraw",
]
