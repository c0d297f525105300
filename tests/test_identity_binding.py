"""A self-asserted identity binds for good (issue 17 item 2), written as the attacks.

Name + ID number is what a squatter knows. A binding is verified only by a match with the policy data (the
account's mobile is the one the insurer gave for the person) or by staff checking the ID card; until then it is a
claim that gives nothing. The owner of a squatted ID reclaims it through staff, and an impostor's request shows
as such on the page where the insured approves.

The demo world (services/demo/demo.py) as of NOW: 王芳 (13800000003) is insured, and her daughter 周婷 (13800000005)
acts for her (approved by 王芳). 沈静怡, added here, is insured under a policy whose data gives no mobile number
(or, where a test says so, her own).
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from webapp.models import Account, AuditEvent, IdentityReclaim, LoginSession, Person, Policy, Product, ProxyGrant
from webapp.services.accounts import binding, reclaim
from webapp.services.accounts.identity import demo_resident_id
from webapp.services.demo import demo
from webapp.services.family import family
from webapp.services.policy_years import anniversary

from .conftest import build_demo
from .web_helpers import NOW, block, csrf_from, element, fresh, set_clock, sign_in, text_of, use_english

SQUATTER, OWNER, IMPOSTOR, DAUGHTER_NEW = "13912340001", "13912340002", "13912340003", "13912340004"
ZHAO_ID = demo_resident_id("310104", date(1975, 2, 3), 987)
POLICY = "P003-IDNT-0001"


@pytest.fixture()
def world(app, session):
    build_demo(session, NOW)
    set_clock(app, NOW)
    return session


def add_zhao(session, mobile: str | None = None) -> Person:
    """沈静怡, insured under a policy; the insurer's data gives `mobile` for her (none by default)."""
    product = session.scalar(select(Product).where(Product.code == "zhongan_vip"))
    zhao = Person(name="沈静怡", id_number=ZHAO_ID, birth_date=date(1975, 2, 3), mobile=mobile, created_at=NOW)
    session.add(zhao)
    session.add(Policy(number=POLICY, product=product, insured=zhao, holder=zhao, effective_date=date(2026, 1, 1),
                       expiry_date=anniversary(date(2026, 1, 1), 1), created_at=NOW))
    session.commit()
    return zhao


def client_of(app, mobile: str, **kw):
    client = app.test_client()
    use_english(client)
    sign_in(client, mobile, **kw)
    return client


def post(client, url: str, data: dict, page: str | None = None):
    token = csrf_from(client.get(page or url).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data})


def main_text(response) -> str:
    html = response.get_data(as_text=True)
    return text_of(html[html.index("<main"):html.index("</main>")])


def account(session, mobile: str) -> Account:
    return fresh(session).scalar(select(Account).where(Account.mobile == mobile))


