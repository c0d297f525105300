"""Applications taken by the desk on the phone and their SMS link (issue 18 item 4; seed 003 line 488: "如您通过客服电话
申请，客服将发送申请短信链接，请查收短信并按照指引提交申请材料"), with fixed clocks: the same eligibility and hold as
online, the link's expiry, single use and binding to its account."""
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from webapp.models import Account, AuditEvent, Booking, DeskLink, Entitlement
from webapp.services.booking import bookings
from webapp.services.desk import desk_applications
from webapp.services.desk.desk_applications import DeskRefused

from .conftest import World, at

NOW = at(2026, 11, 16, 10, 0)  # Monday; the 000 policy (effective 2026-01-01) is past waiting


@pytest.fixture()
def w(session):
    return World(session, "cigc_classic", effective=date(2026, 1, 1))


def by_phone(w, key="d1", now=NOW, staff=None):
    return desk_applications.apply_for_caller(w.session, staff=staff or w.staff, policy_id=w.policy.id,
                                              service_code="expert_outpatient", request_key=key, now=now,
                                              details={"city": "上海"})


def test_the_desk_applies_for_the_insured_as_online_and_holds_the_use(w):
    outcome = by_phone(w)
    booking = outcome.booking
    assert outcome.created and booking.applicant_account_id == w.account.id and booking.acting_as == "self"
    first = booking.transitions[0]
    assert (first.to_state, first.quota_effect, first.actor_account_id, first.actor_role, first.detail) == \
        ("applied", "hold", w.staff.id, "staff", {"channel": "phone"})
    assert w.session.scalar(select(Entitlement.held).where(Entitlement.id == booking.entitlement_id)) == 1
    link = w.session.scalar(select(DeskLink).where(DeskLink.booking_id == booking.id))
    assert (link.account_id, link.mobile, link.created_by_id) == (w.account.id, "13900000001", w.staff.id)
    assert link.expires_at == NOW + timedelta(hours=72)
    assert len(outcome.token) >= 43 and link.token_hash == desk_applications.token_hash(outcome.token)
    assert outcome.token not in link.token_hash  # only the hash is stored


def test_eligibility_refuses_as_online_and_nothing_is_written(w):
    online = bookings.apply(w.session, account=w.account, policy_id=w.policy.id, service_code="expert_outpatient",
                            request_key="o1", now=NOW, details={"city": "上海"})
    assert online.created
    rows = w.session.scalar(select(func.count()).select_from(Booking))
    outcome = by_phone(w)
    # The same reason online gives a second application while the first holds the use.
    again = bookings.apply(w.session, account=w.account, policy_id=w.policy.id, service_code="expert_outpatient",
                           request_key="o2", now=NOW, details={"city": "上海"})
    assert not outcome.ok and [r.key for r in outcome.reasons] == [r.key for r in again.reasons]
    assert w.session.scalar(select(func.count()).select_from(Booking)) == rows
    assert w.session.scalar(select(func.count()).select_from(DeskLink)) == 0


def test_a_replayed_form_gives_the_first_application_and_no_second_link(w):
    first, second = by_phone(w), by_phone(w)
    assert second.booking.id == first.booking.id and not second.created and second.token is None
    assert w.session.scalar(select(func.count()).select_from(DeskLink)) == 1


def test_only_coordinators_and_admins_take_phone_applications(w):
    w.staff.staff_role = "reviewer"
    w.session.commit()
    with pytest.raises(DeskRefused) as refused:
        by_phone(w)
    assert refused.value.key == "desk.not_desk"
    with pytest.raises(DeskRefused):
        by_phone(w, staff=w.stranger)


def test_the_link_is_live_for_72_hours_then_gone(w):
    token = by_phone(w).token
    assert desk_applications.live_link(w.session, token, NOW + timedelta(hours=71, minutes=59)) is not None
    assert desk_applications.live_link(w.session, token, NOW + timedelta(hours=72)) is None
    assert desk_applications.live_link(w.session, token + "x", NOW) is None
    link = desk_applications.live_link(w.session, token, NOW)
    assert desk_applications.spend(w.session, link.id, account=w.account, now=NOW + timedelta(hours=72)) is None


def test_the_link_is_spent_once_and_only_by_its_account(w):
    token = by_phone(w).token
    link = desk_applications.live_link(w.session, token, NOW)
    assert desk_applications.spend(w.session, link.id, account=w.stranger, now=NOW) is None
    booking = desk_applications.spend(w.session, link.id, account=w.account, now=NOW + timedelta(minutes=5))
    assert booking is not None and booking.applicant_account_id == w.account.id
    assert desk_applications.spend(w.session, link.id, account=w.account, now=NOW + timedelta(minutes=6)) is None
    assert desk_applications.live_link(w.session, token, NOW + timedelta(minutes=6)) is None
    assert w.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "desk.link_used")) == "desk.link_used"


def test_an_insured_without_an_account_gets_one_for_the_policys_mobile(w):
    w.account.person_id = None
    w.account.mobile = "13900000077"
    w.session.commit()
    outcome = by_phone(w)
    opened = w.session.scalar(select(Account).where(Account.mobile == "13900000001"))
    assert opened.person_id == w.person.id and opened.identity_method == "policy_mobile"
    assert outcome.booking.applicant_account_id == opened.id and outcome.mobile == "13900000001"


def test_a_policy_mobile_held_by_another_persons_account_is_refused(w):
    other = w.person_named("李四", date(1970, 5, 5), 202)
    w.session.flush()
    w.account.person_id = other.id
    w.session.commit()
    with pytest.raises(DeskRefused) as refused:
        by_phone(w)
    assert refused.value.key == "desk.mobile_taken"
    assert w.session.scalar(select(func.count()).select_from(Booking)) == 0


def test_the_caller_is_found_by_mobile_or_id_number_and_the_lookup_is_audited(w):
    by_mobile = desk_applications.find(w.session, "139 0000 0001", staff=w.staff, now=NOW)
    by_id = desk_applications.find(w.session, w.person.id_number.lower(), staff=w.staff, now=NOW)
    assert [f.person.id for f in by_mobile] == [f.person.id for f in by_id] == [w.person.id]
    assert desk_applications.find(w.session, "13900000055", staff=w.staff, now=NOW) == []
    with pytest.raises(DeskRefused):
        desk_applications.find(w.session, "张三", staff=w.staff, now=NOW)
    assert w.session.scalar(select(func.count()).where(AuditEvent.action == "desk.lookup")) == 3


def test_an_application_that_asks_for_no_papers_gets_no_link(session):
    # 003's accompanied outpatient visit asks for no papers (catalog 003_zhongan_vip.yaml: documents: []): a link
    # to "send your papers" would lead to an empty checklist, so none is made and the view texts a confirmation.
    world = World(session, "zhongan_vip", effective=date(2026, 1, 1))
    outcome = desk_applications.apply_for_caller(session, staff=world.staff, policy_id=world.policy.id,
                                                 service_code="escort_outpatient", request_key="e1", now=NOW,
                                                 details={"city": "上海"})
    assert outcome.created and outcome.token is None and outcome.mobile == "13900000001"
    assert session.scalar(select(func.count()).select_from(DeskLink)) == 0
