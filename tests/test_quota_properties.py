"""Property: whatever a person and staff do, in any order, no quota is ever overspent and the counts always
equal what the bookings say (held = open bookings, used = spent ones)."""
from datetime import date, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from webapp.models import Base, Booking, Entitlement
from webapp.services.booking import bookings
from webapp.services.booking.booking_states import OPEN, IllegalMove, State

from .conftest import World, at

NOW = at(2026, 11, 16, 10, 0)
SPENT = {State.COMPLETED.value, State.CANCELLED_COUNTED.value, State.NO_SHOW.value}

operations = st.lists(
    st.tuples(st.sampled_from(["apply", "withdraw", "reject", "arrange", "cancel", "complete", "no_show"]),
              st.integers(min_value=0, max_value=5), st.integers(min_value=0, max_value=96)),
    min_size=1, max_size=25,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations, product=st.sampled_from([("zhongan_vip", "car_pickup"), ("cigc_classic", "expert_outpatient")]))
def test_random_sequences_never_overspend(engine, session_factory, ops, product):
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(delete(table))
    session = session_factory()
    try:
        w = World(session, product[0], effective=date(2026, 1, 1))
        for step, (op, pick, hours) in enumerate(ops):
            now = NOW + timedelta(hours=step)
            _do(w, product[1], op, pick, now, hours)
            _check(w)
    finally:
        session.close()


def _do(w, service, op, pick, now, hours):
    s = w.session
    if op == "apply":
        bookings.apply(s, account=w.account, policy_id=w.policy.id, service_code=service, request_key=f"k{pick}", now=now)
        return
    rows = s.scalars(select(Booking).order_by(Booking.id)).all()
    if not rows:
        return
    b = rows[pick % len(rows)]
    try:
        if op == "withdraw":
            bookings.withdraw(s, b.id, actor=w.account, now=now)
        elif op == "reject":
            bookings.reject(s, b.id, staff=w.staff, now=now, reason="test")
        elif op == "arrange":
            if b.state == "applied":
                bookings.start_review(s, b.id, staff=w.staff, now=now)
            bookings.approve(s, b.id, staff=w.staff, now=now)
            bookings.schedule(s, b.id, staff=w.staff, now=now, starts_at=now + timedelta(hours=hours + 1), appointment={})
        elif op == "cancel":
            bookings.cancel(s, b.id, actor=w.account, now=now)
        elif op == "complete":
            bookings.complete(s, b.id, staff=w.staff, now=now)
        else:
            bookings.mark_no_show(s, b.id, staff=w.staff, now=now)
    except (IllegalMove, bookings.ChangeRefused):
        pass  # an illegal move must change nothing; _check proves it


def _check(w):
    s = w.session
    s.rollback()
    ents = s.scalars(select(Entitlement)).all()
    rows = s.scalars(select(Booking)).all()
    for ent in ents:
        mine = [b for b in rows if b.entitlement_id == ent.id]
        assert ent.held == sum(b.units for b in mine if b.state in {x.value for x in OPEN})
        assert ent.used == sum(b.units for b in mine if b.state in SPENT)
        assert ent.quota is None or ent.held + ent.used <= ent.quota
