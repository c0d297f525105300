"""Family clarity (issue 15 item 9): the scopes under the acting-for banner in words; a receipt in the asker's
messages when a request for access is sent (never an SMS), and the asker's open and recently decided requests for
their home; a verified guardian (or agent) is not asked again for their own papers already accepted on an earlier
application for the same insured, the checklist says so once, and staff still reach the pages on file.

Seeds: the proxy's papers are the applicant's ID with the proof of guardianship or the power of attorney (003
医疗垫付 g, lines 331-333; 8, lines 1064-1066; 重疾住院护工 六 2, lines 2403-2405). "需同步提供" is 医疗垫付's material
list, a service the portal does not book, so nothing states they are owed with every application."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, select, update

from webapp.models import Account, Booking, Document, Notification, Person, Policy, ProxyGrant
from webapp.services.booking import bookings, notifications
from webapp.services.family import family
from webapp.services.papers import documents
from webapp.services.products.catalog_sync import rules_for
from webapp.services.accounts.identity import demo_resident_id

from .conftest import build_demo
from .web_helpers import (
    NOW, OTHER, PARENT, CapturingSender, block, booking_of, csrf_from, fresh, set_clock, sign_in, text_of, use_english,
)

AGENT, FATHER, REVIEWER = "13800000005", "13800000004", "13800000009"
CHILD_POLICY = "P003-DEMO-0005"
FIRST_VISIT = (CHILD_POLICY, "expert_outpatient")  # 李小明's, applied for by 李娜 (guardian) the day before NOW
PROOFS = ("applicant_id", "guardianship_proof")


@pytest.fixture()
def world(app, session):
    build_demo(session, NOW)
    set_clock(app, NOW)
    return session


def account(session, mobile: str) -> Account:
    return fresh(session).scalar(select(Account).where(Account.mobile == mobile))


def grant(session, public_id: str) -> ProxyGrant:
    return fresh(session).scalar(select(ProxyGrant).where(ProxyGrant.public_id == public_id))


def person(session, name: str) -> Person:
    return fresh(session).scalar(select(Person).where(Person.name == name))


def client_for(app, mobile: str, *, english: bool = True):
    client = app.test_client()
    if english:
        use_english(client)
    sign_in(client, mobile)
    return client


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code, response.headers.get("Location"))
    return response.get_data(as_text=True)


# ------------------------------------------------------------------------------------------------ the banner

@pytest.mark.parametrize("scopes, words", [
    ("view,apply", "You may view, apply and cancel; 王芳 sends the papers themself"),
    ("view,documents", "You may view and send papers; 王芳 applies and cancels themself"),
    ("view", "View only"),
    ("view,apply,documents", "You may view, apply, send papers and cancel"),
])
def test_the_banner_says_what_the_agent_may_do(app, world, scopes, words):
    world.execute(update(ProxyGrant).where(ProxyGrant.public_id == "demo-agent-zhou").values(scopes=scopes))
    world.commit()
    html = page(client_for(app, AGENT), "/home")
    assert text_of(block(block(html, "acting-banner"), "acting-scopes")) == words


def test_a_guardian_holds_every_scope_and_the_banner_says_so_in_chinese_too(app, world):
    english = page(client_for(app, PARENT), "/bookings")
    assert text_of(block(english, "acting-scopes")) == "You may view, apply, send papers and cancel"
    assert text_of(block(english, "acting-banner")).startswith("Acting for 李小明 (Son)")
    set_clock(app, NOW + timedelta(minutes=2))  # a second code for the same number only after a while
    chinese = page(client_for(app, PARENT, english=False), "/bookings")
    assert 'data-testid="acting-scopes"' in block(chinese, "acting-banner")
    assert 'data-testid="acting-scopes"' not in page(client_for(app, OTHER, english=False), "/home")  # herself: no banner


# ------------------------------------------------------------------------------------------------ the receipt

def receipts(session, account_id: int) -> list[Notification]:
    return list(fresh(session).scalars(select(Notification).where(Notification.account_id == account_id,
                                                                  Notification.kind == family.ACCESS_SENT)))


def test_a_request_the_insured_approves_is_receipted_at_once(world):
    wang = person(world, "王芳")
    asker = Account(mobile="13800000016", created_at=NOW - timedelta(days=2))
    world.add(asker)
    world.commit()
    family.register_applicant(world, asker, name="王小军", id_number=demo_resident_id("310104", date(1990, 1, 1), 13), now=NOW)
    made = family.request_access(world, asker, kind=family.POWER_OF_ATTORNEY, insured_name="王芳",
                                 insured_id_number=wang.id_number, relationship="母亲", now=NOW,
                                 method=family.INSURED_APPROVAL, scopes={family.APPLY})
    [receipt] = receipts(world, asker.id)
    assert receipt.payload["grant"] == made.public_id and receipt.payload["state"] == family.AWAITING_INSURED
    assert receipt.subject_person_id == wang.id and receipt.read_at is None and receipt.sent_at is None


def test_a_request_with_proofs_is_receipted_when_they_are_sent_once(world, tmp_path):
    from webapp.services.papers import photos
    from webapp.services.papers.storage import LocalStorage

    from .photo_corpus import document_photo

    child = person(world, "李小明")
    father = Account(mobile=FATHER, created_at=NOW - timedelta(days=2))
    world.add(father)
    world.commit()
    family.register_applicant(world, father, name="李强", id_number=demo_resident_id("310104", date(1984, 5, 5), 17), now=NOW)
    made = family.request_access(world, father, kind=family.GUARDIAN_MINOR, insured_name="李小明",
                                 insured_id_number=child.id_number, relationship="儿子", now=NOW)
    assert receipts(world, father.id) == []  # a draft is not sent yet
    storage = LocalStorage(tmp_path)
    pages = {kind: documents.add_page(world, storage, grant_id=made.id, kind=kind, account=father, now=NOW,
                                      photo=photos.process(document_photo(1600, 1200, text_seed=i)))
             for i, kind in enumerate(PROOFS)}
    documents.submit(world, grant_id=made.id, account=father, now=NOW + timedelta(minutes=5))
    [receipt] = receipts(world, father.id)
    assert (receipt.payload["state"], receipt.created_at) == (family.PENDING, NOW + timedelta(minutes=5))

    reviewer = account(world, REVIEWER)
    documents.decide_page(world, public_id=pages["applicant_id"].public_id, staff=reviewer, now=NOW + timedelta(hours=1),
                          decision=documents.UNREADABLE)
    documents.add_page(world, storage, grant_id=made.id, kind="applicant_id", account=father, now=NOW + timedelta(hours=2),
                       photo=photos.process(document_photo(1600, 1200, text_seed=7)),
                       replaces=pages["applicant_id"].public_id)
    documents.submit(world, grant_id=made.id, account=father, now=NOW + timedelta(hours=2))
    assert len(receipts(world, father.id)) == 1  # a retake sent later is no new request


def test_the_receipt_reads_in_the_messages_with_a_link_and_no_text_message_goes(app, world):
    CapturingSender.sent.clear()
    app.config.update(SMS_BACKEND="tests.web_helpers:CapturingSender")
    client = client_for(app, AGENT)
    CapturingSender.sent.clear()  # the sign-in code
    zhou = account(world, AGENT)
    world.execute(update(ProxyGrant).where(ProxyGrant.public_id == "demo-agent-zhou").values(status=family.REVOKED,
                                                                                              revoked_at=NOW))
    world.commit()
    wang = person(world, "王芳")
    response = client.post("/family/new", data={
        "csrf_token": csrf_from(page(client, "/family/new")), "kind": "power_of_attorney", "insured_name": "王芳",
        "insured_id_number": wang.id_number, "relationship": "mother", "method": "insured_approval",
        "scopes": ["apply"]})
    assert response.status_code == 303
    [receipt] = receipts(world, zhou.id)
    html = page(client, "/messages")
    assert "Your request to act for 王芳 was sent. 王芳 approves or declines it in their own account" in text_of(html)
    assert f'href="/family/requests/{receipt.payload["grant"]}"' in html
    assert CapturingSender.sent == []  # the receipt is in the inbox only
    sent = []

    class Recording:
        def send(self, account, notification):
            sent.append(notification.kind)

    notifications.send_reminders(world, NOW + timedelta(minutes=1), Recording())
    assert family.ACCESS_SENT not in sent  # the only channel beyond the inbox carries reminders, not receipts


# ------------------------------------------------------------------------------------------------ the asker's requests

def test_recent_requests_are_the_open_and_the_recently_decided_in_one_query(world, engine):
    li_na = account(world, PARENT)
    wang, zhang = person(world, "王芳"), person(world, "张伟")

    def made(public_id, insured, status, decided_days_ago=None, **kw):
        decided = NOW - timedelta(days=decided_days_ago) if decided_days_ago is not None else None
        world.add(ProxyGrant(public_id=public_id, grantee_account_id=li_na.id, insured_person_id=insured.id,
                             kind=family.POWER_OF_ATTORNEY, relationship_label="母亲", status=status, decided_at=decided,
                             verified_at=decided if status == family.VERIFIED else None, created_at=NOW - timedelta(days=40),
                             **kw))

    made("asked-open", wang, family.PENDING)
    made("asked-old-refusal", zhang, family.REJECTED, 31)
    made("asked-withdrawn", zhang, family.WITHDRAWN, 1)
    made("asked-declined", zhang, family.DECLINED, 29)
    world.commit()
    asker = li_na.id
    fresh(world)
    statements = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listen)
    try:
        found = family.recent_requests(world, asker, NOW)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert len([s for s in statements if s.startswith("SELECT")]) == 1, statements
    assert [(a.public_id, a.name, a.state) for a in found] == [  # the demo grant, verified 50 days ago, is not
        ("asked-declined", "张伟", family.DECLINED), ("asked-open", "王芳", family.PENDING)]
    assert found[1].label == "母亲" and not found[1].needs_action


def test_a_grant_verified_long_ago_is_no_recent_request(world):
    li_na = account(world, PARENT)
    world.execute(update(ProxyGrant).where(ProxyGrant.public_id == "demo-guardian-li")
                  .values(decided_at=NOW - timedelta(days=30, seconds=1)))
    world.commit()
    assert family.recent_requests(world, li_na.id, NOW) == []
    world.execute(update(ProxyGrant).where(ProxyGrant.public_id == "demo-guardian-li")
                  .values(decided_at=NOW - timedelta(days=30)))
    world.commit()
    [verified] = family.recent_requests(world, li_na.id, NOW)
    assert (verified.state, verified.needs_action) == (family.VERIFIED, False)


# ------------------------------------------------------------------------------------------------ proofs on file

def accept_on_first_visit(session, kinds=PROOFS, status=documents.ACCEPTED, at=NOW - timedelta(hours=20)) -> Booking:
    """李小明's first expert visit, its proxy papers accepted by staff (as the demo's photos are)."""
    first = booking_of(session, *FIRST_VISIT)
    for kind in kinds:
        session.add(Document(booking_id=first.id, person_id=first.policy.insured_id, kind=kind, status=status,
                             created_at=at, updated_at=at))
    session.commit()
    return first


def second_application(session, mobile: str = PARENT) -> Booking:
    """李娜 (or another guardian) applies for 李小明's second opinion."""
    policy = session.scalar(select(Policy).where(Policy.number == CHILD_POLICY))
    outcome = bookings.apply(session, account=account(session, mobile), policy_id=policy.id, service_code="second_opinion",
                             request_key=f"second-{mobile}", now=NOW, details={"questions": "化疗方案是否合适？"})
    assert outcome.ok, [r.key for r in outcome.reasons]
    return outcome.booking


