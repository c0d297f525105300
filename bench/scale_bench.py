"""Is every page flat in the book's size? The same typical person in a book of 1 000 insured and one of 100 000.

    .venv/bin/python bench/scale_bench.py                       # reuses lvt_scale_1k / lvt_scale_100k if built
    .venv/bin/python bench/scale_bench.py --rounds 7 --per-round 5 --rebuild --explain-out /tmp/plans.txt

Builds (or reuses, by database name) two PostgreSQL databases with services/demo/demo_book.py (the demo world plus N
insured), serves each with the app on 127.0.0.1 (werkzeug, in this process, one request at a time), signs in the
same insured person of both books (person k is the same in both: demo_book draws each from its own seed) and a
staff admin, then times in interleaved rounds (alternating which book goes first) /home, /bookings, a booking
page, an application (the whole confirm POST; the bench withdraws it afterwards, unmeasured, so every round applies
afresh), the htmx cancel fragment, /staff/ and /staff/report. Prints the medians, the 100k/1k ratio (target
<= 1.5x, issue 16 "Must hold") and the SQL statements of the median request in each book (must not grow). Then runs
EXPLAIN ANALYZE (in a rolled-back transaction) on every statement of each customer request in the large book and
flags any Seq Scan on a table of more than --large-table rows. Exit code 1 when a ratio or a statement count
misses, or a seq scan on a large table is found on a customer path; 0 otherwise.
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import os
import re
import secrets
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("LVTONG_ENV", "demo")
os.environ.setdefault("SECRET_KEY", secrets.token_hex(32))

from sqlalchemy import create_engine, event, func, select, text  # noqa: E402
from werkzeug.serving import WSGIRequestHandler, make_server  # noqa: E402

from webapp import create_app  # noqa: E402
from webapp.db import make_session_factory  # noqa: E402
from webapp.migrate import upgrade  # noqa: E402
from webapp.models import Account, Booking, Policy, Product, RateHit, Service  # noqa: E402
from webapp.services.accounts import signin
from webapp.services.booking import bookings
from webapp.services.booking.booking_states import OPEN  # noqa: E402
from webapp.services.demo import demo_book  # noqa: E402

CUSTOMER = ("home", "bookings", "booking", "apply", "cancel")
STAFF = ("staff", "report")
TARGET = 1.5
# Services whose form is a few lines of text (no dates to pick): the bench applies for the first one allowed.
APPLY_FORMS = {"remote_consultation": {}, "second_opinion": {"opinion_hospital": ""}, "mdt": {}}
APPLY_VALUES = {"current_diagnosis": "肺腺癌", "questions": "后续治疗方案是否需要调整", "treating_hospital": "复旦大学附属中山医院"}


class BenchError(RuntimeError):
    pass


@dataclass
class Book:
    label: str
    insured: int
    url: str
    app: object = None
    base: str = ""
    server: object = None
    capture: list | None = None  # statements of the request in flight, when asked for
    count: int = 0
    customer: dict = field(default_factory=dict)
    staff: dict = field(default_factory=dict)
    paths: dict = field(default_factory=dict)
    times: dict = field(default_factory=dict)
    statements: dict = field(default_factory=dict)


def database_url(base: str, name: str) -> str:
    return f"{base.rstrip('/')}/{name}"


def ensure_book(book: Book, admin_url: str, rebuild: bool, now: datetime) -> None:
    """Create and fill the database unless it already holds a book of this size."""
    name = book.url.rsplit("/", 1)[1]
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if exists and rebuild:
            conn.execute(text(f'DROP DATABASE "{name}"'))
            exists = False
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    from webapp.db import make_engine

    engine = make_engine(book.url)
    upgrade(engine)
    session = make_session_factory(engine)()
    have = session.scalar(select(func.count()).select_from(Account).where(Account.mobile.like(demo_book.MOBILE_PREFIX + "%")))
    if have != book.insured - _children(session):
        print(f"building the {book.label} book ({book.insured} insured) in {name} …", flush=True)
        report = demo_book.build(session, now, book.insured, progress=lambda line: print("  " + line, flush=True))
        print(f"  built in {report.seconds:.0f} s: {report.counts}", flush=True)
    else:
        print(f"reusing the {book.label} book in {name}", flush=True)
    session.close()
    engine.dispose()


def _children(session) -> int:
    return session.scalar(select(func.count()).select_from(Account).where(Account.mobile.like(demo_book.GUARDIAN_PREFIX + "%")))


def serve(book: Book) -> None:
    app = create_app({"DATABASE_URL": book.url, "WTF_CSRF_TIME_LIMIT": None})
    engine = app.extensions["db_engine"]

    @event.listens_for(engine, "before_cursor_execute")
    def _count(conn, cursor, statement, parameters, context, executemany):
        book.count += 1
        if book.capture is not None:
            book.capture.append((statement, parameters))

    book.app = app
    book.server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=_Quiet)
    book.base = f"127.0.0.1:{book.server.server_port}"
    threading.Thread(target=book.server.serve_forever, daemon=True).start()


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # one line per request would be most of the output
        pass


def pick_person(small: Book, large: Book, now: datetime) -> int:
    """The first insured person k (of the small book) with one policy of the most common product, in force, an open
    application, a history of 8-12 applications and a text-form service they may apply for now; the same in both."""
    app = small.app
    with app.app_context():
        session = app.extensions["db_sessions"]()
        for k in range(small.insured):
            found = _typical(session, k, now)
            if found:
                session.close()
                return k
    raise BenchError("no typical person in the small book")


def _typical(session, k: int, now: datetime):
    account = session.scalar(select(Account).where(Account.mobile == demo_book.mobile_of(k)))
    if account is None:
        return None
    policies = session.scalars(select(Policy).where(Policy.insured_id == account.person_id)).all()
    if len(policies) != 1 or policies[0].status != "in_force":
        return None
    policy = policies[0]
    rows = session.scalars(select(Booking).where(Booking.policy_id == policy.id)).all()
    if not 8 <= len(rows) <= 12 or not any(b.state in {s.value for s in OPEN} for b in rows):
        return None
    for code in APPLY_FORMS:
        service = session.scalar(select(Service).where(Service.product_id == policy.product_id, Service.code == code))
        if service is not None and bookings.eligibility(session, account, policy, service, now).allowed:
            return code
    return None


def prepare(book: Book, k: int, now: datetime) -> None:
    """Sign in the person and the admin (a live login row and its signed cookie, as the sign-in page makes them)."""
    app = book.app
    with app.app_context():
        session = app.extensions["db_sessions"]()
        account = session.scalar(select(Account).where(Account.mobile == demo_book.mobile_of(k)))
        admin = session.scalar(select(Account).where(Account.staff_role == "admin"))
        policy = session.scalar(select(Policy).where(Policy.insured_id == account.person_id))
        product = session.get(Product, policy.product_id)
        rows = session.scalars(select(Booking).where(Booking.policy_id == policy.id).order_by(Booking.id)).all()
        open_ref = next(b.reference for b in rows if b.state in {s.value for s in OPEN})
        code = _typical(session, k, now)
        book.paths = {"home": "/home", "bookings": "/bookings", "booking": f"/bookings/{open_ref}",
                      "apply": f"/apply/{policy.number}/{code}/confirm", "cancel": f"/bookings/{open_ref}/cancel",
                      "staff": "/staff/", "report": "/staff/report"}
        book.customer = {"cookie": _cookie(app, session, account, now), "account_id": account.id,
                         "form": {**APPLY_VALUES, **APPLY_FORMS[code]}, "history": len(rows), "product": product.code}
        book.staff = {"cookie": _cookie(app, session, admin, now)}
        session.close()


def _cookie(app, session, account, now: datetime) -> str:
    token = signin.start_login(session, account, now=now, ip="127.0.0.1", user_agent="scale-bench")
    data = {"_user_id": str(account.id), "_fresh": True, "login_token": token, "login_at": now.isoformat()}
    return app.session_interface.get_signing_serializer(app).dumps(data)


class Client:
    def __init__(self, base: str, cookie: str):
        self.conn = http.client.HTTPConnection(base, timeout=120)
        self.cookies = {"session": cookie}

    def request(self, method: str, path: str, body: dict | None = None, htmx: bool = False):
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()), "Accept-Encoding": "gzip"}
        if htmx:
            headers["HX-Request"] = "true"
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=data, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        if response.getheader("Content-Encoding") == "gzip":  # as a phone asks for it (flask-compress)
            payload = gzip.decompress(payload)
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        return response.status, response.getheader("Location") or response.getheader("HX-Redirect"), payload

    def csrf(self, path: str) -> str:
        status, _, payload = self.request("GET", path)
        found = re.search(rb'"X-CSRFToken": "([^"]+)"', payload) or re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', payload)
        if status != 200 or not found:
            raise BenchError(f"no CSRF token on {path} ({status})")
        return found.group(1).decode()


def measure(book: Book, name: str, client: Client, csrf: str) -> None:
    path = book.paths[name]
    before = book.count
    started = time.perf_counter()
    if name == "apply":
        form = {**book.customer["form"], "csrf_token": csrf, "request_key": secrets.token_urlsafe(16)}
        status, location, _ = client.request("POST", path, form)
        elapsed = time.perf_counter() - started
        if status != 303 or not location:
            raise BenchError(f"apply answered {status} in the {book.label} book")
        statements = book.count - before
        reference = location.rstrip("/").rsplit("/", 1)[1]
        done, _, _ = client.request("POST", f"/bookings/{reference}/cancel", {"csrf_token": csrf})  # withdraw: unmeasured
        _forget_rate_hits(book)
    else:
        status, _, _ = client.request("GET", path, htmx=name == "cancel")
        elapsed = time.perf_counter() - started
        statements = book.count - before
        if status != 200:
            raise BenchError(f"{path} answered {status} in the {book.label} book")
    book.times.setdefault(name, []).append(elapsed * 1000)
    book.statements.setdefault(name, []).append(statements)


def _forget_rate_hits(book: Book) -> None:
    """The bench applies more often than a person may in an hour (views/apply.py APPLY_LIMIT)."""
    with book.app.app_context():
        session = book.app.extensions["db_sessions"]()
        session.execute(RateHit.__table__.delete().where(RateHit.bucket == f"apply:{book.customer['account_id']}"))
        session.commit()
        session.close()


def explain(book: Book, names, large_table: int, out) -> list[str]:
    """EXPLAIN ANALYZE every statement one request of each name runs (rolled back); the seq scans on large tables."""
    found = []
    engine = book.app.extensions["db_engine"]
    with engine.connect() as conn:
        sizes = {row[0]: row[1] for row in conn.execute(text(
            "SELECT relname, reltuples::bigint FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"))}
    customer = Client(book.base, book.customer["cookie"])
    csrf = customer.csrf("/home")
    for name in names:
        book.capture = []
        measure(book, name, customer, csrf)
        captured, book.capture = book.capture, None
        if name == "apply":  # the withdrawal after it is not part of the request
            captured = captured[: book.statements["apply"][-1]]
        print(f"\n== {name} ({len(captured)} statements) ==", file=out)
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            for statement, parameters in captured:
                if statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "SET", "SHOW", "COMMIT", "BEGIN")):
                    continue
                try:
                    cursor.execute("EXPLAIN (ANALYZE, FORMAT TEXT) " + statement, parameters)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                except Exception as exc:  # noqa: BLE001 - a plan we cannot get is printed, not fatal
                    plan = f"(no plan: {type(exc).__name__})"
                raw.rollback()
                took = re.search(r"Execution Time: ([\d.]+) ms", plan)
                print(f"-- {' '.join(statement.split())[:160]}\n   {took.group(1) if took else '?'} ms", file=out)
                print("   " + plan.replace("\n", "\n   "), file=out)
                for table in re.findall(r"Seq Scan on (\w+)", plan):
                    if sizes.get(table, 0) > large_table:
                        found.append(f"{name}: Seq Scan on {table} ({sizes[table]} rows) in: {' '.join(statement.split())[:120]}")
        finally:
            raw.close()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1", help="PostgreSQL, without a database")
    parser.add_argument("--prefix", default="lvt_scale", help="databases <prefix>_1k and <prefix>_100k (reused)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--per-round", type=int, default=5, help="requests per endpoint and book in each round")
    parser.add_argument("--rebuild", action="store_true", help="drop and build both books again")
    parser.add_argument("--large-table", type=int, default=20_000, help="rows above which a seq scan is flagged")
    parser.add_argument("--explain-out", help="write every plan here (default: only the flagged scans are printed)")
    args = parser.parse_args()

    now = datetime.now(timezone.utc)
    books = [Book(label, n, database_url(args.server, f"{args.prefix}_{label}"))
             for label, n in (("%dk" % (args.small // 1000) if args.small >= 1000 else str(args.small), args.small),
                              ("%dk" % (args.large // 1000) if args.large >= 1000 else str(args.large), args.large))]
    for book in books:
        ensure_book(book, database_url(args.server, "postgres"), args.rebuild, now)
        serve(book)
    small, large = books
    k = pick_person(small, large, now)
    for book in books:
        prepare(book, k, now)
    if small.customer["history"] != large.customer["history"]:
        raise BenchError(f"person {k} differs between the books ({small.customer['history']} vs {large.customer['history']} applications)")
    print(f"typical person: {demo_book.mobile_of(k)} ({small.customer['product']}, {small.customer['history']} applications, "
          f"one open); staff: the demo admin", flush=True)

    clients = {}
    for book in books:
        customer, staff = Client(book.base, book.customer["cookie"]), Client(book.base, book.staff["cookie"])
        clients[book.label] = (customer, customer.csrf("/home"), staff)
        for name in CUSTOMER + STAFF:  # warm-up: templates, caches, connections
            measure(book, name, staff if name in STAFF else customer, clients[book.label][1])
        book.times.clear()
        book.statements.clear()
    for r in range(args.rounds):
        for book in (books if r % 2 == 0 else books[::-1]):
            customer, csrf, staff = clients[book.label]
            for name in CUSTOMER + STAFF:
                for _ in range(args.per_round):
                    measure(book, name, staff if name in STAFF else customer, csrf)
        print(f"round {r + 1}/{args.rounds} done", flush=True)

    failed = False
    # Statements: the median request's (a login's last-seen write once a minute and the calendar's re-read every 5 s
    # add a few to some requests, in either book); the most seen in brackets.
    print(f"\n{'endpoint':10} {small.label + ' ms':>10} {large.label + ' ms':>10} {'ratio':>7} {'SQL ' + small.label:>11} "
          f"{'SQL ' + large.label:>11}")
    for name in CUSTOMER + STAFF:
        a, b = statistics.median(small.times[name]), statistics.median(large.times[name])
        qa, qb = round(statistics.median(small.statements[name])), round(statistics.median(large.statements[name]))
        ratio = b / a
        flag = ""
        if ratio > TARGET or qb > qa:
            flag = "  <-- misses" + (f" (>{TARGET}x)" if ratio > TARGET else "") + (" (more SQL)" if qb > qa else "")
            failed = True
        most = f"{qa:4d} ({max(small.statements[name]):3d})", f"{qb:4d} ({max(large.statements[name]):3d})"
        print(f"{name:10} {a:10.1f} {b:10.1f} {ratio:6.2f}x {most[0]:>11} {most[1]:>11}{flag}")

    out = open(args.explain_out, "w") if args.explain_out else open(os.devnull, "w")
    with out:
        scans = explain(large, CUSTOMER, args.large_table, out)
    print(f"\nEXPLAIN ANALYZE of every customer request's statements in the {large.label} book"
          + (f" (plans in {args.explain_out})" if args.explain_out else "") + ":")
    print("\n".join("  " + line for line in scans) if scans else f"  no Seq Scan on a table of more than {args.large_table} rows")
    for book in books:
        book.server.shutdown()
    return 1 if failed or scans else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as exc:
        print(f"scale_bench: {exc}", file=sys.stderr)
        sys.exit(2)
