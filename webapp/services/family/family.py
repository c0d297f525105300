"""Family access: who may act for an insured person, how that is asked for, proven, approved, ended and logged.

Seeds: every service is for the insured alone (仅限被保险人本人使用: 000 2.4(1); 003 passim). Someone else may
apply for them only
- as the legal guardian of a minor or of an adult without capacity, with proof of both (003 重疾住院护工
  六、服务声明 2: "如被保险人为未成年人或无民事行为能力人，本服务申请应由其法定监护人代其申请，并提供未成年人或无民事
  行为能力证明和合法监护权证明"), or
- with their own ID and a power of attorney signed by the insured (003 医疗垫付 材料 g, lines 331–333:
  "申请人身份证明及监护关系证明，或申请人身份证明及被保险人签署的授权委托书").

The portal's rules on top (issue 5): a family member signs in with their own number and asks; staff verify the
proof (or, for an agent, the insured approves in their own account); a minor's guardianship ends by itself on
the 18th birthday; an agent's access may be time-limited and the insured may revoke it at any moment; an agent
holds only the scopes given (view; apply and cancel; papers). Nothing here imports Flask.
"""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from ...db import write_transaction
from ...models import Account, AuditEvent, Booking, Document, Notification, Person, Policy, ProxyGrant
from .. import audit, ratelimit
from ..accounts import binding
from ..accounts.identity import is_valid_resident_id, mask_mobile
from ..clock import china_date, require_aware
from ..eligibility import Actor
from ..products.catalog import Document as Paper
from ..refusals import Refused as Refusal

GUARDIAN_MINOR, GUARDIAN_INCAPACITATED, POWER_OF_ATTORNEY = "guardian_minor", "guardian_incapacitated", "power_of_attorney"
KINDS = (GUARDIAN_MINOR, GUARDIAN_INCAPACITATED, POWER_OF_ATTORNEY)
RELATION = {GUARDIAN_MINOR: "guardian", GUARDIAN_INCAPACITATED: "guardian", POWER_OF_ATTORNEY: "power_of_attorney"}

VIEW, APPLY, DOCUMENTS = "view", "apply", "documents"
SCOPES = (VIEW, APPLY, DOCUMENTS)  # see cards and bookings; apply, change and cancel; see and send papers
ALL_SCOPES = frozenset(SCOPES)

PAPERS, INSURED_APPROVAL = "papers", "insured_approval"
METHODS = (PAPERS, INSURED_APPROVAL)

DRAFT, AWAITING_INSURED, PENDING = "draft", "awaiting_insured", "pending"
VERIFIED, REJECTED, DECLINED, WITHDRAWN, REVOKED = "verified", "rejected", "declined", "withdrawn", "revoked"
OPEN = frozenset({DRAFT, AWAITING_INSURED, PENDING})
ENDED, NOT_YET = "ended", "not_yet"  # shown states of a verified grant outside its dates

# What each kind of request must prove, in the order the form asks for it (the seeds above).
PROOFS = {
    GUARDIAN_MINOR: (Paper.APPLICANT_ID.value, Paper.GUARDIANSHIP_PROOF.value),
    GUARDIAN_INCAPACITATED: (Paper.APPLICANT_ID.value, Paper.INCAPACITY_PROOF.value, Paper.GUARDIANSHIP_PROOF.value),
    POWER_OF_ATTORNEY: (Paper.APPLICANT_ID.value, Paper.POWER_OF_ATTORNEY.value),
}
REJECT_REASONS = ("not_guardian", "proof_unclear", "identity_mismatch", "poa_invalid", "other")

ADULT_AGE = 18
MAX_AGENT_TERM_YEARS = 5
REQUEST_LIMIT = ratelimit.Limit(10, timedelta(days=1))  # requests per account per day (each names an ID number)

# Notification kinds this module writes (rendered per language by the messages page). ACCESS_SENT is the asker's
# receipt (issue 15 item 9): in the inbox only, like every message here; no SMS goes with it.
ACCESS_REQUEST, ACCESS_DECIDED, ACCESS_REVOKED, ACCESS_ENDED = "access_request", "access_decided", "access_revoked", "access_ended"
ACCESS_SENT = "access_sent"
RECENT = timedelta(days=30)  # a decided request stays on the asker's home this long (recent_requests)


class Refused(Refusal, ValueError):
    """A family-access step not done (access.*); nothing changed."""


# --- ages ----------------------------------------------------------------------------------------------

def adulthood(birth: date) -> date:
    """The 18th birthday: the first day the insured is an adult and a minor's guardianship no longer applies.
    Born on 29 February, the birthday in a common year is 1 March (18 full years have passed only then)."""
    try:
        return birth.replace(year=birth.year + ADULT_AGE)
    except ValueError:
        return date(birth.year + ADULT_AGE, 3, 1)


def is_minor(birth: date, today: date) -> bool:
    return today < adulthood(birth)


def age_on(birth: date, today: date) -> int:
    """Full years lived on `today` (a birthday counts from its own day; 29 February from 1 March)."""
    years = today.year - birth.year
    return years if _birthday_in(birth, today.year) <= today else years - 1


def _birthday_in(birth: date, year: int) -> date:
    try:
        return birth.replace(year=year)
    except ValueError:
        return date(year, 3, 1)


# --- end dates: kept as the first day without access, read and typed as the last day with it ----------------

def last_day(until: date | None) -> date | None:
    """The last day with access, as people read it (valid_until is the first day without)."""
    return until - timedelta(days=1) if until else None


