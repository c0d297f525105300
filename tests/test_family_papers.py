"""Proof papers of a request for family access (issue 5): the family member who asked uploads, removes and
sends them; sending puts the request in staff's queue, and only with every proof present; staff send a page
back and the requester (only they) is told; the insured, other family and strangers get 404 on every proofs
URL and image (and it is logged); staff views of a proof are audited. Also: an agent without the papers scope
never reaches an application's papers, a proxy's papers are "on file" once their grant has accepted proofs,
and retention deletes the proofs of requests that ended long ago, never those of a grant in force."""
from __future__ import annotations

import io
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from webapp.models import Account, AuditEvent, Document, DocumentPage, Notification, Person, ProxyGrant
from webapp.services.family import family
from webapp.services.papers import documents, photos
from webapp.services.products.catalog_sync import rules_for
from webapp.services.clock import china_date
from webapp.services.accounts.identity import demo_resident_id
from webapp.services.papers.storage import LocalStorage

from .photo_corpus import document_photo
from .conftest import build_demo
from .web_helpers import (
    ADULT, NOW, OTHER, PARENT, booking_of, csrf_from, csrf_token, fresh, set_clock, sign_in, use_english,
)

FATHER, AGENT, REVIEWER = "13800000004", "13800000005", "13800000009"
CHILD_BOOKING = ("P003-DEMO-0005", "expert_outpatient")  # 李小明's, applied for by his mother 李娜 (guardian)
WANG_BOOKING = ("P001-DEMO-0006", "expert_outpatient")  # 王芳's own, just applied
RETENTION = timedelta(days=180)


@pytest.fixture()
def world(app, session):
    build_demo(session, NOW)
    set_clock(app, NOW)
    return session


def photo(seed=0, **kw) -> bytes:
    return document_photo(1600, 1200, text_seed=seed, **kw)


def person(session, name: str) -> Person:
    return session.scalar(select(Person).where(Person.name == name))


def account(session, mobile: str) -> Account:
    fresh(session)
    return session.scalar(select(Account).where(Account.mobile == mobile))


def ask(session, mobile: str, insured: str = "李小明", kind: str = family.GUARDIAN_MINOR, seq: int = 412) -> ProxyGrant:
    """A family member says who they are and asks to act for `insured` (the account exists or is made here)."""
    me = account(session, mobile)
    if me is None:
        me = Account(mobile=mobile, created_at=NOW - timedelta(days=1))
        session.add(me)
        session.commit()
    if me.person_id is None:
        family.register_applicant(session, me, name=f"家属{seq}", id_number=demo_resident_id("310104", date(1984, 3, 1), seq),
                                  now=NOW)
    target = person(session, insured)
    return family.request_access(session, me, kind=kind, insured_name=target.name, insured_id_number=target.id_number,
                                 relationship="父亲", now=NOW)


def grant_of(session, public_id: str) -> ProxyGrant:
    fresh(session)
    return session.scalar(select(ProxyGrant).where(ProxyGrant.public_id == public_id))


def proof_pages(session, grant: ProxyGrant, kind: str | None = None) -> list[DocumentPage]:
    fresh(session)
    query = (select(DocumentPage).join(Document).where(Document.proxy_grant_id == grant.id).order_by(DocumentPage.id))
    if kind:
        query = query.where(Document.kind == kind)
    return list(session.scalars(query))


def request_url(grant: ProxyGrant) -> str:
    return f"/family/requests/{grant.public_id}"


def upload(client, grant, kind, *photos_, htmx=True, replaces=None, token=None):
    values = MultiDict([("csrf_token", token or csrf_from(client.get(request_url(grant)).get_data(as_text=True)))])
    for i, data in enumerate(photos_):
        values.add("photos", FileStorage(io.BytesIO(data), filename=f"IMG_{i}.jpg", content_type="image/jpeg"))
    if replaces:
        values.add("replaces", replaces)
    boundary, body = encode_multipart(values)
    return client.post(f"{request_url(grant)}/papers/{kind}", data=body, headers={"HX-Request": "true"} if htmx else {},
                       content_type=f"multipart/form-data; boundary={boundary}")


