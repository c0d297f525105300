"""A completion record per second-opinion case for the insurer (services/desk/case_records.py).

004 海外第二诊疗意见: the desk answers whether it starts "2个工作日内" (line 287) and the report comes "以资料收集齐全后的
20个工作日内" (line 250). One record per case closed in the report week, with both promises checked.
"""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from webapp.services.booking import bookings
from webapp.services.desk import case_records

from .conftest import World, at
from .web_helpers import set_clock, sign_in

APPLIED = at(2026, 11, 2, 10, 0)  # Monday
PAPERS = at(2026, 11, 3, 10, 0)  # Tuesday: the answer is due Thursday 5 Nov


@pytest.fixture()
def starr(session):
    return World(session, "starr_jiuyibao", effective=date(2026, 1, 1))


def opinion(w, *, answered, delivered, key="k1"):
    outcome = bookings.apply(w.session, account=w.account, policy_id=w.policy.id, service_code="second_opinion_overseas",
                             request_key=key, now=APPLIED,
                             details={"current_diagnosis": "肺腺癌", "questions": "是否手术", "treating_hospital": "瑞金医院"})
    assert outcome.ok, outcome.reasons
    b = outcome.booking
    bookings.start_review(w.session, b.id, staff=w.staff, now=APPLIED)
    bookings.mark_papers_complete(w.session, b.id, staff=w.staff, now=PAPERS)
    bookings.approve(w.session, b.id, staff=w.staff, now=answered)
    bookings.schedule(w.session, b.id, staff=w.staff, now=answered, starts_at=delivered,
                      appointment={"kind": "opinion", "expert": "MD Anderson"})
    return bookings.complete(w.session, b.id, staff=w.staff, now=delivered)


def test_a_case_answered_and_delivered_within_the_promises(starr):
    done = opinion(starr, answered=at(2026, 11, 5, 17, 59), delivered=at(2026, 12, 1, 10, 0))
    [record] = case_records.closed_in_week(starr.session, week_start=date(2026, 11, 30))
    assert record.reference == done.reference and record.outcome == "completed"
    assert record.answer_due == date(2026, 11, 5) and record.answered_in_time is True
    assert record.promised_by == date(2026, 12, 1) and record.delivered_in_time is True  # 20 working days from 3 Nov


def test_a_late_answer_and_a_late_report_are_recorded_as_late(starr):
    opinion(starr, answered=at(2026, 11, 6, 9, 0), delivered=at(2026, 12, 9, 10, 0))
    [record] = case_records.closed_in_week(starr.session, week_start=date(2026, 12, 7))
    assert record.answered_in_time is False
    assert record.delivered_in_time is False
    assert case_records.closed_in_week(starr.session, week_start=date(2026, 11, 30)) == []  # closed the week after
    assert case_records.closed_in_week(starr.session, week_start=date(2026, 12, 7), product_code="zhongan_vip") == []


def test_the_coordinator_sees_and_downloads_the_cases(app, starr, client):
    done = opinion(starr, answered=at(2026, 11, 5, 10, 0), delivered=at(2026, 12, 1, 10, 0))
    starr.session.commit()
    set_clock(app, at(2026, 12, 8, 10, 0))
    sign_in(client, "13900000009")
    page = client.get("/staff/report?week=2026-11-30").get_data(as_text=True)
    assert f'data-testid="case-record" data-reference="{done.reference}"' in page
    assert 'data-answered-in-time="yes" data-delivered-in-time="yes"' in page
    download = client.get("/staff/report-cases.csv?week=2026-11-30")
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert [(r["reference"], r["answered_in_time"], r["delivered_in_time"]) for r in rows] == [(done.reference, "yes", "yes")]
    assert rows[0]["papers_complete"] == "2026-11-03 10:00"