def until_after(last: str | None) -> date | None:
    """The last day of access as typed (2027-05-31, 2027/5/31, 2027年5月31日) → the first day without access;
    None when left empty. Refused("access.date") when it is not a date."""
    text = (last or "").strip()[:20]
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})\D{1,2}(\d{1,2})\D{1,2}(\d{1,2})\D?", text)
    try:
        return date(*(int(part) for part in match.groups())) + timedelta(days=1)
    except (AttributeError, ValueError, OverflowError):
        raise Refused("access.date") from None


def decides_for_self(session: Session, account: Account, today: date) -> bool:
    """An adult insured person approves their own agents and reads their own access log; a minor's guardian acts
    for them instead, and someone insured under no policy has nothing to grant."""
    person = account.person if account.person_id is not None else None
    if person is None or is_minor(person.birth_date, today):
        return False
    return session.scalar(select(Policy.id).where(Policy.insured_id == person.id).limit(1)) is not None


# --- standing: how an account stands towards an insured person -------------------------------------------

@dataclass(frozen=True)
class Standing:
    relation: str  # self | guardian | power_of_attorney | none
    verified: bool = True  # False: a request not (yet) verified — it gives no access
    scopes: frozenset[str] = ALL_SCOPES
    grant_id: int | None = None
    label: str | None = None  # 儿子, 母亲 …
    until: date | None = None  # the first day without access, when there is one

    def may(self, scope: str = VIEW) -> bool:
        return self.relation != "none" and self.verified and scope in self.scopes

    @property
    def is_proxy(self) -> bool:
        return self.relation not in ("self", "none")

    @property
    def actor(self) -> Actor:
        return Actor(self.relation, self.verified)


SELF = Standing("self")
NOBODY = Standing("none", verified=False, scopes=frozenset())


def scopes_of(grant: ProxyGrant) -> frozenset[str]:
    """A guardian acts fully for the ward; an agent holds what the insured (or the signed paper) gave."""
    if grant.kind != POWER_OF_ATTORNEY:
        return ALL_SCOPES
    return frozenset(s for s in (grant.scopes or "").split(",") if s in SCOPES) | {VIEW}


def in_force(grant: ProxyGrant, today: date) -> bool:
    """Verified, not revoked, and within its dates (valid_until is the first day without access)."""
    return (
        grant.status == VERIFIED and grant.revoked_at is None
        and (grant.valid_from is None or grant.valid_from <= today)
        and (grant.valid_until is None or today < grant.valid_until)
    )


def shown_state(grant: ProxyGrant, today: date) -> str:
    """What the grant is for people today: its status, or `ended` / `not_yet` for a verified one outside its dates."""
    if grant.status == VERIFIED:
        if grant.valid_until is not None and today >= grant.valid_until:
            return ENDED
        if grant.valid_from is not None and today < grant.valid_from:
            return NOT_YET
    return grant.status


def standing_of(session: Session, account: Account, person_id: int, today: date) -> Standing:
    """How `account` stands towards the insured person `person_id` on `today` (China date)."""
    if account.person_id is not None and account.person_id == person_id:
        return SELF
    grants = session.scalars(select(ProxyGrant).where(
        ProxyGrant.grantee_account_id == account.id, ProxyGrant.insured_person_id == person_id
    ).order_by(ProxyGrant.id)).all()
    for grant in grants:
        if in_force(grant, today):
            return Standing(RELATION[grant.kind], True, scopes_of(grant), grant.id, grant.relationship_label,
                            grant.valid_until)
    for grant in grants:
        if grant.status in OPEN:
            return Standing(RELATION[grant.kind], False, frozenset(), grant.id, grant.relationship_label)
    return NOBODY


@dataclass(frozen=True)
class Represented:
    """One person an account may act for today, as the switcher and the banner show them."""

    person_id: int
    name: str
    standing: Standing
    birth_date: date | None = None


def people_for(session: Session, account: Account, today: date) -> list[tuple[Person, Standing]]:
    """Everyone `account` may act for today: themself (when bound), then each person of a grant in force."""
    people: list[tuple[Person, Standing]] = []
    if account.person_id is not None:
        people.append((account.person, SELF))
    grants = session.scalars(select(ProxyGrant).where(ProxyGrant.grantee_account_id == account.id)
                             .options(selectinload(ProxyGrant.insured)).order_by(ProxyGrant.id))
    seen = {account.person_id}
    for grant in grants:
        if in_force(grant, today) and grant.insured_person_id not in seen:
            seen.add(grant.insured_person_id)
            people.append((grant.insured, Standing(RELATION[grant.kind], True, scopes_of(grant), grant.id,
                                                   grant.relationship_label, grant.valid_until)))
    return people


def proxies_in_force(session: Session, person_id: int, today: date, scope: str = VIEW) -> list[int]:
    """Accounts acting for `person_id` today with `scope`, in id order: they hear about the person's bookings."""
    grants = session.scalars(select(ProxyGrant).where(ProxyGrant.insured_person_id == person_id,
                                                      ProxyGrant.status == VERIFIED)).all()
    return sorted({g.grantee_account_id for g in grants if in_force(g, today) and scope in scopes_of(g)})


# --- asking ----------------------------------------------------------------------------------------------

def proofs_needed(grant: ProxyGrant) -> tuple[str, ...]:
    """The papers staff check. An agent the insured approves in their own account needs none: the approval,
    made after the insured's own SMS sign-in, is the authority and is kept on the record."""
    return () if grant.method == INSURED_APPROVAL else PROOFS[grant.kind]


