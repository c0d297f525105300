"""Staff decisions on identities: checking a claim's ID card, and giving a squatted ID back to its owner.

Issue 17 item 2. The owner of an ID number that another account bound is refused at binding ("already linked"),
and asks here instead: a reclaim request names the person (name and ID number, as on the ID card) from the
owner's own signed-in account. Staff call the owner back on that number, check the ID card (the hotline's usual
check: the card's photo sent to the desk, or the card shown in a video call) and approve or refuse. Approving
moves the person to the owner's account (verified, method `reclaim`, by that reviewer); the other account loses
the binding or claim, every request or access it made while it claimed to be that person (they were made in
that name) and every live login. Each step is audited with the reviewer and their note.

A claim (services/accounts/binding.py) is checked the same way: staff confirm the ID card and verify it, or refuse it.
Nothing here imports Flask.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ...db import write_transaction
from ...models import Account, IdentityReclaim, Person, ProxyGrant
from .. import audit, ratelimit
from ..clock import require_aware
from ..family import family
from ..refusals import Refused as Refusal
from . import binding, signin
from .identity import is_valid_resident_id

OPEN, APPROVED, REJECTED, WITHDRAWN = "open", "approved", "rejected", "withdrawn"
FILE_LIMIT = 3  # open reclaim requests per account: each names an ID number
# Each attempt tells whether a name and ID number is bound to someone: as scarce as binding attempts.
ATTEMPT_LIMITS = {"account": ratelimit.Limit(5, timedelta(days=1)), "ip": ratelimit.Limit(20, timedelta(days=1))}
NOTE_MAX = 255


class Refused(Refusal, ValueError):
    """An identity claim or reclaim step not done (identity.*); nothing changed."""


def _staff(account: Account) -> None:
    if account.staff_role not in binding.CHECKERS:
        raise Refused("identity.not_staff")


def _note(note: str | None, required: bool = True) -> str | None:
    text = " ".join((note or "").split())[:NOTE_MAX]
    if required and not text:
        raise Refused("identity.note_needed")
    return text or None


def _checked(staff: Account, note: str | None, now: datetime) -> str:
    """A checker's decision may be made: `now` is aware, `staff` checks identities, and the note (required) as kept."""
    require_aware(now, "now")
    _staff(staff)
    return _note(note)


def _claimant(session: Session, account_id: int) -> Account:
    """Inside the decision's transaction: the account, read afresh, with a claim still waiting; else Refused."""
    account = session.get(Account, account_id, populate_existing=True)
    if account is None or account.claimed_person_id is None:
        raise Refused("identity.no_claim")
    return account


def _open_request(session: Session, public_id: str) -> IdentityReclaim:
    """Inside the decision's transaction: the owner's request, read afresh, still waiting; else Refused."""
    request = find(session, public_id)
    if request is None:
        raise Refused("identity.not_found")
    session.refresh(request)
    if request.status != OPEN:
        raise Refused("identity.not_open")
    return request


# --- the owner asks ------------------------------------------------------------------------------------

def file_request(session: Session, account: Account, *, name: str, id_number: str, statement: str | None,
                 now: datetime, ip: str | None = None) -> IdentityReclaim:
    """The owner of an ID number bound by another account asks staff to give it back."""
    require_aware(now, "now")
    name = " ".join((name or "").split())[:64]
    id_number = (id_number or "").strip().upper()
    if account.is_staff:
        raise Refused("identity.staff")
    if not name:
        raise Refused("identity.name")
    if not is_valid_resident_id(id_number):
        raise Refused("identity.id")
    with write_transaction(session):
        outcome = _file(session, account, name=name, id_number=id_number, statement=statement, now=now, ip=ip)
    if isinstance(outcome, Refused):
        raise outcome
    return outcome


