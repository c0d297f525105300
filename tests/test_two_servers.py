"""Two servers on one PostgreSQL database and one S3 store (issue 16, "Must hold"): two gunicorn instances of the app
on 127.0.0.1, a real SeaweedFS (tests/seaweed.py), and every cron command started on both at once.

- a submission replayed on both servers at once is answered with its one booking by each;
- applications for the last use, sent over both servers at once, give exactly one success;
- remind, remind-day-before, family-birthdays, papers-sweep, papers-purge and retention, each run by both servers at
  the same moment (as the same crontab on every server does), send each message once and do each deletion once.

Each server process gets the test's clock and records every message it sends (notification or SMS) as a line in one
file (the `_app.py` module written below), so "once" is counted at the sending end, not only in the database.
"""
from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from webapp.models import Account, Booking, Document, DocumentPage, Notification, Person, RateHit
from webapp.services.booking import bookings
from webapp.services.family import family

from .conftest import World, build_demo
from .seaweed import free_ports
from .test_notifications import FREE_UNTIL, VISIT
from .test_web_portal import EXPERT_FORM, W_MOBILE
from .web_helpers import NOW, csrf_from, sign_in
from .worlds import empty_database

pytestmark = [
    pytest.mark.serial,
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                       reason="several servers share one PostgreSQL database (SQLite is one server by definition); "
                              "set DATABASE_URL to a PostgreSQL database to run this"),
]

ROOT = Path(__file__).resolve().parents[1]
POLICY, SERVICE = "T-cigc_classic", "expert_outpatient"  # 000: one expert visit a year

# The app as each server runs it: the test's clock (LVTONG_TEST_NOW), and a notification channel and an SMS sender
# that append one line per message sent to LVTONG_TEST_SENDS (O_APPEND: lines from several processes never mix).
APP_MODULE = '''
import os
from datetime import datetime

from webapp import create_app

NOW = datetime.fromisoformat(os.environ["LVTONG_TEST_NOW"])
app = create_app({"CLOCK": lambda: NOW})


def _sent(line):
    with open(os.environ["LVTONG_TEST_SENDS"], "a", encoding="utf-8") as f:
        f.write(line + "\\n")


class Channel:
    def send(self, account, notification):
        _sent(f"notify {account.id} {notification.kind} {notification.id}")


class Sms:
    def __init__(self, config):
        pass

    def send(self, mobile, text):
        _sent(f"sms {mobile}")
'''


class Response:
    def __init__(self, status: int, headers, body: bytes):
        self.status_code, self.headers, self.body = status, headers, body

    def get_data(self, as_text: bool = False):
        return self.body.decode() if as_text else self.body


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class HttpClient:
    """Enough of Flask's test client over real HTTP for tests/web_helpers.sign_in: get, post (form), cookies kept.
    Cookies are not per port, so a client signed in on one server carries the same session to the other."""

    def __init__(self, base: str, jar: http.cookiejar.CookieJar | None = None):
        self.base, self.jar = base, jar if jar is not None else http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect())

    def on(self, base: str) -> HttpClient:
        return HttpClient(base, self.jar)

    def get(self, path: str, headers: dict | None = None, follow_redirects: bool = False) -> Response:
        return self._send(urllib.request.Request(self.base + path, headers=headers or {}))

    def post(self, path: str, data: dict | None = None, headers: dict | None = None,
             follow_redirects: bool = False) -> Response:
        body = urllib.parse.urlencode(data or {}).encode()
        return self._send(urllib.request.Request(self.base + path, data=body, headers=headers or {}, method="POST"))

    def _send(self, req) -> Response:
        try:
            with self.opener.open(req, timeout=30) as answer:  # noqa: S310 (our own server on 127.0.0.1)
                return Response(answer.status, answer.headers, answer.read())
        except urllib.error.HTTPError as answer:  # 3xx (redirects not followed), 4xx, 5xx
            return Response(answer.code, answer.headers, answer.read())