def check_request(kind: str, *, insured_birth: date, today: date, method: str = PAPERS,
                  valid_until: date | None = None, scopes: frozenset[str] = ALL_SCOPES) -> list[tuple[str, dict]]:
    """Every reason a request cannot be made as asked (pure). Keys are translated by the web layer."""
    problems: list[tuple[str, dict]] = []
    if kind not in KINDS:
        return [("access.kind", {})]
    minor = is_minor(insured_birth, today)
    if kind == GUARDIAN_MINOR and not minor:
        problems.append(("access.not_minor", {}))
    if kind != GUARDIAN_MINOR and minor:
        problems.append(("access.is_minor", {"adult_on": adulthood(insured_birth)}))
    if method not in METHODS or (method == INSURED_APPROVAL and kind != POWER_OF_ATTORNEY):
        problems.append(("access.method", {}))
    if kind == POWER_OF_ATTORNEY:
        if not scopes or not scopes <= ALL_SCOPES:
            problems.append(("access.scopes", {}))
        last = anniversary_or_end(today, MAX_AGENT_TERM_YEARS)
        if valid_until is not None and not today < valid_until <= last:
            problems.append(("access.until", {"last": last}))
    return problems


def anniversary_or_end(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return date(day.year + years, 2, 28)


def register_applicant(session: Session, account: Account, *, name: str, id_number: str, now: datetime,
                       ip: str | None = None) -> Person:
    """A family member who is not insured themself says who they are (their name and resident ID number) before
    asking: the request names them, and their ID card is the first proof staff check."""
    require_aware(now, "now")
    with write_transaction(session):  # a refusal is returned, so its log line is committed
        outcome = _bind_applicant(session, account, name=name, id_number=id_number, now=now, ip=ip)
    if isinstance(outcome, Refused):
        raise outcome
    return outcome


def _bind_applicant(session, account, *, name, id_number, now, ip) -> Person | Refused:
    name = " ".join((name or "").split())[:64]
    id_number = (id_number or "").strip().upper()
    if not name:
        return Refused("access.own_name")
    if not is_valid_resident_id(id_number):
        return Refused("access.own_id")
    me = session.get(Account, account.id, populate_existing=True)
    if me.person_id is not None:
        return me.person
    if me.claimed_person_id is not None:
        return Refused("access.identity_pending")
    person = binding.person_by_resident_id(session, id_number)
    if person is not None:
        held = [a for a in binding.holders(session, person.id) if a.id != me.id]
        if person.name != name or held:
            audit.record(session, "access.applicant_mismatch", now=now, actor_id=account.id, ip=ip)
            return Refused("access.own_id_taken")
        if binding.on_policy(session, person.id):
            # Someone the insurer knows: only their own policy mobile binds it here (binding.py); anyone else is
            # asked to find the policy first, where the claim waits for staff.
            if not binding.matches_policy_data(session, me, person):
                audit.record(session, "access.applicant_on_policy", now=now, actor_id=account.id, ip=ip)
                return Refused("access.own_id_on_policy")
            binding.bind_verified(session, me, person, method=binding.POLICY_MOBILE, now=now, ip=ip)
    else:
        person = Person(name=name, id_number=id_number, birth_date=_birth_of(id_number), mobile=me.mobile, created_at=now)
        session.add(person)
        session.flush()
    me.person_id = person.id
    me.display_name = me.display_name or person.name
    audit.record(session, "access.applicant", now=now, actor_id=account.id, subject_person_id=person.id, ip=ip)
    return person


def _birth_of(id_number: str) -> date:
    return date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))


@dataclass(frozen=True)
class Asking:
    """A request for access as the customer's form posts it (views/family.py parses it, this module checks it)."""

    kind: str
    insured_name: str
    insured_id_number: str
    relationship: str | None  # the stored label of the relationship chosen (儿子 …); None when none of those offered
    method: str  # how a power of attorney is shown (a guardian always sends papers)
    scopes: frozenset[str]  # what an agent asks to do besides view
    last_day: str  # an agent's last day, as typed ("" for none)
    own_name: str = ""  # the asker's own name and ID number, asked when their account names no person yet
    own_id_number: str = ""


def ask(session: Session, account: Account, asking: Asking, *, now: datetime, ip: str | None = None) -> ProxyGrant:
    """Ask for access from the customer's form: every field is checked in the order the form asks for it before
    anything is read or written (a mistyped form costs none of the day's requests), then `request_access`.
    Refused with the first field's problem."""
    _check_form(account, asking)
    agent = asking.kind == POWER_OF_ATTORNEY
    return request_access(
        session, account, kind=asking.kind, insured_name=asking.insured_name,
        insured_id_number=asking.insured_id_number, relationship=asking.relationship, now=now,
        method=asking.method if agent else PAPERS, scopes=asking.scopes if agent else ALL_SCOPES,
        valid_until=until_after(asking.last_day) if agent else None, ip=ip,
        applicant=(asking.own_name, asking.own_id_number) if account.person_id is None else None)


def _check_form(account: Account, asking: Asking) -> None:
    if account.is_staff:
        raise Refused("access.staff")
    if account.claimed_person_id is not None:
        raise Refused("access.identity_pending")
    if account.person_id is None and not " ".join(asking.own_name.split()):
        raise Refused("access.own_name")
    if account.person_id is None and not is_valid_resident_id(asking.own_id_number.strip().upper()):
        raise Refused("access.own_id")
    if asking.kind not in KINDS:
        raise Refused("access.kind")
    if not " ".join(asking.insured_name.split()):
        raise Refused("access.insured_name")
    if not is_valid_resident_id(asking.insured_id_number.strip().upper()):
        raise Refused("access.insured_id")
    if asking.relationship is None:
        raise Refused("access.relationship")
    if asking.kind == POWER_OF_ATTORNEY and asking.method not in METHODS:
        raise Refused("access.method")


