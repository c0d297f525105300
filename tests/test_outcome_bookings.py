"""Bookings end as outcomes.units_spent says (issue 14 items 1, 2, 7), and the customer and staff are told the same.

003 众安 PLUS counts only a missed visit, so cancelling after 12:00 the day before is not counted (特别说明(5) line 929);
000 counts it (（一）2.9(6) line 98). A nursing aide spends the days served (003 line 2301). The vendor's failure
never costs the customer a use (001 注意事项3/4; 003 护工 七5 line 2463).
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from webapp.models import Entitlement
from webapp.services.booking import bookings
from webapp.services.booking.booking_states import IllegalMove

from .conftest import World, at
from .web_helpers import block, card, csrf_from, set_clock, sign_in, text_of

NOW = at(2026, 11, 16, 10, 0)
VISIT = at(2026, 11, 26, 9, 30)
AFTER_NOON_BEFORE = at(2026, 11, 25, 12, 0, 1)


def scheduled(w, service="expert_outpatient", key="k1", units=1, starts_at=VISIT):
    outcome = bookings.apply(w.session, account=w.account, policy_id=w.policy.id, service_code=service, request_key=key,
                             now=NOW, details={"city": "上海"}, units=units)
    assert outcome.ok, outcome.reasons
    b = outcome.booking
    bookings.start_review(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=1))
    bookings.approve(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=2))
    return bookings.schedule(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=3), starts_at=starts_at,
                             appointment={"hospital": "瑞金医院"})


def usage(w, booking):
    w.session.rollback()
    ent = w.session.scalar(select(Entitlement).where(Entitlement.id == booking.entitlement_id))
    return ent.held, ent.used


@pytest.fixture()
def plus(session):
    return World(session, "zhongan_vip", effective=date(2026, 1, 1))


@pytest.fixture()
def classic(session):
    return World(session, "cigc_classic", effective=date(2026, 1, 1))


def test_003_a_late_cancellation_is_not_counted(plus):
    b = scheduled(plus)
    assert bookings.cancel_quote(b, AFTER_NOON_BEFORE).outcome == "uncounted"
    done = bookings.cancel(plus.session, b.id, actor=plus.account, now=AFTER_NOON_BEFORE)
    last = done.transitions[-1]
    assert (done.state, last.rule, last.quota_effect, last.units) == ("cancelled_free", "late_cancel_uncounted", "release", None)
    assert usage(plus, done) == (0, 0)


def test_000_a_late_cancellation_counts(classic):
    b = scheduled(classic)
    assert bookings.cancel_quote(b, AFTER_NOON_BEFORE).outcome == "counted"
    done = bookings.cancel(classic.session, b.id, actor=classic.account, now=AFTER_NOON_BEFORE)
    assert (done.state, done.transitions[-1].units) == ("cancelled_counted", 1)
    assert usage(classic, done) == (0, 1)


def test_a_nursing_aide_spends_the_days_served(plus):
    b = scheduled(plus, service="nursing_aide", units=20)
    with pytest.raises(bookings.ChangeRefused, match="close.days_needed"):
        bookings.complete(plus.session, b.id, staff=plus.staff, now=VISIT + timedelta(days=3))
    with pytest.raises(bookings.ChangeRefused, match="close.days_range"):
        bookings.complete(plus.session, b.id, staff=plus.staff, now=VISIT + timedelta(days=3), served_units=21)
    done = bookings.complete(plus.session, b.id, staff=plus.staff, now=VISIT + timedelta(days=3), served_units=3)
    assert (done.state, done.transitions[-1].units) == ("completed", 3)
    assert usage(plus, done) == (0, 3)  # 27 of the year's 30 days left
    admin = plus.guardian(mobile="13900000077")  # any account, made admin below
    admin.staff_role = "admin"
    plus.session.commit()
    bookings.reverse_counted_use(plus.session, b.id, admin=admin, now=VISIT + timedelta(days=4), reason="护工未到岗两天")
    assert usage(plus, done) == (0, 0)  # exactly the 3 days given back


def test_a_nursing_aide_cancelled_inside_its_12_hours_spends_nothing(plus):
    b = scheduled(plus, service="nursing_aide", units=20)
    assert bookings.cancel_quote(b, VISIT - timedelta(hours=11)).outcome == "uncounted"
    done = bookings.cancel(plus.session, b.id, actor=plus.account, now=VISIT - timedelta(hours=11))
    assert done.state == "cancelled_free" and usage(plus, done) == (0, 0)


def test_a_no_show_the_seed_does_not_count_is_recorded_but_not_spent(plus):
    b = scheduled(plus, service="second_opinion")  # 003 counts only a cancellation once accepted (line 2581)
    done = bookings.mark_no_show(plus.session, b.id, staff=plus.staff, now=VISIT + timedelta(hours=2))
    last = done.transitions[-1]
    assert (done.state, last.rule, last.quota_effect) == ("no_show", "no_show_uncounted", "release")
    assert usage(plus, done) == (0, 0)


def test_the_vendors_failure_closes_uncounted_with_its_reason(classic):
    b = scheduled(classic)
    with pytest.raises(bookings.ChangeRefused, match="close.reason_needed"):
        bookings.close_vendor_failed(classic.session, b.id, staff=classic.staff, now=VISIT - timedelta(days=1), reason=" ")
    with pytest.raises(IllegalMove):
        bookings.close_vendor_failed(classic.session, b.id, staff=classic.account, now=VISIT, reason="专家停诊")
    done = bookings.close_vendor_failed(classic.session, b.id, staff=classic.staff, now=VISIT - timedelta(days=1),
                                        reason="专家停诊")
    last = done.transitions[-1]
    assert (done.state, last.rule, last.reason, last.quota_effect) == ("cancelled_free", "vendor_failed", "专家停诊", "release")
    assert usage(classic, done) == (0, 0)
    with pytest.raises(bookings.ChangeRefused, match="close.not_open"):
        bookings.close_vendor_failed(classic.session, b.id, staff=classic.staff, now=VISIT, reason="again")


def test_the_customer_reads_the_same_rule_on_the_card_the_booking_and_the_cancel_step(app, plus, client):
    b = scheduled(plus)
    set_clock(app, AFTER_NOON_BEFORE)
    sign_in(client, "13900000001")
    home = client.get("/home").get_data(as_text=True)
    assert "之后仍可取消，不计次数" in text_of(card(home, "T-zhongan_vip", "escort_outpatient"))
    assert "之后再变更或取消，视为已使用一次" in text_of(card(home, "T-zhongan_vip", "car_pickup"))  # 003 line 586
    detail = client.get(f"/bookings/{b.reference}").get_data(as_text=True)
    assert "现在仍可取消，不计次数" in text_of(block(detail, "free-until"))
    step = client.get(f"/bookings/{b.reference}/cancel", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert 'data-outcome="uncounted"' in step and "确认取消（不计次数）" in step
    done = client.post(f"/bookings/{b.reference}/cancel", data={"csrf_token": csrf_from(detail)})
    assert done.status_code in (200, 303)
    page = text_of(client.get(f"/bookings/{b.reference}").get_data(as_text=True))
    assert "这次不计次数" in page
    assert "改期时间已于" in page and "免费变更或取消截止" not in page  # the timeline says the change time ended
    assert usage(plus, b) == (0, 0)


class _Kept:
    def __init__(self):
        self.sent = []

    def send(self, account, notification):
        self.sent.append(notification)


@pytest.mark.parametrize("world, late_counts, words", [
    ("plus", False, "之后仍可取消，不计次数"),  # 003 特别说明(5) line 929: only a missed visit counts
    ("classic", True, "免费"),  # 000 （一）2.9(6) line 98: after 12:00 the day before it counts
])
def test_the_reminder_says_what_cancelling_late_does(request, app, world, late_counts, words):
    from webapp.services.booking import notifications
    from webapp.views.wording import message_text

    w = request.getfixturevalue(world)
    scheduled(w)
    kept = _Kept()
    assert notifications.send_reminders(w.session, AFTER_NOON_BEFORE - timedelta(hours=2), kept) == 1
    [note] = kept.sent
    assert note.payload["late_cancel_counts"] is late_counts
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert words in message_text(note)


def test_staff_close_a_vendor_failure_and_an_aides_days_from_the_console(app, plus, client):
    visit = scheduled(plus)
    aide = scheduled(plus, service="nursing_aide", key="aide", units=20)
    set_clock(app, VISIT + timedelta(days=3))
    sign_in(client, "13900000009")  # World's coordinator

    def close(b, **form):
        page = client.get(f"/staff/bookings/{b.reference}").get_data(as_text=True)
        return client.post(f"/staff/bookings/{b.reference}/close", data={"csrf_token": csrf_from(page), **form})

    page = client.get(f"/staff/bookings/{aide.reference}").get_data(as_text=True)
    assert 'data-testid="served-days"' in page and 'max="20"' in page
    close(aide, decision="completed", served_days="x3")
    close(aide, decision="completed")
    assert usage(plus, aide) == (20, 0)  # refused twice: nothing changed
    close(aide, decision="completed", served_days="3")
    assert usage(plus, aide) == (0, 3)
    close(visit, decision="vendor_failed", reason="")
    assert plus.session.get(type(visit), visit.id).state == "scheduled"
    close(visit, decision="vendor_failed", reason="专家临时停诊")
    plus.session.rollback()
    assert plus.session.get(type(visit), visit.id).state == "cancelled_free"
    assert usage(plus, visit) == (0, 0)
