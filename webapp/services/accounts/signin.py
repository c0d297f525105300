"""Sign-in with a mobile number and a one-time SMS code; binding an account to its insured person.

SECURITY.md, "Sessions and login": a code is 6 digits, single use, valid for 5 minutes, stored only as an
HMAC; wrong guesses are limited per code, per number and per IP; code requests are limited per number and
per IP. An unknown number gets exactly the same answer as a known one (a first sign-in creates the account).
A login is a row (LoginSession) whose random token sits in the cookie; sign-out ends the row, so a cookie
copied before sign-out is useless after it.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from ...db import write_transaction
from ...models import Account, LoginSession, Person, Policy, SignInCode
from .. import audit, ratelimit
from . import binding
from ..family import family
from ..clock import china_date, require_aware
from .identity import is_valid_resident_id
from ..ratelimit import Limit
from .sms_budget import SmsBudget, spend as spend_sms

CODE_TTL = timedelta(minutes=5)
CODE_GUESSES = 5  # wrong guesses before a code is dead
RESEND_AFTER = timedelta(seconds=60)
REQUEST_LIMITS = {"mobile": Limit(5, timedelta(hours=1)), "ip": Limit(20, timedelta(hours=1))}
VERIFY_LIMITS = {"mobile": Limit(10, timedelta(hours=1)), "ip": Limit(50, timedelta(hours=1))}
# The number-wide block (issue 17 item 1): VERIFY_LIMITS["mobile"] wrong guesses in an hour from BLOCK_SOURCES or more
# IPs. It shuts out everyone but the session that asked for the live code, so it never refuses the owner's code.
BLOCK_SOURCES = 3
OWNER_ALERT = Limit(1, timedelta(days=1))  # "someone is trying your number": at most one text a day per number
BIND_LIMITS = {"account": Limit(5, timedelta(hours=1)), "ip": Limit(20, timedelta(hours=1))}
LOGIN_IDLE = timedelta(days=7)  # a login unused for a week ends by itself
LOGIN_ABSOLUTE = timedelta(days=30)  # and any login ends 30 days after it started, however often used (ASVS 7.3.2)


class SmsSender:
    """The delivery channel for codes; a provider adapter implements `send` (configured by SMS_BACKEND)."""

    def send(self, mobile: str, text: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class CodeRequest:
    sent: bool
    problem: str | None = None  # rate.too_many | rate.wait | sms.budget
    retry_after: int = 0  # seconds
    code: str | None = None  # returned only so demo mode can show it; never logged
    code_id: int | None = None  # kept in the asker's session: their guesses are always heard (verify_code)


def _hash(secret: str, mobile: str, code: str) -> str:
    return hmac.new(secret.encode(), f"{mobile}:{code}".encode(), hashlib.sha256).hexdigest()


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def request_code(session: Session, *, mobile: str, ip: str | None, now: datetime, secret: str, sender: SmsSender,
                 text: str = "{code}", seen: bool = False, budget: SmsBudget = SmsBudget()) -> CodeRequest:
    """Send a fresh code to `mobile` (already normalised), unless a limit or a daily SMS budget says wait.

    A device that has signed in with this number before (`seen`) has an hourly allowance of its own, so strangers
    asking for codes to the number cannot use up the owner's (issue 17 item 1)."""
    require_aware(now, "now")
    own = f"code-mobile-seen:{mobile}" if seen else f"code-mobile:{mobile}"
    buckets = {own: REQUEST_LIMITS["mobile"], f"code-ip:{ip}": REQUEST_LIMITS["ip"]}
    with write_transaction(session):
        # Parallel requests for one number: one code, the others wait.
        ratelimit.lock(session, [f"code-mobile:{mobile}", f"code-ip:{ip}"])
        last = session.scalar(select(SignInCode).where(SignInCode.mobile == mobile).order_by(SignInCode.id.desc()).limit(1))
        if last is not None and now - last.created_at < RESEND_AFTER:
            wait = int((RESEND_AFTER - (now - last.created_at)).total_seconds()) + 1
            return CodeRequest(False, "rate.wait", wait)
        if ratelimit.blocked(session, buckets, now):
            audit.record(session, "signin.code_limited", now=now, ip=ip, detail={"mobile_tail": mobile[-4:]})
            return CodeRequest(False, "rate.too_many", 3600)
        if not spend_sms(session, mobile, budget=budget, now=now, ip=ip, purpose="code"):
            return CodeRequest(False, "sms.budget", 3600)
        ratelimit.count(session, buckets, now)
        code = f"{secrets.randbelow(10**6):06d}"
        # Older unused codes for this number die: only the newest one works.
        session.execute(update(SignInCode).where(SignInCode.mobile == mobile, SignInCode.used_at.is_(None))
                        .values(used_at=now).execution_options(synchronize_session=False))
        row = SignInCode(mobile=mobile, code_hash=_hash(secret, mobile, code), created_at=now, expires_at=now + CODE_TTL,
                         ip=ip)
        session.add(row)
        session.flush()
        code_id = row.id
    sender.send(mobile, text.format(code=code))
    return CodeRequest(True, code=code, code_id=code_id)


