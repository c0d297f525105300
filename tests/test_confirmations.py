"""Day-before confirmation (issue 18 item 5; seed 001 lines 33, 89: "就诊前1日，客服专员致电客户确认"): which
appointments are tomorrow (China dates), the states, only scheduled bookings, idempotent confirmation, the desk's
note of a call, and the day-before reminder. Fixed clocks only."""
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from webapp.models import AuditEvent, DayConfirmation, Notification
from webapp.services.booking import bookings, notifications
from webapp.services.desk import confirmations

from .conftest import World, at

NOW = at(2026, 11, 23, 10, 0)  # Monday 10:00 China time
TOMORROW_EARLY = at(2026, 11, 24, 0, 30)  # Tuesday 00:30: tomorrow, though under 15 hours away
TOMORROW_LATE = at(2026, 11, 24, 23, 30)
DAY_AFTER = at(2026, 11, 25, 0, 0)  # Wednesday midnight: not tomorrow


@pytest.fixture()
def w(session):
    return World(session, "zhongan_vip", effective=date(2026, 1, 1))


class Recorder:
    def __init__(self):
        self.sent = []

    def send(self, account, notification):
        self.sent.append((account.id, notification.kind, notification.payload["reference"]))


def scheduled(w, starts_at, key="k1", service="expert_outpatient"):
    applied = NOW - timedelta(days=3)
    b = bookings.apply(w.session, account=w.account, policy_id=w.policy.id, service_code=service, request_key=key,
                       now=applied).booking
    bookings.start_review(w.session, b.id, staff=w.staff, now=applied + timedelta(hours=1))
    bookings.approve(w.session, b.id, staff=w.staff, now=applied + timedelta(hours=2))
    return bookings.schedule(w.session, b.id, staff=w.staff, now=applied + timedelta(hours=3), starts_at=starts_at,
                             appointment={"hospital": "瑞金医院"})


def listed(w, now=NOW):
    w.session.expire_all()
    return [(r.booking.id, r.state) for r in confirmations.day_list(w.session, confirmations.tomorrow(now))]


def test_tomorrow_is_the_next_china_date_whatever_the_utc_date():
    assert confirmations.tomorrow(NOW) == date(2026, 11, 24)
    assert confirmations.tomorrow(at(2026, 11, 23, 23, 59)) == date(2026, 11, 24)
    assert confirmations.tomorrow(at(2026, 11, 24, 0, 0)) == date(2026, 11, 25)  # 16:00 UTC the day before


def test_the_list_holds_tomorrows_scheduled_appointments_by_time(w):
    late = scheduled(w, TOMORROW_LATE, key="late")
    early = scheduled(w, TOMORROW_EARLY, key="early", service="escort_outpatient")
    scheduled(w, DAY_AFTER, key="after", service="car_pickup")
    assert listed(w) == [(early.id, "unconfirmed"), (late.id, "unconfirmed")]


def test_only_scheduled_bookings_are_listed_or_confirmed(w):
    b = scheduled(w, TOMORROW_LATE)
    bookings.request_change(w.session, b.id, actor=w.account, now=NOW, wishes={"dates": []})  # back to arranging
    w.session.expire_all()
    assert listed(w) == []
    with pytest.raises(confirmations.Refused) as refused:
        confirmations.confirm_online(w.session, b.id, account=w.account, now=NOW)
    assert refused.value.key == "confirm.not_now"


@pytest.mark.parametrize("starts_at, when, ok", [
    (TOMORROW_LATE, NOW, True),  # tomorrow
    (at(2026, 11, 23, 18, 0), NOW, True),  # later today
    (DAY_AFTER, NOW, False),  # the day after tomorrow: too early
    (at(2026, 11, 23, 18, 0), at(2026, 11, 23, 18, 0), False),  # the time has come: too late
])
def test_what_can_be_confirmed_when(w, starts_at, when, ok):
    b = scheduled(w, starts_at)
    assert confirmations.may_confirm(b, when) is ok


def test_the_customers_confirmation_is_idempotent_and_audited_once(w):
    b = scheduled(w, TOMORROW_LATE)
    first = confirmations.confirm_online(w.session, b.id, account=w.account, now=NOW)
    again = confirmations.confirm_online(w.session, b.id, account=w.account, now=NOW + timedelta(minutes=1))
    assert again.id == first.id and again.at == NOW and again.state == confirmations.ONLINE
    assert w.session.scalars(select(DayConfirmation)).all() == [first]
    events = w.session.scalars(select(AuditEvent).where(AuditEvent.action == "booking.day_confirmed")).all()
    assert [(e.actor_account_id, e.target, e.subject_person_id) for e in events] == [(w.account.id, f"booking:{b.id}", w.person.id)]
    assert listed(w) == [(b.id, "confirmed_online")]