def send(client, grant, token=None):
    token = token or csrf_from(client.get(request_url(grant)).get_data(as_text=True))
    return client.post(f"{request_url(grant)}/papers/send", data={"csrf_token": token})


def audited(session, action: str) -> list[AuditEvent]:
    fresh(session)
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


@pytest.fixture()
def father(world, client):
    """李强, new here: signs in with his own number and asks to be 李小明's guardian (a draft request)."""
    sign_in(client, FATHER)
    return ask(world, FATHER)


def sent_request(world, client, grant) -> ProxyGrant:
    assert upload(client, grant, "applicant_id", photo(1)).status_code == 200
    assert upload(client, grant, "guardianship_proof", photo(2)).status_code == 200
    assert send(client, grant).status_code == 302
    return grant_of(world, grant.public_id)


def staff_account(session) -> Account:
    return account(session, REVIEWER)


# ------------------------------------------------------------------------------------------------ uploading and sending

def test_the_request_page_lists_the_proofs_its_kind_needs_and_nothing_can_be_sent_yet(father, client):
    html = client.get(request_url(father)).get_data(as_text=True)
    kinds = re.findall(r'data-testid="document" data-kind="([^"]+)" data-status="missing"', html)
    assert kinds == ["applicant_id", "guardianship_proof"]  # family.PROOFS[guardian_minor]
    assert 'data-testid="proof-list"' in html and html.count('data-testid="upload-form"') == 2
    assert f'action="/family/requests/{father.public_id}/papers/applicant_id"' in html
    assert 'data-testid="send-papers"' not in html and "js/upload.js" in html


def test_the_requester_uploads_every_proof_sends_them_and_the_request_waits_for_staff(app, world, client, father):
    one = upload(client, father, "applicant_id", photo(1))  # the page's script: the paper's fragment
    assert one.status_code == 200
    fragment = one.get_data(as_text=True)
    assert 'id="doc-applicant_id-body"' in fragment and 'data-status="draft"' in fragment
    assert 'hx-swap-oob="true"' in fragment and "<html" not in fragment
    assert 'data-testid="send-papers"' not in fragment and 'data-testid="still-missing"' in fragment  # one still missing
    assert f'/family/requests/{father.public_id}/papers/pages/' in fragment  # its remove button posts here

    plain = upload(client, father, "guardianship_proof", photo(2), photo(3), htmx=False)  # without JavaScript
    assert plain.status_code == 302
    assert plain.headers["Location"].endswith(f"/family/requests/{father.public_id}#doc-guardianship_proof")
    html = client.get(request_url(father)).get_data(as_text=True)
    assert 'data-testid="send-papers"' in html and 'data-drafts="3"' in html

    assert send(client, father).status_code == 302
    grant = grant_of(world, father.public_id)
    assert grant.status == family.PENDING and grant.submitted_at == NOW
    pages = proof_pages(world, grant)
    assert [p.status for p in pages] == ["received"] * 3
    doc = world.scalar(select(Document).where(Document.proxy_grant_id == grant.id, Document.kind == "applicant_id"))
    assert doc.booking_id is None and doc.person_id == person(world, "李小明").id
    assert [e.target for e in audited(world, "access.proofs_sent")] == [f"grant:{grant.public_id}"]
    assert audited(world, "document.submit")[-1].target == f"grant:{grant.public_id}"
    assert audited(world, "document.upload")[-1].detail["grant"] == grant.public_id
    assert grant in family.waiting_for_staff(world)


