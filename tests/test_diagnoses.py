"""What the applicant is asked for and the diagnosis on file (issue 14 items 3 and 4; services/booking/diagnoses.py).

000 （一）1.2 lines 24-26: "疑似患者提供……病历", "确诊患者提供……病理诊断报告". 002 二 1 line 158 and 003 MDT 二(2)
line 2617 / 护工 一 2 line 2285 need a confirmed diagnosis on file; the reviewer (or the insurer's file) records it,
checked against the policy start (000 Q&A) and the waiting period (002 一 2(1)).
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import delete, func, select

from webapp.models import AuditEvent, Diagnosis
from webapp.services.booking import bookings, diagnoses
from webapp.services.booking.apply_forms import documents_for, fields_for
from webapp.services.products.catalog import default_catalog
from webapp.services.booking.people import diagnosis_facts, policy_facts
from webapp.services.eligibility import check, SELF

from .conftest import World, at

NOW = at(2026, 11, 23, 10, 0)
CLASSIC = default_catalog().product("cigc_classic")


@pytest.mark.parametrize("service, stage, papers", [
    ("expert_outpatient", "suspected", ("diagnosis",)),  # line 24: the medical record only
    ("expert_outpatient", "confirmed", ("pathology_report",)),  # line 26: the pathology report
    ("expert_outpatient", None, ("diagnosis", "pathology_report")),  # asked before the question existed
    ("inpatient_surgery", "suspected", ("diagnosis", "admission_slip")),  # （二）1.2 line 130 and 2.4(4)
    ("inpatient_surgery", "confirmed", ("pathology_report", "admission_slip")),
])
def test_000_asks_the_papers_that_fit_the_applicants_diagnosis(service, stage, papers):
    values = {"diagnosis_stage": stage, "admission_slip_date": date(2026, 11, 20)} if stage else {
        "admission_slip_date": date(2026, 11, 20)}
    assert documents_for(CLASSIC.service(service), values) == papers


def test_only_services_asking_for_both_papers_ask_the_question():
    for product in default_catalog().products:
        for service in product.services:
            if service.bookable:
                names = [f.name for f in fields_for(product, service)]
                assert ("diagnosis_stage" in names) == (product.code == "cigc_classic"), (product.code, service.code)


def _no_diagnosis(w):
    w.session.execute(delete(Diagnosis).where(Diagnosis.person_id == w.person.id))
    w.session.commit()


def _allowed(w, code):
    product = default_catalog().product(w.policy.product.code)
    return check(product, product.service(code), policy_facts(w.policy), SELF, NOW,
                 diagnoses=diagnosis_facts(w.session, w.person.id))


@pytest.fixture()
def xingtao(session):
    return World(session, "xingtao_gc", effective=date(2026, 1, 1))


def test_a_recorded_confirmed_diagnosis_opens_the_002_admission(xingtao):
    w = xingtao
    _no_diagnosis(w)
    assert [r.key for r in _allowed(w, "inpatient").reasons] == ["diagnosis.missing"]
    done = diagnoses.record(w.session, w.person.id, diagnoses.Entry("confirmed", "2026-06-01", " 瑞金医院 ", "3A"),
                            by=w.staff, now=NOW)
    assert done.created and done.not_covered == {}
    assert done.diagnosis.hospital == "瑞金医院" and done.diagnosis.verified_by_id == w.staff.id
    assert _allowed(w, "inpatient").allowed
    again = diagnoses.record(w.session, w.person.id, diagnoses.Entry("confirmed", "2026-06-01", "瑞金医院", "3A"),
                             by=w.staff, now=NOW)
    assert not again.created
    assert w.session.scalar(select(func.count()).select_from(Diagnosis).where(Diagnosis.person_id == w.person.id)) == 1
    assert w.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "diagnosis.record")) == 1


def test_a_suspected_or_low_grade_diagnosis_does_not_open_it(xingtao):
    w = xingtao
    _no_diagnosis(w)
    diagnoses.record(w.session, w.person.id, diagnoses.Entry("suspected", "2026-06-01", "瑞金医院", "3A"), by=w.staff, now=NOW)
    diagnoses.record(w.session, w.person.id, diagnoses.Entry("confirmed", "2026-06-02", "区医院", "2"), by=w.staff, now=NOW)
    assert [r.key for r in _allowed(w, "inpatient").reasons] == ["diagnosis.missing"]


@pytest.mark.parametrize("first, reason", [
    (date(2025, 12, 31), "diagnosis.before_policy"),  # 000 Q&A: before the policy
    (date(2026, 3, 31), "diagnosis.in_waiting_period"),  # 002 一 2(1): 90 days from 1 Jan end on 1 Apr
    (date(2026, 4, 1), None),
])
def test_the_first_diagnosis_date_is_checked_against_the_waiting_period(xingtao, first, reason):
    w = xingtao
    _no_diagnosis(w)
    done = diagnoses.record(w.session, w.person.id, diagnoses.Entry("confirmed", first, "瑞金医院", "3A"), by=w.staff, now=NOW)
    got = done.not_covered.get(w.policy.number)
    assert (got.key if got else None) == reason
    assert _allowed(w, "inpatient").allowed == (reason is None)


@pytest.mark.parametrize("entry, field", [
    (diagnoses.Entry("probable", "2026-06-01", "瑞金医院", "3A"), "certainty"),
    (diagnoses.Entry("confirmed", "2026-11-24", "瑞金医院", "3A"), "diagnosed_on"),  # tomorrow
    (diagnoses.Entry("confirmed", "1 June", "瑞金医院", "3A"), "diagnosed_on"),
    (diagnoses.Entry("confirmed", "2026-06-01", "   ", "3A"), "hospital"),
    (diagnoses.Entry("confirmed", "2026-06-01", "医" * 129, "3A"), "hospital"),
    (diagnoses.Entry("confirmed", "2026-06-01", "瑞金医院", "3B"), "hospital_grade"),
])
def test_a_diagnosis_that_cannot_be_right_is_refused_and_nothing_is_recorded(xingtao, entry, field):
    w = xingtao
    _no_diagnosis(w)
    with pytest.raises(diagnoses.DiagnosisRefused) as refused:
        diagnoses.record(w.session, w.person.id, entry, by=w.staff, now=NOW)
    assert list(refused.value.errors) == [field]
    assert diagnoses.on_file(w.session, w.person.id) == []


def test_the_insurers_file_records_good_rows_and_names_the_bad_ones(xingtao):
    w = xingtao
    _no_diagnosis(w)
    rows = [
        {"id_number": w.person.id_number, "certainty": "Confirmed", "diagnosed_on": "2026-06-01", "hospital": "瑞金医院",
         "hospital_grade": "3a", "public_hospital": "yes"},
        {"id_number": w.person.id_number, "certainty": "confirmed", "diagnosed_on": "2026-06-01", "hospital": "瑞金医院",
         "hospital_grade": "3A"},  # the same again
        {"id_number": "110105198001010000", "certainty": "confirmed", "diagnosed_on": "2026-06-01", "hospital": "x",
         "hospital_grade": "3A"},
        {"id_number": w.person.id_number, "certainty": "confirmed", "diagnosed_on": "2030-01-01", "hospital": "瑞金医院",
         "hospital_grade": "3A"},
    ]
    report = diagnoses.import_rows(w.session, rows, now=NOW)
    assert (report.recorded, report.already) == (1, 1)
    assert [line for line, _ in report.problems] == [4, 5]
    assert _allowed(w, "inpatient").allowed


@pytest.fixture()
def classic(session):
    return World(session, "cigc_classic", effective=date(2026, 1, 1))


def test_the_reviewer_changes_the_papers_asked_for_while_in_review(classic):
    w = classic
    outcome = bookings.apply(w.session, account=w.account, policy_id=w.policy.id, service_code="expert_outpatient",
                             request_key="k1", now=NOW, details={"diagnosis_stage": "confirmed", "city": "上海"})
    b = outcome.booking
    with pytest.raises(diagnoses.DiagnosisRefused):
        diagnoses.set_stage(w.session, b, "suspected", staff=w.account, now=NOW)  # the customer cannot
    with pytest.raises(diagnoses.DiagnosisRefused):
        diagnoses.set_stage(w.session, b, "maybe", staff=w.staff, now=NOW)
    diagnoses.set_stage(w.session, b, "suspected", staff=w.staff, now=NOW + timedelta(minutes=5))
    assert b.details["diagnosis_stage"] == "suspected" and b.details["city"] == "上海"
    assert documents_for(CLASSIC.service("expert_outpatient"), b.details) == ("diagnosis",)
    bookings.start_review(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=1))
    bookings.approve(w.session, b.id, staff=w.staff, now=NOW + timedelta(hours=2))
    with pytest.raises(diagnoses.DiagnosisRefused) as refused:
        diagnoses.set_stage(w.session, b, "confirmed", staff=w.staff, now=NOW + timedelta(hours=3))
    assert refused.value.errors == {"certainty": "review.not_in_review"}