def _file(session, account, *, name, id_number, statement, now, ip) -> IdentityReclaim | Refused:
    buckets = {f"reclaim-account:{account.id}": ATTEMPT_LIMITS["account"], f"reclaim-ip:{ip}": ATTEMPT_LIMITS["ip"]}
    ratelimit.lock(session, buckets)
    if ratelimit.blocked(session, buckets, now):
        return Refused("identity.too_many")
    ratelimit.count(session, buckets, now)
    me = session.get(Account, account.id, populate_existing=True)
    person = binding.person_by_resident_id(session, id_number)
    others = [a for a in binding.holders(session, person.id) if a.id != me.id] if person is not None else []
    if person is None or person.name != name or not others:
        # Nothing to take back: unknown, the name does not match, or nobody else holds it (bind as usual).
        audit.record(session, "identity.reclaim_refused", now=now, actor_id=me.id, ip=ip)
        return Refused("identity.nothing_to_reclaim")
    if me.person_id is not None and me.person_id != person.id:
        return Refused("identity.bound_elsewhere")
    mine = session.scalars(select(IdentityReclaim).where(IdentityReclaim.account_id == me.id,
                                                         IdentityReclaim.status == OPEN)).all()
    if any(r.person_id == person.id for r in mine):
        return Refused("identity.already_asked")
    if len(mine) >= FILE_LIMIT:
        return Refused("identity.too_many")
    request = IdentityReclaim(account_id=me.id, person_id=person.id, holder_account_id=others[0].id, status=OPEN,
                              statement=_note(statement, required=False), created_at=now)
    session.add(request)
    session.flush()
    audit.record(session, "identity.reclaim_request", now=now, actor_id=me.id, subject_person_id=person.id,
                 target=f"reclaim:{request.public_id}", ip=ip, detail={"holder": others[0].id})
    return request


def requests_of(session: Session, account: Account) -> list[IdentityReclaim]:
    return list(session.scalars(select(IdentityReclaim).where(IdentityReclaim.account_id == account.id)
                                .options(selectinload(IdentityReclaim.person)).order_by(IdentityReclaim.id.desc())))


def open_requests(session: Session, limit: int = 200) -> list[IdentityReclaim]:
    """Reclaim requests waiting for staff, oldest first."""
    return list(session.scalars(select(IdentityReclaim).where(IdentityReclaim.status == OPEN)
                                .options(selectinload(IdentityReclaim.person), selectinload(IdentityReclaim.account))
                                .order_by(IdentityReclaim.created_at, IdentityReclaim.id).limit(limit)))


def find(session: Session, public_id: str) -> IdentityReclaim | None:
    if not public_id or len(public_id) > 24 or not all(c.isalnum() or c in "-_" for c in public_id):
        return None
    return session.scalar(select(IdentityReclaim).where(IdentityReclaim.public_id == public_id)
                          .options(selectinload(IdentityReclaim.person), selectinload(IdentityReclaim.account)))


# --- staff decide --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Unbound:
    account_id: int
    grants_ended: int
    logins_ended: int


def approve(session: Session, public_id: str, *, staff: Account, now: datetime, note: str | None,
            ip: str | None = None) -> list[Unbound]:
    """Staff checked the owner's ID card: the person moves to the owner's account; every other account bound to
    it or claiming it loses it, with what it did in that name, and its logins end."""
    text = _checked(staff, note, now)
    with write_transaction(session):
        request = _open_request(session, public_id)
        owner = session.get(Account, request.account_id, populate_existing=True)
        if owner.person_id is not None and owner.person_id != request.person_id:
            raise Refused("identity.bound_elsewhere")
        person = session.get(Person, request.person_id)
        removed = [_unbind(session, other, person, staff=staff, now=now, ip=ip, note=text)
                   for other in binding.holders(session, person.id) if other.id != owner.id]
        if owner.claimed_person_id is not None and owner.claimed_person_id != person.id:
            binding.drop_claim(session, owner, now=now, action="identity.claim_replaced", actor=staff, ip=ip)
        binding.bind_verified(session, owner, person, method=binding.RECLAIM, now=now, staff=staff, ip=ip, note=text)
        request.status, request.decided_at, request.decided_by_id, request.decision_note = APPROVED, now, staff.id, text
        audit.record(session, "identity.reclaim_approve", now=now, actor_id=staff.id, subject_person_id=person.id,
                     target=f"reclaim:{request.public_id}", ip=ip,
                     detail={"owner": owner.id, "removed": [r.account_id for r in removed], "note": text})
        # Another open request for the same person by someone else can no longer be right.
        for other in session.scalars(select(IdentityReclaim).where(IdentityReclaim.person_id == person.id,
                                                                   IdentityReclaim.status == OPEN,
                                                                   IdentityReclaim.id != request.id)):
            other.status, other.decided_at, other.decided_by_id = REJECTED, now, staff.id
            other.decision_note = "superseded"
    return removed


