"""The staff side of family access (issue 5): the role guard every /staff route uses, the queue of requests
waiting for verification, one request with its proof pages, and deciding pages, verifying, refusing and ending
access — with CSRF on, through the Flask client, on the demo world.

A pending request is built as a family member would make it: 李强 (13800000004, new here) says who he is,
asks to be the guardian of 李小明, and sends two proof papers (his ID card and the guardianship proof), one
page each. The pages are inserted as rows with a small stored image (the upload side is tested elsewhere).
"""
from __future__ import annotations

import hashlib
import io
import re
import secrets
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from webapp.db import write_transaction
from webapp.models import Account, AuditEvent, Document, DocumentPage, Notification, Person, ProxyGrant
from webapp.services.demo import demo
from webapp.services.family import family
from webapp.services.accounts.identity import demo_resident_id
from webapp.services.papers.storage import new_key, storage_from_config
from webapp.views.staff import staff_required

from .conftest import build_demo
from .web_helpers import (
    ADULT, NOW, PARENT, attr_values, block, csrf_from, fresh, set_clock, sign_in, text_of, use_english,
)

FATHER, AGENT, REVIEWER, COORDINATOR, ADMIN = demo.FATHER, demo.AGENT, demo.REVIEWER, demo.COORDINATOR, demo.ADMIN
FATHER_ID = demo_resident_id("310104", date(1984, 4, 2), 117)
SENT = NOW - timedelta(days=2, hours=3)


@pytest.fixture()
def world(app, session):
    build_demo(session, NOW)
    set_clock(app, NOW)
    return session


def person(session, name: str) -> Person:
    return session.scalar(select(Person).where(Person.name == name))


def stored_page(app, session, doc: Document, account_id: int, seed: int) -> DocumentPage:
    """A small JPEG in the configured store and its page row (a draft, as an upload leaves it)."""
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (240 - seed, 235, 225)).save(buffer, "JPEG")
    data = buffer.getvalue()
    key = new_key()
    store = storage_from_config(app.config)
    store.put(key, data)
    store.put(key + ".t", data)
    page = DocumentPage(public_id=secrets.token_urlsafe(12), document=doc, position=len(doc.pages), storage_key=key,
                        thumbnail_key=key + ".t", sha256=hashlib.sha256(data).hexdigest(), width=640, height=480,
                        byte_size=len(data), source_format="JPEG", status="draft", uploaded_by_id=account_id,
                        created_at=SENT - timedelta(minutes=5))
    session.add(page)
    return page


def send_proofs(app, session, grant: ProxyGrant, account: Account, pages_per_paper: int = 1) -> None:
    """The requester's proofs for every paper the request needs, sent for verification (family.mark_sent)."""
    for seed, kind in enumerate(family.proofs_needed(grant)):
        doc = Document(proxy_grant_id=grant.id, person_id=grant.insured_person_id, kind=kind, status="draft",
                       created_at=SENT, updated_at=SENT)
        session.add(doc)
        for n in range(pages_per_paper):
            stored_page(app, session, doc, account.id, seed * 10 + n)
    session.commit()
    with write_transaction(session):
        for doc in family.proof_documents(session, grant).values():
            for page in doc.pages:
                page.status, page.submitted_at = "received", SENT
            doc.status = "received"
        family.mark_sent(session, session.get(ProxyGrant, grant.id), account=account, now=SENT)


def father_asks(app, session) -> ProxyGrant:
    """李强 asks to be the guardian of 李小明 (a minor) and sends his proofs: a request waiting for staff."""
    father = Account(mobile=FATHER, created_at=NOW - timedelta(days=3))
    session.add(father)
    session.commit()
    family.register_applicant(session, father, name="李强", id_number=FATHER_ID, now=SENT - timedelta(hours=1))
    child = person(session, "李小明")
    grant = family.request_access(session, father, kind=family.GUARDIAN_MINOR, insured_name="李小明",
                                  insured_id_number=child.id_number, relationship="儿子", now=SENT - timedelta(hours=1))
    send_proofs(app, session, grant, father)
    return fresh(session).get(ProxyGrant, grant.id)