@dataclass(frozen=True)
class Verified:
    account: Account | None
    problem: str | None = None  # code.wrong | code.expired | rate.too_many


def _reserve_owner_alert(session: Session, mobile: str, *, now: datetime, ip: str | None, budget: SmsBudget) -> bool:
    """Whether to text the owner that someone is guessing at their number: at most once a day, within the budgets."""
    bucket = {f"owner-alert:{mobile}": OWNER_ALERT}
    if ratelimit.blocked(session, bucket, now) or not spend_sms(session, mobile, budget=budget, now=now, ip=ip,
                                                                purpose="owner_alert"):
        return False
    ratelimit.count(session, bucket, now)
    audit.record(session, "signin.owner_alerted", now=now, ip=ip, detail={"mobile_tail": mobile[-4:]})
    return True


def verify_code(session: Session, *, mobile: str, code: str, ip: str | None, now: datetime, secret: str,
                requested_id: int | None = None, sender: SmsSender | None = None, alert_text: str = "",
                budget: SmsBudget = SmsBudget()) -> Verified:
    """Check a code; on success spend it and return the account (created on first sign-in).

    Nobody but the owner can keep the owner out (issue 17 item 1). A guess when the number has no live code counts
    against the guessing IP only. A wrong guess at a live code counts against the code (dead after CODE_GUESSES),
    the IP, and the number from that IP. The session that asked for the live code (`requested_id`, the owner's
    own phone in the ordinary case) is always heard: only the code's own CODE_GUESSES limit it. Anyone else is
    refused unheard when their IP is over its limit, when that IP has already made CODE_GUESSES wrong guesses at
    this number within the hour, or while the number is blocked (VERIFY_LIMITS["mobile"] wrong guesses from
    BLOCK_SOURCES IPs or more). The owner is texted (`alert_text` through `sender`, at most once a day) when
    someone else guesses wrong or a code dies of wrong guesses.
    """
    require_aware(now, "now")
    code = (code or "").strip()
    ip_limit = {f"verify-ip:{ip}": VERIFY_LIMITS["ip"]}
    source = f"verify-source:{mobile}:{ip}"
    window = VERIFY_LIMITS["mobile"].window
    alert = False
    with write_transaction(session):
        # One guess at a time per number and per IP: a burst of parallel guesses must not all be checked
        # against the code before any of them is counted.
        ratelimit.lock(session, [f"verify-mobile:{mobile}", f"verify-ip:{ip}"])
        row = session.scalar(select(SignInCode).where(SignInCode.mobile == mobile, SignInCode.used_at.is_(None))
                             .order_by(SignInCode.id.desc()).limit(1))
        live = row is not None and row.expires_at > now and row.attempts < CODE_GUESSES
        asker = live and requested_id is not None and requested_id == row.id
        if not asker:
            if ratelimit.blocked(session, ip_limit, now):
                audit.record(session, "signin.verify_limited", now=now, ip=ip,
                             detail={"mobile_tail": mobile[-4:], "rule": "ip"})
                return Verified(None, "rate.too_many")
            ratelimit.count(session, ip_limit, now)
            if not live:
                return Verified(None, "code.expired")  # nothing to guess: nothing counts against the number
            guesses, sources = ratelimit.spread(session, f"verify-source:{mobile}:", now, window)
            rule = ("source" if ratelimit.hits(session, source, now, window) >= CODE_GUESSES
                    else "number" if guesses >= VERIFY_LIMITS["mobile"].count and sources >= BLOCK_SOURCES else None)
            if rule:
                audit.record(session, "signin.verify_limited", now=now, ip=ip,
                             detail={"mobile_tail": mobile[-4:], "rule": rule})
                return Verified(None, "rate.too_many")
        else:
            ratelimit.count(session, ip_limit, now)
        right = len(code) == 6 and code.isdigit() and hmac.compare_digest(row.code_hash, _hash(secret, mobile, code))
        if not right:
            ratelimit.count(session, [source], now)
            session.execute(update(SignInCode).where(SignInCode.id == row.id).values(attempts=SignInCode.attempts + 1)
                            .execution_options(synchronize_session=False))
            audit.record(session, "signin.code_wrong", now=now, ip=ip, detail={"mobile_tail": mobile[-4:]})
            if sender is not None and (not asker or row.attempts + 1 >= CODE_GUESSES):
                alert = _reserve_owner_alert(session, mobile, now=now, ip=ip, budget=budget)
        else:
            spent = session.execute(update(SignInCode).where(SignInCode.id == row.id, SignInCode.used_at.is_(None))
                                    .values(used_at=now).execution_options(synchronize_session=False))
            if spent.rowcount != 1:  # a parallel request used it first
                return Verified(None, "code.expired")
            account = session.scalar(select(Account).where(Account.mobile == mobile))
            if account is None:
                account = Account(mobile=mobile, created_at=now)
                session.add(account)
                session.flush()
            if not account.is_active:
                audit.record(session, "signin.disabled", now=now, actor_id=account.id, ip=ip)
                return Verified(None, "account.disabled")
            audit.record(session, "signin.ok", now=now, actor_id=account.id, ip=ip)
    if not right:
        if alert:
            sender.send(mobile, alert_text)
        return Verified(None, "code.wrong")
    return Verified(account)