def _unbind(session: Session, other: Account, person: Person, *, staff: Account, now: datetime, ip: str | None,
            note: str) -> Unbound:
    was_bound = other.person_id == person.id
    if was_bound:
        other.person_id = None
        other.identity_method = other.identity_verified_at = other.identity_verified_by_id = None
    if other.claimed_person_id == person.id:
        other.claimed_person_id, other.claimed_at = None, None
    ended = 0
    if was_bound:
        # Whatever it asked for as this person was asked in the owner's name: none of it stands.
        for grant in session.scalars(select(ProxyGrant).where(ProxyGrant.grantee_account_id == other.id)):
            if grant.status in family.OPEN:
                grant.status, grant.decided_at = family.WITHDRAWN, now
            elif grant.status == family.VERIFIED and grant.revoked_at is None:
                grant.status, grant.revoked_at, grant.revoked_by_id = family.REVOKED, now, staff.id
            else:
                continue
            ended += 1
            audit.record(session, "access.identity_reclaimed", now=now, actor_id=staff.id,
                         subject_person_id=grant.insured_person_id, target=f"grant:{grant.public_id}", ip=ip)
    logins = signin.end_all_logins(session, other.id, now=now, reason="identity_reclaimed")
    audit.record(session, "identity.unbound", now=now, actor_id=staff.id, subject_person_id=person.id,
                 target=f"account:{other.id}", ip=ip,
                 detail={"was": "bound" if was_bound else "claim", "grants_ended": ended, "logins_ended": logins,
                         "note": note})
    return Unbound(other.id, ended, logins)


def reject(session: Session, public_id: str, *, staff: Account, now: datetime, note: str | None,
           ip: str | None = None) -> IdentityReclaim:
    """Staff could not confirm the owner: nothing moves; the owner may call the hotline again."""
    text = _checked(staff, note, now)
    with write_transaction(session):
        request = _open_request(session, public_id)
        request.status, request.decided_at, request.decided_by_id, request.decision_note = REJECTED, now, staff.id, text
        audit.record(session, "identity.reclaim_reject", now=now, actor_id=staff.id, subject_person_id=request.person_id,
                     target=f"reclaim:{request.public_id}", ip=ip, detail={"note": text})
    return request


def verify_claim(session: Session, account_id: int, *, staff: Account, now: datetime, note: str | None,
                 ip: str | None = None) -> Account:
    """Staff checked the ID card of the person an account claims to be: the claim becomes the binding."""
    text = _checked(staff, note, now)
    with write_transaction(session):
        account = _claimant(session, account_id)
        person = session.get(Person, account.claimed_person_id)
        if any(a.id != account.id and a.person_id == person.id for a in binding.holders(session, person.id)):
            raise Refused("identity.held")  # someone is bound to it meanwhile: a reclaim decides
        binding.bind_verified(session, account, person, method=binding.STAFF_CHECK, now=now, staff=staff, ip=ip,
                              note=text)
    return account


def refuse_claim(session: Session, account_id: int, *, staff: Account, now: datetime, note: str | None,
                 ip: str | None = None) -> Account:
    """Staff could not confirm the claim: it ends, and the person is free for its owner."""
    text = _checked(staff, note, now)
    with write_transaction(session):
        account = _claimant(session, account_id)
        binding.drop_claim(session, account, now=now, action="identity.claim_refused", actor=staff, ip=ip, note=text)
    return account


def cancel_claim(session: Session, account: Account, *, now: datetime, ip: str | None = None) -> None:
    """The account takes back its own claim (it typed a relative's details by mistake)."""
    require_aware(now, "now")
    with write_transaction(session):
        me = session.get(Account, account.id, populate_existing=True)
        if me.claimed_person_id is not None:
            binding.drop_claim(session, me, now=now, action="bind.claim_cancelled", ip=ip)


__all__ = [
    "APPROVED", "OPEN", "REJECTED", "Refused", "Unbound", "approve", "cancel_claim", "file_request", "find",
    "open_requests", "refuse_claim", "reject", "requests_of", "verify_claim",
]
