"""A customer's logins: the devices signed in and ending one, the others or all; staff disabling an account.

SECURITY.md, "Sessions and login" (ASVS 7.4.2, 7.4.5, 7.5.2): the person sees every live login (device, first and
last use, masked IP) and can end any of them; an administrator disables an account, which ends every login at
once. Each ending is a row update (LoginSession.ended_at), so the cookie of an ended login is refused on its very
next request by signin.account_for_token. Every action is in the audit log.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ...db import write_transaction
from ...models import Account, LoginSession
from .. import audit
from ..booking.apply_forms import clean_text
from ..clock import require_aware
from ..refusals import Refused as Refusal
from .identity import normalise_mobile
from .signin import LOGIN_ABSOLUTE, LOGIN_IDLE, _token_hash, end_all_logins

ENDED_BY_USER = "ended_by_user"  # LoginSession.ended_reason of a login ended from the list of devices
REASON_MAX = 500


class Refused(Refusal):
    """An account action that was not done (account.*)."""


# --- what a login's device is, in plain words ------------------------------------------------------------------

@dataclass(frozen=True)
class Device:
    app: str  # wechat | alipay | qq | uc | huawei | edge | chrome | firefox | safari | other
    system: str  # iphone | ipad | android | harmony | windows | mac | linux | other


# Order matters: WeChat's webview also says Safari or Chrome; Edge also says Chrome; Chrome on iOS says Safari.
_APPS = (
    ("wechat", re.compile(r"MicroMessenger", re.I)), ("alipay", re.compile(r"AlipayClient", re.I)),
    ("qq", re.compile(r"MQQBrowser|QQBrowser", re.I)), ("uc", re.compile(r"UCBrowser|UCWEB", re.I)),
    ("huawei", re.compile(r"HuaweiBrowser", re.I)), ("edge", re.compile(r"Edg(e|A|iOS)?/", re.I)),
    ("firefox", re.compile(r"Firefox/|FxiOS/", re.I)), ("chrome", re.compile(r"Chrome/|CriOS/", re.I)),
    ("safari", re.compile(r"Safari/", re.I)),
)
_SYSTEMS = (
    ("ipad", re.compile(r"iPad", re.I)), ("iphone", re.compile(r"iPhone|iPod", re.I)),
    ("harmony", re.compile(r"HarmonyOS|OpenHarmony", re.I)), ("android", re.compile(r"Android", re.I)),
    ("windows", re.compile(r"Windows", re.I)), ("mac", re.compile(r"Macintosh|Mac OS X", re.I)),
    ("linux", re.compile(r"Linux|X11", re.I)),
)


def describe(user_agent: str | None) -> Device:
    ua = user_agent or ""
    app = next((name for name, pattern in _APPS if pattern.search(ua)), "other")
    system = next((name for name, pattern in _SYSTEMS if pattern.search(ua)), "other")
    return Device(app, system)


def mask_ip(ip: str | None) -> str:
    """Enough to recognise one's own network, not to pin a household: 202.96.*.* / 2408:8207:*."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return ""
    if address.version == 4:
        first, second, *_rest = str(address).split(".")
        return f"{first}.{second}.*.*"
    groups = address.exploded.split(":")
    return f"{groups[0].lstrip('0') or '0'}:{groups[1].lstrip('0') or '0'}:*"


# --- the list and ending logins -------------------------------------------------------------------------------

@dataclass(frozen=True)
class LiveLogin:
    id: int
    device: Device
    first_seen: datetime
    last_seen: datetime
    ends_by: datetime  # the absolute end (signin.LOGIN_ABSOLUTE); it ends earlier after a week unused
    ip: str  # masked
    current: bool  # the login of this request's cookie


def _live(account_id: int, now: datetime):
    return (LoginSession.account_id == account_id, LoginSession.ended_at.is_(None),
            LoginSession.last_seen_at >= now - LOGIN_IDLE, LoginSession.created_at > now - LOGIN_ABSOLUTE)


def live_logins(session: Session, account_id: int, *, now: datetime, current_token: str | None) -> list[LiveLogin]:
    """Every login of the account that would still let its cookie in, this device first, then by last use."""
    require_aware(now, "now")
    mine = _token_hash(current_token) if current_token else None
    rows = session.scalars(select(LoginSession).where(*_live(account_id, now))
                           .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())).all()
    out = [LiveLogin(row.id, describe(row.user_agent), row.created_at, row.last_seen_at, row.created_at + LOGIN_ABSOLUTE,
                     mask_ip(row.ip), row.token_hash == mine) for row in rows]
    return sorted(out, key=lambda login: not login.current)


