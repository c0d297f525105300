"""Inbox messages for booking moves and reminders before a free change ends (fixed clocks only)."""
import logging
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from webapp.models import Account, Booking, Notification
from webapp.services.booking import bookings, notifications

from .conftest import World, at

NOW = at(2026, 11, 16, 10, 0)  # Monday; the 000 policy (effective 2026-01-01) is past waiting
VISIT = at(2026, 11, 25, 9, 0)
FREE_UNTIL = at(2026, 11, 24, 12, 0)  # 000 （一）2.9(6): "预约就诊日前一天12:00之前"


@pytest.fixture()
def w(session):
    return World(session, "cigc_classic", effective=date(2026, 1, 1))


class Recorder:
    def __init__(self, fail_for=()):
        self.sent, self.fail_for = [], set(fail_for)

    def send(self, account, notification):
        if account.id in self.fail_for:
            raise ConnectionError("sms gateway down")
        self.sent.append((account.id, notification.kind, notification.payload["reference"]))


def apply(w, account=None, key="k1", service="expert_outpatient", **kw):
    return bookings.apply(w.session, account=account or w.account, policy_id=w.policy.id, service_code=service,
                          request_key=key, now=NOW, **kw).booking


def scheduled(w, starts_at=VISIT, **kw):
    b = apply(w, **kw)
    bookings.start_review(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=1))
    bookings.approve(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=2))
    return bookings.schedule(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=3), starts_at=starts_at,
                             appointment={"hospital": "瑞金医院"})


def rows(w, **where):
    w.session.expire_all()
    query = select(Notification).filter_by(**where).order_by(Notification.id)
    return w.session.scalars(query).all()


def test_own_application_is_a_receipt_to_the_insured(w):
    b = apply(w)
    [note] = rows(w)
    assert (note.account_id, note.subject_person_id, note.booking_id, note.kind) == (w.account.id, w.person.id, b.id, "status")
    assert note.dedupe_key == f"transition:{b.transitions[0].id}"
    assert note.created_at == NOW and note.read_at is None and note.sent_at is None
    assert note.payload == {"reference": b.reference, "service_code": "expert_outpatient", "state": "applied",
                            "from_state": None, "rule": None, "starts_at": None, "free_until": None, "reason": None}


def test_guardian_application_tells_the_guardian_and_the_insured_never_staff_or_strangers(w):
    parent = w.guardian()
    b = scheduled(w, account=parent)
    by_state = {}
    for note in rows(w, booking_id=b.id):
        by_state.setdefault(note.payload["state"], set()).add(note.account_id)
    assert by_state == {state: {parent.id, w.account.id} for state in ("applied", "under_review", "approved", "scheduled")}
    [to_parent] = rows(w, account_id=parent.id, dedupe_key=f"transition:{b.transitions[-1].id}")
    assert to_parent.subject_person_id == w.person.id
    assert to_parent.payload["from_state"] == "approved"
    assert to_parent.payload["starts_at"] == "2026-11-25T09:00:00+08:00"
    assert to_parent.payload["free_until"] == "2026-11-24T12:00:00+08:00"


def test_every_account_of_the_insured_hears_once(w):
    second = Account(mobile="13900000005", person=w.person, created_at=at(2024, 1, 1))
    w.session.add(second)
    w.session.commit()
    apply(w)  # the applicant is also one of the insured's accounts: one row for them, not two
    assert sorted(n.account_id for n in rows(w)) == sorted([w.account.id, second.id])


def test_customer_cancellation_too_late_is_recorded_with_the_rule(w):
    b = scheduled(w)
    bookings.cancel(w.session, b.id, actor=w.account, now=FREE_UNTIL)
    last = rows(w)[-1]
    assert last.account_id == w.account.id  # the actor's own receipt
    assert {k: last.payload[k] for k in ("state", "from_state", "rule", "free_until")} == {
        "state": "cancelled_counted", "from_state": "scheduled", "rule": "noon_day_before",
        "free_until": "2026-11-24T12:00:00+08:00"}


def test_change_request_payload_shows_the_appointment_is_gone(w):
    b = scheduled(w)
    bookings.request_change(w.session, b.id, actor=w.account, now=at(2026, 11, 23, 9, 0), wishes={"dates": []})
    last = rows(w)[-1]
    assert (last.payload["state"], last.payload["starts_at"], last.payload["free_until"]) == ("approved", None, None)


