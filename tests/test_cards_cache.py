"""The home page's cards are reused only while nothing they are computed from has changed (services/home/cards_cache.py)."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update

from webapp.models import Diagnosis, Notification, Policy, ProxyGrant
from webapp.services import workdays
from webapp.services.booking import bookings
from webapp.services.home import cards_cache
from webapp.services.home.cards import cards_for

from .conftest import World, at

NOW = at(2026, 11, 23, 10, 0)


def _snapshot(w, account=None, now=NOW):
    return cards_cache.cards_snapshot(w.session, account or w.account, now)


def test_a_repeat_visit_reuses_the_cards(session):
    w = World(session, "zhongan_vip", effective=date(2026, 3, 1))
    first, second = _snapshot(w), _snapshot(w)
    assert first.key == second.key and first.people is second.people
    assert first.people == cards_for(session, w.account, NOW)


def test_an_application_changes_the_cards(session):
    w = World(session, "zhongan_vip", effective=date(2026, 3, 1))
    before = _snapshot(w)
    outcome = bookings.apply(session, account=w.account, policy_id=w.policy.id, service_code="expert_outpatient",
                             request_key="k1", now=NOW)
    assert outcome.ok
    after = _snapshot(w)
    assert after.key != before.key
    card = next(c for g in after.people for p in g.policies for c in p.cards if c.code == "expert_outpatient")
    assert card.left == 0 and card.in_progress == 1


def test_a_surrender_a_diagnosis_and_a_revoked_grant_each_change_the_cards(session):
    w = World(session, "zhongan_vip", effective=date(2026, 3, 1))
    parent = w.guardian()
    keys = {_snapshot(w).key}
    session.execute(update(Policy).where(Policy.id == w.policy.id).values(status="surrendered", status_changed_on=date(2026, 11, 1)))
    session.commit()
    keys.add(_snapshot(w).key)
    session.execute(update(Diagnosis).where(Diagnosis.person_id == w.person.id).values(verified_at=None))
    session.commit()
    keys.add(_snapshot(w).key)
    assert len(keys) == 3
    assert _snapshot(w, parent).people
    session.execute(update(ProxyGrant).where(ProxyGrant.grantee_account_id == parent.id).values(revoked_at=NOW, status="revoked"))
    session.commit()
    assert _snapshot(w, parent).people == []


def test_the_day_the_desk_hours_and_the_calendar_are_in_the_key(session):
    w = World(session, "zhongan_vip", effective=date(2026, 3, 1))
    base = _snapshot(w).key
    assert _snapshot(w, now=NOW + timedelta(days=1)).key != base
    # 003's desk takes applications 09:00–21:00: one made at 22:00 is received the next morning.
    assert _snapshot(w, now=at(2026, 11, 23, 22, 0)).key != _snapshot(w, now=at(2026, 11, 23, 20, 0)).key
    workdays.set_overrides({date(2026, 11, 24): False})
    assert _snapshot(w).key != base


def test_the_unread_count_comes_with_the_snapshot(session):
    w = World(session, "zhongan_vip", effective=date(2026, 3, 1))
    bookings.apply(session, account=w.account, policy_id=w.policy.id, service_code="expert_outpatient", request_key="k1", now=NOW)
    unread = session.scalars(select(Notification).where(Notification.account_id == w.account.id)).all()
    assert _snapshot(w).unread == len(unread) >= 1
    session.execute(update(Notification).values(read_at=NOW))
    session.commit()
    assert _snapshot(w).unread == 0