@pytest.fixture()
def cluster(database_url, engine, tmp_path, request):
    """Two gunicorn servers of the app (1 worker × 4 threads each) on the test's database and one S3 bucket; yields
    (bases, env, sends file). The servers' clock is web_helpers.NOW."""
    server = request.getfixturevalue("s3_server")
    store = request.getfixturevalue("s3_storage")
    (tmp_path / "_app.py").write_text(APP_MODULE)
    sends = tmp_path / "sends.log"
    sends.touch()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path), "PYTHONPATH": f"{tmp_path}:{ROOT}",
        "LVTONG_ENV": "test", "SECRET_KEY": secrets.token_hex(16), "DATABASE_URL": database_url,
        "STORAGE_BACKEND": "s3", "S3_BUCKET": store.bucket, "S3_ENDPOINT_URL": server.endpoint_url,
        "S3_ACCESS_KEY_ID": server.access_key, "S3_SECRET_ACCESS_KEY": server.secret_key,
        "NOTIFY_CHANNEL": "_app:Channel", "SMS_BACKEND": "_app:Sms", "LVTONG_TEST_SENDS": str(sends),
        "LVTONG_TEST_NOW": NOW.isoformat(),
    }
    ports = free_ports(2)
    procs = []
    try:
        for port in ports:
            log = open(tmp_path / f"gunicorn-{port}.log", "wb")  # noqa: SIM115 (closed with the process below)
            procs.append((subprocess.Popen(
                [str(Path(sys.executable).parent / "gunicorn"), "--config", str(ROOT / "gunicorn.conf.py"),
                 "--workers", "1", "--threads", "4", "--bind", f"127.0.0.1:{port}", "_app:app"],
                cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT), log))
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        deadline = time.monotonic() + 30
        for base, (proc, _log) in zip(bases, procs):
            while True:
                assert proc.poll() is None, (tmp_path / f"gunicorn-{base.rsplit(':', 1)[1]}.log").read_text()[-3000:]
                try:
                    if HttpClient(base).get("/healthz").status_code == 200:
                        break
                except OSError:
                    pass
                assert time.monotonic() < deadline, "gunicorn did not answer /healthz within 30 s"
                time.sleep(0.1)
        yield bases, env, sends, store
    finally:
        for proc, log in procs:
            proc.terminate()
        for proc, log in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()


