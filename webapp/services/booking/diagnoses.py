"""Diagnoses on file: what the applicant says, what the reviewer verifies, what the insurer sends (issue 14 items 3, 4).

000 （一）1.2 lines 24-26 (and （二）1.2 lines 130-132) ask different papers of different patients: "疑似患者提供二甲及
以上公立医院初步确诊患有相关疾病的病历" and "确诊患者提供……病理诊断报告". So the applicant says which applies
(`STAGES`); the checklist follows the answer (apply_forms.documents_for) and the reviewer can change it.

Services that need a confirmed diagnosis on file (002 住院/手术 "初次罹患"; 003 MDT "确诊", 护工 "确诊") are opened by a
verified `Diagnosis` row. The reviewer records one when accepting diagnosis papers — certainty, first-diagnosis
date, hospital and its grade — and an insurer's import can record one too. A diagnosis is a fact and is recorded
even when it makes the policy not cover the illness; `recorded` says so (eligibility.first_diagnosis_reason: before
the policy, 000 Q&A; inside the waiting period where the seed says "等待期后", 002 一 2(1), 004 一 1 line 37).
"""
from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...db import write_transaction
from ...models import Account, Booking, Diagnosis, Person, Policy
from .. import audit
from ..accounts.identity import is_valid_resident_id
from ..clock import china_date
from ..eligibility import Reason, first_diagnosis_reason
from ..products.catalog import HospitalGrade, default_catalog
from ..refusals import Refused
from .apply_forms import clean_text
from .booking_states import State
from .people import policy_facts

SUSPECTED, CONFIRMED = "suspected", "confirmed"
STAGES = (SUSPECTED, CONFIRMED)
GRADES = tuple(g.value for g in HospitalGrade)
HOSPITAL_MAX = 128
EARLIEST = date(1900, 1, 1)


class DiagnosisRefused(Refused, ValueError):
    """The diagnosis cannot be recorded; `errors` maps each field to a refusal key (`key`: the first of them)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(next(iter(errors.values())))
        self.errors = errors

    def __str__(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in self.errors.items())


@dataclass(frozen=True)
class Entry:
    """A diagnosis as typed or imported, before it is checked."""

    certainty: str
    diagnosed_on: date | str
    hospital: str
    hospital_grade: str
    public_hospital: bool = True


def checked(entry: Entry, today: date) -> tuple[Entry | None, dict[str, str]]:
    """The entry with its date parsed and its hospital cleaned, or the errors (field -> key)."""
    errors: dict[str, str] = {}
    if entry.certainty not in STAGES:
        errors["certainty"] = "diagnosis.certainty"
    day = entry.diagnosed_on
    if isinstance(day, str):
        try:
            day = date.fromisoformat(day.strip()[:10])
        except ValueError:
            day = None
    if not isinstance(day, date) or day > today or day < EARLIEST:
        errors["diagnosed_on"] = "diagnosis.date"
    hospital = clean_text(entry.hospital or "")
    if not hospital or len(hospital) > HOSPITAL_MAX:
        errors["hospital"] = "diagnosis.hospital"
    if entry.hospital_grade not in GRADES:
        errors["hospital_grade"] = "diagnosis.grade"
    if errors:
        return None, errors
    return Entry(entry.certainty, day, hospital, entry.hospital_grade, bool(entry.public_hospital)), {}


@dataclass(frozen=True)
class Recorded:
    diagnosis: Diagnosis
    created: bool
    # Per policy of the person: why the policy does not cover an illness first diagnosed then (or nothing).
    not_covered: dict[str, Reason] = field(default_factory=dict)


def record(session: Session, person_id: int, entry: Entry, *, by: Account | None, now: datetime,
           source: str = "review", target: str | None = None) -> Recorded:
    """Record a verified diagnosis (idempotent: the same one twice is one row). Raises DiagnosisRefused."""
    good, errors = checked(entry, china_date(now))
    if errors:
        raise DiagnosisRefused(errors)
    with write_transaction(session):
        same = session.scalar(select(Diagnosis).where(
            Diagnosis.person_id == person_id, Diagnosis.certainty == good.certainty,
            Diagnosis.diagnosed_on == good.diagnosed_on, Diagnosis.hospital == good.hospital))
        created = same is None
        if created:
            same = Diagnosis(person_id=person_id, certainty=good.certainty, diagnosed_on=good.diagnosed_on,
                             hospital=good.hospital, hospital_grade=good.hospital_grade,
                             public_hospital=good.public_hospital, verified_at=now,
                             verified_by_id=by.id if by else None)
            session.add(same)
            session.flush()
            audit.record(session, "diagnosis.record", now=now, actor_id=by.id if by else None,
                         subject_person_id=person_id, target=target or f"diagnosis:{same.id}",
                         detail={"source": source, "certainty": good.certainty, "grade": good.hospital_grade})
    return Recorded(same, created, not_covered(session, person_id, good.diagnosed_on))


def not_covered(session: Session, person_id: int, first: date) -> dict[str, Reason]:
    """The person's policies that do not cover an illness first diagnosed on `first`, with the reason."""
    catalog = default_catalog()
    found = {}
    for policy in session.scalars(select(Policy).where(Policy.insured_id == person_id)):
        reason = first_diagnosis_reason(catalog.product(policy.product.code), policy_facts(policy), first)
        if reason is not None:
            found[policy.number] = reason
    return found