def items_of(session, booking: Booking) -> dict[str, documents.Item]:
    return {i.kind: i for i in documents.checklist(fresh(session), booking, rules_for(booking.service)[1])}


def test_a_guardians_papers_accepted_on_an_earlier_application_are_on_file(world):
    first = accept_on_first_visit(world)
    second = second_application(world)
    items = items_of(world, second)
    for kind in PROOFS:
        item = items[kind]
        assert (item.status, item.on_file, item.pages, item.needs_action) == ("accepted", NOW - timedelta(hours=20), [], False)
        assert item.on_file_source == documents.OnFile(NOW - timedelta(hours=20), "demo-guardian-li", booking=first.reference)
    assert items["medical_records"].status == "missing" and items["medical_records"].on_file is None
    assert documents.on_file(world, second) == {kind: NOW - timedelta(hours=20) for kind in PROOFS}


def test_an_application_not_sent_yet_already_knows_her_proofs_are_on_file(app, world):
    """The review step asks documents.on_file about an unsaved application: the earlier one counts there too."""
    accept_on_first_visit(world)
    policy = world.scalar(select(Policy).where(Policy.number == CHILD_POLICY))
    draft = Booking(details={}, acting_as="guardian", policy=policy, applicant_account_id=account(world, PARENT).id)
    assert documents.on_file(world, draft) == {kind: NOW - timedelta(hours=20) for kind in PROOFS}
    client = client_for(app, PARENT)
    url = f"/apply/{CHILD_POLICY}/second_opinion"
    review = client.post(url, data={"csrf_token": csrf_from(page(client, url)), "questions": "化疗方案是否合适？",
                                    "current_diagnosis": "急性淋巴细胞白血病", "treating_hospital": "上海儿童医学中心"})
    papers = block(review.get_data(as_text=True), "review-papers")
    for kind in PROOFS:
        assert 'data-testid="review-on-file"' in papers[papers.index(f'data-kind="{kind}"'):].split("</li>")[0]