def at_once(n: int, work) -> list:
    """`work(i)` in n threads released together."""
    barrier, results = threading.Barrier(n), [None] * n

    def run(i):
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # asserted on below
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def on_both(env: dict, now, *args: str) -> list[str]:
    """`flask --app _app <args>` started by both servers at the same moment (their crontab); the outputs."""
    run_env = {**env, "LVTONG_TEST_NOW": now.isoformat()}
    procs = [subprocess.Popen([str(Path(sys.executable).parent / "flask"), "--app", "_app", *args], cwd=env["HOME"],
                              env=run_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    outputs = []
    for proc in procs:
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 0, out
        outputs.append(out)
    return outputs


def total(outputs: list[str], pattern: str) -> int:
    """The sum over both servers of the number `pattern` (a regex with one group) reports."""
    return sum(int(m.group(1)) for out in outputs for m in [re.search(pattern, out)] if m)


def sent(sends: Path) -> list[str]:
    return sends.read_text().splitlines()


def test_two_servers_one_database_one_store(cluster, session, engine):
    bases, env, sends, store = cluster
    w = World(session, "cigc_classic", effective=NOW.date().replace(month=1, day=1))
    account_id, policy_id = w.account.id, w.policy.id
    session.commit()

    # Signed in on one server, the same session works on the other (one database of logins, one SECRET_KEY).
    first = HttpClient(bases[0])
    sign_in(first, W_MOBILE)
    clients = [first, first.on(bases[1])]
    form_page = clients[1].get(f"/apply/{POLICY}/{SERVICE}")
    assert form_page.status_code == 200
    form = {**EXPERT_FORM, "csrf_token": csrf_from(form_page.get_data(as_text=True))}

    def confirm(i: int, key: str):
        return clients[i % 2].post(f"/apply/{POLICY}/{SERVICE}/confirm", data={**form, "request_key": key})

    # 1. One submission replayed 8 times over both servers at once: each answer is the one booking.
    replays = at_once(8, lambda i: confirm(i, "replayed-on-both"))
    assert [r.status_code for r in replays] == [303] * 8, [getattr(r, "body", r) for r in replays]
    assert len({r.headers["Location"] for r in replays}) == 1
    session.expire_all()
    (booking,) = session.scalars(select(Booking).where(Booking.policy_id == policy_id)).all()
    assert replays[0].headers["Location"].endswith(f"/bookings/{booking.reference}")

    # 2. The use given back, 10 different applications for it over both servers at once: exactly one wins.
    bookings.cancel(session, booking.id, actor=session.get(Account, account_id), now=NOW)
    race = at_once(10, lambda i: confirm(i, f"race-{i}"))
    statuses = Counter(r.status_code for r in race)
    assert statuses == {303: 1, 409: 9}, [getattr(r, "body", r)[:300] for r in race if r.status_code not in (303, 409)]
    session.expire_all()
    open_ones = session.scalars(select(Booking).where(Booking.policy_id == policy_id, Booking.id != booking.id)).all()
    assert len(open_ones) == 1  # the nine refused made nothing

    # 3. Reminders for the winner, arranged: started on both servers at once, each goes out once.
    winner, staff = open_ones[0], w.staff
    bookings.start_review(session, winner.id, staff=staff, now=NOW + timedelta(hours=1))
    bookings.approve(session, winner.id, staff=staff, now=NOW + timedelta(hours=2))
    bookings.schedule(session, winner.id, staff=staff, now=NOW + timedelta(hours=3), starts_at=VISIT,
                      appointment={"hospital": "瑞金医院"})
    sends.write_text("")
    outputs = on_both(env, FREE_UNTIL - timedelta(hours=2), "remind")
    assert total(outputs, r"(\d+) reminder\(s\) sent") == 1, outputs
    outputs = on_both(env, VISIT - timedelta(hours=23), "remind-day-before")  # 10:00 the day before
    assert total(outputs, r"(\d+) day-before reminder\(s\) sent") == 1, outputs
    lines = sent(sends)
    assert len(lines) == 2 and len(set(lines)) == 2, lines
    session.expire_all()
    kinds = Counter(n.kind for n in session.scalars(select(Notification).where(
        Notification.booking_id == winner.id, Notification.sent_at.is_not(None))))
    assert kinds["reminder_free_change"] == 1 and kinds["reminder_day_before"] == 1
    session.rollback()

    # 4. The demo world: a ward who turns 18, papers in the store (one lost, one orphan), an application closed
    # long ago, old rate-limit hits.
    empty_database(engine)
    build_demo(session, NOW)
    child = session.scalar(select(Person).where(Person.name == "李小明"))
    child.mobile = "13900000018"
    closed = session.scalar(select(Booking).where(Booking.id.not_in(
        select(Document.booking_id).where(Document.booking_id.is_not(None)))).order_by(Booking.id))
    paper = Document(booking_id=closed.id, person_id=closed.policy.insured_id, kind="diagnosis", status="received",
                     created_at=NOW - timedelta(days=300), updated_at=NOW - timedelta(days=300))
    session.add(paper)
    session.flush()
    for n in range(6):
        key = secrets.token_hex(16)
        session.add(DocumentPage(public_id=secrets.token_urlsafe(12), document_id=paper.id, position=n, storage_key=key,
                                 thumbnail_key=key + ".t", sha256=f"{n:064d}", width=1200, height=1600, byte_size=4,
                                 status="received", uploaded_by_id=closed.applicant_account_id,
                                 created_at=NOW - timedelta(days=300)))
    closed.state, closed.closed_at = "completed", NOW - timedelta(days=200)
    session.commit()
    pages = session.execute(select(DocumentPage.id, DocumentPage.storage_key, DocumentPage.thumbnail_key)).all()
    for page in pages:
        store.put(page.storage_key, b"page")
        store.put(page.thumbnail_key, b"thumb")
    lost = pages[0]
    store.delete(lost.storage_key)
    store.put("0" * 32, b"left behind by a crash")
    session.add_all([RateHit(bucket=f"old-{i}", at=NOW - timedelta(days=3)) for i in range(3)])
    session.commit()
    birthday = family.adulthood(child.birth_date)
    adult_day = NOW.replace(year=birthday.year, month=birthday.month, day=birthday.day, hour=0, minute=5)
    sends.write_text("")

    outputs = on_both(env, adult_day, "family-birthdays")
    ended = total(outputs, r"(\d+) guardianship\(s\) ended")
    texts = [line for line in sent(sends) if line.startswith("sms ")]
    assert ended >= 1 and total(outputs, r"(\d+) invitation\(s\) sent") == 1, outputs
    assert texts == ["sms 13900000018"], texts
    told = select(func.count()).select_from(Notification).where(Notification.kind == "access_ended")
    assert session.scalar(told) == ended
    session.rollback()

    outputs = on_both(env, NOW, "papers-sweep", "--grace-minutes", "0")
    assert total(outputs, r"(\d+) file\(s\) without a page") == 1, outputs
    assert total(outputs, r"(\d+) page\(s\) whose file was missing") == 1, outputs
    assert session.get(DocumentPage, lost.id) is None
    session.rollback()

    count_pages = select(func.count()).select_from(DocumentPage)
    before = session.scalar(count_pages)
    session.rollback()
    outputs = on_both(env, NOW, "papers-purge", "--days", "180")
    purged = total(outputs, r"deleted (\d+) page\(s\)")
    assert purged >= 1 and purged == before - session.scalar(count_pages), outputs
    session.rollback()

    old_hits = select(func.count()).select_from(RateHit).where(RateHit.at < NOW - timedelta(days=1))
    before = session.scalar(old_hits)
    session.rollback()
    outputs = on_both(env, NOW, "retention")
    assert before >= 3 and total(outputs, r"deleted (\d+) rate-limit hit\(s\)") == before, outputs
    assert session.scalar(old_hits) == 0