def agent_asks(app, session) -> ProxyGrant:
    """王芳 asks, with a signed power of attorney, to act for 张伟: see and apply, until a date she names."""
    wang = session.scalar(select(Account).where(Account.mobile == demo.OTHER))
    zhang = person(session, "张伟")
    grant = family.request_access(session, wang, kind=family.POWER_OF_ATTORNEY, insured_name="张伟",
                                  insured_id_number=zhang.id_number, relationship="朋友", scopes={"view", "apply"},
                                  valid_until=date(2027, 11, 23), now=SENT - timedelta(hours=1))
    send_proofs(app, session, grant, wang)
    return fresh(session).get(ProxyGrant, grant.id)


@pytest.fixture()
def pending(app, world) -> ProxyGrant:
    return father_asks(app, world)


def pages_of(session, grant: ProxyGrant) -> list[DocumentPage]:
    fresh(session)
    return list(session.scalars(select(DocumentPage).join(Document).where(Document.proxy_grant_id == grant.id)
                                .order_by(DocumentPage.id)))


def state(session) -> dict:
    """Everything a staff action could change, by value."""
    fresh(session)
    return {
        "grants": sorted((g.public_id, g.status, g.valid_until, g.scopes, g.revoked_at, g.rejection_reason,
                          g.verified_by_id) for g in session.scalars(select(ProxyGrant))),
        "documents": sorted((d.id, d.status) for d in session.scalars(select(Document))),
        "pages": sorted((p.public_id, p.status, p.status_reason) for p in session.scalars(select(DocumentPage))),
        "notifications": session.scalar(select(func.count()).select_from(Notification)),
    }


def client_for(app, mobile: str | None):
    client = app.test_client()
    if mobile is None:
        client.get("/sign-in")
    else:
        sign_in(client, mobile)
    return client


def token(client, path: str = "/home") -> str:
    response = client.get(path, follow_redirects=True)
    if response.status_code != 200:
        response = client.get("/sign-in")
    return csrf_from(response.get_data(as_text=True))


def staff_routes(grant: ProxyGrant, page: DocumentPage) -> list[tuple[str, str, dict]]:
    base = f"/staff/access/{grant.public_id}"
    return [
        ("GET", "/staff/access", {}),
        ("GET", "/staff/access?show=granted", {}),
        ("GET", base, {}),
        ("POST", f"{base}/pages/{page.public_id}/decide", {"decision": "accepted"}),
        ("POST", f"{base}/verify", {}),
        ("POST", f"{base}/reject", {"reason": "other", "note": "x"}),
        ("POST", "/staff/access/demo-guardian-li/revoke", {}),
        ("GET", "/staff/access/no-such-grant", {}),
        ("POST", "/staff/access/no-such-grant/revoke", {}),
    ]


def flashes(html: str, kind: str = "flash-error") -> list[str]:
    """The one-time messages of a page: refusals (flash-error) or what was done (flash)."""
    return [text_of(m) for m in re.findall(rf'data-testid="{kind}">(.*?)</p>', html, re.S)]


# ------------------------------------------------------------------------------------------------ the guard

