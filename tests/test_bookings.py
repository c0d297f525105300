"""The booking state machine against a real database: holds, releases, spends, and who may do what."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from webapp.models import AuditEvent, Booking, BookingTransition, Entitlement
from webapp.services import ratelimit
from webapp.services.booking import bookings
from webapp.services.booking.booking_states import IllegalMove

from .conftest import World, at

NOW = at(2026, 11, 16, 10, 0)  # Monday; the 000 policy (effective 2026-01-01) is past waiting


@pytest.fixture()
def w(session):
    return World(session, "cigc_classic", effective=date(2026, 1, 1))


def apply(w, key="k1", now=NOW, account=None, service="expert_outpatient", **kw):
    return bookings.apply(w.session, account=account or w.account, policy_id=w.policy.id, service_code=service,
                          request_key=key, now=now, details={"city": "上海"}, **kw)


def entitlement(w):
    w.session.expire_all()
    return w.session.scalar(select(Entitlement).where(Entitlement.policy_id == w.policy.id))


def scheduled(w, starts_at, key="k1"):
    b = apply(w, key).booking
    bookings.start_review(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=1))
    bookings.approve(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=2))
    return bookings.schedule(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=3), starts_at=starts_at,
                             appointment={"hospital": "瑞金医院"})


def test_apply_holds_one_use_and_records_the_transition(w):
    outcome = apply(w)
    assert outcome.ok and outcome.created
    ent = entitlement(w)
    assert (ent.quota, ent.held, ent.used) == (1, 1, 0)
    assert [(t.from_state, t.to_state, t.quota_effect, t.actor_role) for t in outcome.booking.transitions] == [
        (None, "applied", "hold", "customer")]
    assert outcome.booking.arrange_by is None  # 000 2.7 counts from approval, not yet given


def test_replayed_submission_does_nothing_twice(w):
    first = apply(w, "same-key")
    again = apply(w, "same-key")
    assert again.ok and not again.created and again.booking.id == first.booking.id
    assert w.session.scalar(select(func.count(Booking.id))) == 1
    assert entitlement(w).held == 1


def test_second_application_is_refused_while_the_first_holds_the_use(w):
    apply(w, "a")
    second = apply(w, "b")
    assert not second.ok and [r.key for r in second.reasons] == ["quota.in_progress"]
    refusal = w.session.scalar(select(AuditEvent).where(AuditEvent.action == "booking.refused"))
    assert refusal.detail == {"reasons": ["quota.in_progress"]} and refusal.subject_person_id == w.person.id


def test_stranger_cannot_apply(w):
    outcome = apply(w, account=w.stranger)
    assert [r.key for r in outcome.reasons] == ["actor.not_entitled"]
    assert entitlement(w) is None or entitlement(w).held == 0  # a refusal holds nothing (and creates no row)


def test_verified_guardian_applies_as_guardian(w):
    parent = w.guardian()
    outcome = apply(w, account=parent)
    assert outcome.ok and outcome.booking.acting_as == "guardian"
    assert outcome.booking.transitions[0].actor_role == "proxy"


def test_expired_guardianship_cannot_apply(w):
    parent = w.guardian(valid_until=date(2026, 11, 16))  # valid_until is exclusive: over at 00:00 today
    assert [r.key for r in apply(w, account=parent).reasons] == ["actor.not_entitled"]


@pytest.mark.parametrize("end", ["reject", "withdraw"])
def test_rejection_and_withdrawal_release_the_use(w, end):
    b = apply(w).booking
    if end == "reject":
        bookings.reject(w.session, b.id, staff=w.staff, now=NOW, reason="not a covered illness")
    else:
        bookings.withdraw(w.session, b.id, actor=w.account, now=NOW)
    ent = entitlement(w)
    assert (ent.held, ent.used) == (0, 0)
    assert apply(w, "again").ok


def test_approval_computes_the_deadline_in_working_days(w):
    b = apply(w).booking
    bookings.start_review(w.session, b.id, staff=w.staff, now=NOW)
    approved = bookings.approve(w.session, b.id, staff=w.staff, now=at(2026, 11, 20, 19, 0))  # Friday after 18:00
    assert approved.arrange_by == date(2026, 11, 30)  # desk looks Monday 23rd; + 5 working days (000 2.7)


def test_cancel_before_noon_the_day_before_is_free(w):
    # 000 （一）2.9(6): "需在预约就诊日前一天12:00之前…取消"
    b = scheduled(w, at(2026, 11, 25, 9, 0))
    quote = bookings.cancel_quote(b, at(2026, 11, 24, 11, 59, 59))
    assert quote.outcome == "free" and quote.deadline == at(2026, 11, 24, 12, 0)
    done = bookings.cancel(w.session, b.id, actor=w.account, now=at(2026, 11, 24, 11, 59, 59))
    assert done.state == "cancelled_free"
    assert (entitlement(w).held, entitlement(w).used) == (0, 0)


def test_cancel_at_noon_the_day_before_counts_as_used_with_the_rule_recorded(w):
    b = scheduled(w, at(2026, 11, 25, 9, 0))
    done = bookings.cancel(w.session, b.id, actor=w.account, now=at(2026, 11, 24, 12, 0, 0))
    assert done.state == "cancelled_counted"
    last = done.transitions[-1]
    assert (last.rule, last.quota_effect) == ("noon_day_before", "spend")
    assert last.detail["free_until"] == "2026-11-24T12:00:00+08:00"
    assert (entitlement(w).held, entitlement(w).used) == (0, 1)


def test_a_cancellation_refunds_at_most_once(w):
    b = scheduled(w, at(2026, 11, 25, 9, 0))
    bookings.cancel(w.session, b.id, actor=w.account, now=at(2026, 11, 23, 9, 0))
    with pytest.raises((IllegalMove, bookings.ChangeRefused)):
        bookings.cancel(w.session, b.id, actor=w.account, now=at(2026, 11, 23, 9, 0, 1))
    assert (entitlement(w).held, entitlement(w).used) == (0, 0)


def test_admission_is_not_cancellable_by_the_customer(session):
    # 000 （二）2.9(11): "本项服务预约成功后，不可取消。若取消，仍计为有效服务一次"
    w = World(session, "cigc_classic", effective=date(2026, 1, 1))
    b = bookings.apply(session, account=w.account, policy_id=w.policy.id, service_code="inpatient_surgery",
                       request_key="adm", now=NOW, admission_slip_date=date(2026, 11, 13)).booking
    assert b.arrange_by == date(2026, 11, 25)  # 7 working days after the desk receives it on Mon 16th
    bookings.start_review(session, b.id, staff=w.staff, now=NOW)
    bookings.approve(session, b.id, staff=w.staff, now=NOW)
    b = bookings.schedule(session, b.id, staff=w.staff, now=NOW, starts_at=at(2026, 11, 30, 8, 0), appointment={})
    assert bookings.cancel_quote(b, NOW).outcome == "impossible"
    with pytest.raises(bookings.ChangeRefused):
        bookings.cancel(session, b.id, actor=w.account, now=NOW)
    staff_cancel = bookings.cancel(session, b.id, actor=w.staff, now=NOW)  # the customer phoned: it counts
    assert staff_cancel.state == "cancelled_counted"


def test_free_change_goes_back_to_arranging_and_keeps_the_hold(w):
    b = scheduled(w, at(2026, 11, 25, 9, 0))
    changed = bookings.request_change(w.session, b.id, actor=w.account, now=at(2026, 11, 23, 9, 0), wishes={"dates": ["2026-11-27"]})
    assert changed.state == "approved" and changed.starts_at is None
    assert entitlement(w).held == 1
    again = bookings.schedule(w.session, b.id, staff=w.staff, now=at(2026, 11, 23, 15, 0), starts_at=at(2026, 11, 27, 9, 0), appointment={})
    with pytest.raises(bookings.ChangeRefused):
        bookings.request_change(w.session, again.id, actor=w.account, now=at(2026, 11, 26, 12, 0), wishes={})


def test_no_show_and_late_arrival_spend_the_use(w):
    b = scheduled(w, at(2026, 11, 25, 9, 0))
    with pytest.raises(bookings.ChangeRefused):  # 29 minutes late is not 30 (000 2.9(5): "30分钟（含）以上")
        bookings.mark_no_show(w.session, b.id, staff=w.staff, now=at(2026, 11, 25, 9, 29), minutes_late=29)
    done = bookings.mark_no_show(w.session, b.id, staff=w.staff, now=at(2026, 11, 25, 9, 30), minutes_late=30)
    assert done.state == "no_show" and done.transitions[-1].rule == "late_arrival"
    assert (entitlement(w).held, entitlement(w).used) == (0, 1)


def test_completion_spends_and_failed_named_expert_releases(w):
    b = scheduled(w, at(2026, 11, 25, 9, 0))
    bookings.complete(w.session, b.id, staff=w.staff, now=at(2026, 11, 25, 12, 0))
    assert entitlement(w).used == 1


def test_failed_named_expert_booking_is_not_counted(w):
    # 000 Q&A: "若客户不同意，本次服务中止，不计算客户已使用服务"
    b = apply(w).booking
    bookings.start_review(w.session, b.id, staff=w.staff, now=NOW)
    bookings.approve(w.session, b.id, staff=w.staff, now=NOW)
    with pytest.raises(bookings.ChangeRefused):  # nothing failed yet: there is nothing to release
        bookings.release_failed_booking(w.session, b.id, staff=w.staff, now=NOW, reason="declined")
    bookings.record_failed_booking(w.session, b.id, staff=w.staff, now=NOW, asked_for="王主任（肿瘤科）",
                                   alternatives="李主任（同科室）11月27日上午")
    done = bookings.release_failed_booking(w.session, b.id, staff=w.staff, now=NOW, reason="expert unavailable; declined")
    assert done.state == "cancelled_free" and done.transitions[-1].rule == "booking_failed_declined"
    assert done.transitions[-1].detail["asked_for"] == "王主任（肿瘤科）"
    assert (entitlement(w).held, entitlement(w).used) == (0, 0)


@pytest.mark.parametrize("move", ["start_review", "approve", "schedule", "complete"])
def test_customers_cannot_make_staff_moves(w, move):
    b = apply(w).booking
    kwargs = {"staff": w.account, "now": NOW}
    if move == "schedule":
        kwargs.update(starts_at=at(2026, 11, 25, 9, 0), appointment={})
    with pytest.raises(IllegalMove):
        getattr(bookings, move)(w.session, b.id, **kwargs)


def test_every_transition_is_recorded_with_actor_and_time(w):
    b = scheduled(w, at(2026, 11, 25, 9, 0))
    bookings.complete(w.session, b.id, staff=w.staff, now=at(2026, 11, 25, 12, 0))
    rows = w.session.scalars(select(BookingTransition).where(BookingTransition.booking_id == b.id).order_by(BookingTransition.id)).all()
    assert [r.to_state for r in rows] == ["applied", "under_review", "approved", "scheduled", "completed"]
    assert all(r.at.tzinfo is not None and r.actor_account_id for r in rows)
    assert rows[-1].at == at(2026, 11, 25, 12, 0)


def test_nursing_aide_days_quota(session):
    w = World(session, "zhongan_vip", effective=date(2026, 1, 1))
    first = bookings.apply(session, account=w.account, policy_id=w.policy.id, service_code="nursing_aide",
                           request_key="n1", now=NOW, units=20)
    assert first.ok
    too_many = bookings.apply(session, account=w.account, policy_id=w.policy.id, service_code="nursing_aide",
                              request_key="n2", now=NOW, units=11)
    assert [r.key for r in too_many.reasons] == ["quota.not_enough"]
    assert bookings.apply(session, account=w.account, policy_id=w.policy.id, service_code="nursing_aide",
                          request_key="n3", now=NOW, units=10).ok


def test_shared_pool_of_001(session):
    # 001: "保单有效期内，您可以提出服务使用申请一次" — expert and inpatient share one use.
    w = World(session, "haorensheng_gc", effective=date(2026, 1, 1))
    assert bookings.apply(session, account=w.account, policy_id=w.policy.id, service_code="expert_outpatient",
                          request_key="e", now=NOW).ok
    other = bookings.apply(session, account=w.account, policy_id=w.policy.id, service_code="inpatient",
                           request_key="i", now=NOW, admission_slip_date=date(2026, 11, 10))
    assert [r.key for r in other.reasons] == ["quota.in_progress"]


def test_naive_clock_is_refused(w):
    from datetime import datetime

    with pytest.raises(ValueError):
        apply(w, now=datetime(2026, 11, 16, 10, 0))


@pytest.mark.parametrize("act", ["withdraw", "cancel", "request_change"])
def test_a_stranger_cannot_touch_someone_elses_booking(w, act):
    b = apply(w).booking
    kwargs = {"wishes": {}} if act == "request_change" else {}
    with pytest.raises(bookings.NotEntitled):
        getattr(bookings, act)(w.session, b.id, actor=w.stranger, now=NOW, **kwargs)
    w.session.rollback()
    assert w.session.get(Booking, b.id).state == "applied"
    assert entitlement(w).held == 1


def test_the_insured_may_withdraw_what_their_guardian_applied_for(w):
    parent = w.guardian()
    b = apply(w, account=parent).booking
    done = bookings.withdraw(w.session, b.id, actor=w.account, now=NOW)
    assert done.transitions[-1].actor_role == "customer"


def test_checking_eligibility_writes_nothing(w):
    # The cards call this on every page view: a read must never insert (SQLite would have to upgrade its lock).
    service = w.policy.product.services[0]
    verdict = bookings.eligibility(w.session, w.account, w.policy, service, NOW)
    assert verdict.allowed
    assert not w.session.new and w.session.scalar(select(func.count(Entitlement.id))) == 0
    assert bookings.usage_of(w.session, w.policy, service, NOW.date()) == bookings.Usage(1, 0, 0)


def test_customers_cannot_mark_papers_complete(w):
    b = apply(w).booking
    with pytest.raises(IllegalMove):
        bookings.mark_papers_complete(w.session, b.id, staff=w.account, now=NOW)
    w.session.rollback()
    assert w.session.get(Booking, b.id).papers_complete_at is None


def test_an_account_over_its_hourly_limit_is_refused_before_anything_is_looked_at(w):
    limit = ratelimit.Limit(1, timedelta(hours=1))
    assert apply(w, "a", limit=limit).created
    over = apply(w, "b", limit=limit)
    assert over.limited and not over.ok and over.reasons == ()
    assert apply(w, "a", limit=limit).limited  # a replay too: the limit is checked first, as the portal always did
    actions = w.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("booking.%"))).all()
    assert sorted(actions) == ["booking.apply", "booking.rate_limited", "booking.rate_limited"]
    later = NOW + timedelta(hours=1, seconds=1)
    for key in ("b", "c"):  # a refused application does not count against the limit
        refused = apply(w, key, now=later, limit=limit)
        assert not refused.limited and [r.key for r in refused.reasons] == ["quota.in_progress"]