def test_rejection_reason_travels_in_the_payload(w):
    b = apply(w)
    bookings.reject(w.session, b.id, staff=w.staff, now=NOW, reason="not a covered illness")
    assert rows(w)[-1].payload["reason"] == "not a covered illness"


# --- reminders -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("now, due", [
    (FREE_UNTIL, False),  # deadline exactly now: too late to remind
    (FREE_UNTIL - timedelta(seconds=1), True),
    (FREE_UNTIL - timedelta(hours=3), True),  # deadline exactly now + lead
    (FREE_UNTIL - timedelta(hours=3, seconds=1), False),
])
def test_reminder_window_is_open_before_and_closed_after(w, now, due):
    b = scheduled(w)
    assert [x.id for x in notifications.due_reminders(w.session, now)] == ([b.id] if due else [])


def test_hours_before_rule_window(w):
    # 003 同城专车接送 特别说明(5): "未能提前4小时取消或变更…视为服务已使用"
    b = scheduled(w)
    w.session.get(Booking, b.id).change_rule = "hours_before:4"
    w.session.commit()
    assert [x.id for x in notifications.due_reminders(w.session, at(2026, 11, 25, 2, 0))] == [b.id]  # 05:00 ≤ 02:00+3h
    assert notifications.due_reminders(w.session, at(2026, 11, 25, 1, 59)) == []


def test_a_booking_that_can_never_change_gets_no_reminder(w):
    # 000 （二）2.9(11): "预约成功后，不可取消"
    b = apply(w, service="inpatient_surgery", admission_slip_date=date(2026, 11, 13))
    bookings.start_review(w.session, b.id, staff=w.staff, now=NOW)
    bookings.approve(w.session, b.id, staff=w.staff, now=NOW)
    bookings.schedule(w.session, b.id, staff=w.staff, now=NOW, starts_at=at(2026, 11, 17, 8, 0), appointment={})
    for hours in (0, 1, 12, 21):
        assert notifications.due_reminders(w.session, NOW + timedelta(hours=hours), lead=timedelta(days=2)) == []


def test_closed_bookings_are_not_reminded(w):
    b = scheduled(w)
    bookings.cancel(w.session, b.id, actor=w.account, now=at(2026, 11, 23, 9, 0))
    assert notifications.due_reminders(w.session, FREE_UNTIL - timedelta(hours=1)) == []


def test_reminders_run_twice_send_once_to_each_recipient(w):
    parent = w.guardian()
    b = scheduled(w, account=parent)
    now = FREE_UNTIL - timedelta(hours=2)
    channel = Recorder()
    assert notifications.send_reminders(w.session, now, channel) == 2
    assert notifications.send_reminders(w.session, now + timedelta(minutes=30), channel) == 0
    assert sorted(channel.sent) == sorted([(parent.id, "reminder_free_change", b.reference),
                                           (w.account.id, "reminder_free_change", b.reference)])
    sent = rows(w, kind="reminder_free_change")
    assert len(sent) == 2 and all(n.sent_at == now and n.created_at == now for n in sent)
    assert sent[0].dedupe_key == f"reminder:{b.id}:2026-11-24T12:00:00+08:00"
    assert sent[0].payload == {"reference": b.reference, "service_code": "expert_outpatient",
                               "free_until": "2026-11-24T12:00:00+08:00", "starts_at": "2026-11-25T09:00:00+08:00",
                               "late_cancel_counts": True}  # 000 （一）2.9(6): after 12:00 the day before it counts


def test_a_rescheduled_booking_is_reminded_of_its_new_deadline(w):
    b = scheduled(w)
    channel = Recorder()
    assert notifications.send_reminders(w.session, FREE_UNTIL - timedelta(hours=1), channel) == 1
    bookings.request_change(w.session, b.id, actor=w.account, now=FREE_UNTIL - timedelta(minutes=30), wishes={})
    bookings.schedule(w.session, b.id, staff=w.staff, now=FREE_UNTIL, starts_at=at(2026, 11, 27, 9, 0), appointment={})
    assert notifications.send_reminders(w.session, at(2026, 11, 26, 10, 0), channel) == 1
    assert len(rows(w, kind="reminder_free_change")) == 2