def request_access(session: Session, account: Account, *, kind: str, insured_name: str, insured_id_number: str,
                   relationship: str | None, now: datetime, method: str = PAPERS,
                   scopes: frozenset[str] | set[str] = ALL_SCOPES, valid_until: date | None = None,
                   ip: str | None = None, applicant: tuple[str, str] | None = None) -> ProxyGrant:
    """Ask to act for an insured person. Refused (and nothing kept) when the person is not found, when it is
    oneself, when a request or grant for them is already open, or when the kind does not fit their age.
    `applicant` (name, ID number): who the asker is, when their account is not bound to a person yet; they are
    bound only if the request is made (register_applicant's rules)."""
    require_aware(now, "now")
    if account.is_staff:
        raise Refused("access.staff")
    if account.claimed_person_id is not None:  # who they are is being checked: nobody is asked in that name
        raise Refused("access.identity_pending")
    if account.person_id is None and applicant is None:
        raise Refused("access.own_identity")
    insured_name = " ".join((insured_name or "").split())[:64]
    insured_id_number = (insured_id_number or "").strip().upper()
    if not is_valid_resident_id(insured_id_number):
        raise Refused("access.insured_id")
    scopes = frozenset(scopes) | {VIEW} if kind == POWER_OF_ATTORNEY else ALL_SCOPES
    label = " ".join((relationship or "").split())[:32] or None
    buckets = {f"access-request:{account.id}": REQUEST_LIMIT}
    with write_transaction(session):  # a refusal is returned, not raised, so its log line and hit are committed
        outcome = _ask(session, account, buckets, kind=kind, insured_name=insured_name, insured_id_number=insured_id_number,
                       label=label, now=now, method=method, scopes=scopes, valid_until=valid_until, ip=ip,
                       applicant=applicant)
    if isinstance(outcome, Refused):
        raise outcome
    return outcome


def _ask(session, account, buckets, *, kind, insured_name, insured_id_number, label, now, method, scopes, valid_until,
         ip, applicant=None) -> ProxyGrant | Refused:
    today = china_date(now)
    own_number = None
    if account.person_id is None:  # checked first (the form's order); bound only once the request is made
        own_number = (applicant[1] or "").strip().upper()
        if not " ".join((applicant[0] or "").split()):
            return Refused("access.own_name")
        if not is_valid_resident_id(own_number):
            return Refused("access.own_id")
    ratelimit.lock(session, buckets)
    if ratelimit.blocked(session, buckets, now):
        audit.record(session, "access.rate_limited", now=now, actor_id=account.id, ip=ip)
        return Refused("access.rate_limited")
    ratelimit.count(session, buckets, now)
    person = session.scalar(select(Person).where(Person.id_type == "resident_id", Person.id_number == insured_id_number))
    insured = person is not None and session.scalar(select(Policy.id).where(Policy.insured_id == person.id).limit(1))
    if not insured or person.name != insured_name:
        audit.record(session, "access.not_found", now=now, actor_id=account.id, ip=ip)
        return Refused("access.not_found")
    if person.id == account.person_id or person.id_number == own_number:
        return Refused("access.self")
    for grant in session.scalars(select(ProxyGrant).where(ProxyGrant.grantee_account_id == account.id,
                                                          ProxyGrant.insured_person_id == person.id)):
        if grant.status in OPEN or in_force(grant, today):
            return Refused("access.duplicate", name=person.name)
    problems = check_request(kind, insured_birth=person.birth_date, today=today, method=method,
                             valid_until=valid_until, scopes=scopes)
    if problems:
        return Refused(problems[0][0], **problems[0][1])
    insured_accounts = session.scalars(select(Account).where(Account.person_id == person.id)).all()
    if method == INSURED_APPROVAL and not insured_accounts:
        return Refused("access.insured_not_signed_up", name=person.name)
    if account.person_id is None:
        me = _bind_applicant(session, account, name=applicant[0], id_number=own_number, now=now, ip=ip)
        if isinstance(me, Refused):
            return me
    grant = ProxyGrant(
        public_id=secrets.token_urlsafe(12), grantee_account_id=account.id, insured_person_id=person.id, kind=kind,
        method=method, relationship_label=label, scopes=",".join(s for s in SCOPES if s in scopes),
        status=AWAITING_INSURED if method == INSURED_APPROVAL else DRAFT,
        valid_until=adulthood(person.birth_date) if kind == GUARDIAN_MINOR else valid_until,
        created_at=now, submitted_at=now if method == INSURED_APPROVAL else None,
    )
    session.add(grant)
    session.flush()
    audit.record(session, "access.request", now=now, actor_id=account.id, subject_person_id=person.id,
                 target=f"grant:{grant.public_id}", ip=ip, detail={"kind": kind, "method": method})
    if method == INSURED_APPROVAL:  # sent at once: the insured is asked, the asker gets a receipt
        for insured_account in insured_accounts:
            _notify(session, insured_account.id, grant, ACCESS_REQUEST, now, {"state": AWAITING_INSURED})
        _notify(session, account.id, grant, ACCESS_SENT, now, {"state": AWAITING_INSURED})
    return grant


def find(session: Session, public_id: str) -> ProxyGrant | None:
    if not public_id or len(public_id) > 24 or not all(c.isalnum() or c in "-_" for c in public_id):
        return None
    return session.scalar(select(ProxyGrant).where(ProxyGrant.public_id == public_id)
                          .options(selectinload(ProxyGrant.insured), selectinload(ProxyGrant.grantee)))


