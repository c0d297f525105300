"""Who an account is: a self-asserted identity, its verification, and the claim it stays until then.

Issue 17 item 2: typing a name and a checksum-valid ID number proves only that one knows them (a relative, anyone
who saw a copy of the ID card). So what verifies an identity (ASVS 6.1.1 / 6.3.x), and what it gives:

- **Verified** when the account's mobile number, proven by the SMS code at sign-in, is the mobile number the
  insurer gave for that person, on a person who is insured or policyholder on a policy ("a match with policy
  data", `policy_mobile`); or when staff checked the person's ID card (`staff_check` on a claim, `id_paper`
  when they accepted the applicant's ID photo with a family request, `reclaim` when they gave an ID back to its
  owner). Name + ID number alone never verify.
- Until then the binding to someone **on a policy** is only a claim (`Account.claimed_person_id`): the account
  stays exactly as before binding — `person_id` is unset, so it sees none of the person's policies, papers,
  bookings, messages or access requests, approves nothing and cannot ask for family access while the claim
  stands. A family member who is on no policy is bound to their own new record at once (it holds nobody's data)
  but shows as "identity not verified" to the insured they ask, until staff accept their ID photo.
- A claim blocks others binding the same person, except the owner who verifies by the policy mobile: the claim
  then ends (audited). Otherwise the owner asks staff to reclaim it (services/accounts/reclaim.py).

Every lookup of a person by ID number goes through `person_by_resident_id` (the one place a blind index will
replace the plain comparison). Nothing here imports Flask.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ...models import Account, Person, Policy
from .. import audit

POLICY_MOBILE, STAFF_CHECK, ID_PAPER, RECLAIM = "policy_mobile", "staff_check", "id_paper", "reclaim"
METHODS = (POLICY_MOBILE, STAFF_CHECK, ID_PAPER, RECLAIM)
CHECKERS = ("reviewer", "admin")  # staff who may verify an identity or give it back to its owner


def person_by_resident_id(session: Session, id_number: str) -> Person | None:
    """The person with this resident ID number (already normalised), or None."""
    return session.scalar(select(Person).where(Person.id_type == "resident_id", Person.id_number == id_number))


def on_policy(session: Session, person_id: int) -> bool:
    """Insured or policyholder on some policy: the insurer's data knows this person."""
    return session.scalar(select(Policy.id).where(or_(Policy.insured_id == person_id, Policy.holder_id == person_id))
                          .limit(1)) is not None


def matches_policy_data(session: Session, account: Account, person: Person) -> bool:
    """The account's mobile (proven by its SMS sign-in) is the one the insurer gave for this person."""
    return bool(person.mobile) and person.mobile == account.mobile and on_policy(session, person.id)


def is_verified(account: Account) -> bool:
    return account.identity_verified_at is not None


def holders(session: Session, person_id: int) -> list[Account]:
    """Accounts bound to the person or claiming it, in id order."""
    return list(session.scalars(select(Account).where(
        or_(Account.person_id == person_id, Account.claimed_person_id == person_id)).order_by(Account.id)))


def verify(session: Session, account: Account, *, method: str, now: datetime, staff: Account | None = None,
           ip: str | None = None, note: str | None = None) -> None:
    """Record how, when and by whom the account's identity was verified (inside the caller's transaction)."""
    account.identity_method, account.identity_verified_at = method, now
    account.identity_verified_by_id = staff.id if staff is not None else None
    audit.record(session, "identity.verified", now=now, actor_id=staff.id if staff is not None else account.id,
                 subject_person_id=account.person_id, target=f"account:{account.id}", ip=ip,
                 detail={"method": method, **({"note": note} if note else {})})


def bind_verified(session: Session, account: Account, person: Person, *, method: str, now: datetime,
                  staff: Account | None = None, ip: str | None = None, note: str | None = None) -> None:
    """Tie the account to the person for good, its identity verified."""
    account.person_id, account.claimed_person_id, account.claimed_at = person.id, None, None
    account.display_name = account.display_name or person.name
    verify(session, account, method=method, now=now, staff=staff, ip=ip, note=note)


def claim(session: Session, account: Account, person: Person, *, now: datetime, ip: str | None = None) -> None:
    """Keep a self-asserted binding to someone on a policy as a claim: it gives nothing until verified."""
    account.claimed_person_id, account.claimed_at = person.id, now
    audit.record(session, "bind.provisional", now=now, actor_id=account.id, subject_person_id=person.id, ip=ip)


def drop_claim(session: Session, account: Account, *, now: datetime, action: str, actor: Account | None = None,
               ip: str | None = None, note: str | None = None) -> None:
    """End a claim (the owner verified, staff refused it, or the account took it back)."""
    person_id = account.claimed_person_id
    account.claimed_person_id, account.claimed_at = None, None
    audit.record(session, action, now=now, actor_id=(actor or account).id, subject_person_id=person_id,
                 target=f"account:{account.id}", ip=ip, detail={"note": note} if note else None)


def pending_claims(session: Session, limit: int = 200) -> list[Account]:
    """Accounts whose claim waits for a staff check, oldest first."""
    return list(session.scalars(select(Account).where(Account.claimed_person_id.is_not(None))
                                .order_by(Account.claimed_at, Account.id).limit(limit)))


__all__ = [
    "CHECKERS", "ID_PAPER", "METHODS", "POLICY_MOBILE", "RECLAIM", "STAFF_CHECK", "bind_verified", "claim", "drop_claim",
    "holders", "is_verified", "matches_policy_data", "on_policy", "pending_claims", "person_by_resident_id", "verify",
]