def test_sending_with_a_proof_missing_is_refused_and_nothing_changes(world, client, father):
    use_english(client)
    upload(client, father, "applicant_id", photo(1))
    before = [(p.public_id, p.status) for p in proof_pages(world, father)]
    response = send(client, father)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="flash-error"' in page and "Please add every paper before sending" in page
    assert "Proof of guardianship" in page
    assert grant_of(world, father.public_id).status == family.DRAFT
    assert [(p.public_id, p.status) for p in proof_pages(world, father)] == before == [(before[0][0], "draft")]
    assert audited(world, "access.proofs_sent") == [] and audited(world, "document.submit") == []

    with pytest.raises(documents.DocumentRefused) as refused:  # the service says which one
        documents.submit(world, grant_id=father.id, account=account(world, FATHER), now=NOW)
    assert refused.value.reason == "access.proof_missing" and refused.value.params == {"kind": "guardianship_proof"}
    assert grant_of(world, father.public_id).status == family.DRAFT


def test_the_requester_can_remove_a_draft_proof(app, world, client, father):
    upload(client, father, "applicant_id", photo(1))
    page = proof_pages(world, father)[0]
    token = csrf_from(client.get(request_url(father)).get_data(as_text=True))
    removed = client.post(f"{request_url(father)}/papers/pages/{page.public_id}/remove", data={"csrf_token": token},
                          headers={"HX-Request": "true"})
    assert removed.status_code == 200 and 'data-status="missing"' in removed.get_data(as_text=True)
    assert proof_pages(world, father) == []
    assert not any(p.is_file() for p in Path(app.config["UPLOAD_DIR"]).rglob("*"))  # its files went with it


def test_a_request_holds_a_limited_number_of_pages(world, client, father, monkeypatch):
    monkeypatch.setattr(documents, "MAX_PAGES_PER_GRANT", 2)
    assert upload(client, father, "applicant_id", photo(1)).status_code == 200
    assert upload(client, father, "guardianship_proof", photo(2)).status_code == 200
    refused = upload(client, father, "guardianship_proof", photo(3))
    assert refused.status_code == 422 and 'data-reason="document.too_many_pages"' in refused.get_data(as_text=True)
    assert len(proof_pages(world, father)) == 2


def test_a_paper_the_request_does_not_need_is_refused_in_the_requests_words(world, client, father):
    use_english(client)
    refused = upload(client, father, "power_of_attorney", photo(1))
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "This request does not need that paper." in html
    assert upload(client, father, "selfie", photo(1)).status_code == 404  # not a kind of paper at all
    assert proof_pages(world, father) == []


def test_a_body_larger_than_the_limit_is_refused_before_it_is_read(world, client, father):
    big = b"\xff\xd8\xff" + b"\0" * (photos.LIMITS.max_bytes + 512 * 1024)
    assert upload(client, father, "applicant_id", big).status_code == 413
    assert proof_pages(world, father) == []


def test_a_decided_request_takes_no_more_papers(world, client, father):
    sent = sent_request(world, client, father)
    family.verify(world, sent.public_id, staff=staff_account(world), now=NOW + timedelta(hours=1))
    refused = upload(client, sent, "applicant_id", photo(9))
    assert refused.status_code == 422 and 'data-reason="document.closed"' in refused.get_data(as_text=True)
    html = client.get(request_url(sent)).get_data(as_text=True)
    assert 'data-testid="upload-form"' not in html and 'data-testid="send-bar"' not in html
    assert html.count('data-testid="thumbnail"') == 2  # the requester still sees what was sent


# ------------------------------------------------------------------------------------------------ staff send a page back

