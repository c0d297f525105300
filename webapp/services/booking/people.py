"""Facts about people and policies, read from the database for the pure rules in eligibility.py."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...models import Account, Diagnosis, Policy
from ..family import family
from ..eligibility import Actor, DiagnosisFacts, PolicyFacts

def policy_facts(policy: Policy) -> PolicyFacts:
    return PolicyFacts(
        effective_date=policy.effective_date, expiry_date=policy.expiry_date,
        cooling_off_days=policy.cooling_off_days, waiting_days=policy.waiting_days,
        is_renewal=policy.is_renewal, status=policy.status, status_changed_on=policy.status_changed_on,
        add_ons=tuple(code.strip() for code in (policy.add_ons or "").split(",") if code.strip()),
    )


def diagnosis_facts(session: Session, person_id: int) -> list[DiagnosisFacts]:
    rows = session.scalars(select(Diagnosis).where(Diagnosis.person_id == person_id, Diagnosis.verified_at.is_not(None)))
    return [DiagnosisFacts(d.certainty, d.diagnosed_on, d.hospital_grade, d.public_hospital) for d in rows]


def diagnoses_of(session: Session, person_ids: list[int]) -> dict[int, list[DiagnosisFacts]]:
    """Verified diagnoses of several people in one query."""
    found: dict[int, list[DiagnosisFacts]] = {}
    rows = session.scalars(select(Diagnosis).where(Diagnosis.person_id.in_(person_ids), Diagnosis.verified_at.is_not(None)))
    for d in rows:
        found.setdefault(d.person_id, []).append(DiagnosisFacts(d.certainty, d.diagnosed_on, d.hospital_grade, d.public_hospital))
    return found


def actor_for(session: Session, account: Account, insured_person_id: int, today: date) -> Actor:
    """How `account` stands towards the insured person on `today`, as the eligibility rules need it."""
    return family.standing_of(session, account, insured_person_id, today).actor