def test_the_desk_notes_a_call_and_a_later_call_replaces_it(w):
    b = scheduled(w, TOMORROW_LATE)
    confirmations.record_call(w.session, b.id, staff=w.staff, outcome=confirmations.WANTS_CHANGE,
                              note="  想改到  周四 ", now=NOW)
    assert listed(w) == [(b.id, "wants_change")]
    row = confirmations.record_call(w.session, b.id, staff=w.staff, outcome=confirmations.PHONE, note="",
                                    now=NOW + timedelta(hours=1))
    assert (row.state, row.note, row.by_account_id) == ("confirmed_phone", None, w.staff.id)
    events = w.session.scalars(select(AuditEvent).where(AuditEvent.action == "booking.day_call").order_by(AuditEvent.id)).all()
    assert [(e.detail["before"], e.detail["state"], e.detail["noted"]) for e in events] == [
        ("unconfirmed", "wants_change", True), ("wants_change", "confirmed_phone", False)]
    # the customer's own confirmation after the desk's changes nothing
    assert confirmations.confirm_online(w.session, b.id, account=w.account, now=NOW + timedelta(hours=2)).state == "confirmed_phone"


def test_a_customer_who_asked_for_a_change_may_still_confirm_online(w):
    b = scheduled(w, TOMORROW_LATE)
    confirmations.record_call(w.session, b.id, staff=w.staff, outcome=confirmations.WANTS_CHANGE, note="考虑改期", now=NOW)
    row = confirmations.confirm_online(w.session, b.id, account=w.account, now=NOW + timedelta(hours=1))
    assert (row.state, row.note, row.by_account_id) == ("confirmed_online", None, w.account.id)


@pytest.mark.parametrize("outcome, note, key", [
    ("confirmed_online", "", "confirm.outcome"),  # only the customer confirms online
    ("", "", "confirm.outcome"),
    ("confirmed_phone", "长" * 201, "confirm.note_long"),
])
def test_the_desk_is_refused_bad_input_and_nothing_is_written(w, outcome, note, key):
    b = scheduled(w, TOMORROW_LATE)
    with pytest.raises(confirmations.Refused) as refused:
        confirmations.record_call(w.session, b.id, staff=w.staff, outcome=outcome, note=note, now=NOW)
    assert refused.value.key == key
    assert w.session.scalars(select(DayConfirmation)).all() == []


def test_a_new_time_is_unconfirmed_again(w):
    b = scheduled(w, TOMORROW_LATE)
    confirmations.confirm_online(w.session, b.id, account=w.account, now=NOW)
    bookings.request_change(w.session, b.id, actor=w.account, now=NOW + timedelta(minutes=5), wishes={"dates": []})
    bookings.schedule(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=1), starts_at=TOMORROW_EARLY,
                      appointment={"hospital": "瑞金医院"})
    assert listed(w) == [(b.id, "unconfirmed")]


def test_the_day_before_reminder_goes_once_to_each_recipient_and_not_after_confirming(w):
    parent = w.guardian()
    b = scheduled(w, TOMORROW_LATE)
    other = scheduled(w, TOMORROW_EARLY, key="k2", service="escort_outpatient")
    scheduled(w, DAY_AFTER, key="k3", service="car_pickup")
    confirmations.confirm_online(w.session, other.id, account=w.account, now=NOW - timedelta(minutes=5))
    channel = Recorder()
    assert notifications.send_day_before(w.session, NOW, channel) == 2
    assert notifications.send_day_before(w.session, NOW + timedelta(hours=2), channel) == 0
    assert sorted(channel.sent) == sorted([(w.account.id, "reminder_day_before", b.reference),
                                           (parent.id, "reminder_day_before", b.reference)])
    note = w.session.scalar(select(Notification).where(Notification.kind == "reminder_day_before",
                                                       Notification.account_id == w.account.id))
    assert note.booking_id == b.id and note.payload["starts_at"] == "2026-11-24T23:30:00+08:00"
    # the day-before run writes no free-change reminder (that is `remind`'s, with its own window)
    assert w.session.scalars(select(Notification).where(Notification.kind == "reminder_free_change")).all() == []
