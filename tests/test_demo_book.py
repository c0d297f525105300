"""The benchmark book (services/demo/demo_book.py): believable, valid, every state; and the customer pages run as many
SQL statements for a person with a long history as for one with a short one (issue 16, "Must hold")."""
from collections import Counter

import pytest
from sqlalchemy import event, func, select

from webapp.models import (Account, Booking, BookingTransition, Diagnosis, Document, DocumentPage, Entitlement,
                           Notification, Person, Policy, Product, ProxyGrant)
from webapp.services.accounts import id_vault
from webapp.services.demo import demo_book
from webapp.services.booking.booking_states import OPEN, State

from .conftest import at, restore
from .web_helpers import sign_in

NOW = at(2026, 11, 23, 10, 0)  # a Monday, China time
INSURED = 80


def book(session):
    restore(session, ("demo_book", NOW, INSURED), lambda: demo_book.build(session, NOW, INSURED))


def test_the_book_has_every_state_and_product_and_adds_up(session):
    book(session)
    states = Counter(session.scalars(select(Booking.state).join(Policy).where(Policy.number.like("PB%"))))
    assert set(states) == {s.value for s in State}, states
    assert sum(states[s.value] for s in OPEN) <= 0.03 * sum(states.values())  # ~1 % open
    assert sum(states.values()) >= 6 * INSURED
    products = Counter(session.scalars(select(Product.code).join(Policy, Policy.product_id == Product.id)
                                       .where(Policy.number.like("PB%"))))
    assert set(products) == set(demo_book.PRODUCT_MIX) and products.most_common(1)[0][0] == "zhongan_vip"
    statuses = set(session.scalars(select(Policy.status).where(Policy.number.like("PB%"))))
    assert {"in_force", "surrendered_cooling_off"} <= statuses
    waiting = session.scalar(select(func.count()).select_from(Policy).where(
        Policy.number.like("PB%"), Policy.effective_date > NOW.date().replace(day=1).replace(month=8)))
    assert waiting  # some still in their waiting period
    spent = session.scalar(select(func.count()).select_from(Entitlement).where(Entitlement.used >= Entitlement.quota))
    assert spent  # some quotas used up
    # Every quota row holds exactly what its open applications hold, and has spent what their steps spent.
    held = dict(session.execute(select(Booking.entitlement_id, func.sum(Booking.units))
                                .where(Booking.state.in_([s.value for s in OPEN])).group_by(Booking.entitlement_id)).all())
    used = dict(session.execute(select(Booking.entitlement_id, func.sum(BookingTransition.units)).join(Booking)
                                .where(BookingTransition.quota_effect == "spend").group_by(Booking.entitlement_id)).all())
    rows = session.execute(select(Entitlement.id, Entitlement.held, Entitlement.used).join(Policy)
                           .where(Policy.number.like("PB%"))).all()
    assert len(rows) > INSURED
    assert [(i, h, u) for i, h, u in rows] == [(i, held.get(i, 0), used.get(i, 0)) for i, _, _ in rows]
    # A step, a message to whoever reads for the insured, and (for papers) rows: purged long after closing.
    steps = session.scalar(select(func.count()).select_from(BookingTransition))
    assert session.scalar(select(func.count()).select_from(Notification).where(Notification.dedupe_key.like("transition:%"))) >= steps - 60
    assert session.scalar(select(func.count()).select_from(Document).where(Document.status == "purged"))
    assert session.scalar(select(func.count()).select_from(DocumentPage))
    # Accounts are bound to their insured person; children are read by a verified guardian; ID numbers decrypt.
    account = session.scalar(select(Account).where(Account.mobile == demo_book.mobile_of(1)))
    assert account.person_id is not None and account.identity_method == "policy_mobile"
    person = session.get(Person, account.person_id)
    assert len(person.id_number) == 18 and session.scalar(select(Person.id).where(Person.id_number == person.id_number)) == person.id
    assert person.id_number_index == id_vault.blind_index(person.id_number)
    assert session.scalar(select(func.count()).select_from(ProxyGrant).where(ProxyGrant.status == "verified")) >= 2
    assert session.scalar(select(func.count()).select_from(Diagnosis)) > INSURED / 2


def _typical(session, *, fewest: bool) -> tuple[str, int]:
    """A person with one in-force zhongan_vip policy and an open application: the shortest or longest history."""
    found = []
    for k in range(INSURED):
        account = session.scalar(select(Account).where(Account.mobile == demo_book.mobile_of(k)))
        if account is None:
            continue
        policies = session.scalars(select(Policy).where(Policy.insured_id == account.person_id)).all()
        if len(policies) != 1 or policies[0].status != "in_force" or policies[0].product.code != "zhongan_vip":
            continue
        rows = session.scalars(select(Booking).where(Booking.policy_id == policies[0].id)).all()
        open_ones = [b for b in rows if b.state in {s.value for s in OPEN}]
        if open_ones:
            found.append((len(rows), account.mobile, open_ones[0].reference))
    found.sort()
    return (found[0] if fewest else found[-1])[1:]


def _statements(app, client, method, path, **kw) -> int:
    engine = app.extensions["db_engine"]
    seen = []
    listener = lambda *args: seen.append(1)  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = getattr(client, method)(path, **kw)
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code in (200, 303), (path, response.status_code)
    return len(seen)


@pytest.mark.parametrize("screen", ["/home", "/bookings", "booking", "cancel"])
def test_customer_pages_run_as_many_statements_whatever_the_history(app, session, screen):
    book(session)
    app.config["CLOCK"] = lambda: NOW
    counts = []
    for fewest in (True, False):
        mobile, reference = _typical(session, fewest=fewest)
        client = app.test_client()
        sign_in(client, mobile)
        path = {"booking": f"/bookings/{reference}", "cancel": f"/bookings/{reference}/cancel"}.get(screen, screen)
        headers = {"HX-Request": "true"} if screen == "cancel" else {}
        client.get(path, headers=headers)  # once, as the person's first view (caches fill)
        counts.append(_statements(app, client, "get", path, headers=headers))
    short, long = (session.scalar(select(func.count()).select_from(Booking).join(Policy).join(Account, Account.person_id == Policy.insured_id)
                                  .where(Account.mobile == _typical(session, fewest=f)[0])) for f in (True, False))
    assert long > short
    assert counts[0] == counts[1], (screen, counts)