@pytest.mark.parametrize("case", ["not_accepted", "before_the_grant", "another_applicant", "one_of_two"])
def test_only_papers_accepted_under_the_same_grant_for_the_same_applicant_count(world, case):
    if case == "not_accepted":
        accept_on_first_visit(world, status=documents.RECEIVED)
    elif case == "one_of_two":
        accept_on_first_visit(world, kinds=("applicant_id",))
    else:
        accept_on_first_visit(world)
    if case == "before_the_grant":  # access ended and was given again: what was accepted before starts afresh
        world.execute(update(ProxyGrant).where(ProxyGrant.public_id == "demo-guardian-li")
                      .values(verified_at=NOW - timedelta(hours=2)))
        world.commit()
    if case == "another_applicant":  # 李强 holds his own guardianship: 李娜's ID card proves nothing of his
        father = Account(mobile=FATHER, created_at=NOW - timedelta(days=60),
                         person=Person(name="李强", id_number=demo_resident_id("310104", date(1984, 5, 5), 17), birth_date=date(1984, 5, 5),
                                       created_at=NOW - timedelta(days=60)))
        world.add(father)
        world.flush()
        world.add(ProxyGrant(public_id="father-grant", grantee_account_id=father.id,
                             insured_person_id=person(world, "李小明").id, kind=family.GUARDIAN_MINOR, status=family.VERIFIED,
                             verified_at=NOW - timedelta(days=10), decided_at=NOW - timedelta(days=10),
                             created_at=NOW - timedelta(days=11)))
        world.commit()
    second = second_application(world, FATHER if case == "another_applicant" else PARENT)
    items = items_of(world, second)
    expected = {"one_of_two": {"applicant_id"}}.get(case, set())
    assert {k for k in PROOFS if items[k].on_file} == expected
    assert {k for k in PROOFS if items[k].status == "missing"} == set(PROOFS) - expected