def events(session, action: str) -> list[AuditEvent]:
    return list(fresh(session).scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


# ------------------------------------------------------------------------------------------------ the claim

def test_a_binding_by_name_and_id_alone_is_a_claim_that_shows_nothing(app, session, world):
    """A stranger who knows 沈静怡's name and ID number binds them: it is kept as a claim, and the account sees
    no more than before binding — no policy, no papers, no access log, no family request in her name."""
    add_zhao(session)
    squatter = client_of(app, SQUATTER)
    response = post(squatter, "/bind", {"name": "沈静怡", "id_number": ZHAO_ID})
    assert response.status_code == 302 and response.headers["Location"] == "/bind"
    me = account(session, SQUATTER)
    assert (me.person_id, me.claimed_person_id, me.identity_verified_at) == (None, session.scalar(
        select(Person.id).where(Person.name == "沈静怡")), None)
    assert events(session, "bind.provisional")[0].actor_account_id == me.id
    page = squatter.get("/bind")
    assert page.status_code == 200 and 'data-testid="bind-pending"' in page.get_data(as_text=True)
    assert "We are checking it is you" in main_text(page)
    # Nothing of hers: home sends back to the pending page, her log is not theirs, no policy anywhere.
    assert squatter.get("/home").headers["Location"] == "/bind"
    assert squatter.get("/family/log").status_code == 404
    assert POLICY not in squatter.get("/family").get_data(as_text=True)
    # Binding again (someone else, or the same) waits for the claim to be decided.
    assert post(squatter, "/bind", {"name": "沈静怡", "id_number": ZHAO_ID}, page="/bind").headers["Location"] == "/bind"
    # No family request in any name while who they are is being checked.
    wang = fresh(session).scalar(select(Person).where(Person.name == "王芳"))
    response = post(squatter, "/family/new", {
        "own_name": "沈静怡", "own_id_number": ZHAO_ID, "kind": "power_of_attorney", "insured_name": "王芳",
        "insured_id_number": wang.id_number, "relationship": "friend", "method": "insured_approval", "scopes": "apply"})
    assert response.status_code == 422 and "We are still checking who you are" in main_text(response)
    assert fresh(session).scalar(select(ProxyGrant).where(ProxyGrant.grantee_account_id == me.id)) is None


def test_the_claim_hears_nothing_meant_for_the_person(app, session, world):
    """An agent's request for 沈静怡's approval goes to her verified account only, never to a claim."""
    add_zhao(session)
    post(client_of(app, SQUATTER), "/bind", {"name": "沈静怡", "id_number": ZHAO_ID})
    helper = fresh(session).scalar(select(Account).where(Account.mobile == demo.OTHER))
    with pytest.raises(family.Refused, match="access.insured_not_signed_up"):
        family.request_access(session, helper, kind=family.POWER_OF_ATTORNEY, insured_name="沈静怡",
                              insured_id_number=ZHAO_ID, relationship="朋友", now=NOW, method=family.INSURED_APPROVAL)


def test_the_policy_mobile_verifies_at_once_and_ends_a_strangers_claim(app, session, world):
    """The insurer gave OWNER as 沈静怡's mobile: her own binding is verified at once, even after a squatter's
    claim, which ends (audited) — the squatter never saw anything."""
    add_zhao(session, mobile=OWNER)
    post(client_of(app, SQUATTER), "/bind", {"name": "沈静怡", "id_number": ZHAO_ID})
    owner = client_of(app, OWNER)
    response = post(owner, "/bind", {"name": "沈静怡", "id_number": ZHAO_ID})
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    me, squatter = account(session, OWNER), account(session, SQUATTER)
    assert me.person_id is not None and (me.identity_method, me.identity_verified_by_id) == (binding.POLICY_MOBILE, None)
    assert me.identity_verified_at == NOW
    assert (squatter.person_id, squatter.claimed_person_id) == (None, None)
    assert events(session, "bind.claim_replaced")[0].target == f"account:{squatter.id}"
    assert f'data-policy="{POLICY}"' in owner.get("/home").get_data(as_text=True)


def test_staff_check_the_id_card_and_the_claim_becomes_the_binding(app, session, world):
    zhao = add_zhao(session)
    claimant = client_of(app, OWNER)
    post(claimant, "/bind", {"name": "沈静怡", "id_number": ZHAO_ID})
    me = account(session, OWNER)
    staff = client_of(app, demo.REVIEWER)
    queue = staff.get("/staff/identity").get_data(as_text=True)
    assert f'data-account="{me.id}"' in block(queue, "staff-claims")
    page = staff.get(f"/staff/identity/claims/{me.id}")
    assert page.status_code == 200 and OWNER in page.get_data(as_text=True) and ZHAO_ID not in page.get_data(as_text=True)
    refused = post(staff, f"/staff/identity/claims/{me.id}/verify", {"note": "  "}, page=f"/staff/identity/claims/{me.id}")
    assert refused.status_code == 303 and account(session, OWNER).person_id is None  # a note is required
    done = post(staff, f"/staff/identity/claims/{me.id}/verify", {"note": "ID card photo checked on the hotline"},
                page=f"/staff/identity/claims/{me.id}")
    assert done.status_code == 303
    me, reviewer = account(session, OWNER), account(session, demo.REVIEWER)
    assert (me.person_id, me.claimed_person_id, me.identity_method, me.identity_verified_by_id) == (
        zhao.id, None, binding.STAFF_CHECK, reviewer.id)
    verified = events(session, "identity.verified")[-1]
    assert (verified.actor_account_id, verified.detail["note"]) == (reviewer.id, "ID card photo checked on the hotline")
    assert f'data-policy="{POLICY}"' in claimant.get("/home").get_data(as_text=True)


def test_a_customer_cannot_use_the_identity_console(app, session, world):
    add_zhao(session)
    post(client_of(app, SQUATTER), "/bind", {"name": "沈静怡", "id_number": ZHAO_ID})
    squatter = account(session, SQUATTER)
    stranger = client_of(app, demo.OTHER)
    assert stranger.get("/staff/identity").status_code == 403
    response = post(stranger, f"/staff/identity/claims/{squatter.id}/verify", {"note": "me"}, page="/home")
    assert response.status_code == 403 and account(session, SQUATTER).person_id is None
    coordinator = client_of(app, demo.COORDINATOR)  # least privilege: only reviewers and admins check identities
    assert coordinator.get("/staff/identity").status_code == 403


# ------------------------------------------------------------------------------------------------ reclaim

def test_a_squatted_id_is_reclaimed_by_its_owner_through_staff(app, session, world):
    """The full attack: a squatter binds 沈静怡's ID first; 沈静怡 is refused with a clear message and the way to
    reclaim; she asks; staff check her ID card and approve; she is bound, the squatter unbound, signed out, and
    sees nothing of hers."""
    zhao = add_zhao(session)
    squatter = client_of(app, SQUATTER)
    post(squatter, "/bind", {"name": "沈静怡", "id_number": ZHAO_ID})

    owner = client_of(app, OWNER)
    refused = post(owner, "/bind", {"name": "沈静怡", "id_number": ZHAO_ID})
    assert refused.status_code == 422
    words = main_text(refused)
    assert "already linked to another mobile number" in words and "Ask for my ID number back" in words
    assert ZHAO_ID not in refused.get_data(as_text=True)
    assert 'href="/identity/reclaim"' in refused.get_data(as_text=True)

    asked = post(owner, "/identity/reclaim", {"name": "沈静怡", "id_number": ZHAO_ID, "statement": "This is my ID"})
    assert asked.status_code == 303
    request = fresh(session).scalar(select(IdentityReclaim))
    assert (request.account_id, request.person_id, request.holder_account_id, request.status) == (
        account(session, OWNER).id, zhao.id, account(session, SQUATTER).id, "open")
    assert 'data-status="open"' in owner.get("/identity/reclaim").get_data(as_text=True)

    staff = client_of(app, demo.REVIEWER)
    assert f'data-reclaim="{request.public_id}"' in staff.get("/staff/identity").get_data(as_text=True)
    page = staff.get(f"/staff/identity/reclaims/{request.public_id}")
    assert page.status_code == 200 and 'data-testid="reclaim-holder"' in page.get_data(as_text=True)
    assert events(session, "identity.staff_view")[-1].target == f"reclaim:{request.public_id}"
    done = post(staff, f"/staff/identity/reclaims/{request.public_id}/approve",
                {"note": "Called her back; ID card shown on video"}, page=f"/staff/identity/reclaims/{request.public_id}")
    assert done.status_code == 303

    me, them, reviewer = account(session, OWNER), account(session, SQUATTER), account(session, demo.REVIEWER)
    assert (me.person_id, me.identity_method, me.identity_verified_by_id) == (zhao.id, binding.RECLAIM, reviewer.id)
    assert (them.person_id, them.claimed_person_id) == (None, None)
    assert fresh(session).get(IdentityReclaim, request.id).status == "approved"
    approved = events(session, "identity.reclaim_approve")[0]
    assert approved.actor_account_id == reviewer.id and approved.detail["removed"] == [them.id]
    assert events(session, "identity.unbound")[0].detail["note"] == "Called her back; ID card shown on video"
    # The squatter's logins ended: the old cookie is refused on its next request.
    assert all(login.ended_at is not None for login in fresh(session).scalars(
        select(LoginSession).where(LoginSession.account_id == them.id)))
    assert squatter.get("/home").headers["Location"].startswith("/sign-in")
    # Signed in again (a new code, after the resend wait), the squatter has nothing of hers; she has her policy.
    set_clock(app, NOW + timedelta(minutes=2))
    squatter = client_of(app, SQUATTER)
    assert squatter.get("/home").headers["Location"] == "/bind"
    assert POLICY not in squatter.get("/bind").get_data(as_text=True)
    assert f'data-policy="{POLICY}"' in owner.get("/home").get_data(as_text=True)


def test_an_impostor_family_member_loses_what_they_got_in_the_real_ones_name(app, session, world):
    """Not on file yet: a new number binds itself to 王芳's son's name and ID number (a family member insured under
    nothing) and she approves 'her son'. The real son is refused, reclaims through staff, and the impostor's
    access ends with the binding."""
    son_id = demo_resident_id("310104", date(1995, 7, 7), 733)
    wang = fresh(session).scalar(select(Person).where(Person.name == "王芳"))
    impostor = Account(mobile=IMPOSTOR, created_at=NOW)
    session.add(impostor)
    session.commit()
    grant = family.request_access(session, impostor, kind=family.POWER_OF_ATTORNEY, insured_name="王芳",
                                  insured_id_number=wang.id_number, relationship="儿子", now=NOW,
                                  method=family.INSURED_APPROVAL, scopes={"view", "documents"},
                                  applicant=("王小军", son_id))
    family.approve(session, grant.public_id, insured=account(session, demo.OTHER), now=NOW, scopes={"view", "documents"})
    real = Account(mobile=DAUGHTER_NEW, created_at=NOW)
    session.add(real)
    session.commit()
    with pytest.raises(family.Refused, match="access.own_id_taken"):
        family.register_applicant(session, real, name="王小军", id_number=son_id, now=NOW)
    request = reclaim.file_request(session, account(session, DAUGHTER_NEW), name="王小军", id_number=son_id,
                                   statement=None, now=NOW)
    removed = reclaim.approve(session, request.public_id, staff=account(session, demo.REVIEWER), now=NOW,
                              note="ID card photo matches")
    assert [(r.account_id, r.grants_ended) for r in removed] == [(impostor.id, 1)]
    assert fresh(session).get(ProxyGrant, grant.id).status == family.REVOKED
    assert account(session, IMPOSTOR).person_id is None
    assert family.standing_of(session, account(session, IMPOSTOR), wang.id, NOW.date()).may() is False
    son = account(session, DAUGHTER_NEW)
    assert son.person.name == "王小军" and son.identity_method == binding.RECLAIM


@pytest.mark.parametrize("name, id_number, reason", [
    ("沈静怡", ZHAO_ID, "identity.nothing_to_reclaim"),  # nobody else holds it
    ("沈小怡", ZHAO_ID, "identity.nothing_to_reclaim"),  # the name does not match
    ("沈静怡", ZHAO_ID[:-1] + ("0" if ZHAO_ID[-1] != "0" else "1"), "identity.id"),
    ("", ZHAO_ID, "identity.name"),
])
def test_a_reclaim_that_cannot_be_is_refused_and_changes_nothing(app, session, world, name, id_number, reason):
    add_zhao(session)
    with pytest.raises(reclaim.Refused, match=reason):
        reclaim.file_request(session, account(session, OWNER) or _new(session, OWNER), name=name,
                             id_number=id_number, statement=None, now=NOW)
    assert fresh(session).scalar(select(IdentityReclaim)) is None


def _new(session, mobile):
    created = Account(mobile=mobile, created_at=NOW)
    session.add(created)
    session.commit()
    return created


def test_reclaim_attempts_are_limited(app, session, world):
    """Each attempt says whether a name and ID number is held: five a day per account."""
    add_zhao(session)
    asker = _new(session, OWNER)
    for _ in range(5):
        with pytest.raises(reclaim.Refused, match="identity.nothing_to_reclaim"):
            reclaim.file_request(session, asker, name="沈静怡", id_number=ZHAO_ID, statement=None, now=NOW)
    with pytest.raises(reclaim.Refused, match="identity.too_many"):
        reclaim.file_request(session, asker, name="沈静怡", id_number=ZHAO_ID, statement=None, now=NOW)


def test_the_reclaim_page_refuses_bad_input_clearly(app, session, world):
    owner = client_of(app, OWNER)
    response = post(owner, "/identity/reclaim", {"name": "沈静怡", "id_number": "x" * 10000, "statement": "\x00" * 300})
    assert response.status_code == 422 and "Please check the ID number" in main_text(response)
    response = post(owner, "/identity/reclaim", {"name": "沈静怡", "id_number": ZHAO_ID})
    assert response.status_code == 422 and "nothing to give back" in main_text(response)


def test_staff_refuse_a_claim_and_the_person_is_free(app, session, world):
    add_zhao(session)
    post(client_of(app, SQUATTER), "/bind", {"name": "沈静怡", "id_number": ZHAO_ID})
    squatter = account(session, SQUATTER)
    reclaim.refuse_claim(session, squatter.id, staff=account(session, demo.REVIEWER), now=NOW, note="no answer")
    assert account(session, SQUATTER).claimed_person_id is None
    assert events(session, "identity.claim_refused")[0].detail == {"note": "no answer"}
    owner = client_of(app, OWNER)
    assert post(owner, "/bind", {"name": "沈静怡", "id_number": ZHAO_ID}).headers["Location"] == "/bind"  # her own claim


def test_a_claim_typed_by_mistake_is_taken_back(app, session, world):
    add_zhao(session)
    client = client_of(app, SQUATTER)
    post(client, "/bind", {"name": "沈静怡", "id_number": ZHAO_ID})
    response = post(client, "/bind/cancel", {}, page="/bind")
    assert response.status_code == 303 and account(session, SQUATTER).claimed_person_id is None
    assert 'data-testid="bind-pending"' not in client.get("/bind").get_data(as_text=True)


# ------------------------------------------------------------------------------------------------ the impostor's request

def _ask_wang(session, mobile: str, name: str, seq: int, *, created=NOW) -> ProxyGrant:
    """Someone asks 王芳 to approve them as her agent, saying they are `name`."""
    wang = fresh(session).scalar(select(Person).where(Person.name == "王芳"))
    asker = Account(mobile=mobile, created_at=created)
    session.add(asker)
    session.commit()
    return family.request_access(session, asker, kind=family.POWER_OF_ATTORNEY, insured_name="王芳",
                                 insured_id_number=wang.id_number, relationship="母亲", now=NOW,
                                 method=family.INSURED_APPROVAL, scopes={"view", "apply", "documents"},
                                 applicant=(name, demo_resident_id("310104", date(1994, 2, 17), seq)))


def test_an_impostors_request_is_shown_as_such(app, session, world):
    """A new number says it is 周婷, who already acts for 王芳 from her own number: 王芳 sees the masked number it
    comes from, that the account is new and its identity not verified, and a warning naming the real 周婷's
    number. Papers (ID photos) are not ticked for her."""
    grant = _ask_wang(session, IMPOSTOR, "周婷", 901)
    insured = client_of(app, demo.OTHER)
    html = insured.get("/family").get_data(as_text=True)
    item = element(html, f'id="grant-{grant.public_id}"')
    assert text_of(block(item, "requester-mobile")) == "Asked from mobile number 139****0003"
    assert "New account" in text_of(block(item, "requester-new"))
    assert "Identity not verified" in text_of(block(item, "requester-unverified"))
    warning = text_of(block(item, "same-name-warning"))
    assert "周婷 already acts for you from another mobile number (138****0005)" in warning
    assert IMPOSTOR not in html and 'value="documents" checked' not in item


def test_a_long_standing_verified_requester_shows_no_warning(app, session, world):
    """Someone else with an old account whose ID card staff accepted: the number, and nothing to warn about."""
    grant = _ask_wang(session, IMPOSTOR, "王小红", 902, created=NOW - timedelta(days=400))
    asker = account(session, IMPOSTOR)
    asker.identity_method, asker.identity_verified_at = binding.ID_PAPER, NOW - timedelta(days=300)
    session.commit()
    html = client_of(app, demo.OTHER).get("/family").get_data(as_text=True)
    item = element(html, f'id="grant-{grant.public_id}"')
    assert "139****0003" in text_of(block(item, "requester-mobile"))
    for testid in ("requester-new", "requester-unverified", "same-name-warning"):
        assert f'data-testid="{testid}"' not in item
    assert 'value="documents" checked' in item


def test_staff_accepting_the_applicants_id_photo_verifies_them(app, session, world):
    from .test_staff_access import father_asks

    grant = father_asks(app, session)
    father = account(session, demo.FATHER)
    assert not binding.is_verified(father)
    family.verify(session, grant.public_id, staff=account(session, demo.REVIEWER), now=NOW)
    father = account(session, demo.FATHER)
    assert (father.identity_method, father.identity_verified_by_id) == (binding.ID_PAPER, account(session, demo.REVIEWER).id)


def test_an_applicant_cannot_take_an_id_on_a_policy_without_its_mobile(app, session, world):
    """The family path is no way round: 沈静怡's ID (on a policy, no account yet) typed as one's own is refused
    unless the account's number is her policy mobile."""
    add_zhao(session)
    with pytest.raises(family.Refused, match="access.own_id_on_policy"):
        family.register_applicant(session, _new(session, SQUATTER), name="沈静怡", id_number=ZHAO_ID, now=NOW)
    assert account(session, SQUATTER).person_id is None