def proof_documents(session: Session, grant: ProxyGrant) -> dict[str, Document]:
    docs = session.scalars(select(Document).where(Document.proxy_grant_id == grant.id)
                           .options(selectinload(Document.pages))).all()
    return {d.kind: d for d in docs}


def mark_sent(session: Session, grant: ProxyGrant, *, account: Account, now: datetime, ip: str | None = None) -> None:
    """After the requester sent the proofs (documents.submit): the request waits for staff. Every proof must
    have pages first. Runs inside the caller's write transaction."""
    if grant.grantee_account_id != account.id or grant.status not in (DRAFT, PENDING):
        raise Refused("access.not_open")
    docs = proof_documents(session, grant)
    for kind in proofs_needed(grant):
        doc = docs.get(kind)
        if doc is None or not [p for p in doc.pages if p.status != "replaced"]:
            raise Refused("access.proof_missing", kind=kind)
    if grant.submitted_at is None:  # the first sending: a receipt (a retake sent later is no new request)
        _notify(session, account.id, grant, ACCESS_SENT, now, {"state": PENDING})
    # The first sending keeps its place in the staff queue: a retake sent later does not move it to the back.
    grant.status, grant.submitted_at = PENDING, grant.submitted_at or now
    audit.record(session, "access.proofs_sent", now=now, actor_id=account.id, subject_person_id=grant.insured_person_id,
                 target=f"grant:{grant.public_id}", ip=ip)


# --- deciding --------------------------------------------------------------------------------------------

def _load_for_update(session: Session, public_id: str) -> ProxyGrant:
    grant = find(session, public_id)
    if grant is None:
        raise Refused("access.not_found")
    session.refresh(grant)
    return grant


def approve(session: Session, public_id: str, *, insured: Account, now: datetime,
            scopes: frozenset[str] | set[str] | None = None, valid_until: date | None = None,
            ip: str | None = None) -> ProxyGrant:
    """The insured approves an agent in their own account; they may narrow the scopes and set an end date."""
    require_aware(now, "now")
    today = china_date(now)
    with write_transaction(session):
        grant = _load_for_update(session, public_id)
        if insured.person_id != grant.insured_person_id or grant.status != AWAITING_INSURED:
            raise Refused("access.not_open")
        chosen = (frozenset(scopes) if scopes is not None else scopes_of(grant)) | {VIEW}
        problems = check_request(grant.kind, insured_birth=grant.insured.birth_date, today=today,
                                 method=grant.method, valid_until=valid_until, scopes=chosen)
        if problems:
            raise Refused(problems[0][0], **problems[0][1])
        grant.scopes = ",".join(s for s in SCOPES if s in chosen)
        grant.valid_until = valid_until
        grant.status, grant.verified_at, grant.verified_by_id, grant.decided_at = VERIFIED, now, insured.id, now
        audit.record(session, "access.approve", now=now, actor_id=insured.id, subject_person_id=grant.insured_person_id,
                     target=f"grant:{grant.public_id}", ip=ip, detail={"scopes": grant.scopes,
                                                                     "until": valid_until.isoformat() if valid_until else None})
        _notify(session, grant.grantee_account_id, grant, ACCESS_DECIDED, now, {"state": VERIFIED})
    return grant


def decline(session: Session, public_id: str, *, insured: Account, now: datetime, ip: str | None = None) -> ProxyGrant:
    """The insured says no to an agent waiting for their approval; the asker is told."""
    return _close_request(session, public_id, DECLINED, "access.decline", by=insured, now=now, ip=ip, may=lambda grant:
                          insured.person_id == grant.insured_person_id and grant.status == AWAITING_INSURED)


def withdraw(session: Session, public_id: str, *, account: Account, now: datetime, ip: str | None = None) -> ProxyGrant:
    """The requester takes back a request not decided yet."""
    return _close_request(session, public_id, WITHDRAWN, "access.withdraw", by=account, now=now, ip=ip,
                          may=lambda grant: grant.grantee_account_id == account.id and grant.status in OPEN)


def _close_request(session: Session, public_id: str, state: str, action: str, *, by: Account, now: datetime,
                   ip: str | None, may) -> ProxyGrant:
    """Close a request not decided yet as `state`, when `may(grant)` (Refused "access.not_open" otherwise);
    a decision (not the asker's own withdrawal) is sent to the asker."""
    require_aware(now, "now")
    with write_transaction(session):
        grant = _load_for_update(session, public_id)
        if not may(grant):
            raise Refused("access.not_open")
        grant.status, grant.decided_at = state, now
        audit.record(session, action, now=now, actor_id=by.id, subject_person_id=grant.insured_person_id,
                     target=f"grant:{grant.public_id}", ip=ip)
        if state != WITHDRAWN:
            _notify(session, grant.grantee_account_id, grant, ACCESS_DECIDED, now, {"state": state})
    return grant


