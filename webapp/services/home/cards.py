"""The home page's entitlement cards: for every policy an account may act on, each service with what is
left, whether it can be used now (or every reason not, with the day it ends), the papers it needs, the
promise if applied now and the change rule. Built with a handful of queries, then the pure rules.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ...models import Account, Booking, Entitlement, Policy
from ..booking.booking_states import OPEN
from ..booking.people import diagnoses_of, policy_facts
from ..clock import china_date
from ..deadlines import promise_if_applied
from ..eligibility import Actor, Reason, check, quota_amount, quota_period, service_window_end, usage_from
from ..family import family
from ..products import catalog as cat
from ..products.catalog import default_catalog


@dataclass(frozen=True)
class Holder:
    """Who applied for an open application that holds a use: the card says "held by 王芳's application"."""

    account_id: int
    name: str


@dataclass(frozen=True)
class Card:
    product: cat.Product
    service: cat.Service
    policy_number: str
    available: bool
    reasons: tuple[Reason, ...]
    quota: int | None = None  # per period; None: unlimited or information only
    left: int | None = None
    in_progress: int = 0
    period_start: date | None = None
    period_last_day: date | None = None
    resets_on: date | None = None  # None when the period is the last one
    promise_by: date | None = None  # the arrangement deadline if applied now with every paper in
    promise_from_slip: bool = False  # counted from the admission slip date instead
    held_by: tuple[Holder, ...] = ()  # the open applications holding this card's uses, by who applied
    shares_with: tuple[str, ...] = ()  # codes of the product's other services spending the same uses

    @property
    def code(self) -> str:
        return self.service.code


@dataclass(frozen=True)
class PersonView:
    """What the cards show of a person: plain values, safe to keep after the database session ends."""

    id: int
    name: str


@dataclass(frozen=True)
class PolicyView:
    id: int
    number: str
    effective_date: date
    expiry_date: date


@dataclass(frozen=True)
class PolicyCards:
    policy: PolicyView
    product: cat.Product
    cards: tuple[Card, ...]
    ended: Reason | None = None  # surrendered, lapsed, expired or past its service window: nothing can be used
    waiting: Reason | None = None  # one policy-wide reason every card shares for now (waiting or cooling-off period)
    can_apply: bool = True  # False for an agent given "view" only: the cards show, the Apply buttons do not

    @property
    def has_open(self) -> bool:
        """Whether any service of the policy can be applied for now (the home folds the others away)."""
        return any(c.available and c.service.bookable for c in self.cards)


WAITING = {"policy.not_yet_effective", "policy.cooling_off", "policy.waiting_period"}
ENDED = {"policy.surrendered_cooling_off", "policy.surrendered", "policy.lapsed", "policy.expired", "service.window_closed"}


@dataclass(frozen=True)
class PersonCards:
    person: PersonView
    relation: str  # self | guardian | power_of_attorney
    label: str | None  # 儿子, 母亲 … for a proxy
    policies: tuple[PolicyCards, ...]


def cards_for(session: Session, account: Account, now: datetime) -> list[PersonCards]:
    """Every card of every person `account` acts for: five queries in all, then the pure rules."""
    today = china_date(now)
    people = family.people_for(session, account, today)
    ids = [person.id for person, _ in people]
    if not ids:
        return []
    policies = session.scalars(
        select(Policy).where(Policy.insured_id.in_(ids)).options(joinedload(Policy.product))
        .order_by(Policy.effective_date.desc(), Policy.id)
    ).all()
    entitlements: dict[int, list[Entitlement]] = {}
    if policies:
        for ent in session.scalars(select(Entitlement).where(Entitlement.policy_id.in_([p.id for p in policies]))):
            entitlements.setdefault(ent.policy_id, []).append(ent)
    diagnoses = diagnoses_of(session, ids)
    holders = _holders(session, [e.id for rows in entitlements.values() for e in rows])
    result = []
    for person, standing in people:
        relation, label = standing.relation, standing.label
        actor = Actor(relation)
        groups = [_policy_cards(policy, entitlements.get(policy.id, []), actor, diagnoses.get(person.id, []), now,
                                can_apply=standing.may(family.APPLY), holders=holders)
                  for policy in policies if policy.insured_id == person.id]
        # Policies with something to apply for first, then those still in force, then ended ones (newest first).
        groups.sort(key=lambda g: (g.ended is not None, not any(c.available and c.service.bookable for c in g.cards)))
        result.append(PersonCards(PersonView(person.id, person.name), relation, label, tuple(groups)))
    return result


def _holders(session: Session, entitlement_ids: list[int]) -> dict[int, tuple[Holder, ...]]:
    """Per entitlement, who applied for the open applications holding it (one query)."""
    if not entitlement_ids:
        return {}
    rows = session.execute(
        select(Booking.entitlement_id, Account.id, Account.display_name).join(Account, Account.id == Booking.applicant_account_id)
        .where(Booking.entitlement_id.in_(entitlement_ids), Booking.state.in_([s.value for s in OPEN]))
        .order_by(Booking.id)
    ).all()
    found: dict[int, dict[int, Holder]] = {}
    for entitlement_id, account_id, name in rows:
        found.setdefault(entitlement_id, {})[account_id] = Holder(account_id, name or "")
    return {k: tuple(v.values()) for k, v in found.items()}


def _sharing(product: cat.Product, service: cat.Service) -> tuple[str, ...]:
    """The product's other bookable services spending the same uses (a pool, e.g. 001's 住院/手术安排)."""
    return tuple(s.code for s in product.services if s.bookable and s.code != service.code and s.pool == service.pool)


def _policy_cards(policy: Policy, rows: list[Entitlement], actor: Actor, diagnoses, now: datetime,
                  can_apply: bool = True, holders: dict[int, tuple[Holder, ...]] | None = None) -> PolicyCards:
    product = default_catalog().product(policy.product.code)
    facts = policy_facts(policy)
    today = china_date(now)
    on = max(today, policy.effective_date)
    by_period = {(e.pool, e.period_start): e for e in rows}
    cards = []
    for service in product.services:
        if not service.bookable:
            reasons = tuple(r for r in check(product, service, facts, actor, now).reasons if r.key != "service.information_only")
            cards.append(Card(product, service, policy.number, available=not reasons, reasons=reasons))
            continue
        start, end = quota_period(product, service, facts, on)
        ent = by_period.get((service.pool, start))
        usage = usage_from(ent, quota_amount(service, facts))
        verdict = check(product, service, facts, actor, now, diagnoses=diagnoses, usage=usage)
        from_slip = service.arrangement.from_slip
        cards.append(Card(
            product, service, policy.number, available=verdict.allowed, reasons=verdict.reasons, quota=usage.quota,
            left=usage.left, in_progress=usage.held, period_start=start, period_last_day=end - timedelta(days=1),
            resets_on=end if end < service_window_end(product, facts) else None,
            promise_by=promise_if_applied(service.arrangement, product.hours_for(service), now),
            promise_from_slip=from_slip,
            held_by=(holders or {}).get(ent.id, ()) if ent is not None and usage.held else (),
            shares_with=_sharing(product, service),
        ))
    ended = next((r for c in cards for r in c.reasons if r.key in ENDED), None)
    bookable = [c for c in cards if c.service.bookable]
    shared = set.intersection(*({(r.key, r.until) for r in c.reasons if r.key in WAITING} for c in bookable)) if bookable else set()
    last = max(shared, key=lambda kv: kv[1] or date.min, default=None)  # the reason that lasts longest
    waiting = None if ended or last is None else Reason(*last)
    view = PolicyView(policy.id, policy.number, policy.effective_date, policy.expiry_date)
    return PolicyCards(view, product, tuple(cards), ended, waiting, can_apply)