def test_staff_send_a_proof_back_only_the_requester_is_told_and_the_retake_goes_with_the_next_send(world, client, father):
    sent = sent_request(world, client, father)
    staff = staff_account(world)
    proof = proof_pages(world, sent, "guardianship_proof")[0]
    documents.decide_page(world, public_id=proof.public_id, staff=staff, now=NOW + timedelta(hours=1),
                          decision=documents.UNREADABLE, reason="unreadable")
    fresh(world)
    told = world.scalars(select(Notification).where(Notification.kind == "paper_retake")).all()
    assert [n.account_id for n in told] == [account(world, FATHER).id]  # not the guardian 李娜, not anyone else
    note = told[0]
    assert note.booking_id is None and note.subject_person_id == sent.insured_person_id
    assert note.payload == {"grant": sent.public_id, "insured": "李小明", "document": "guardianship_proof",
                            "page": proof.public_id, "page_number": 1, "decision": "unreadable", "reason": "unreadable"}
    assert client.get("/messages").status_code == 200  # the inbox shows it without a booking

    with pytest.raises(family.Refused):  # staff cannot verify while a proof waits for its retake
        family.verify(world, sent.public_id, staff=staff, now=NOW + timedelta(hours=1))
    html = client.get(request_url(sent)).get_data(as_text=True)
    assert 'data-kind="guardianship_proof" data-status="unreadable"' in html and html.count('data-testid="retake-input"') == 1
    retake = upload(client, sent, "guardianship_proof", photo(5), replaces=proof.public_id)
    assert retake.status_code == 200 and 'data-testid="retake"' in retake.get_data(as_text=True)
    assert send(client, sent).status_code == 302
    statuses = {p.public_id: p.status for p in proof_pages(world, sent, "guardianship_proof")}
    assert statuses[proof.public_id] == "replaced" and sorted(statuses.values()) == ["received", "replaced"]
    assert grant_of(world, sent.public_id).status == family.PENDING
    verified = family.verify(world, sent.public_id, staff=staff, now=NOW + timedelta(hours=2))
    assert verified.status == family.VERIFIED


def test_the_same_verdict_twice_tells_the_requester_once(world, client, father):
    sent = sent_request(world, client, father)
    page = proof_pages(world, sent, "applicant_id")[0]
    grant = grant_of(world, sent.public_id)
    for _ in range(2):
        documents.notifications.record_grant_retake(world, grant, page_id=page.id, public_id=page.public_id,
                                                    kind="applicant_id", page_number=1, decision="rejected",
                                                    reason="identity_mismatch", at=NOW)
    world.commit()
    assert world.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "paper_retake")) == 1


# ------------------------------------------------------------------------------------------------ who may reach a request's proofs

@pytest.fixture()
def agent_request(world, app):
    """李强 asks, with a signed power of attorney, to act for 王芳 (who has her own account), and adds a proof."""
    requester = app.test_client()
    sign_in(requester, FATHER)
    grant = ask(world, FATHER, insured="王芳", kind=family.POWER_OF_ATTORNEY)
    assert upload(requester, grant, "power_of_attorney", photo(7)).status_code == 200
    return grant, proof_pages(world, grant)[0], requester


@pytest.mark.parametrize("mobile", [OTHER, AGENT, PARENT, ADULT, REVIEWER],
                         ids=["the insured", "her daughter (her agent)", "another guardian", "a stranger", "staff"])
def test_only_the_requester_reaches_the_requests_papers_routes_and_it_is_logged(app, world, agent_request, mobile):
    grant, page, _requester = agent_request
    client = app.test_client()
    sign_in(client, mobile)
    token = csrf_token(client, "/home")
    before = [(p.public_id, p.status) for p in proof_pages(world, grant)], grant_of(world, grant.public_id).status
    refused_before = len(audited(world, "access.refused"))
    base = request_url(grant)
    posts = [f"{base}/papers/power_of_attorney", f"{base}/papers/applicant_id", f"{base}/papers/send",
             f"{base}/papers/pages/{page.public_id}/remove"]
    for url in posts:
        response = client.post(url, data={"csrf_token": token}, headers={"HX-Request": "true"})
        assert response.status_code == 404, (url, response.status_code)
    gets = [] if mobile == REVIEWER else [f"/papers/{page.public_id}/image", f"/papers/{page.public_id}/thumb"]
    for url in gets:
        assert client.get(url).status_code == 404, url
    assert ([(p.public_id, p.status) for p in proof_pages(world, grant)], grant_of(world, grant.public_id).status) == before
    refused = audited(world, "access.refused")[refused_before:]
    assert len(refused) == len(posts) + len(gets)
    assert all(e.actor_account_id == account(world, mobile).id for e in refused)


