"""Family access as a matrix (issue 5, proof 1): guardian, agent, revoked agent, expired guardianship, pending
request and stranger × every resource (cards, bookings, documents, thumbnails, fragments) × every verb → the
expected status; 404 for anything not entitled, and nothing changes.

The demo world (services/demo/demo.py) as of NOW, with photos: 李娜 is the verified guardian of 李小明 (9), whose
expert visit is approved; 周婷 is the agent of her mother 王芳 with the scopes "view" and "apply" (not the
papers), and 王芳's expert visit is applied for, with a diagnosis page; 李强 (the father) has a request pending.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from webapp.models import Account, AuditEvent, Document, DocumentPage, ProxyGrant
from webapp.services.accounts.identity import demo_resident_id
from webapp.services.demo import demo, demo_papers
from webapp.services.family import family
from webapp.services.papers import documents, photos
from webapp.services.papers.storage import LocalStorage

from .conftest import at, build_demo
from .web_helpers import NOW, booking_of, counts, csrf_from, fresh, set_clock, sign_in, snapshot

CHILD_POLICY, WANG_POLICY = "P003-DEMO-0005", "P001-DEMO-0006"

# (resource, verb, name): the request each row makes on the subject's policy P, booking R and page G.
ROWS = [
    ("cards", "GET", "home"), ("cards", "GET", "apply-form"), ("fragments", "POST", "apply-field"),
    ("fragments", "POST", "apply-review"),
    ("bookings", "GET", "list"), ("bookings", "GET", "detail"), ("fragments", "GET", "cancel-confirm"),
    ("bookings", "GET", "change"), ("documents", "GET", "checklist"), ("thumbnails", "GET", "thumb"),
    ("thumbnails", "GET", "image"), ("documents", "POST", "upload"), ("documents", "POST", "remove"),
    ("documents", "POST", "send"), ("bookings", "POST", "cancel"),
]

# What an entitled actor gets; "seen"/"unseen" for pages listing the subject's things.
GRANTED = {
    "home": "seen", "apply-form": 200, "apply-field": 200, "apply-review": 200, "list": "seen", "detail": 200,
    "cancel-confirm": 200, "cancel": 303, "change": 303, "checklist": 200, "upload": 302, "remove": 302, "send": 302,
    "thumb": 200, "image": 200,
}
DENIED = {name: ("unseen" if GRANTED[name] == "seen" else 404) for name in GRANTED}
# The agent holds "view" and "apply" but not "documents": no papers, no page images.
AGENT = {**GRANTED, **{name: 404 for name in ("checklist", "upload", "remove", "send", "thumb", "image")}}

ACTORS = {  # actor → (mobile, whose resources, expected per row)
    "guardian": (demo.PARENT, "child", GRANTED),
    "agent": (demo.AGENT, "wang", AGENT),
    "revoked agent": (demo.AGENT, "wang", DENIED),
    "expired guardianship": (demo.PARENT, "child", DENIED),
    "pending request": (demo.FATHER, "child", DENIED),
    "stranger": (demo.OTHER, "child", DENIED),
    "stranger to wang": (demo.ADULT, "wang", DENIED),
}


@pytest.fixture()
def world(app, session):
    store = LocalStorage(app.config["UPLOAD_DIR"])
    build_demo(session, NOW, store)
    set_clock(app, NOW)
    # A page 李娜 has not sent yet on her son's application (王芳's application already has one of hers).
    parent = session.scalar(select(Account).where(Account.mobile == demo.PARENT))
    child = booking_of(session, CHILD_POLICY, "expert_outpatient")
    photo = photos.process(demo_papers.paper_photo("diagnosis", "李小明", seed=77, page=2))
    documents.add_page(session, store, booking_id=child.id, kind="diagnosis", photo=photo, account=parent, now=NOW)
    return session


def _prepare(session, actor: str) -> None:
    if actor == "revoked agent":
        wang = session.scalar(select(Account).where(Account.mobile == demo.OTHER))
        family.revoke(session, "demo-agent-zhou", account=wang, now=NOW - timedelta(hours=1))
    elif actor == "expired guardianship":
        grant = session.scalar(select(ProxyGrant).where(ProxyGrant.public_id == "demo-guardian-li"))
        grant.valid_until = NOW.date()  # it ended at midnight this morning (as on an 18th birthday)
        session.commit()
    elif actor == "pending request":
        father = Account(mobile=demo.FATHER, created_at=NOW)
        session.add(father)
        session.commit()
        family.register_applicant(session, father, name="李强", id_number=demo_resident_id("310104", date(1984, 9, 9), 615),
                                  now=NOW)
        child = session.scalar(select(ProxyGrant).where(ProxyGrant.public_id == "demo-guardian-li")).insured
        grant = family.request_access(session, father, kind="guardian_minor", insured_name=child.name,
                                      insured_id_number=child.id_number, relationship="儿子", now=NOW)
        grant.status = "pending"  # proofs sent, staff not done yet
        session.commit()


def _subject(session, whose: str):
    policy = CHILD_POLICY if whose == "child" else WANG_POLICY
    booking = booking_of(session, policy, "expert_outpatient")
    page = session.scalar(select(DocumentPage).join(Document).where(Document.booking_id == booking.id)
                          .order_by(DocumentPage.id))
    draft = session.scalar(select(DocumentPage).join(Document).where(Document.booking_id == booking.id,
                                                                     DocumentPage.status == "draft"))
    return policy, booking.reference, page.public_id, draft.public_id if draft else "pg-none-0000"


def _request(client, name: str, policy: str, ref: str, page: str, draft: str, token: str):
    form = {"csrf_token": token}
    apply_form = {**form, "city": "上海", "hospital": "复旦大学附属中山医院", "department": "血液科", "dates": "下周一上午",
                  "request_key": "rk-family-matrix"}
    htmx = {"HX-Request": "true"}
    return {
        "home": lambda: client.get("/home"),
        "apply-form": lambda: client.get(f"/apply/{policy}/expert_outpatient"),
        "apply-field": lambda: client.post(f"/apply/{policy}/expert_outpatient/field/city", data=apply_form, headers=htmx),
        "apply-review": lambda: client.post(f"/apply/{policy}/expert_outpatient", data=apply_form, headers=htmx),
        "list": lambda: client.get("/bookings"),
        "detail": lambda: client.get(f"/bookings/{ref}"),
        "cancel-confirm": lambda: client.get(f"/bookings/{ref}/cancel", headers=htmx),
        "cancel": lambda: client.post(f"/bookings/{ref}/cancel", data=form),
        "change": lambda: client.get(f"/bookings/{ref}/change"),
        "checklist": lambda: client.get(f"/bookings/{ref}/papers"),
        "upload": lambda: client.post(f"/bookings/{ref}/papers/diagnosis", data=form),
        "remove": lambda: client.post(f"/bookings/{ref}/papers/pages/{draft}/remove", data=form),
        "send": lambda: client.post(f"/bookings/{ref}/papers/send", data=form),
        "thumb": lambda: client.get(f"/papers/{page}/thumb"),
        "image": lambda: client.get(f"/papers/{page}/image"),
    }[name]()


def _token(client) -> str:
    for path in ("/home", "/family", "/messages"):
        response = client.get(path)
        if response.status_code == 200:
            return csrf_from(response.get_data(as_text=True))
    raise AssertionError("no page with a token")


@pytest.mark.parametrize("actor", sorted(ACTORS))
def test_family_access_matrix(app, world, actor):
    """Each row in turn on one world per actor: reads first, then the writes (an entitled actor's upload and
    removal before the cancellation), so every row meets the state it tests."""
    session = world
    mobile, whose, expected = ACTORS[actor]
    _prepare(session, actor)
    policy, ref, page, draft = _subject(session, whose)
    client = app.test_client()
    sign_in(client, mobile)
    token = _token(client)
    for resource, verb, name in ROWS:
        before, rows = snapshot(session), counts(session)
        refused_before = len(fresh(session).scalars(select(AuditEvent).where(AuditEvent.action == "access.refused")).all())
        response = _request(client, name, policy, ref, page, draft, token)
        want = expected[name]
        where = (actor, resource, verb, name, response.status_code)
        html = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
        if want in ("seen", "unseen"):
            assert response.status_code == 200, where
            marker = f'data-policy="{policy}"' if name == "home" else ref
            assert (marker in html) is (want == "seen"), where
        else:
            assert response.status_code == want, where
        if want in (404, "unseen"):
            assert want == "unseen" or 'data-testid="error"' in html, where
            assert snapshot(session) == before, where
            after = counts(session)
            assert {t: n for t, n in after.items() if t != "audit_events"} == {t: n for t, n in rows.items() if t != "audit_events"}
        if want == 404:
            refused = fresh(session).scalars(select(AuditEvent).where(AuditEvent.action == "access.refused")).all()
            assert len(refused) == refused_before + 1, ("a refusal is logged", where)


def test_nothing_of_the_insured_shows_while_a_request_is_pending(app, world):
    """Until staff verify the proof the family member sees the request's state and nothing medical: no cards,
    no bookings, no diagnosis, no name of a hospital."""
    session = world
    _prepare(session, "pending request")
    client = app.test_client()
    sign_in(client, demo.FATHER)
    for path in ("/home", "/bookings", "/messages"):
        html = client.get(path, follow_redirects=True).get_data(as_text=True)
        for secret in ("上海儿童医学中心", CHILD_POLICY, "小儿血液科", 'data-testid="entitlement-card"'):
            assert secret not in html, (path, secret)


@pytest.mark.parametrize("moment, status", [
    (at(2026, 11, 23, 23, 59, 59), 200),  # the last second of the last day
    (at(2026, 11, 24, 0, 0, 0), 404),  # midnight, China time: 16:00 UTC the day before
])
def test_the_cut_off_at_midnight_china_time_through_the_web(app, world, moment, status):
    session = world
    grant = session.scalar(select(ProxyGrant).where(ProxyGrant.public_id == "demo-guardian-li"))
    grant.valid_until = date(2026, 11, 24)  # as if 李小明 turned 18 on 24 November
    session.commit()
    ref = booking_of(session, CHILD_POLICY, "expert_outpatient").reference
    client = app.test_client()
    sign_in(client, demo.PARENT)
    set_clock(app, moment)
    assert client.get(f"/bookings/{ref}").status_code == status
    assert client.get(f"/apply/{CHILD_POLICY}/expert_outpatient").status_code == status
    home = client.get("/home", follow_redirects=True).get_data(as_text=True)
    assert (f'data-policy="{CHILD_POLICY}"' in home) is (status == 200)
