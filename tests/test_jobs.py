"""Cron jobs run once whichever server runs them (issue 16 item 3): the job lock (services/jobs.py) and the per-item
claims that keep two overlapping runs from sending a message twice. Fixed clocks only.

The lock is PostgreSQL's (run these with DATABASE_URL naming one); on SQLite there is one server and nothing to
take. The claims are tested on both: a second run, in a session of its own (another server), does the whole job
while the first is still handing over its first message.
"""
from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, func, select

from webapp.models import Notification, Person
from webapp.services import jobs
from webapp.services.booking import notifications
from webapp.services.family import family

from .conftest import World, build_demo
from .test_notifications import FREE_UNTIL, NOW, VISIT, Recorder, rows, scheduled

on_postgres = pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgresql"),
                                 reason="the advisory lock is PostgreSQL's; set DATABASE_URL to run it")
on_sqlite = pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgresql"), reason="SQLite's path")


@pytest.fixture()
def w(session):
    return World(session, "cigc_classic", effective=NOW.date().replace(month=1, day=1))


def test_each_job_has_its_own_key_the_same_in_every_process():
    # fixed numbers: a key computed with Python's salted hash() would differ between two servers
    assert jobs.lock_key("remind") == 6481978598657455557
    assert jobs.lock_key("family-birthdays") == -5848427178232287963
    names = ["remind", "remind-day-before", "family-birthdays", "papers-sweep", "papers-purge"]
    assert len({jobs.lock_key(name) for name in names}) == len(names)


@on_postgres
def test_a_second_server_does_not_get_the_lock_until_the_first_run_ends(session, session_factory):
    other = session_factory()
    try:
        with jobs.only_one(session, "remind") as first:
            with jobs.only_one(other, "remind") as second, jobs.only_one(other, "papers-purge") as another_job:
                assert (first, second, another_job) == (True, False, True)
        with jobs.only_one(other, "remind") as after:
            assert after is True
    finally:
        other.close()


@on_sqlite
def test_on_sqlite_every_run_goes_ahead(session, session_factory):
    other = session_factory()
    try:
        with jobs.only_one(session, "remind") as first, jobs.only_one(other, "remind") as second:
            assert (first, second) == (True, True)
    finally:
        other.close()


@on_postgres
def test_the_command_on_a_second_server_says_so_and_does_nothing(app, w):
    scheduled(w)
    now = FREE_UNTIL - timedelta(hours=1)
    channel = Recorder()
    app.config.update(CLOCK=lambda: now, NOTIFY_CHANNEL=channel)
    runner = app.test_cli_runner()
    with jobs.only_one(w.session, "remind") as got:
        assert got
        result = runner.invoke(args=["remind"])
    assert (result.exit_code, result.output) == (0, "another server is running remind; nothing done\n")
    assert channel.sent == [] and rows(w, kind="reminder_free_change") == []
    result = runner.invoke(args=["remind"])
    assert (result.exit_code, result.output) == (0, "1 reminder(s) sent\n")


class Overlapping(Recorder):
    """A channel that, while handing over the first message, lets a second run do the whole job (another server)."""

    def __init__(self, second_run):
        super().__init__()
        self.second_run, self.second, self.second_count = second_run, Recorder(), None

    def send(self, account, notification):
        if self.second_count is None:
            self.second_count = self.second_run(self.second)
        super().send(account, notification)


@pytest.mark.parametrize("send, now, kind", [
    (notifications.send_reminders, FREE_UNTIL - timedelta(hours=2), "reminder_free_change"),
    (notifications.send_day_before, VISIT - timedelta(hours=23), "reminder_day_before"),  # 10:00 the day before
])
def test_two_runs_at_once_send_each_reminder_once(w, session_factory, send, now, kind):
    parent = w.guardian()
    b = scheduled(w, account=parent)
    other = session_factory()
    try:
        first = Overlapping(lambda channel: send(other, now, channel))
        count = send(w.session, now, first)
    finally:
        other.close()
    everyone = sorted(first.sent + first.second.sent)
    assert everyone == sorted([(parent.id, kind, b.reference), (w.account.id, kind, b.reference)])
    assert count + first.second_count == 2 and first.second.sent  # the second run did take part
    assert all(n.sent_at == now for n in rows(w, kind=kind)) and len(rows(w, kind=kind)) == 2


class Texts:
    def __init__(self):
        self.sent = []

    def send(self, mobile, text):
        self.sent.append((mobile, text))


@on_postgres
def test_two_runs_at_once_end_a_guardianship_with_one_notice_and_one_text(session, session_factory):
    # The second run reads the due grants, then the first run (another server) does the whole job before it claims.
    build_demo(session, NOW)
    child = session.scalar(select(Person).where(Person.name == "李小明"))
    child.mobile = "13900000018"
    session.commit()
    birthday = family.adulthood(child.birth_date)
    moment = datetime(birthday.year, birthday.month, birthday.day, 0, 5, tzinfo=timezone(timedelta(hours=8)))
    other, texts, reports = session_factory(), Texts(), []

    def first_run_finishes_meanwhile(state):
        if state.is_relationship_load and not reports:  # the due grants are read; their people are being loaded
            reports.append(family.end_guardianships_of_adults(session, now=moment, sms=texts, invitation="hi"))

    event.listen(other, "do_orm_execute", first_run_finishes_meanwhile)
    try:
        second = family.end_guardianships_of_adults(other, now=moment, sms=texts, invitation="hi")
    finally:
        other.close()
    assert [r.ended for r in reports] == [1] and (second.ended, second.invited) == (0, 0)
    assert texts.sent == [("13900000018", "hi")]
    told = select(func.count()).select_from(Notification).where(Notification.kind == "access_ended")
    assert session.scalar(told) == 1
