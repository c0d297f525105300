"""The home page's cards, reused while nothing they depend on has changed.

`cards_for` reads persons, grants, policies, entitlements and diagnoses, then runs the rules for `now`. Its
result is kept per account under a key made of (a) one query returning every row and column those rules read
(so any change to any of them — an application holding a use, a policy surrendered, a grant revoked, a
diagnosis verified — changes the key), (b) the China date, (c) the day each product's service desk would
receive an application made now (the only way the time of day enters the cards), and (d) the working-day
overrides. Nothing is invalidated by hand, so nothing can be forgotten; the cache is per process and bounded.
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from ...models import Account
from .. import workdays
from ..booking.booking_states import OPEN
from ..clock import china_date
from ..deadlines import desk_receives
from ..products.catalog import default_catalog
from .cards import PersonCards, cards_for

_LIMIT = 1024
_cache: OrderedDict[tuple, list[PersonCards]] = OrderedDict()
_lock = threading.Lock()


def _joined(*columns: str) -> str:
    return " || '|' || ".join(f"COALESCE(CAST({c} AS TEXT), '~')" for c in columns)


# The account's own person and everyone it holds a grant for. A UNION, each arm an index lookup: written as
# "id = :person_id OR id IN (...)" PostgreSQL scanned all of persons (issue 16: 377 ms, 0.17 ms as a UNION).
_PEOPLE = ("(SELECT CAST(:person_id AS INTEGER) UNION "
           "SELECT insured_person_id FROM proxy_grants WHERE grantee_account_id = :account_id)")
_POLICIES = "(SELECT id FROM policies WHERE insured_id IN " + _PEOPLE + ")"  # nosec B608
_OPEN_STATES = "(" + ", ".join(f"'{state.value}'" for state in sorted(OPEN)) + ")"  # constants of booking_states
_OPEN_BOOKINGS = "(SELECT id FROM bookings WHERE policy_id IN " + _POLICIES + " AND state IN " + _OPEN_STATES + ")"  # nosec B608


def _part(tag: str, table: str, columns: tuple[str, ...], where: str) -> str:
    """One arm of the union. Only the constant names below go in; every value is a bound parameter."""
    return f"SELECT '{tag}', {_joined(*columns)} FROM {table} WHERE {where}"  # nosec B608


# Plain SQL, written once: the same text on SQLite and PostgreSQL, and no expression tree to build per request.
FINGERPRINT = text(" UNION ALL ".join([
    _part("a", "accounts", ("id", "person_id", "disabled_at"), "id = :account_id"),
    _part("g", "proxy_grants", ("id", "insured_person_id", "kind", "status", "valid_from", "valid_until", "revoked_at",
                                "relationship_label", "scopes", "submitted_at", "decided_at"), "grantee_account_id = :account_id"),
    _part("p", "persons", ("id", "name"), "id IN " + _PEOPLE),
    _part("o", "policies", ("id", "number", "product_id", "insured_id", "status", "status_changed_on", "effective_date",
                            "expiry_date", "is_renewal", "cooling_off_days", "waiting_days", "add_ons"), "insured_id IN " + _PEOPLE),
    _part("e", "entitlements", ("id", "policy_id", "pool", "period_start", "quota", "held", "used"), "policy_id IN " + _POLICIES),
    # Who holds a use (the card names the applicant), and what the home's strip reads (services/home/today.py): the open
    # applications on the account's policies (every move of one sets updated_at) and their papers (every change to
    # a page sets its document's updated_at, services/papers/documents.py).
    _part("b", "bookings", ("id", "entitlement_id", "applicant_account_id", "state", "updated_at"),
          "policy_id IN " + _POLICIES + " AND state IN " + _OPEN_STATES),
    _part("f", "documents", ("id", "booking_id", "status", "updated_at"),
          "booking_id IN " + _OPEN_BOOKINGS),
    _part("d", "diagnoses", ("id", "person_id", "certainty", "diagnosed_on", "hospital_grade", "public_hospital",
                             "verified_at"), "person_id IN " + _PEOPLE),
    # Not a card input, but the page frame shows it: read in the same round trip.
    "SELECT 'u', CAST(COUNT(*) AS TEXT) FROM notifications WHERE account_id = :account_id AND read_at IS NULL",
]))


@dataclass(frozen=True)
class Snapshot:
    key: tuple  # changes whenever any card of the account would
    unread: int  # the account's unread messages
    people: list[PersonCards]


def data_fingerprint(session: Session, account: Account) -> tuple[str, int]:
    """A digest of every row the cards of `account` are computed from, and the unread count: one round trip."""
    rows = session.execute(FINGERPRINT, {"account_id": account.id, "person_id": account.person_id or -1}).all()
    digest = hashlib.sha256()
    unread = 0
    for tag, values in sorted(map(tuple, rows)):  # plain tuples: sorting Row objects costs 5x more
        if tag == "u":
            unread = int(values)
        else:
            digest.update(f"{tag}{values}\n".encode())
    return digest.hexdigest(), unread


def _desk_days(now: datetime) -> tuple:
    """The day each product's desk would receive an application made now (promises count from it)."""
    days = []
    for product in default_catalog().products:
        for hours in {product.acceptance_hours, *(s.acceptance_hours for s in product.services if s.acceptance_hours)}:
            days.append(desk_receives(hours, now).date())
    return tuple(days)


def cards_snapshot(session: Session, account: Account, now: datetime) -> Snapshot:
    digest, unread = data_fingerprint(session, account)
    key = (account.id, digest, china_date(now), _desk_days(now), workdays.overrides_version())
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return Snapshot(key, unread, found)
    result = cards_for(session, account, now)
    with _lock:
        _cache[key] = result
        while len(_cache) > _LIMIT:
            _cache.popitem(last=False)
    return Snapshot(key, unread, result)


def clear() -> None:
    """Forget every kept result (tests start each from nothing; nothing else needs it)."""
    with _lock:
        _cache.clear()