def start_login(session: Session, account: Account, *, now: datetime, ip: str | None, user_agent: str | None) -> str:
    """Open a login session and return its token (kept only in the signed session cookie)."""
    token = secrets.token_urlsafe(32)
    with write_transaction(session):
        session.add(LoginSession(token_hash=_token_hash(token), account_id=account.id, created_at=now, last_seen_at=now,
                                 ip=ip, user_agent=(user_agent or "")[:255]))
    return token


# Built once: this runs on every signed-in request.
_LIVE_LOGIN = (
    select(LoginSession, Account).join(Account, Account.id == LoginSession.account_id)
    .where(LoginSession.token_hash == bindparam("token_hash"), LoginSession.ended_at.is_(None),
           Account.id == bindparam("account_id"))
)


def account_for_token(session: Session, token: str | None, account_id: int, now: datetime) -> Account | None:
    """The account of a live login, or None (signed out, idle too long, older than 30 days, disabled, or a forged id).
    Keeps the login alive, writing at most once a minute (in its own short write transaction)."""
    if not token:
        return None
    row = session.execute(_LIVE_LOGIN, {"token_hash": _token_hash(token), "account_id": account_id}).first()
    if row is None:
        return None
    login, account = row
    over = ("disabled" if not account.is_active else "expired" if now >= login.created_at + LOGIN_ABSOLUTE
            else "idle" if now - login.last_seen_at > LOGIN_IDLE else None)
    if over is not None:
        # The row ends now, so the reason can be told once (login_end_reason) and the list of devices agrees.
        with write_transaction(session):
            ended = session.execute(update(LoginSession).where(LoginSession.id == login.id, LoginSession.ended_at.is_(None))
                                    .values(ended_at=now, ended_reason=over).execution_options(synchronize_session=False))
            if ended.rowcount and over != "disabled":
                audit.record(session, "login.expired", now=now, actor_id=account_id, target=f"login:{login.id}",
                             detail={"rule": over})
        return None
    if now - login.last_seen_at > timedelta(minutes=1):
        with write_transaction(session):
            session.execute(update(LoginSession).where(LoginSession.id == login.id).values(last_seen_at=now)
                            .execution_options(synchronize_session=False))
    return account


