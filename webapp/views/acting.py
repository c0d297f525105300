"""Whom the signed-in account is acting for on this request: themself, or someone whose guardian or agent they
are. Chosen with the switcher (kept in the session), and followed whenever a page opens something of another
person they may act for, so the banner ("正在为 李小明（儿子）办理") always names whose data is on the screen.
"""
from __future__ import annotations

from flask import g, session
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..models import Policy
from ..services import audit
from ..services.clock import china_date
from ..services.family import family
from .common import client_ip, now

SESSION_KEY = "acting_for"


def represented() -> list[family.Represented]:
    """Everyone the account may act for today, themself first (once per request)."""
    if "represented" not in g:
        people = family.people_for(db.session, current_user, china_date(now())) if current_user.is_authenticated else []
        g.represented = [family.Represented(p.id, p.name, standing, p.birth_date) for p, standing in people]
    return g.represented


def current() -> family.Represented | None:
    """The person chosen in this session, if the account may still act for them; otherwise a sensible default:
    themself when they hold a policy, else the first person they act for."""
    if "acting" in g:
        return g.acting
    people = represented()
    chosen = session.get(SESSION_KEY)
    found = next((p for p in people if p.person_id == chosen), None)
    if found is None and people:
        me = next((p for p in people if p.standing.relation == "self"), None)
        insured = me is not None and db.session.scalar(select(Policy.id).where(Policy.insured_id == me.person_id).limit(1))
        found = me if insured or len(people) == 1 else next(p for p in people if p.standing.relation != "self")
    g.acting = found
    return found


def choose(person_id: int) -> family.Represented | None:
    """Act for `person_id` from now on in this session; None (and nothing changed) when the account may not."""
    found = next((p for p in represented() if p.person_id == person_id), None)
    if found is not None:
        session[SESSION_KEY] = person_id
        g.acting = found
    return found


def follow(person_id: int) -> None:
    """A page shows something of `person_id` (already checked: the account may act for them): from now on the
    session acts for them, so the banner is true on this page and the next."""
    current_person = current()
    if current_person is None or current_person.person_id != person_id:
        choose(person_id)


def banner() -> family.Represented | None:
    """What the banner shows: the person acted for, when that is someone else."""
    if not current_user.is_authenticated or current_user.is_staff:
        return None
    person = current()
    return person if person is not None and person.standing.is_proxy else None


def record_view(person_id: int, page: str, target: str | None = None) -> None:
    """A family member (or staff) saw a page of `person_id`'s records: written to the audit log, which the
    insured can read as their access log. The insured's own views are not logged."""
    if current_user.person_id == person_id:
        return
    audit.record_view(db.session, "record.view", now=now(), actor_id=current_user.id, subject_person_id=person_id,
                      target=target, ip=client_ip(), detail={"page": page})