def verify(session: Session, public_id: str, *, staff: Account, now: datetime, valid_until: date | None = None,
           scopes: frozenset[str] | set[str] | None = None, ip: str | None = None) -> ProxyGrant:
    """Staff verify the proofs: every page sent is accepted, and the grant is in force from now.

    A minor's guardianship always ends on the 18th birthday; an adult's guardianship or an agent's power of
    attorney ends when the paper says (`valid_until`), or when revoked.
    """
    require_aware(now, "now")
    today = china_date(now)
    if staff.staff_role not in ("reviewer", "admin"):
        raise Refused("access.not_staff")
    with write_transaction(session):
        grant = _load_for_update(session, public_id)
        if grant.status != PENDING:
            raise Refused("access.not_open")
        if not is_minor(grant.insured.birth_date, today) and grant.kind == GUARDIAN_MINOR:
            raise Refused("access.not_minor")
        docs = proof_documents(session, grant)
        for kind in proofs_needed(grant):
            live = [p for p in (docs[kind].pages if kind in docs else []) if p.status != "replaced"]
            if not live or any(p.status in ("draft", "unreadable", "rejected") for p in live):
                raise Refused("access.proofs_not_ready", kind=kind)
        if valid_until is not None and valid_until <= today:
            raise Refused("access.until", last=None)
        if grant.kind == GUARDIAN_MINOR:
            valid_until = adulthood(grant.insured.birth_date)
        if scopes is not None and grant.kind == POWER_OF_ATTORNEY:
            grant.scopes = ",".join(s for s in SCOPES if s in (frozenset(scopes) | {VIEW}))
        for doc in docs.values():
            for page in doc.pages:
                if page.status == "received":
                    page.status, page.decided_at, page.decided_by_id = "accepted", now, staff.id
            doc.status, doc.updated_at = "accepted", now
        grant.valid_until = valid_until
        grant.status, grant.verified_at, grant.verified_by_id, grant.decided_at = VERIFIED, now, staff.id, now
        grantee = session.get(Account, grant.grantee_account_id)
        if Paper.APPLICANT_ID.value in proofs_needed(grant) and grantee.person_id is not None \
                and not binding.is_verified(grantee):
            # Staff have just accepted the photo of the requester's own ID card: that verifies who they are.
            binding.verify(session, grantee, method=binding.ID_PAPER, now=now, staff=staff, ip=ip)
        audit.record(session, "access.verify", now=now, actor_id=staff.id, subject_person_id=grant.insured_person_id,
                     target=f"grant:{grant.public_id}", ip=ip,
                     detail={"until": valid_until.isoformat() if valid_until else None})
        _notify(session, grant.grantee_account_id, grant, ACCESS_DECIDED, now, {"state": VERIFIED})
    return grant


def reject(session: Session, public_id: str, *, staff: Account, now: datetime, reason: str, note: str | None = None,
           ip: str | None = None) -> ProxyGrant:
    """Staff refuse the request, with a listed reason and their own words; the requester may ask again."""
    require_aware(now, "now")
    if staff.staff_role not in ("reviewer", "admin"):
        raise Refused("access.not_staff")
    if reason not in REJECT_REASONS:
        raise Refused("access.reason_needed")
    with write_transaction(session):
        grant = _load_for_update(session, public_id)
        if grant.status not in (PENDING, DRAFT):
            raise Refused("access.not_open")
        text = reason + (f": {note.strip()[:200]}" if note and note.strip() else "")
        grant.status, grant.rejection_reason, grant.decided_at = REJECTED, text, now
        grant.verified_by_id = staff.id
        audit.record(session, "access.reject", now=now, actor_id=staff.id, subject_person_id=grant.insured_person_id,
                     target=f"grant:{grant.public_id}", ip=ip, detail={"reason": reason})
        _notify(session, grant.grantee_account_id, grant, ACCESS_DECIDED, now, {"state": REJECTED, "reason": text})
    return grant


def may_revoke(account: Account, grant: ProxyGrant) -> bool:
    """The insured may end an agent's access at any moment; anyone may give up their own; staff (admin) may end
    any, e.g. a guardianship a court has ended. A guardianship is not the ward's to end in the portal."""
    if grant.status != VERIFIED or grant.revoked_at is not None:
        return False
    if account.staff_role == "admin" or account.id == grant.grantee_account_id:
        return True
    return account.person_id == grant.insured_person_id and grant.kind == POWER_OF_ATTORNEY


def revoke(session: Session, public_id: str, *, account: Account, now: datetime, ip: str | None = None) -> ProxyGrant:
    require_aware(now, "now")
    with write_transaction(session):
        grant = _load_for_update(session, public_id)
        if not may_revoke(account, grant):
            raise Refused("access.not_revocable")
        grant.status, grant.revoked_at, grant.revoked_by_id = REVOKED, now, account.id
        audit.record(session, "access.revoke", now=now, actor_id=account.id, subject_person_id=grant.insured_person_id,
                     target=f"grant:{grant.public_id}", ip=ip)
        by = "insured" if account.person_id == grant.insured_person_id else "staff" if account.is_staff else "grantee"
        told = {grant.grantee_account_id} | set(session.scalars(select(Account.id).where(Account.person_id == grant.insured_person_id)))
        for account_id in sorted(told - {account.id}):
            _notify(session, account_id, grant, ACCESS_REVOKED, now, {"state": REVOKED, "by": by})
    return grant


# --- the 18th birthday (cron) ----------------------------------------------------------------------------

@dataclass
class EndReport:
    ended: int = 0
    invited: int = 0
    failed: list[str] = field(default_factory=list)