def login_end_reason(session: Session, token: str | None) -> str | None:
    """Why the login of `token` ended (disabled | expired | idle | ended_by_user | sign_out …), or None."""
    if not token:
        return None
    return session.scalar(select(LoginSession.ended_reason).where(LoginSession.token_hash == _token_hash(token)))


def end_login(session: Session, token: str | None, *, now: datetime, reason: str = "sign_out") -> None:
    if not token:
        return
    with write_transaction(session):
        session.execute(update(LoginSession).where(LoginSession.token_hash == _token_hash(token), LoginSession.ended_at.is_(None))
                        .values(ended_at=now, ended_reason=reason).execution_options(synchronize_session=False))


def end_all_logins(session: Session, account_id: int, *, now: datetime, reason: str) -> int:
    """End every login of an account (staff disabling a user; the user signing out everywhere). Caller commits."""
    return session.execute(update(LoginSession).where(LoginSession.account_id == account_id, LoginSession.ended_at.is_(None))
                           .values(ended_at=now, ended_reason=reason).execution_options(synchronize_session=False)).rowcount


@dataclass(frozen=True)
class Bound:
    person: Person | None
    problem: str | None = None  # bind.invalid_id | bind.not_found | bind.minor | bind.taken | rate.too_many
    provisional: bool = False  # a claim kept until staff check the ID card: it gives nothing yet


def bind_person(session: Session, account: Account, *, name: str, id_number: str, ip: str | None, now: datetime) -> Bound:
    """First sign-in: tie the account to the insured person by name and resident ID number, checked against the
    policy data. Only a person insured under a policy can be bound; one account per person.

    Name and ID number are only asserted: the binding is verified when the account's mobile is the one the insurer
    gave for the person; otherwise it is kept as a claim that gives nothing until staff check the ID card
    (services/accounts/binding.py). The owner verified by the policy mobile ends someone else's claim; a verified or
    earlier binding elsewhere is refused (bind.taken), and its owner asks staff to reclaim it."""
    name = " ".join((name or "").split())
    id_number = (id_number or "").strip().upper()
    if not is_valid_resident_id(id_number):
        return Bound(None, "bind.invalid_id")
    buckets = {f"bind-account:{account.id}": BIND_LIMITS["account"], f"bind-ip:{ip}": BIND_LIMITS["ip"]}
    with write_transaction(session):
        ratelimit.lock(session, buckets)
        if ratelimit.blocked(session, buckets, now):
            return Bound(None, "rate.too_many")
        ratelimit.count(session, buckets, now)
        person = binding.person_by_resident_id(session, id_number)
        insured = person is not None and session.scalar(select(Policy.id).where(Policy.insured_id == person.id).limit(1))
        if not insured or person.name != name:
            audit.record(session, "bind.not_found", now=now, actor_id=account.id, ip=ip)
            return Bound(None, "bind.not_found")
        if family.is_minor(person.birth_date, china_date(now)):
            # A child's record: almost always a parent typing their child's details here. A parent signs in with
            # their own number and asks for guardianship (family access); the child signs in at 18.
            audit.record(session, "bind.minor", now=now, actor_id=account.id, subject_person_id=person.id, ip=ip)
            return Bound(None, "bind.minor")
        me = session.get(Account, account.id, populate_existing=True)
        verified = binding.matches_policy_data(session, me, person)
        for holder in binding.holders(session, person.id):
            if holder.id == me.id:
                continue
            if verified and holder.person_id != person.id:  # only a claim: the owner's policy mobile outranks it
                binding.drop_claim(session, holder, now=now, action="bind.claim_replaced", actor=me, ip=ip)
                continue
            audit.record(session, "bind.taken", now=now, actor_id=account.id, subject_person_id=person.id, ip=ip)
            return Bound(None, "bind.taken")
        if not verified:
            binding.claim(session, me, person, now=now, ip=ip)
            return Bound(person, provisional=True)
        binding.bind_verified(session, me, person, method=binding.POLICY_MOBILE, now=now, ip=ip)
        audit.record(session, "bind.ok", now=now, actor_id=account.id, subject_person_id=person.id, ip=ip)
    return Bound(person)


__all__ = [
    "Bound", "CodeRequest", "SmsSender", "Verified", "account_for_token", "bind_person", "end_all_logins", "end_login", "login_end_reason",
    "request_code", "start_login", "verify_code",
]
