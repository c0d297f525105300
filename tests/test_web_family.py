"""Family access through the web client (issue 5), CSRF on: asking to act for someone, the insured approving,
declining and revoking, the request's state in words, the switcher and the banner on every page, the access
log, fresh logins, refusals that change nothing, and 404 to anyone with nothing to do with a request."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from webapp.models import Account, AuditEvent, Booking, Notification, Person, Policy, ProxyGrant
from webapp.services.demo import demo
from webapp.services.family import family
from webapp.services.accounts.identity import demo_resident_id

from .web_helpers import (
    ADULT, NOW, OTHER, PARENT, attr_values, block, csrf_from, element, fresh, set_clock, sign_in, text_of, use_english,
)
from .web_helpers import testids as ids_in  # (a name pytest would collect)

from .conftest import build_demo

FATHER, AGENT, REVIEWER = demo.FATHER, demo.AGENT, "13800000009"
FATHER_ID = demo_resident_id("310104", date(1984, 5, 5), 777)  # 李强's own ID card: not on file yet


@pytest.fixture()
def world(app, session):
    build_demo(session, NOW)
    set_clock(app, NOW)
    return session


def person(session, name: str) -> Person:
    return fresh(session).scalar(select(Person).where(Person.name == name))


def grant(session, public_id: str) -> ProxyGrant:
    return fresh(session).scalar(select(ProxyGrant).where(ProxyGrant.public_id == public_id))


def rows(session) -> dict:
    """What a refused request must not change."""
    fresh(session)
    return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (ProxyGrant, Person, Account, Notification)}


def client_for(app, mobile: str, *, english: bool = False):
    client = app.test_client()
    if english:
        use_english(client)
    sign_in(client, mobile)
    return client


def page(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code, response.headers.get("Location"))
    return response.get_data(as_text=True)


def post(client, path: str, data: dict | None = None, *, token_from: str = "/family"):
    token = csrf_from(page(client, token_from))
    return client.post(path, data={"csrf_token": token, **(data or {})})


def ask(client, **fields):
    form = {"kind": "guardian_minor", "relationship": "son", **fields}
    return post(client, "/family/new", form, token_from="/family/new")


def main_text(html: str) -> str:
    return text_of(re.search(r"<main[^>]*>(.*)</main>", html, re.S).group(1))


def later(app, minutes: int) -> None:
    set_clock(app, NOW + timedelta(minutes=minutes))


# ------------------------------------------------------------------------------------------------ a new number

def test_a_new_number_goes_to_bind_which_offers_the_family_path(app, world):
    client = app.test_client()
    assert sign_in(client, FATHER).headers["Location"] == "/bind"
    html = page(client, "/bind")
    assert 'href="/family/new"' in block(html, "bind-family")
    assert 'data-testid="family-requests"' in page(client, "/family")  # works without a person of one's own


def test_the_father_asks_for_guardianship_with_his_own_name_and_id(app, world):
    session = world
    client = app.test_client()
    use_english(client)
    sign_in(client, FATHER)
    form = page(client, "/family/new")
    assert 'name="own_name"' in form and 'name="own_id_number"' in form
    child = person(session, "李小明")
    response = ask(client, own_name="李强", own_id_number=FATHER_ID, insured_name="李小明",
                   insured_id_number=child.id_number)
    assert response.status_code == 303
    made = fresh(session).scalar(select(ProxyGrant).where(ProxyGrant.insured_person_id == child.id,
                                                          ProxyGrant.public_id != "demo-guardian-li"))
    assert response.headers["Location"] == f"/family/requests/{made.public_id}"
    assert (made.kind, made.method, made.status, made.relationship_label) == ("guardian_minor", "papers", "draft", "儿子")
    father = session.scalar(select(Account).where(Account.mobile == FATHER))
    assert father.person.name == "李强" and father.person.id_number == FATHER_ID
    assert made.valid_until == family.adulthood(child.birth_date)

    html = page(client, "/family")
    (status,) = attr_values(html, "access-request", "data-status")
    assert status == "draft"
    assert "Add your proof photos and send them." in text_of(block(html, "request-status"))
    # Until staff verify, nothing of the child's: no cards, no banner, no booking.
    home = client.get("/home", follow_redirects=True).get_data(as_text=True)
    # The home's strip shows his own request with its state (issue 15 item 9), naming whom he asked for; nothing else.
    strip_item = element(home, 'data-kind="family_request"')
    assert "李小明" in strip_item and 'href="/family/requests/%s"' % made.public_id in strip_item
    rest = home.replace(strip_item, "")
    assert "李小明" not in rest.split('data-testid="family-requests"')[0] and 'data-testid="acting-banner"' not in home
    child_booking = session.scalar(select(Booking).join(Policy).where(Policy.insured_id == child.id))
    assert client.get(f"/bookings/{child_booking.reference}").status_code == 404
    assert client.get("/acting-for").status_code == 200
    assert 'data-person="%s"' % child.id not in page(client, "/acting-for")


def test_a_family_member_without_anyone_in_force_lands_on_family(app, world):
    session = world
    client = client_for(app, FATHER)
    child = person(session, "李小明")
    ask(client, own_name="李强", own_id_number=FATHER_ID, insured_name="李小明", insured_id_number=child.id_number)
    later(app, 2)
    again = app.test_client()
    assert sign_in(again, FATHER).headers["Location"] == "/family"
    assert sign_in(app.test_client(), PARENT).headers["Location"] == "/home"  # she acts for her son


def test_staff_reasons_are_shown_to_the_requester(app, world):
    session = world
    client = client_for(app, FATHER, english=True)
    child = person(session, "李小明")
    response = ask(client, own_name="李强", own_id_number=FATHER_ID, insured_name="李小明", insured_id_number=child.id_number)
    public_id = response.headers["Location"].rsplit("/", 1)[1]
    staff = session.scalar(select(Account).where(Account.mobile == REVIEWER))
    family.reject(session, public_id, staff=staff, now=NOW, reason="proof_unclear", note="照片太暗")
    html = page(client, "/family")
    assert attr_values(html, "access-request", "data-status") == ["rejected"]
    assert text_of(block(html, "request-reason")) == "The proof photos could not be read clearly. Note from our staff: 照片太暗"
    inbox = page(client, "/messages")
    assert "Your request to act for 李小明 was not accepted." in main_text(inbox)
    assert f'href="/family/requests/{public_id}"' in inbox


# ------------------------------------------------------------------------------------------------ refusals

@pytest.mark.parametrize("fields, reason_text", [
    ({"insured_name": "李小红"}, "We found no insured person with that name and ID number."),
    ({"insured_id_number": "310104201701010000"}, "Please check their ID number"),
    ({"kind": ""}, "Please choose how you may act for them."),
    ({"relationship": ""}, "Please choose how they are related to you."),
    ({"insured_name": ""}, "Please enter their full name"),
    ({"kind": "power_of_attorney", "method": "papers"}, "only a parent or guardian can act for them"),
    ({"insured_name": "王芳", "insured_id_number": "WANG"}, "This person is 18 or older"),
    ({"insured_name": "张伟", "insured_id_number": "ZHANG"}, "That is you."),
    ({"insured_name": "王芳", "insured_id_number": "WANG", "kind": "power_of_attorney", "method": "papers",
      "last_day": "2040-01-01"}, "The last day must be after today and no later than"),
    ({"insured_name": "王芳", "insured_id_number": "WANG", "kind": "power_of_attorney", "method": "papers",
      "last_day": "soon"}, "Please give the last day as a date"),
])
def test_refusals_say_why_keep_what_was_typed_and_change_nothing(app, world, fields, reason_text):
    session = world
    client = client_for(app, ADULT, english=True)
    ids = {"WANG": person(session, "王芳").id_number, "ZHANG": person(session, "张伟").id_number}
    child = person(session, "李小明")
    form = {"insured_name": "李小明", "insured_id_number": child.id_number, **fields}
    form["insured_id_number"] = ids.get(form["insured_id_number"], form["insured_id_number"])
    before = rows(session)
    response = ask(client, **form)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert reason_text in text_of(block(html, "access-error"))
    assert 'data-testid="access-form"' in html
    assert form["insured_id_number"] not in html  # an ID number is never written back into the page
    if form["insured_name"]:
        assert f'value="{form["insured_name"]}"' in html
    assert rows(session) == before


def test_the_same_request_twice_is_refused(app, world):
    session = world
    client = client_for(app, PARENT, english=True)
    child = person(session, "李小明")
    before = rows(session)
    response = ask(client, insured_name="李小明", insured_id_number=child.id_number)
    assert response.status_code == 422
    assert "You already have a request or access for 李小明." in text_of(block(response.get_data(as_text=True), "access-error"))
    assert rows(session) == before


def test_a_bad_own_id_is_refused_and_not_echoed(app, world):
    session = world
    client = client_for(app, FATHER, english=True)
    child = person(session, "李小明")
    before = rows(session)
    response = ask(client, own_name="李强", own_id_number="123", insured_name="李小明", insured_id_number=child.id_number)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Please check your own ID number" in text_of(block(html, "access-error"))
    assert 'value="李强"' in html and child.id_number not in html
    assert 'id="own_id_number"' in html and 'aria-invalid="true"' in html
    assert rows(session) == before


def test_staff_cannot_ask(app, world):
    session = world
    client = client_for(app, REVIEWER)
    before = rows(session)
    child = person(session, "李小明")
    response = ask(client, own_name="陈静", own_id_number=FATHER_ID, insured_name="李小明", insured_id_number=child.id_number)
    assert response.status_code == 422 and rows(session) == before


# ------------------------------------------------------------------------------------------------ fresh login

def test_asking_needs_a_fresh_login(app, world):
    client = client_for(app, ADULT)
    later(app, 16)
    response = client.get("/family/new")
    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-in?again=1&next=/family/new"


def test_approving_declining_and_revoking_need_a_fresh_login(app, world):
    session = world
    wang = client_for(app, OTHER)
    token = csrf_from(page(wang, "/family"))
    later(app, 16)
    for verb in ("approve", "decline", "revoke"):
        response = wang.post(f"/family/grants/demo-agent-zhou/{verb}", data={"csrf_token": token})
        assert response.status_code == 303
        assert response.headers["Location"] == "/sign-in?again=1&next=/family"
    assert grant(session, "demo-agent-zhou").status == "verified"


# ------------------------------------------------------------------------------------------------ an agent

def test_an_agent_asks_the_insured_approves_and_acts(app, world):
    session = world
    wang_person = person(session, "王芳")
    zhang = client_for(app, ADULT, english=True)
    response = ask(zhang, kind="power_of_attorney", method="insured_approval", relationship="mother",
                   insured_name="王芳", insured_id_number=wang_person.id_number, scopes="apply")
    assert response.status_code == 303 and response.headers["Location"] == "/family"
    html = page(zhang, "/family")
    assert "We asked 王芳 to approve it in their own account." in html
    asked = fresh(session).scalar(select(ProxyGrant).where(ProxyGrant.insured_person_id == wang_person.id,
                                                           ProxyGrant.status == "awaiting_insured"))
    assert asked.scopes == "view,apply"
    assert f'data-grant="{asked.public_id}" data-status="awaiting_insured"' in html
    assert "Waiting for 王芳 to approve it in their own account." in text_of(block(html, "request-status"))

    later(app, 1)
    wang = client_for(app, OTHER, english=True)
    inbox = page(wang, "/messages")
    assert "张伟 asks to act for you. Please approve or decline under Family." in main_text(inbox)
    mine = page(wang, "/family")
    card = block(mine, "grant-for-me")
    assert f'data-grant="{asked.public_id}"' in card and 'data-testid="approve-request"' in card
    assert 'value="apply" checked' in card and 'value="documents" checked' not in card
    token = csrf_from(mine)
    last = NOW.date() + timedelta(days=29)
    response = wang.post(f"/family/grants/{asked.public_id}/approve",
                         data={"csrf_token": token, "scopes": ["apply", "documents"], "last_day": last.isoformat()})
    assert response.status_code == 303 and response.headers["Location"].startswith("/family")
    done = grant(session, asked.public_id)
    assert (done.status, done.scopes, done.valid_until) == ("verified", "view,apply,documents", last + timedelta(days=1))
    mine = page(wang, "/family")
    assert attr_values(mine, "grant-for-me", "data-status")[0] == "verified"
    assert 'data-testid="revoke-grant"' in mine

    # 张伟 is told, and can now act for her: the banner names her on every page.
    assert "Your request to act for 王芳 was accepted." in main_text(page(zhang, "/messages"))
    response = post(zhang, "/acting-for", {"person_id": str(wang_person.id)})
    assert response.status_code == 303 and response.headers["Location"] == "/home"
    home = page(zhang, "/home")
    assert attr_values(home, "acting-banner", "data-person") == [str(wang_person.id)]
    assert text_of(block(home, "acting-banner")).startswith("Acting for 王芳 (Mother)")


def test_the_insured_declines(app, world):
    session = world
    wang_person = person(session, "王芳")
    zhang = client_for(app, ADULT, english=True)
    ask(zhang, kind="power_of_attorney", method="insured_approval", relationship="mother",
        insured_name="王芳", insured_id_number=wang_person.id_number)
    asked = fresh(session).scalar(select(ProxyGrant).where(ProxyGrant.status == "awaiting_insured"))
    later(app, 1)
    wang = client_for(app, OTHER)
    assert post(wang, f"/family/grants/{asked.public_id}/decline").status_code == 303
    assert grant(session, asked.public_id).status == "declined"
    html = page(zhang, "/family")
    assert "王芳 declined this request." in text_of(block(html, "request-status"))


def test_the_insured_revokes_an_agent_at_once(app, world):
    session = world
    wang_booking = fresh(session).scalar(select(Booking).join(Policy).join(Person, Person.id == Policy.insured_id)
                                         .where(Person.name == "王芳"))
    zhou = client_for(app, AGENT, english=True)
    assert page(zhou, f"/bookings/{wang_booking.reference}")
    later(app, 1)
    wang = client_for(app, OTHER, english=True)
    mine = page(wang, "/family")
    assert 'data-grant="demo-agent-zhou" data-status="verified"' in mine
    assert post(wang, "/family/grants/demo-agent-zhou/revoke").status_code == 303
    assert grant(session, "demo-agent-zhou").status == "revoked"
    assert "周婷 can no longer act for you." in page(wang, "/family")
    # 周婷 sees nothing more of her mother's, and is told why.
    assert zhou.get(f"/bookings/{wang_booking.reference}").status_code == 404
    assert 'data-testid="acting-banner"' not in page(zhou, "/family")
    assert "王芳 ended your access to act for them." in main_text(page(zhou, "/messages"))
    html = page(zhou, "/family")
    assert attr_values(html, "access-request", "data-status") == ["revoked"]


def test_a_guardianship_is_not_the_wards_to_end_here(app, world):
    """A guardian may give it up; nobody else who is not its insured or holder even finds it."""
    session = world
    wang = client_for(app, OTHER)
    before = grant(session, "demo-guardian-li").status
    assert post(wang, "/family/grants/demo-guardian-li/revoke").status_code == 404
    assert grant(session, "demo-guardian-li").status == before


def test_nobody_else_can_decide_or_withdraw(app, world):
    session = world
    li_na = client_for(app, PARENT)
    for path in ("/family/grants/demo-agent-zhou/approve", "/family/grants/demo-agent-zhou/decline",
                 "/family/grants/demo-agent-zhou/revoke", "/family/requests/demo-agent-zhou/withdraw",
                 "/family/grants/no-such-grant/approve"):
        assert post(li_na, path).status_code == 404, path
    assert li_na.get("/family/requests/demo-agent-zhou").status_code == 404
    assert li_na.get("/family/requests/nothing-here").status_code == 404
    zhou = client_for(app, AGENT)
    assert post(zhou, "/family/grants/demo-agent-zhou/approve").status_code == 404  # not hers to approve
    assert grant(session, "demo-agent-zhou").status == "verified"
    refused = fresh(session).scalars(select(AuditEvent).where(AuditEvent.action == "access.refused")).all()
    assert len(refused) >= 7


def test_the_requester_withdraws_an_open_request(app, world):
    session = world
    client = client_for(app, FATHER, english=True)
    child = person(session, "李小明")
    response = ask(client, own_name="李强", own_id_number=FATHER_ID, insured_name="李小明", insured_id_number=child.id_number)
    public_id = response.headers["Location"].rsplit("/", 1)[1]
    assert post(client, f"/family/requests/{public_id}/withdraw").status_code == 303
    assert grant(session, public_id).status == "withdrawn"
    html = page(client, "/family")
    assert "You withdrew this request." in text_of(block(html, "request-status"))
    # Withdrawn is final: again is refused, and nothing changes.
    assert post(client, f"/family/requests/{public_id}/withdraw").status_code == 303
    assert "This request is no longer open." in page(client, "/family")


def test_the_request_page_of_an_approved_agent(app, world):
    zhou = client_for(app, AGENT, english=True)
    html = page(zhou, "/family/requests/demo-agent-zhou")
    assert "You can act for 王芳. Last day:" in text_of(block(html, "request-status"))
    assert 'data-testid="act-for"' in html and 'data-testid="withdraw-request"' not in html


# ------------------------------------------------------------------------------------------------ banner and switcher

def test_the_guardian_sees_the_banner_on_every_page(app, world):
    session = world
    child = person(session, "李小明")
    for english, sentence in ((False, None), (True, "Acting for 李小明 (Son)")):
        client = client_for(app, PARENT, english=english)
        for path in ("/home", "/bookings", "/messages", "/family"):
            html = page(client, path)
            assert attr_values(html, "acting-banner", "data-person") == [str(child.id)], path
            banner = text_of(block(html, "acting-banner"))
            assert "李小明" in banner and "儿子" in banner if not english else banner.startswith(sentence)
            assert 'href="/acting-for' in block(html, "acting-banner")
        later(app, 2)


def test_the_switcher_changes_whom_the_pages_are_for(app, world):
    session = world
    child, li_na, wang = person(session, "李小明"), person(session, "李娜"), person(session, "王芳")
    client = client_for(app, PARENT)
    html = page(client, "/acting-for")
    assert attr_values(html, "act-for", "data-person") == [str(li_na.id), str(child.id)]
    response = post(client, "/acting-for", {"person_id": str(li_na.id), "next": "/bookings"})
    assert response.status_code == 303 and response.headers["Location"] == "/bookings"
    html = page(client, "/bookings")
    assert 'data-testid="acting-banner"' not in html and 'data-testid="acting-other"' in html
    assert post(client, "/acting-for", {"person_id": str(wang.id)}).status_code == 404
    assert post(client, "/acting-for", {"person_id": "x"}).status_code == 404
    response = post(client, "/acting-for", {"person_id": str(child.id), "next": "//evil.example/"})
    assert response.headers["Location"] == "/home"
    assert attr_values(page(client, "/home"), "acting-banner", "data-person") == [str(child.id)]


def test_someone_acting_for_nobody_else_sees_no_banner(app, world):
    html = page(client_for(app, ADULT), "/home")
    assert 'data-testid="acting-banner"' not in html and 'data-testid="acting-other"' not in html
    assert 'data-testid="nav-family"' in html


def test_guardianship_ends_on_the_18th_birthday(app, world):
    session = world
    child = person(session, "李小明")
    birthday = family.adulthood(child.birth_date)
    client = app.test_client()
    use_english(client)
    moment = NOW.replace(year=birthday.year, month=birthday.month, day=birthday.day, hour=0, minute=1)
    set_clock(app, moment)
    assert family.end_guardianships_of_adults(session, now=moment).ended == 1
    sign_in(client, PARENT)
    inbox = main_text(page(client, "/messages"))
    assert "Your guardianship of 李小明 ended on their 18th birthday" in inbox
    html = page(client, "/family")
    assert attr_values(html, "access-request", "data-status") == ["ended"]
    assert "Ended on 李小明's 18th birthday" in text_of(block(html, "request-status"))
    assert "李小明 can now sign in with their own number." in text_of(block(html, "request-status"))
    assert 'data-testid="act-for"' not in html and 'data-testid="acting-banner"' not in html
    assert post(client, "/acting-for", {"person_id": str(child.id)}).status_code == 404


# ------------------------------------------------------------------------------------------------ the family page

def test_the_guardian_reads_where_her_access_stands(app, world):
    client = client_for(app, PARENT, english=True)
    html = page(client, "/family")
    assert attr_values(html, "access-request", "data-grant") == ["demo-guardian-li"]
    assert "You can act for 李小明 until their 18th birthday" in text_of(block(html, "request-status"))
    assert 'data-testid="grant-for-me"' not in html and "Who can act for me" not in html  # she is insured under nothing
    assert client.get("/family/log").status_code == 404


def test_the_insured_sees_who_can_act_for_them(app, world):
    html = page(client_for(app, OTHER, english=True), "/family")
    card = block(html, "grant-for-me")
    assert 'data-status="verified"' in card and "周婷" in card
    assert "See your services and bookings (always)" in card and "Apply, change and cancel for you" in card
    assert "See and send your papers" not in card
    assert 'href="/family/log"' in html


# ------------------------------------------------------------------------------------------------ the access log

def test_the_log_says_who_saw_what(app, world):
    session = world
    wang_person = person(session, "王芳")
    wang_booking = fresh(session).scalar(select(Booking).join(Policy).where(Policy.insured_id == wang_person.id))
    zhou_account = session.scalar(select(Account).where(Account.mobile == AGENT))
    for minutes in (1, 2):
        session.add(AuditEvent(at=NOW + timedelta(minutes=minutes), action="record.view", actor_account_id=zhou_account.id,
                               subject_person_id=wang_person.id, detail={"page": "home"}))
    session.add(AuditEvent(at=NOW + timedelta(minutes=3), action="record.view", actor_account_id=zhou_account.id,
                           subject_person_id=wang_person.id, target=f"booking:{wang_booking.id}", detail={"page": "booking"}))
    session.commit()
    later(app, 5)

    english = client_for(app, OTHER, english=True)
    html = page(english, "/family/log")
    lines = [text_of(line) for line in re.findall(r'<li class="logline".*?</li>', html, re.S)]
    assert lines[0].endswith(f"周婷 · agent viewed a booking · Booking {wang_booking.reference}")
    assert "周婷 · agent viewed your services ×2" in lines[1]
    assert "Mon 23 Nov 10:02" in lines[1]  # China time, the newest of the two views
    assert f'href="/bookings/{wang_booking.reference}"' in block(html, "access-log")
    assert ids_in(html, "access-log-entry") and 'data-testid="log-older"' not in html

    later(app, 7)
    chinese = client_for(app, OTHER)
    html = page(chinese, "/family/log")
    first = text_of(re.findall(r'<li class="logline".*?</li>', html, re.S)[1])
    assert "周婷 · 代办人" in first and "母亲" not in first and "11月23日" in first and "10:02" in first


def test_the_log_pages_back_through_older_entries(app, world):
    session = world
    zhang = person(session, "张伟")
    stranger = session.scalar(select(Account).where(Account.mobile == REVIEWER))
    for n in range(130):
        session.add(AuditEvent(at=NOW - timedelta(hours=130 - n), action="document.view", actor_account_id=stranger.id,
                               subject_person_id=zhang.id, target=f"page:p{n}", detail={"kind": "id_card"}))
    session.commit()
    client = client_for(app, ADULT, english=True)
    html = page(client, "/family/log")
    assert len(ids_in(html, "access-log-entry")) == 100
    assert "looked at a page of: ID card of the insured person" in html and "service staff" in html
    older = re.search(r'href="(/family/log\?before=\d+)" data-testid="log-older"', html).group(1)
    html = page(client, older)
    assert html.count('data-action="document.view"') == 30  # then what the demo's staff did, older still
    assert 'data-testid="log-older"' not in html and 'href="/family/log"' in html


def test_only_an_adult_insured_reads_a_log(app, world):
    for mobile in (PARENT, AGENT, REVIEWER):
        assert client_for(app, mobile).get("/family/log").status_code == 404, mobile
        later(app, 1)
    assert client_for(app, ADULT).get("/family/log").status_code == 200


def test_family_pages_need_a_sign_in(app, world):
    client = app.test_client()
    for path in ("/family", "/family/new", "/family/log", "/acting-for", "/family/requests/demo-agent-zhou"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/sign-in"), path


def test_the_request_page_shows_its_state_and_its_proofs(app, world):
    session = world
    client = client_for(app, FATHER, english=True)
    child = person(session, "李小明")
    response = ask(client, own_name="李强", own_id_number=FATHER_ID, insured_name="李小明", insured_id_number=child.id_number)
    html = page(client, response.headers["Location"])
    assert "Your request is saved. Now add photos of the proof and send them." in html
    assert text_of(block(html, "request-status")) == "Add your proof photos and send them."
    assert 'data-testid="proofs"' in html and 'data-testid="withdraw-request"' in html
    assert child.id_number not in html and "出生" not in html  # nothing of the child's but the name he typed


def test_a_parent_typing_the_childs_details_at_bind_is_sent_to_the_family_path(app, world):
    """The first-sign-in form binds an account to an insured person; a child's record is refused there (a parent
    would otherwise become the child), with the way to ask for guardianship instead."""
    session = world
    child = person(session, "李小明")
    client = app.test_client()
    sign_in(client, "13800000014")
    token = csrf_from(client.get("/bind").get_data(as_text=True))
    response = client.post("/bind", data={"csrf_token": token, "name": "李小明", "id_number": child.id_number})
    assert response.status_code == 422
    assert "未满18周岁" in text_of(response.get_data(as_text=True))
    assert fresh(session).scalar(select(Account).where(Account.mobile == "13800000014")).person_id is None