def end_guardianships_of_adults(session: Session, *, now: datetime, sms=None, invitation: str | None = None) -> EndReport:
    """Tell each guardian whose ward turned 18 that their access ended, and invite the new adult (by SMS to the
    mobile on file, when there is one) to sign in with their own number. Access itself stopped at midnight
    China time without this (in_force); this only says so, once per grant."""
    require_aware(now, "now")
    today = china_date(now)
    report = EndReport()
    with write_transaction(session):
        due = session.scalars(select(ProxyGrant).where(
            ProxyGrant.kind == GUARDIAN_MINOR, ProxyGrant.status == VERIFIED, ProxyGrant.ended_notice_at.is_(None),
            ProxyGrant.valid_until.is_not(None), ProxyGrant.valid_until <= today,
        ).options(selectinload(ProxyGrant.insured)).order_by(ProxyGrant.id)).all()
        mobiles = []
        for grant in due:
            # Claimed by a conditional UPDATE, not by setting the attribute: a run on another server that read the
            # same grant waits on this row and then changes nothing, so it neither tells nor texts (issue 16 item 3).
            claimed = session.execute(update(ProxyGrant).where(ProxyGrant.id == grant.id,
                                                               ProxyGrant.ended_notice_at.is_(None))
                                      .values(ended_notice_at=now),
                                      execution_options={"synchronize_session": "fetch"}).rowcount
            if not claimed:
                continue
            _notify(session, grant.grantee_account_id, grant, ACCESS_ENDED, now,
                    {"state": ENDED, "on": grant.valid_until.isoformat()})
            audit.record(session, "access.ended", now=now, subject_person_id=grant.insured_person_id,
                         target=f"grant:{grant.public_id}", detail={"on": grant.valid_until.isoformat()})
            report.ended += 1
            if grant.insured.mobile and grant.insured.mobile not in mobiles:
                mobiles.append(grant.insured.mobile)
    for mobile in mobiles:
        if sms is None or invitation is None:
            break
        try:
            sms.send(mobile, invitation)
            report.invited += 1
        except Exception:  # one failed text must not stop the others; the guardian was told in the portal
            report.failed.append(mobile[:3] + "****" + mobile[-4:])
    return report


# --- lists for the pages ---------------------------------------------------------------------------------

def requests_of(session: Session, account: Account) -> list[ProxyGrant]:
    """Everything `account` asked for, newest first."""
    return list(session.scalars(select(ProxyGrant).where(ProxyGrant.grantee_account_id == account.id)
                                .options(selectinload(ProxyGrant.insured)).order_by(ProxyGrant.id.desc())))


@dataclass(frozen=True)
class AskedFor:
    """One request an account made, as its home shows it: whom for, and where it stands today."""

    public_id: str
    name: str  # the insured person's
    label: str | None  # how they are related to the asker (儿子, 母亲 …)
    kind: str
    method: str
    state: str  # shown_state: draft (proofs to add and send) | awaiting_insured | pending | verified | not_yet | ended | rejected | declined | revoked
    valid_from: date | None
    valid_until: date | None
    revoked_at: datetime | None
    decided_at: datetime | None

    @property
    def needs_action(self) -> bool:
        """The asker has something to do: add and send the proofs."""
        return self.state == DRAFT


def recent_requests(session: Session, account_id: int, now: datetime) -> list[AskedFor]:
    """The account's requests still open, and those decided (accepted, refused, declined) within RECENT, newest
    first, in one query. Withdrawn requests are left out: the asker ended them themself."""
    require_aware(now, "now")
    today = china_date(now)
    rows = session.execute(
        select(ProxyGrant, Person.name).join(Person, Person.id == ProxyGrant.insured_person_id)
        .where(ProxyGrant.grantee_account_id == account_id,
               ProxyGrant.status.in_(OPEN) | (ProxyGrant.status.in_((VERIFIED, REJECTED, DECLINED, REVOKED))
                                              & (ProxyGrant.decided_at >= now - RECENT)))
        .order_by(ProxyGrant.id.desc())
    ).all()
    return [AskedFor(g.public_id, name, g.relationship_label, g.kind, g.method, shown_state(g, today), g.valid_from,
                     g.valid_until, g.revoked_at, g.decided_at) for g, name in rows]


def grants_over(session: Session, person_id: int) -> list[ProxyGrant]:
    """Who has asked for, or holds, access to `person_id`, newest first (the insured's own page)."""
    return list(session.scalars(select(ProxyGrant).where(ProxyGrant.insured_person_id == person_id)
                                .options(selectinload(ProxyGrant.grantee).selectinload(Account.person))
                                .order_by(ProxyGrant.id.desc())))


NEW_ACCOUNT = timedelta(days=30)  # an account younger than this is shown as new to the insured it asks


@dataclass(frozen=True)
class Requester:
    """What the insured should know about who asks before approving (issue 17 item 2: an impostor's request must
    not look like their daughter's): the number it comes from, how new the account is, whether its identity was
    verified, and anyone with the same name who already acts for them from another account."""

    masked_mobile: str
    opened: datetime
    new: bool
    verified: bool
    same_name: tuple[tuple[str, str], ...]  # (name, masked mobile) of each one already acting for them


def _name_of(account: Account) -> str:
    return " ".join(((account.person.name if account.person is not None else None) or account.display_name or "").split())


def requester_of(session: Session, grant: ProxyGrant, now: datetime) -> Requester:
    today = china_date(now)
    account = grant.grantee
    name = _name_of(account)
    others = session.scalars(select(ProxyGrant).where(ProxyGrant.insured_person_id == grant.insured_person_id,
                                                      ProxyGrant.grantee_account_id != account.id)
                             .options(selectinload(ProxyGrant.grantee).selectinload(Account.person))).all()
    same = tuple(dict.fromkeys((name, mask_mobile(g.grantee.mobile)) for g in others
                               if in_force(g, today) and name and _name_of(g.grantee) == name))
    return Requester(mask_mobile(account.mobile), account.created_at, now - account.created_at < NEW_ACCOUNT,
                     binding.is_verified(account), same)