def test_the_checklist_says_once_that_her_proofs_are_on_file_and_asks_for_them_no_more(app, world):
    accept_on_first_visit(world)
    second = second_application(world)
    client = client_for(app, PARENT)
    html = page(client, f"/bookings/{second.reference}/papers")
    assert text_of(block(html, "proofs-on-file")) == (
        "Your ID card and proof of guardianship were already checked and accepted: no need to send them again.")
    first = booking_of(world, *FIRST_VISIT)
    for kind in PROOFS:
        paper = html[html.index(f'id="doc-{kind}-body"'):]
        paper = paper[:paper.index("</div>")]
        assert 'data-status="accepted" data-on-file="true"' in paper and 'data-testid="upload-form"' not in paper
        assert f"On file: accepted with your application {first.reference} on" in text_of(paper)
    assert 'data-kind="medical_records" data-status="missing"' in html  # the other papers are asked for as before
    set_clock(app, NOW + timedelta(minutes=2))  # a second code for the same number only after a while
    chinese = page(client_for(app, PARENT, english=False), f"/bookings/{second.reference}/papers")
    assert chinese.count('data-testid="proofs-on-file"') == 1


def test_the_insured_sees_no_note_meant_for_the_applicant(app, world):
    """王芳 approved her daughter: an application 周婷 makes shows her the papers on file, without the note."""
    zhou = account(world, AGENT)
    world.execute(update(ProxyGrant).where(ProxyGrant.public_id == "demo-agent-zhou").values(scopes="view,apply,documents"))
    wang_booking = booking_of(world, "P001-DEMO-0006", "expert_outpatient")
    wang_booking.applicant_account_id, wang_booking.acting_as = zhou.id, "power_of_attorney"
    world.commit()
    url = f"/bookings/{wang_booking.reference}/papers"
    agent = page(client_for(app, AGENT), url)
    assert text_of(block(agent, "proofs-on-file")) == (
        "王芳 approved you in their own account: no ID card or power of attorney is needed.")
    insured = page(client_for(app, OTHER), url)
    assert 'data-testid="proofs-on-file"' not in insured and 'data-on-file="true"' in insured


def test_staff_reach_the_pages_on_file_from_the_new_application(app, world):
    first = accept_on_first_visit(world)
    second = second_application(world)
    html = page(client_for(app, REVIEWER), f"/staff/bookings/{second.reference}")
    papers = block(html, "staff-papers")
    assert papers.count('data-testid="on-file-link"') == 2
    assert f'href="/staff/bookings/{first.reference}#papers"' in papers
    assert f"On file: accepted with application {first.reference}" in text_of(papers)