def test_every_staff_route_is_in_this_file(app):
    """A new /staff/access route needs its rows in staff_routes and in the lead's matrix (the rest of the console
    is refused to customers and family members route by route in test_staff_console.py, from the URL map)."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules() if rule.rule.startswith("/staff/access")}
    assert endpoints == {"staff.access_queue", "staff.access_request", "staff.access_decide_page",
                         "staff.access_verify", "staff.access_reject", "staff.access_revoke"}


def test_a_visitor_is_sent_to_sign_in_from_every_staff_route(app, world, pending):
    client = client_for(app, None)
    page = pages_of(world, pending)[0]
    before = state(world)
    for method, url, form in staff_routes(pending, page):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, data={**form, "csrf_token": token(client)})
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/sign-in"), (method, url)
    assert state(world) == before


@pytest.mark.parametrize("mobile", [ADULT, PARENT, AGENT, COORDINATOR],
                         ids=["customer 张伟", "guardian 李娜", "agent 周婷", "coordinator"])
def test_customers_family_members_and_coordinators_get_403_everywhere_and_change_nothing(app, world, pending, mobile):
    client = client_for(app, mobile)
    page = pages_of(world, pending)[0]
    before = state(world)
    for method, url, form in staff_routes(pending, page):
        for headers in ({}, {"HX-Request": "true"}):
            if method == "GET":
                response = client.get(url, headers=headers)
            else:
                response = client.post(url, data={**form, "csrf_token": token(client)}, headers=headers)
            html = response.get_data(as_text=True)
            assert response.status_code == 403, (mobile, method, url, headers)
            assert 'data-testid="error"' in html and ("<html" in html) is (not headers)
            assert "李强" not in html and "138****0004" not in html  # nothing of the request leaks
    assert state(world) == before
    account = world.scalar(select(Account).where(Account.mobile == mobile))
    refused = world.scalars(select(AuditEvent).where(AuditEvent.action == "access.refused",
                                                     AuditEvent.actor_account_id == account.id)).all()
    assert {e.target for e in refused} >= {"staff:staff.access_queue", "staff:staff.access_verify"}


@pytest.mark.own_app
def test_the_guard_without_roles_admits_any_staff_role_and_no_customer(app, world):
    """The console's later routes reuse the guard: staff_required() alone means any staff role."""
    app.add_url_rule("/staff/_any", "staff_any", staff_required()(lambda: "any staff"))
    app.add_url_rule("/staff/_admin", "staff_admin", staff_required("admin")(lambda: "admin only"))
    assert client_for(app, None).get("/staff/_any").status_code == 302
    coordinator = client_for(app, COORDINATOR)
    assert coordinator.get("/staff/_any").get_data(as_text=True) == "any staff"
    assert coordinator.get("/staff/_admin").status_code == 403
    assert client_for(app, ADMIN).get("/staff/_admin").status_code == 200
    assert client_for(app, ADULT).get("/staff/_any").status_code == 403


def test_the_staff_home_links_to_the_queue_with_the_number_waiting(app, world, pending):
    html = client_for(app, REVIEWER).get("/home", follow_redirects=True).get_data(as_text=True)
    assert attr_values(html, "staff-access-link", "data-waiting") == ["1"]
    assert attr_values(html, "staff-access-link", "href") == ["/staff/access"]
    assert "staff-access-link" not in client_for(app, COORDINATOR).get("/home", follow_redirects=True).get_data(as_text=True)


# ------------------------------------------------------------------------------------------------ reading

@pytest.mark.parametrize("mobile", [REVIEWER, ADMIN])
def test_reviewers_and_admins_see_the_queue_oldest_first(app, world, pending, mobile):
    later = agent_asks(app, world)
    client = client_for(app, mobile)
    use_english(client)
    html = client.get("/staff/access").get_data(as_text=True)
    queue = block(html, "staff-queue")
    assert attr_values(queue, "staff-request", "data-grant") == [pending.public_id, later.public_id]
    row = text_of(block(queue, "staff-request"))
    assert "李强" in row and "李小明" in row and "Guardian of a minor" in row and "Waiting 2 days" in row
    assert f'href="/staff/access/{pending.public_id}"' in queue
    assert "demo-guardian-li" not in queue  # in force, not waiting


def test_the_granted_list_shows_access_in_force(app, world, pending):
    html = client_for(app, ADMIN).get("/staff/access?show=granted").get_data(as_text=True)
    granted = block(html, "staff-granted")
    assert set(attr_values(granted, "granted-row", "data-grant")) == {"demo-guardian-li", "demo-agent-zhou"}
    assert pending.public_id not in granted and "staff-queue" not in html