def grants_in_force(session: Session, today: date, limit: int = 200) -> list[ProxyGrant]:
    """Access verified and in force today, most recently verified first (for an admin to end one)."""
    rows = session.scalars(
        select(ProxyGrant).where(ProxyGrant.status == VERIFIED, ProxyGrant.revoked_at.is_(None))
        .options(selectinload(ProxyGrant.insured), selectinload(ProxyGrant.grantee).selectinload(Account.person))
        .order_by(ProxyGrant.verified_at.desc(), ProxyGrant.id.desc()).limit(limit)
    )
    return [g for g in rows if in_force(g, today)]


def waiting_for_staff(session: Session) -> list[ProxyGrant]:
    """Requests whose proofs were sent, oldest first (the staff queue)."""
    return list(session.scalars(select(ProxyGrant).where(ProxyGrant.status == PENDING)
                                .options(selectinload(ProxyGrant.insured), selectinload(ProxyGrant.grantee).selectinload(Account.person))
                                .order_by(ProxyGrant.submitted_at, ProxyGrant.id)))


@dataclass(frozen=True)
class LogEntry:
    at: datetime
    action: str
    actor_name: str | None
    actor_kind: str  # guardian | power_of_attorney | staff | system | former (a proxy no longer in force)
    label: str | None
    target: str | None
    detail: dict
    count: int = 1


LOGGED = (
    "booking.", "document.view", "document.upload", "document.submit", "document.page_removed", "document.decide",
    "record.view", "access.",
)
NOT_LOGGED = {"access.refused", "access.rate_limited", "access.abandoned", "access.not_found", "access.applicant", "access.applicant_mismatch",
              "booking.refused", "booking.rate_limited"}


def access_log(session: Session, person_id: int, *, limit: int = 100, before_id: int | None = None,
               collapse: timedelta = timedelta(minutes=30)) -> tuple[list[LogEntry], int | None]:
    """What others did or saw on behalf of `person_id`, newest first: family members with access, staff, the
    system. The person's own actions are not listed. Repeated views of the same thing by the same person within
    `collapse` are one line with a count. Returns the entries and the id to continue from (or None)."""
    own = set(session.scalars(select(Account.id).where(Account.person_id == person_id)))
    query = select(AuditEvent).where(AuditEvent.subject_person_id == person_id).order_by(AuditEvent.id.desc())
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    events, next_id = [], None
    for event in session.scalars(query.limit(limit * 5)):
        next_id = event.id
        if event.actor_account_id in own or event.action in NOT_LOGGED or not event.action.startswith(LOGGED):
            continue
        events.append(event)
        if len(events) >= limit:
            break
    else:
        next_id = None
    actors = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_({e.actor_account_id for e in events if e.actor_account_id})))}
    grants = session.scalars(select(ProxyGrant).where(ProxyGrant.insured_person_id == person_id)).all()
    labels = {g.grantee_account_id: (RELATION[g.kind], g.relationship_label) for g in grants}
    entries: list[LogEntry] = []
    for event in events:
        account = actors.get(event.actor_account_id)
        if account is None:
            kind, name, label = "system", None, None
        elif account.is_staff:
            kind, name, label = "staff", account.display_name, None
        else:
            kind, label = labels.get(account.id, ("former", None))
            name = account.display_name
        previous = entries[-1] if entries else None
        if (previous is not None and event.action.endswith("view") and previous.action == event.action
                and previous.actor_name == name and previous.target == event.target and previous.detail == dict(event.detail or {})
                and previous.at - event.at <= collapse):
            entries[-1] = LogEntry(previous.at, previous.action, name, kind, label, event.target, previous.detail, previous.count + 1)
            continue
        entries.append(LogEntry(event.at, event.action, name, kind, label, event.target, dict(event.detail or {})))
    return entries, next_id


def log_bookings(session: Session, entries: list[LogEntry], person_id: int) -> dict[str, str]:
    """The bookings the access log can link to: "booking:<id>" targets and references named in details, each to
    its reference, for bookings of `person_id` only."""
    ids = {int(e.target.split(":", 1)[1]) for e in entries
           if e.target and e.target.startswith("booking:") and e.target.split(":", 1)[1].isdigit()}
    refs = {str(e.detail.get("booking"))[:16] for e in entries if e.detail.get("booking")}
    if not ids and not refs:
        return {}
    rows = session.execute(select(Booking.id, Booking.reference).join(Policy).where(
        Policy.insured_id == person_id, Booking.id.in_(ids) | Booking.reference.in_(refs))).all()
    found = {f"booking:{row.id}": row.reference for row in rows}
    found.update({row.reference: row.reference for row in rows})
    return found


# --- messages --------------------------------------------------------------------------------------------

def _notify(session: Session, account_id: int, grant: ProxyGrant, kind: str, now: datetime, payload: dict) -> None:
    key = f"{kind}:{grant.public_id}:{payload.get('state')}:{now.isoformat()}"
    exists = session.scalar(select(Notification.id).where(Notification.account_id == account_id,
                                                          Notification.dedupe_key == key))
    if exists:
        return
    insured = grant.insured or session.get(Person, grant.insured_person_id)
    grantee = session.get(Account, grant.grantee_account_id)
    session.add(Notification(
        account_id=account_id, subject_person_id=grant.insured_person_id, kind=kind, dedupe_key=key, created_at=now,
        payload={"grant": grant.public_id, "kind": grant.kind, "insured": insured.name,
                 "grantee": grantee.display_name if grantee else None, "label": grant.relationship_label, **payload},
    ))
