"""How long the staff queue takes to build for a busy desk, against just reading the same applications.

    .venv/bin/python bench/queue_bench.py [--bookings 1000] [--rounds 7]

Builds a fresh SQLite database in a temporary directory (migrations, the demo world), adds `--bookings` insured
people with one application each, spread over the stages (applied with papers sent, approved, scheduled), then
times, in interleaved rounds, (a) the baseline: loading every open application with the rows the queue reads
(`staff_queue.open_bookings`) and their documents, and (b) `staff_queue.queue()`: the same plus each stage, the
promised day and the working days left. Prints both medians and their ratio. Deletes the directory on the way out.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import select  # noqa: E402
from sqlalchemy.orm import Session, selectinload  # noqa: E402

from webapp.db import make_engine  # noqa: E402
from webapp.migrate import upgrade  # noqa: E402
from webapp.models import Account, Diagnosis, Document, Person, Policy, Product  # noqa: E402
from webapp.services.accounts.identity import demo_resident_id  # noqa: E402
from webapp.services.booking import bookings
from webapp.services.demo import demo
from webapp.services.desk import staff_queue  # noqa: E402

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)  # Monday 10:00 China time


def populate(session: Session, count: int) -> None:
    demo.build(session, NOW)
    staff = session.scalar(select(Account).where(Account.staff_role == "admin"))
    product = session.scalar(select(Product).where(Product.code == "cigc_classic"))
    today = NOW.date()
    for n in range(count):
        person = Person(name=f"测试{n}", id_number=demo_resident_id("310104", date(1970, 1, 1) + timedelta(days=n), n % 900 + 1),
                        birth_date=date(1970, 1, 1) + timedelta(days=n), created_at=NOW)
        account = Account(mobile=f"137{n:08d}", person=person, created_at=NOW)
        policy = Policy(number=f"PB-{n:06d}", product=product, insured=person, holder=person, effective_date=today - timedelta(days=200),
                        expiry_date=today + timedelta(days=165), created_at=NOW)
        session.add_all([person, account, policy])
        session.flush()
        session.add(Diagnosis(person_id=person.id, certainty="confirmed", diagnosed_on=today - timedelta(days=30),
                              hospital="复旦大学附属中山医院", hospital_grade="3A", verified_at=NOW))
        session.commit()
        at = NOW - timedelta(days=n % 12, hours=n % 7)
        booking = bookings.apply(session, account=account, policy_id=policy.id, service_code="expert_outpatient",
                                 request_key=f"b{n}", now=at, details={"city": ("上海", "北京", "杭州")[n % 3]}).booking
        if n % 3:
            bookings.start_review(session, booking.id, staff=staff, now=at + timedelta(hours=1))
            bookings.approve(session, booking.id, staff=staff, now=at + timedelta(hours=2))
        if n % 3 == 2:
            bookings.schedule(session, booking.id, staff=staff, now=at + timedelta(hours=3),
                              starts_at=at + timedelta(days=3), appointment={"hospital": "中山医院"})


def baseline(session: Session) -> int:
    found = staff_queue.open_bookings(session, staff_queue.Filters(stage="all"))
    ids = [b.id for b in found]
    docs = session.scalars(select(Document).where(Document.booking_id.in_(ids)).options(selectinload(Document.pages))).all()
    return len(found) + len(docs)


def build_queue(session: Session) -> int:
    rows, _ = staff_queue.queue(session, staff_queue.Filters(stage="all"), NOW)
    return len(rows)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bookings", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="queue-bench-"))
    try:
        engine = make_engine(f"sqlite:///{folder / 'bench.sqlite3'}")
        upgrade(engine)
        with Session(engine) as session:
            started = time.perf_counter()
            populate(session, args.bookings)
            print(f"{args.bookings} applications built in {time.perf_counter() - started:.1f} s")
        times: dict[str, list[float]] = {"baseline": [], "queue": []}
        order = [("baseline", baseline), ("queue", build_queue)]
        for _ in range(args.rounds + 1):  # the first round warms the caches and is not counted
            order.reverse()  # each goes first every other round
            for name, run in order:
                with Session(engine) as session:
                    started = time.perf_counter()
                    run(session)
                    times[name].append(time.perf_counter() - started)
        base, full = statistics.median(times["baseline"][1:]), statistics.median(times["queue"][1:])
        print(f"baseline (read the open applications and their papers): {base * 1000:.0f} ms")
        print(f"queue (stage, promised day, working days left, sorted):  {full * 1000:.0f} ms")
        print(f"queue / baseline = {full / base:.2f}×  ({(full - base) / args.bookings * 1e6:.0f} µs more per application)")
        engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