def test_staff_may_see_a_proof_and_every_look_is_audited_for_the_insured(app, world, agent_request):
    grant, page, _requester = agent_request
    staff = app.test_client()
    sign_in(staff, REVIEWER)
    assert staff.get(f"/papers/{page.public_id}/image").status_code == 200
    assert staff.get(f"/papers/{page.public_id}/thumb").status_code == 200
    seen = audited(world, "document.view")
    assert len(seen) == 2 and {e.detail["thumbnail"] for e in seen} == {False, True}
    wang = person(world, "王芳").id
    for event in seen:
        assert event.subject_person_id == wang and event.target == f"page:{page.public_id}"
        assert event.detail["grant"] == grant.public_id and event.detail["kind"] == "power_of_attorney"
        assert event.detail["staff"] is True
    log, _next = family.access_log(world, wang)  # the insured reads who looked
    assert any(entry.action == "document.view" and entry.actor_kind == "staff" for entry in log)

    set_clock(app, NOW + timedelta(minutes=16))  # a proof is an identity paper: only after a fresh sign-in
    stale = staff.get(f"/papers/{page.public_id}/image")
    assert stale.status_code == 302 and "again=1" in stale.headers["Location"]


def test_the_requester_sees_their_own_proof_and_is_not_audited_looking(app, world, agent_request):
    _grant, page, requester = agent_request
    assert requester.get(f"/papers/{page.public_id}/image").status_code == 200
    assert audited(world, "document.view") == []


# ------------------------------------------------------------------------------------------------ scopes on applications' papers

def test_an_agent_without_the_papers_scope_gets_404_on_the_applications_papers(app, world, client):
    """周婷 is her mother 王芳's agent for view and apply only: the booking yes, its papers no."""
    wang_booking = booking_of(world, *WANG_BOOKING)
    wang = account(world, OTHER)
    page = documents.add_page(world, LocalStorage(app.config["UPLOAD_DIR"]), booking_id=wang_booking.id,
                              kind="diagnosis", photo=photos.process(photo(11)), account=wang, now=NOW)
    sign_in(client, AGENT)
    reference = wang_booking.reference
    assert client.get(f"/bookings/{reference}").status_code == 200
    token = csrf_token(client, "/home")
    before = len(audited(world, "access.refused"))
    for method, url in [("get", f"/bookings/{reference}/papers"), ("get", f"/papers/{page.public_id}/image"),
                        ("get", f"/papers/{page.public_id}/thumb"), ("post", f"/bookings/{reference}/papers/diagnosis"),
                        ("post", f"/bookings/{reference}/papers/send"),
                        ("post", f"/bookings/{reference}/papers/pages/{page.public_id}/remove")]:
        response = getattr(client, method)(url, data={"csrf_token": token} if method == "post" else None)
        assert response.status_code == 404, (method, url, response.status_code)
    assert len(audited(world, "access.refused")) - before == 6
    assert [p.status for p in world.scalars(select(DocumentPage))] == ["draft"]

    world.execute(update(ProxyGrant).where(ProxyGrant.public_id == "demo-agent-zhou").values(scopes="view,apply,documents"))
    world.commit()
    assert client.get(f"/bookings/{reference}/papers").status_code == 200  # with the scope, the papers open


# ------------------------------------------------------------------------------------------------ papers on file

def accept_proofs(session, grant_public_id: str, kinds) -> None:
    grant = grant_of(session, grant_public_id)
    for kind in kinds:
        session.add(Document(proxy_grant_id=grant.id, person_id=grant.insured_person_id, kind=kind, status="accepted",
                             created_at=NOW, updated_at=NOW))
    session.commit()