def on_file(session: Session, person_id: int) -> list[Diagnosis]:
    return list(session.scalars(select(Diagnosis).where(Diagnosis.person_id == person_id,
                                                        Diagnosis.verified_at.is_not(None))
                                .order_by(Diagnosis.diagnosed_on)))


def set_stage(session: Session, booking: Booking, stage: str, *, staff: Account, now: datetime) -> Booking:
    """The reviewer corrects what the applicant said (suspected or confirmed); the checklist follows at once.
    Only while the application is in review: after approval the papers are settled."""
    if not staff.is_staff:
        raise DiagnosisRefused({"certainty": "desk.role"})
    if stage not in STAGES:
        raise DiagnosisRefused({"certainty": "diagnosis.certainty"})
    if booking.state not in (State.APPLIED.value, State.UNDER_REVIEW.value):
        raise DiagnosisRefused({"certainty": "review.not_in_review"})
    with write_transaction(session):
        before = (booking.details or {}).get("diagnosis_stage")
        booking.details = {**(booking.details or {}), "diagnosis_stage": stage}
        booking.updated_at = now
        audit.record(session, "booking.diagnosis_stage", now=now, actor_id=staff.id, target=f"booking:{booking.id}",
                     detail={"from": before, "to": stage})
    return booking


# --- the insurer's file ------------------------------------------------------------------------------------------

COLUMNS = ("id_number", "certainty", "diagnosed_on", "hospital", "hospital_grade", "public_hospital")


@dataclass
class ImportReport:
    recorded: int = 0
    already: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, what is wrong)


def import_rows(session: Session, rows: Iterable[dict], *, now: datetime) -> ImportReport:
    """Record each row of an insurer's diagnosis file (COLUMNS; line 1 is the header). A bad row is reported by
    line and records nothing; the good ones are recorded."""
    report = ImportReport()
    for line, row in enumerate(rows, start=2):
        number = (row.get("id_number") or "").strip().upper()
        if not is_valid_resident_id(number):
            report.problems.append((line, "id_number is not a valid resident ID"))
            continue
        person = session.scalar(select(Person).where(Person.id_number == number))
        if person is None:
            report.problems.append((line, "no insured person with this ID number"))
            continue
        public = (row.get("public_hospital") or "yes").strip().lower() in ("yes", "y", "true", "1", "是")
        entry = Entry((row.get("certainty") or "").strip().lower(), (row.get("diagnosed_on") or "").strip(),
                      row.get("hospital") or "", (row.get("hospital_grade") or "").strip().upper(), public)
        try:
            done = record(session, person.id, entry, by=None, now=now, source="insurer_import")
        except DiagnosisRefused as refused:
            report.problems.append((line, ", ".join(f"{k} ({v})" for k, v in refused.errors.items())))
            continue
        if done.created:
            report.recorded += 1
        else:
            report.already += 1
    return report


def read_file(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = [c for c in COLUMNS[:5] if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: missing columns {', '.join(missing)}")
        return list(reader)