def test_the_detail_shows_both_people_masked_and_the_proof_pages(app, world, pending):
    client = client_for(app, REVIEWER)
    response = client.get(f"/staff/access/{pending.public_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    child = person(world, "李小明")
    assert attr_values(html, "staff-request", "data-grant") == [pending.public_id]
    assert FATHER_ID not in html and child.id_number not in html  # resident IDs masked
    assert FATHER_ID[:3] + "*" * 11 + FATHER_ID[-4:] in html
    assert FATHER not in html and "138****0004" in html
    age = block(html, "insured-age")
    assert 'data-minor="yes"' in age and "9" in text_of(age)
    assert str(family.adulthood(child.birth_date).year) in text_of(block(html, "adulthood"))
    pages = pages_of(world, pending)
    assert attr_values(html, "proof-page", "data-page") == [p.public_id for p in pages]
    assert attr_values(html, "proof-page", "data-status") == ["received", "received"]
    for page in pages:
        assert f'href="/papers/{page.public_id}/image"' in html and f'src="/papers/{page.public_id}/thumb"' in html
    for testid in ("decide-accept", "decide-unreadable", "decide-reject"):
        assert html.count(f'data-testid="{testid}"') == 2
    for testid in ("verify-grant", "reject-grant", "reject-reason"):
        assert html.count(f'data-testid="{testid}"') == 1
    assert 'data-testid="revoke-grant-staff"' not in html
    assert re.findall(r'<label for="([^"]+)"', html)  # every field has its label
    for field_id in re.findall(r'<(?:select|input|textarea)[^>]*\bid="([^"]+)"', html):
        assert f'<label for="{field_id}"' in html, field_id


def test_every_page_link_of_the_detail_opens_for_staff(app, world, pending):
    """The thumbnails and full images are served (and audited) by the papers view."""
    client = client_for(app, REVIEWER)
    html = client.get(f"/staff/access/{pending.public_id}").get_data(as_text=True)
    links = re.findall(r'(?:href|src)="(/papers/[^"]+/(?:image|thumb))"', html)
    assert len(links) == 4
    for link in links:
        response = client.get(link)
        assert response.status_code == 200 and response.mimetype == "image/jpeg", link
        response.close()


def test_opening_a_request_is_audited_with_the_insured_as_subject(app, world, pending):
    client = client_for(app, REVIEWER)
    client.get(f"/staff/access/{pending.public_id}", environ_base={"REMOTE_ADDR": "10.2.2.2"})
    reviewer = world.scalar(select(Account).where(Account.mobile == REVIEWER))
    event = fresh(world).scalar(select(AuditEvent).where(AuditEvent.action == "access.staff_view"))
    assert (event.actor_account_id, event.subject_person_id, event.target, event.ip) == (
        reviewer.id, pending.insured_person_id, f"grant:{pending.public_id}", "10.2.2.2")
    entries, _next = family.access_log(world, pending.insured_person_id)
    assert any(e.action == "access.staff_view" and e.actor_kind == "staff" for e in entries)


def test_unknown_requests_and_pages_of_another_request_are_404(app, world, pending):
    client = client_for(app, ADMIN)
    assert client.get("/staff/access/no-such-grant").status_code == 404
    assert client.get("/staff/access/" + "x" * 40).status_code == 404
    before = state(world)
    csrf = token(client)
    other = agent_asks(app, world)
    foreign = pages_of(world, other)[0]
    before = state(world)
    for url in (f"/staff/access/{pending.public_id}/pages/{foreign.public_id}/decide",
                f"/staff/access/{pending.public_id}/pages/no-such-page/decide",
                "/staff/access/no-such-grant/verify", "/staff/access/no-such-grant/reject",
                "/staff/access/no-such-grant/revoke"):
        response = client.post(url, data={"csrf_token": csrf, "decision": "accepted", "reason": "other"})
        assert response.status_code == 404, url
    assert state(world) == before


def test_a_post_without_csrf_token_is_400_and_changes_nothing(app, world, pending):
    client = client_for(app, ADMIN)
    before = state(world)
    for url in (f"/staff/access/{pending.public_id}/verify", "/staff/access/demo-guardian-li/revoke"):
        assert client.post(url, data={}).status_code == 400
    assert state(world) == before


# ------------------------------------------------------------------------------------------------ deciding

def decide(client, grant, page, **form):
    return client.post(f"/staff/access/{grant.public_id}/pages/{page.public_id}/decide",
                       data={"csrf_token": token(client), **form})


def test_a_reviewer_accepts_a_page(app, world, pending):
    client = client_for(app, REVIEWER)
    use_english(client)
    page = pages_of(world, pending)[0]
    response = decide(client, pending, page, decision="accepted")
    assert response.status_code == 303 and response.headers["Location"] == f"/staff/access/{pending.public_id}"
    assert [p.status for p in pages_of(world, pending)] == ["accepted", "received"]
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert attr_values(html, "proof-page", "data-status") == ["accepted", "received"]
    assert flashes(html, "flash") == ["Page accepted."] and not flashes(html)


def test_a_page_marked_unreadable_then_blocks_verifying(app, world, pending):
    client = client_for(app, REVIEWER)
    page = pages_of(world, pending)[1]
    response = decide(client, pending, page, decision="unreadable", note="反光，看不清")
    assert response.status_code == 303
    assert [p.status for p in pages_of(world, pending)] == ["received", "unreadable"]
    before = state(world)
    response = client.post(f"/staff/access/{pending.public_id}/verify", data={"csrf_token": token(client)})
    assert response.status_code == 303
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert flashes(html) and 'data-state="pending"' in html
    assert state(world) == before


@pytest.mark.parametrize("form", [{"decision": "rejected"}, {"decision": "rejected", "reason": "nonsense"},
                                  {"decision": "approve"}, {}], ids=["no reason", "unknown reason", "bad decision",
                                                                     "nothing"])
def test_a_bad_page_decision_says_why_and_changes_nothing(app, world, pending, form):
    client = client_for(app, REVIEWER)
    page = pages_of(world, pending)[0]
    before = state(world)
    response = decide(client, pending, page, **form)
    assert response.status_code == 303
    assert flashes(client.get(response.headers["Location"]).get_data(as_text=True))
    assert state(world) == before


def test_a_page_is_rejected_with_a_listed_reason_and_a_note(app, world, pending):
    client = client_for(app, REVIEWER)
    page = pages_of(world, pending)[0]
    decide(client, pending, page, decision="rejected", reason="name_mismatch", note="姓名不符")
    decided = pages_of(world, pending)[0]
    assert (decided.status, decided.status_reason) == ("rejected", "name_mismatch: 姓名不符")


def test_pages_of_a_request_no_longer_waiting_are_not_decided(app, world, pending):
    client = client_for(app, REVIEWER)
    client.post(f"/staff/access/{pending.public_id}/reject", data={"csrf_token": token(client), "reason": "other"})
    before = state(world)
    response = decide(client, pending, pages_of(world, pending)[0], decision="accepted")
    assert response.status_code == 303
    assert state(world) == before
    html = client.get(f"/staff/access/{pending.public_id}").get_data(as_text=True)
    assert 'data-testid="decide-accept"' not in html and 'data-testid="verify-grant"' not in html


# ------------------------------------------------------------------------------------------------ verifying

def test_verifying_a_minors_guardianship_gives_access_until_the_18th_birthday(app, world, pending):
    client = client_for(app, REVIEWER)
    # A date posted for a minor is ignored: the guardianship ends on the 18th birthday whatever is sent.
    response = client.post(f"/staff/access/{pending.public_id}/verify",
                           data={"csrf_token": token(client), "last_day": "2027-01-01"})
    assert response.status_code == 303
    grant = fresh(world).get(ProxyGrant, pending.id)
    child = person(world, "李小明")
    reviewer = world.scalar(select(Account).where(Account.mobile == REVIEWER))
    assert (grant.status, grant.valid_until, grant.verified_by_id) == (
        "verified", family.adulthood(child.birth_date), reviewer.id)
    assert {p.status for p in pages_of(world, pending)} == {"accepted"}
    father = world.scalar(select(Account).where(Account.mobile == FATHER))
    assert family.standing_of(world, father, child.id, NOW.date()).may("view")
    assert world.scalar(select(Notification).where(Notification.account_id == father.id,
                                                   Notification.kind == family.ACCESS_DECIDED)) is not None
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-state="verified"' in html and flashes(html, "flash") and not flashes(html)
    assert 'data-testid="verify-grant"' not in html and 'data-testid="revoke-grant-staff"' not in html  # reviewer


def test_verifying_twice_says_it_is_no_longer_waiting(app, world, pending):
    client = client_for(app, REVIEWER)
    url = f"/staff/access/{pending.public_id}/verify"
    client.post(url, data={"csrf_token": token(client)})
    before = state(world)
    response = client.post(url, data={"csrf_token": token(client)})
    assert response.status_code == 303 and state(world) == before
    assert flashes(client.get(response.headers["Location"]).get_data(as_text=True))


def test_a_power_of_attorney_is_verified_with_its_end_date_and_scopes(app, world):
    grant = agent_asks(app, world)
    client = client_for(app, ADMIN)
    html = client.get(f"/staff/access/{grant.public_id}").get_data(as_text=True)
    assert attr_values(html, "last-day-input", "value") == ["2027-11-22"]  # she asked until 2027-11-23 (exclusive)
    response = client.post(f"/staff/access/{grant.public_id}/verify",
                           data={"csrf_token": token(client), "last_day": "2027-06-30",
                                 "scopes": ["view", "documents", "bogus"]})
    assert response.status_code == 303
    done = fresh(world).get(ProxyGrant, grant.id)
    # The paper's last day is kept as the first day without access.
    assert (done.status, done.valid_until, done.scopes) == ("verified", date(2027, 7, 1), "view,documents")


@pytest.mark.parametrize("last", ["2026-13-45", "yesterday", "2026-11-22", "2020-01-01", "9999-12-31", "9" * 300])
def test_a_bad_last_day_says_why_and_changes_nothing(app, world, last):
    grant = agent_asks(app, world)
    client = client_for(app, REVIEWER)
    before = state(world)
    response = client.post(f"/staff/access/{grant.public_id}/verify",
                           data={"csrf_token": token(client), "last_day": last})
    assert response.status_code == 303
    assert flashes(client.get(response.headers["Location"]).get_data(as_text=True))
    assert state(world) == before


# ------------------------------------------------------------------------------------------------ refusing

def test_refusing_needs_a_listed_reason(app, world, pending):
    client = client_for(app, REVIEWER)
    before = state(world)
    for form in ({"reason": "nonsense"}, {}, {"reason": ""}):
        response = client.post(f"/staff/access/{pending.public_id}/reject", data={"csrf_token": token(client), **form})
        assert response.status_code == 303
        assert flashes(client.get(response.headers["Location"]).get_data(as_text=True))
    assert state(world) == before


def test_a_refusal_keeps_the_reason_and_tells_the_requester(app, world, pending):
    client = client_for(app, REVIEWER)
    response = client.post(f"/staff/access/{pending.public_id}/reject",
                           data={"csrf_token": token(client), "reason": "not_guardian", "note": "户口本未显示监护关系"})
    assert response.status_code == 303
    grant = fresh(world).get(ProxyGrant, pending.id)
    assert (grant.status, grant.rejection_reason) == ("rejected", "not_guardian: 户口本未显示监护关系")
    father = world.scalar(select(Account).where(Account.mobile == FATHER))
    # (his first message is the receipt of his request: issue 15 item 9)
    note = world.scalar(select(Notification).where(Notification.account_id == father.id, Notification.kind == "access_decided"))
    assert note.payload["state"] == "rejected"
    html = client.get(f"/staff/access/{pending.public_id}").get_data(as_text=True)
    assert 'data-state="rejected"' in html and 'data-testid="reject-grant"' not in html


# ------------------------------------------------------------------------------------------------ revoking

def test_only_an_admin_ends_access_in_force(app, world, pending):
    reviewer = client_for(app, REVIEWER)
    before = state(world)
    response = reviewer.post("/staff/access/demo-guardian-li/revoke", data={"csrf_token": token(reviewer)})
    assert response.status_code == 403 and state(world) == before
    admin = client_for(app, ADMIN)
    html = admin.get("/staff/access/demo-guardian-li").get_data(as_text=True)
    assert 'data-testid="revoke-grant-staff"' in html
    response = admin.post("/staff/access/demo-guardian-li/revoke", data={"csrf_token": token(admin)})
    assert response.status_code == 303
    grant = fresh(world).scalar(select(ProxyGrant).where(ProxyGrant.public_id == "demo-guardian-li"))
    admin_account = world.scalar(select(Account).where(Account.mobile == ADMIN))
    assert (grant.status, grant.revoked_by_id) == ("revoked", admin_account.id)
    li_na = world.scalar(select(Account).where(Account.mobile == PARENT))
    assert world.scalar(select(Notification).where(Notification.account_id == li_na.id,
                                                   Notification.kind == family.ACCESS_REVOKED)) is not None
    # Ending it again, or ending a request not in force, says why and changes nothing.
    before = state(world)
    for public_id in ("demo-guardian-li", pending.public_id):
        response = admin.post(f"/staff/access/{public_id}/revoke", data={"csrf_token": token(admin)})
        assert response.status_code == 303
        assert flashes(admin.get(response.headers["Location"]).get_data(as_text=True))
    assert state(world) == before