def test_a_guardians_papers_are_on_file_once_their_grant_has_accepted_proofs(world, client):
    sign_in(client, PARENT)
    child = booking_of(world, *CHILD_BOOKING)
    url = f"/bookings/{child.reference}/papers"
    html = client.get(url).get_data(as_text=True)
    assert 'data-on-file' not in html  # the demo grant was verified without papers: asked for as before
    assert 'data-kind="applicant_id" data-status="missing"' in html

    accept_proofs(world, "demo-guardian-li", ["applicant_id"])
    html = client.get(url).get_data(as_text=True)
    applicant = html[html.index('id="doc-applicant_id-body"'):html.index('id="doc-guardianship_proof-body"')]
    assert 'data-status="accepted" data-on-file="true"' in applicant and 'data-testid="on-file"' in applicant
    assert 'data-testid="upload-form"' not in applicant and 'data-testid="thumbnail"' not in applicant
    assert 'data-kind="guardianship_proof" data-status="missing"' in html  # not proved by the grant: as before
    assert '/papers/applicant_id"' not in html

    accept_proofs(world, "demo-guardian-li", ["guardianship_proof"])
    items = {i.kind: i for i in documents.checklist(fresh(world), child, rules_for(child.service)[1])}
    grant = grant_of(world, "demo-guardian-li")
    for kind in ("applicant_id", "guardianship_proof"):
        assert items[kind].status == "accepted" and items[kind].on_file == grant.verified_at and items[kind].pages == []
        assert not items[kind].needs_action
    with pytest.raises(documents.DocumentRefused) as refused:  # nothing to upload for a paper on file
        documents.add_page(world, LocalStorage("/nonexistent"), booking_id=child.id, kind="applicant_id",
                           photo=photos.process(photo(12)), account=account(world, PARENT), now=NOW)
    assert refused.value.reason == "document.not_needed"


def test_an_agent_the_insured_approved_has_their_papers_on_file(world):
    """王芳 approved 周婷 in her own account: an application 周婷 makes for her needs no ID or power of attorney."""
    wang_booking = booking_of(world, *WANG_BOOKING)
    zhou = account(world, AGENT)
    wang_booking.applicant_account_id, wang_booking.acting_as = zhou.id, "power_of_attorney"
    world.commit()
    items = {i.kind: i for i in documents.checklist(world, wang_booking, rules_for(wang_booking.service)[1])}
    grant = grant_of(world, "demo-agent-zhou")
    assert items["applicant_id"].on_file == items["power_of_attorney"].on_file == grant.verified_at
    assert items["power_of_attorney"].status == "accepted"
    grant.status, grant.revoked_at = family.REVOKED, NOW  # a revoked grant proves nothing any more
    world.commit()
    items = {i.kind: i for i in documents.checklist(world, wang_booking, rules_for(wang_booking.service)[1])}
    assert items["power_of_attorney"].on_file is None and items["power_of_attorney"].status == "missing"


def test_a_request_the_insured_approves_has_no_proofs_to_send(world):
    grant = ask(world, "13800000006", insured="王芳", kind=family.POWER_OF_ATTORNEY, seq=413)
    grant.method = family.INSURED_APPROVAL
    world.commit()
    assert documents.grant_checklist(world, grant) == []


# ------------------------------------------------------------------------------------------------ retention and the sweeper

def stored_grant(session, store, mobile, seq, *, status, **when) -> tuple[ProxyGrant, DocumentPage]:
    """A request with one proof page, then moved to `status` (with its dates) as if time had passed."""
    grant = ask(session, mobile, seq=seq)
    page = documents.add_page(session, store, grant_id=grant.id, kind="applicant_id", photo=photos.process(photo(seq)),
                              account=account(session, mobile), now=NOW)
    grant = grant_of(session, grant.public_id)
    grant.status = status
    for name, value in when.items():
        setattr(grant, name, value)
    session.commit()
    return grant, page