def test_a_failing_channel_loses_nothing_and_the_next_run_retries(w):
    parent = w.guardian()
    scheduled(w, account=parent)
    now = FREE_UNTIL - timedelta(hours=2)
    assert notifications.send_reminders(w.session, now, Recorder(fail_for={parent.id})) == 1
    unsent = rows(w, kind="reminder_free_change", sent_at=None)
    assert [n.account_id for n in unsent] == [parent.id]
    later = now + timedelta(minutes=15)
    retry = Recorder()
    assert notifications.send_reminders(w.session, later, retry) == 1
    assert [a for a, _, _ in retry.sent] == [parent.id]
    assert {n.account_id: n.sent_at for n in rows(w, kind="reminder_free_change")} == {w.account.id: now, parent.id: later}
    assert notifications.send_reminders(w.session, later, Recorder()) == 0


def test_log_channel_names_the_booking_not_its_details(w, caplog):
    b = scheduled(w)
    channel = notifications.channel_from_config("webapp.services.booking.notifications:LogChannel")
    with caplog.at_level(logging.INFO, logger="lvtong.notify"):
        assert notifications.send_reminders(w.session, FREE_UNTIL - timedelta(hours=1), channel) == 1
    [record] = caplog.records
    line = record.getMessage()
    assert b.reference in line and f"account={w.account.id}" in line and "reminder_free_change" in line
    assert w.person.id_number not in line and "瑞金" not in line and "2026" not in line


def test_channel_from_config():
    assert isinstance(notifications.channel_from_config("log"), notifications.LogChannel)
    recorder = Recorder()
    assert notifications.channel_from_config(recorder) is recorder
    for bad in ("sms", "webapp.services.booking.notifications:NoSuchChannel", "no_such_module:X"):
        with pytest.raises(ValueError):
            notifications.channel_from_config(bad)


# --- inbox -----------------------------------------------------------------------------------------------

def test_inbox_unread_and_mark_read_touch_only_ones_own_rows(w):
    parent = w.guardian()
    b = apply(w, account=parent)
    bookings.start_review(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=1))
    mine = notifications.inbox(w.session, w.account.id)
    theirs = notifications.inbox(w.session, parent.id)
    assert [n.payload["state"] for n in mine] == ["under_review", "applied"]  # newest first
    assert notifications.unread_count(w.session, w.account.id) == 2
    assert len(notifications.inbox(w.session, w.account.id, limit=1)) == 1

    read_at = NOW + timedelta(hours=2)
    # Someone else's ids are ignored, not marked.
    assert notifications.mark_read(w.session, w.account.id, read_at, ids=[theirs[0].id, mine[1].id]) == 1
    assert notifications.unread_count(w.session, w.account.id) == 1
    assert notifications.unread_count(w.session, parent.id) == 2
    assert notifications.mark_read(w.session, w.account.id, read_at, ids=[]) == 0
    assert notifications.mark_read(w.session, w.account.id, read_at + timedelta(minutes=1)) == 1
    assert notifications.unread_count(w.session, w.account.id) == 0
    assert notifications.unread_count(w.session, parent.id) == 2
    assert {n.id: n.read_at for n in rows(w, account_id=w.account.id)} == {
        mine[1].id: read_at, mine[0].id: read_at + timedelta(minutes=1)}


# --- cron ------------------------------------------------------------------------------------------------

def test_remind_cli_uses_the_app_clock_and_channel(app, w):
    parent = w.guardian()
    scheduled(w, account=parent)
    channel = Recorder()
    app.config.update(CLOCK=lambda: FREE_UNTIL - timedelta(hours=2), NOTIFY_CHANNEL=channel)
    runner = app.test_cli_runner()
    early = runner.invoke(args=["remind", "--lead-minutes", "60"])
    assert early.exit_code == 0 and "0 reminder(s) sent" in early.output
    result = runner.invoke(args=["remind"])
    assert result.exit_code == 0, result.output
    assert "2 reminder(s) sent" in result.output
    assert "0 reminder(s) sent" in runner.invoke(args=["remind"]).output
    assert sorted(a for a, _, _ in channel.sent) == sorted([w.account.id, parent.id])
    w.session.rollback()  # end the snapshot this session read before the CLI ran
    assert w.session.scalar(select(func.count(Notification.id)).where(Notification.sent_at.is_not(None))) == 2


def test_remind_cli_refuses_an_unknown_channel(app):
    app.config.update(CLOCK=lambda: NOW, NOTIFY_CHANNEL="carrier-pigeon")
    result = app.test_cli_runner().invoke(args=["remind"])
    assert result.exit_code != 0 and "carrier-pigeon" in result.output