def end_one(session: Session, account_id: int, login_id: int, *, now: datetime, ip: str | None) -> bool:
    """End one live login of the account ("sign out this device"); False if it is not theirs or already over."""
    require_aware(now, "now")
    with write_transaction(session):
        ended = session.execute(update(LoginSession).where(LoginSession.id == login_id, *_live(account_id, now))
                                .values(ended_at=now, ended_reason=ENDED_BY_USER)
                                .execution_options(synchronize_session=False)).rowcount
        if ended:
            audit.record(session, "login.end_one", now=now, actor_id=account_id, target=f"login:{login_id}", ip=ip)
    return ended == 1


def end_others(session: Session, account_id: int, current_token: str | None, *, now: datetime, ip: str | None) -> int:
    """End every login of the account but this request's ("sign out everywhere else"); how many ended."""
    require_aware(now, "now")
    keep = _token_hash(current_token) if current_token else ""
    with write_transaction(session):
        ended = session.execute(update(LoginSession).where(LoginSession.account_id == account_id,
                                                           LoginSession.ended_at.is_(None), LoginSession.token_hash != keep)
                                .values(ended_at=now, ended_reason=ENDED_BY_USER)
                                .execution_options(synchronize_session=False)).rowcount
        audit.record(session, "login.end_others", now=now, actor_id=account_id, ip=ip, detail={"ended": ended})
    return ended


def end_everywhere(session: Session, account_id: int, *, now: datetime, ip: str | None) -> int:
    """End every login of the account, this one included ("sign out everywhere"); how many ended."""
    require_aware(now, "now")
    with write_transaction(session):
        ended = end_all_logins(session, account_id, now=now, reason=ENDED_BY_USER)
        audit.record(session, "login.end_all", now=now, actor_id=account_id, ip=ip, detail={"ended": ended})
    return ended


# --- disabling an account (an administrator, from the console or the command line) ----------------------------

def find_account(session: Session, mobile: str | None) -> Account | None:
    number = normalise_mobile(mobile or "")
    return session.scalar(select(Account).where(Account.mobile == number)) if number else None


def clean_reason(reason: str | None) -> str:
    """One line of plain text: control and bidi characters dropped, spaces folded, at most REASON_MAX."""
    return " ".join(clean_text(reason or "").split())[:REASON_MAX]


def _account_and_reason(session: Session, mobile: str | None, reason: str | None, now: datetime) -> tuple[Account, str]:
    """The account to close or open, and the reason as kept; Refused when there is no such account or no reason."""
    require_aware(now, "now")
    text = clean_reason(reason)
    account = find_account(session, mobile)
    if account is None:
        raise Refused("account.not_found")
    if not text:
        raise Refused("account.reason_needed")
    return account, text


def _switch(session: Session, account_id: int, *, closed: bool, now: datetime) -> None:
    """Close the account (disabled_at = now) or open it, in one conditional UPDATE (two admins at once: one wins);
    Refused when it already is."""
    still = Account.disabled_at.is_(None) if closed else Account.disabled_at.is_not(None)
    done = session.execute(update(Account).where(Account.id == account_id, still)
                           .values(disabled_at=now if closed else None).execution_options(synchronize_session=False)).rowcount
    if not done:
        raise Refused("account.already_disabled" if closed else "account.not_disabled")


def disable_account(session: Session, *, mobile: str | None, reason: str | None, now: datetime, by: Account | None = None,
                    via: str = "staff", ip: str | None = None) -> tuple[Account, int]:
    """Close an account: it cannot sign in, and every login ends at once (its cookies are refused on their next
    request). `by` is the administrator (None from the command line). Returns the account and the logins ended."""
    account, text = _account_and_reason(session, mobile, reason, now)
    if by is not None and by.id == account.id:
        raise Refused("account.self")
    account_id = account.id
    with write_transaction(session):
        _switch(session, account_id, closed=True, now=now)
        ended = end_all_logins(session, account_id, now=now, reason="disabled")
        audit.record(session, "account.disabled", now=now, actor_id=by.id if by else None, target=f"account:{account_id}",
                     subject_person_id=account.person_id, ip=ip, detail={"reason": text, "via": via, "logins_ended": ended})
    return session.get(Account, account_id, populate_existing=True), ended


def enable_account(session: Session, *, mobile: str | None, reason: str | None, now: datetime, by: Account | None = None,
                   via: str = "staff", ip: str | None = None) -> Account:
    """Open a closed account again: the person signs in with a new code (ended logins stay ended)."""
    account, text = _account_and_reason(session, mobile, reason, now)
    account_id = account.id
    with write_transaction(session):
        _switch(session, account_id, closed=False, now=now)
        audit.record(session, "account.enabled", now=now, actor_id=by.id if by else None, target=f"account:{account_id}",
                     subject_person_id=account.person_id, ip=ip, detail={"reason": text, "via": via})
    return session.get(Account, account_id, populate_existing=True)


def live_count(session: Session, account_id: int, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(LoginSession).where(*_live(account_id, now))) or 0