def test_retention_deletes_the_proofs_of_requests_that_ended_long_ago_and_keeps_a_grant_in_force(world, tmp_path):
    store = LocalStorage(tmp_path / "uploads")
    long_ago, lately = NOW - RETENTION - timedelta(days=1), NOW - timedelta(days=10)
    gone = [
        stored_grant(world, store, "13900000101", 501, status=family.REJECTED, decided_at=long_ago),
        stored_grant(world, store, "13900000102", 502, status=family.WITHDRAWN, decided_at=long_ago),
        stored_grant(world, store, "13900000103", 503, status=family.REVOKED, revoked_at=long_ago),
        stored_grant(world, store, "13900000104", 504, status=family.VERIFIED, verified_at=long_ago - timedelta(days=400),
                     valid_until=china_date(long_ago)),
    ]
    kept = [
        stored_grant(world, store, "13900000105", 505, status=family.VERIFIED, verified_at=long_ago - timedelta(days=400),
                     valid_until=None),  # in force: its proofs are its authority
        stored_grant(world, store, "13900000106", 506, status=family.REJECTED, decided_at=lately),
        stored_grant(world, store, "13900000107", 507, status=family.VERIFIED, verified_at=long_ago,
                     valid_until=china_date(lately)),  # ended, but not long ago
        stored_grant(world, store, "13900000108", 508, status=family.PENDING),
    ]
    assert documents.purge_expired(world, store, now=NOW, retention=RETENTION) == len(gone)
    fresh(world)
    assert sorted(p.public_id for p in world.scalars(select(DocumentPage))) == sorted(p.public_id for _g, p in kept)
    for _grant, page in gone:
        assert not store.exists(page.storage_key) and not store.exists(page.thumbnail_key)
    for _grant, page in kept:
        assert store.exists(page.storage_key) and store.exists(page.thumbnail_key)
    statuses = {d.proxy_grant_id: d.status for d in world.scalars(select(Document).where(Document.proxy_grant_id.is_not(None)))}
    assert {statuses[g.id] for g, _p in gone} == {"purged"} and "purged" not in {statuses[g.id] for g, _p in kept}
    assert documents.purge_expired(world, store, now=NOW, retention=RETENTION) == 0  # idempotent


def test_a_request_never_sent_is_given_up_after_the_retention_and_its_photos_deleted(world, tmp_path):
    store = LocalStorage(tmp_path / "uploads")
    long_ago = NOW - RETENTION - timedelta(days=1)
    old, old_page = stored_grant(world, store, "13900000111", 511, status=family.DRAFT, created_at=long_ago)
    new, new_page = stored_grant(world, store, "13900000112", 512, status=family.DRAFT)
    assert documents.purge_expired(world, store, now=NOW, retention=RETENTION) == 1
    fresh(world)
    assert grant_of(world, old.public_id).status == family.WITHDRAWN and grant_of(world, new.public_id).status == family.DRAFT
    assert not store.exists(old_page.storage_key) and store.exists(new_page.storage_key)


def test_the_sweeper_treats_a_requests_pages_like_an_applications(world, tmp_path):
    store = LocalStorage(tmp_path / "uploads").mark_shared()  # the one store (issue 16): the sweeper may delete rows
    grants = [stored_grant(world, store, f"1390000020{i}", 520 + i, status=family.DRAFT) for i in range(3)]
    _grant, lost = grants[0]
    store.delete(lost.storage_key)
    store.put("0" * 32, b"left behind by a crash")
    report = documents.sweep(world, store, now=NOW + timedelta(hours=2), grace_seconds=0)
    assert report.rows_without_file == 1 and report.files_without_row == 1
    fresh(world)
    assert world.get(DocumentPage, lost.id) is None and not store.exists(lost.thumbnail_key)
    doc = world.scalar(select(Document).where(Document.proxy_grant_id == grants[0][0].id))
    assert doc.status == "missing"
