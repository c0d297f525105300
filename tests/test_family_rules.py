"""Family access rules (services/family/family.py), with fixed clocks.

Seeds: a service is for the insured alone; a guardian of a minor or of an adult without capacity applies for
them with proof (003 重疾住院护工 六、服务声明 2), anyone else with the insured's power of attorney (003 医疗垫付
材料 g). Issue 5: a minor's guardianship ends on the 18th birthday (China time), an agent's access may be
time-limited and revoked by the insured, scopes: view, apply (and cancel), documents.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from webapp.models import Account, AuditEvent, Booking, Document, DocumentPage, Notification, Person, ProxyGrant
from webapp.services.accounts.identity import demo_resident_id
from webapp.services.booking import bookings, notifications
from webapp.services.clock import china_date
from webapp.services.demo import demo
from webapp.services.family import family

from .conftest import at, build_demo

NOW = at(2026, 11, 23, 10, 0)


# --- ages: pure ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("birth, adult_on", [
    (date(2008, 6, 1), date(2026, 6, 1)),
    (date(2008, 2, 29), date(2026, 3, 1)),  # no 29 February in 2026: 18 full years have passed on 1 March
    (date(2008, 2, 28), date(2026, 2, 28)),
    (date(2012, 2, 29), date(2030, 3, 1)),
    (date(2010, 2, 29 - 1), date(2028, 2, 28)),
    (date(2000, 2, 29), date(2018, 3, 1)),
    (date(2004, 2, 29), date(2022, 3, 1)),
])
def test_adulthood_is_the_18th_birthday(birth, adult_on):
    assert family.adulthood(birth) == adult_on
    assert family.is_minor(birth, adult_on - timedelta(days=1))
    assert not family.is_minor(birth, adult_on)


def test_a_leap_day_birthday_in_a_leap_year_is_the_day_itself():
    assert family.adulthood(date(2006, 2, 28)) == date(2024, 2, 28)
    assert family.adulthood(date(2006, 3, 1)) == date(2024, 3, 1)
    assert family.adulthood(date(1996, 2, 29)) == date(2014, 3, 1)


# --- what a request may ask: pure ---------------------------------------------------------------------------

CHILD, ADULT_BIRTH = date(2017, 6, 1), date(1969, 11, 23)
TODAY = date(2026, 11, 23)


@pytest.mark.parametrize("kind, birth, method, until, scopes, expected", [
    ("guardian_minor", CHILD, "papers", None, family.ALL_SCOPES, []),
    ("guardian_minor", ADULT_BIRTH, "papers", None, family.ALL_SCOPES, ["access.not_minor"]),
    ("guardian_incapacitated", ADULT_BIRTH, "papers", None, family.ALL_SCOPES, []),
    ("guardian_incapacitated", CHILD, "papers", None, family.ALL_SCOPES, ["access.is_minor"]),
    ("power_of_attorney", CHILD, "papers", None, family.ALL_SCOPES, ["access.is_minor"]),
    ("power_of_attorney", ADULT_BIRTH, "insured_approval", None, frozenset({"view"}), []),
    ("power_of_attorney", ADULT_BIRTH, "papers", TODAY + timedelta(days=30), frozenset({"view", "apply"}), []),
    ("power_of_attorney", ADULT_BIRTH, "papers", TODAY, family.ALL_SCOPES, ["access.until"]),
    ("power_of_attorney", ADULT_BIRTH, "papers", date(2031, 11, 23), family.ALL_SCOPES, []),
    ("power_of_attorney", ADULT_BIRTH, "papers", date(2031, 11, 24), family.ALL_SCOPES, ["access.until"]),
    ("power_of_attorney", ADULT_BIRTH, "papers", None, frozenset({"view", "delete"}), ["access.scopes"]),
    ("guardian_minor", CHILD, "insured_approval", None, family.ALL_SCOPES, ["access.method"]),
    ("power_of_attorney", ADULT_BIRTH, "fax", None, family.ALL_SCOPES, ["access.method"]),
    ("owner", ADULT_BIRTH, "papers", None, family.ALL_SCOPES, ["access.kind"]),
])
def test_check_request(kind, birth, method, until, scopes, expected):
    found = family.check_request(kind, insured_birth=birth, today=TODAY, method=method, valid_until=until, scopes=scopes)
    assert [key for key, _params in found] == expected


def test_the_day_a_child_turns_18_no_guardianship_of_a_minor_can_be_asked():
    birth = date(2008, 11, 23)
    assert family.check_request("guardian_minor", insured_birth=birth, today=date(2026, 11, 22)) == []
    assert [k for k, _ in family.check_request("guardian_minor", insured_birth=birth, today=date(2026, 11, 23))] == ["access.not_minor"]
    assert family.check_request("power_of_attorney", insured_birth=birth, today=date(2026, 11, 23), method="insured_approval") == []


# --- standing and the 18th birthday, China time ---------------------------------------------------------------

@pytest.fixture()
def world(session):
    build_demo(session, NOW)
    accounts = {a.mobile: a for a in session.scalars(select(Account))}
    people = {p.name: p for p in session.scalars(select(Person))}
    return accounts, people


def test_the_guardianship_ends_at_midnight_china_time_on_the_18th_birthday(session, world):
    accounts, people = world
    parent, child = accounts[demo.PARENT], people["李小明"]
    birthday = family.adulthood(child.birth_date)
    midnight = datetime(birthday.year, birthday.month, birthday.day, tzinfo=timezone(timedelta(hours=8)))
    last_second = midnight - timedelta(seconds=1)
    # In UTC the cut-off falls at 16:00 the day before: the date that counts is China's.
    assert (midnight.astimezone(timezone.utc).hour, china_date(last_second), china_date(midnight)) == (16, birthday - timedelta(days=1), birthday)
    before = family.standing_of(session, parent, child.id, china_date(last_second))
    after = family.standing_of(session, parent, child.id, china_date(midnight))
    assert before.may(family.VIEW) and before.may(family.APPLY) and before.relation == "guardian"
    assert not after.may(family.VIEW) and after.relation == "none"
    assert [p.name for p, _ in family.people_for(session, parent, china_date(last_second))] == ["李娜", "李小明"]
    assert [p.name for p, _ in family.people_for(session, parent, china_date(midnight))] == ["李娜"]
    grant = session.scalar(select(ProxyGrant).where(ProxyGrant.public_id == "demo-guardian-li"))
    assert family.shown_state(grant, birthday - timedelta(days=1)) == "verified"
    assert family.shown_state(grant, birthday) == "ended"


def test_scopes_of_an_agent_and_a_guardian(session, world):
    accounts, people = world
    agent = family.standing_of(session, accounts[demo.AGENT], people["王芳"].id, TODAY)
    assert agent.relation == "power_of_attorney" and agent.label == "母亲"
    assert agent.may(family.VIEW) and agent.may(family.APPLY) and not agent.may(family.DOCUMENTS)
    guardian = family.standing_of(session, accounts[demo.PARENT], people["李小明"].id, TODAY)
    assert guardian.scopes == family.ALL_SCOPES
    assert not family.standing_of(session, accounts[demo.OTHER], people["李小明"].id, TODAY).may(family.VIEW)
    assert family.standing_of(session, accounts[demo.OTHER], people["王芳"].id, TODAY) is family.SELF


def test_an_agent_ends_on_the_day_set(session, world):
    accounts, people = world
    grant = session.scalar(select(ProxyGrant).where(ProxyGrant.public_id == "demo-agent-zhou"))
    last = grant.valid_until - timedelta(days=1)
    assert family.standing_of(session, accounts[demo.AGENT], people["王芳"].id, last).may()
    assert not family.standing_of(session, accounts[demo.AGENT], people["王芳"].id, grant.valid_until).may()


# --- asking -----------------------------------------------------------------------------------------------

def _newcomer(session, mobile="13800000004", name="李强", birth=date(1984, 9, 9), seq=615):
    account = Account(mobile=mobile, created_at=NOW)
    session.add(account)
    session.commit()
    family.register_applicant(session, account, name=name, id_number=demo_resident_id("310104", birth, seq), now=NOW)
    session.refresh(account)
    return account


def _ask_for_child(session, account, people, **kw):
    child = people["李小明"]
    return family.request_access(session, account, kind=kw.pop("kind", "guardian_minor"), insured_name=child.name,
                                 insured_id_number=child.id_number, relationship="儿子", now=kw.pop("now", NOW), **kw)


def test_a_father_asks_for_guardianship_and_sees_nothing_until_verified(session, world):
    _accounts, people = world
    father = _newcomer(session)
    assert father.person.name == "李强" and father.person.mobile == "13800000004"
    grant = _ask_for_child(session, father, people)
    assert (grant.status, grant.kind, grant.method) == ("draft", "guardian_minor", "papers")
    assert grant.valid_until == family.adulthood(people["李小明"].birth_date)
    assert family.proofs_needed(grant) == ("applicant_id", "guardianship_proof")
    standing = family.standing_of(session, father, people["李小明"].id, TODAY)
    assert not standing.may(family.VIEW) and not standing.verified
    assert [p.name for p, _ in family.people_for(session, father, TODAY)] == ["李强"]
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "access.request"))
    assert (event.actor_account_id, event.subject_person_id) == (father.id, people["李小明"].id)


@pytest.mark.parametrize("change, reason", [
    ({"insured_name": "李晓明"}, "access.not_found"),
    ({"insured_id_number": demo_resident_id("310104", date(2017, 6, 1), 999)}, "access.not_found"),
    ({"insured_id_number": "31010420170601311"}, "access.insured_id"),
    ({"kind": "power_of_attorney"}, "access.is_minor"),
    ({"kind": "guardian_incapacitated"}, "access.is_minor"),
])
def test_a_refused_request_keeps_nothing(session, world, change, reason):
    _accounts, people = world
    father = _newcomer(session)
    child = people["李小明"]
    ask = {"kind": "guardian_minor", "insured_name": child.name, "insured_id_number": child.id_number, **change}
    with pytest.raises(family.Refused) as refused:
        family.request_access(session, father, relationship="儿子", now=NOW, **ask)
    assert refused.value.reason == reason
    assert session.scalar(select(func.count()).select_from(ProxyGrant).where(ProxyGrant.grantee_account_id == father.id)) == 0


def test_no_request_for_oneself_twice_or_by_staff(session, world):
    accounts, people = world
    father = _newcomer(session)
    _ask_for_child(session, father, people)
    with pytest.raises(family.Refused, match="access.duplicate"):
        _ask_for_child(session, father, people)
    with pytest.raises(family.Refused, match="access.duplicate"):  # 李娜 already is his guardian
        _ask_for_child(session, accounts[demo.PARENT], people)
    wang = people["王芳"]
    with pytest.raises(family.Refused, match="access.self"):
        family.request_access(session, accounts[demo.OTHER], kind="power_of_attorney", insured_name=wang.name,
                              insured_id_number=wang.id_number, relationship=None, now=NOW, method="insured_approval")
    with pytest.raises(family.Refused, match="access.staff"):
        _ask_for_child(session, accounts[demo.REVIEWER], people)
    unbound = Account(mobile="13800000010", created_at=NOW)
    session.add(unbound)
    session.commit()
    with pytest.raises(family.Refused, match="access.own_identity"):
        _ask_for_child(session, unbound, people)


def test_requests_are_rate_limited_per_account(session, world):
    _accounts, people = world
    father = _newcomer(session)
    for _ in range(family.REQUEST_LIMIT.count):
        with pytest.raises(family.Refused, match="access.not_found"):
            family.request_access(session, father, kind="guardian_minor", insured_name="某某",
                                  insured_id_number=people["李小明"].id_number, relationship=None, now=NOW)
    with pytest.raises(family.Refused, match="access.rate_limited"):
        _ask_for_child(session, father, people)
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "access.not_found")) == 10


def test_the_applicant_must_give_their_own_valid_identity(session, world):
    account = Account(mobile="13800000011", created_at=NOW)
    session.add(account)
    session.commit()
    with pytest.raises(family.Refused, match="access.own_id"):
        family.register_applicant(session, account, name="李强", id_number="310104198409096150", now=NOW)
    with pytest.raises(family.Refused, match="access.own_name"):
        family.register_applicant(session, account, name="  ", id_number=demo_resident_id("310104", date(1984, 9, 9), 615), now=NOW)
    li_na = session.scalar(select(Person).where(Person.name == "李娜"))
    with pytest.raises(family.Refused, match="access.own_id_taken"):  # her ID is hers: she has an account
        family.register_applicant(session, account, name="李娜", id_number=li_na.id_number, now=NOW)
    assert fresh_account(session, account.id).person_id is None


def fresh_account(session, account_id):
    session.expire_all()
    return session.get(Account, account_id)


# --- an agent approved by the insured ---------------------------------------------------------------------

def _agent_request(session, accounts, people, **kw):
    zhang = people["张伟"]
    asker = _newcomer(session, mobile="13800000012", name="赵敏", birth=date(1980, 4, 2), seq=722)
    grant = family.request_access(session, asker, kind="power_of_attorney", insured_name=zhang.name,
                                  insured_id_number=zhang.id_number, relationship="配偶", now=NOW,
                                  method="insured_approval", scopes=kw.pop("scopes", family.ALL_SCOPES), **kw)
    return asker, grant


def test_the_insured_approves_an_agent_with_narrower_scopes_and_an_end(session, world):
    accounts, people = world
    asker, grant = _agent_request(session, accounts, people)
    zhang = accounts[demo.ADULT]
    assert grant.status == "awaiting_insured" and family.proofs_needed(grant) == ()
    told = session.scalars(select(Notification).where(Notification.kind == "access_request")).all()
    assert [n.account_id for n in told] == [zhang.id] and told[0].payload["grantee"] == "赵敏"
    with pytest.raises(family.Refused, match="access.not_open"):  # only the insured approves
        family.approve(session, grant.public_id, insured=accounts[demo.OTHER], now=NOW)
    until = TODAY + timedelta(days=30)
    family.approve(session, grant.public_id, insured=zhang, now=NOW, scopes={"apply"}, valid_until=until)
    session.expire_all()
    grant = family.find(session, grant.public_id)
    assert (grant.status, grant.scopes, grant.valid_until, grant.verified_by_id) == ("verified", "view,apply", until, zhang.id)
    standing = family.standing_of(session, asker, people["张伟"].id, TODAY)
    assert standing.may(family.APPLY) and not standing.may(family.DOCUMENTS)
    assert not family.standing_of(session, asker, people["张伟"].id, until).may()
    decided = session.scalar(select(Notification).where(Notification.kind == "access_decided"))
    assert decided.account_id == asker.id and decided.payload["state"] == "verified"


def test_the_insured_declines_and_the_asker_withdraws(session, world):
    accounts, people = world
    asker, grant = _agent_request(session, accounts, people)
    family.decline(session, grant.public_id, insured=accounts[demo.ADULT], now=NOW)
    assert family.find(session, grant.public_id).status == "declined"
    with pytest.raises(family.Refused):
        family.approve(session, grant.public_id, insured=accounts[demo.ADULT], now=NOW)
    again = family.request_access(session, asker, kind="power_of_attorney", insured_name="张伟",
                                  insured_id_number=people["张伟"].id_number, relationship="配偶", now=NOW,
                                  method="insured_approval")
    with pytest.raises(family.Refused):
        family.withdraw(session, again.public_id, account=accounts[demo.ADULT], now=NOW)
    family.withdraw(session, again.public_id, account=asker, now=NOW)
    assert family.find(session, again.public_id).status == "withdrawn"


def test_approval_needs_an_account_of_the_insured(session, world):
    _accounts, people = world
    asker = _newcomer(session)
    # 李小明 is 9 and has no account; an adult without an account: make one.
    lonely = Person(name="孙华", id_number=demo_resident_id("310104", date(1950, 1, 5), 818), birth_date=date(1950, 1, 5),
                    created_at=NOW)
    session.add(lonely)
    session.flush()
    from webapp.models import Policy, Product

    product = session.scalar(select(Product).where(Product.code == "zhongan_vip"))
    session.add(Policy(number="P-LONELY", product=product, insured=lonely, holder=lonely, effective_date=date(2026, 1, 1),
                       expiry_date=date(2027, 1, 1), created_at=NOW))
    session.commit()
    with pytest.raises(family.Refused, match="access.insured_not_signed_up"):
        family.request_access(session, asker, kind="power_of_attorney", insured_name="孙华", insured_id_number=lonely.id_number,
                              relationship="父亲", now=NOW, method="insured_approval")
    grant = family.request_access(session, asker, kind="power_of_attorney", insured_name="孙华",
                                  insured_id_number=lonely.id_number, relationship="父亲", now=NOW)
    assert grant.status == "draft" and family.proofs_needed(grant) == ("applicant_id", "power_of_attorney")


# --- revoking ---------------------------------------------------------------------------------------------

def test_who_may_revoke(session, world):
    accounts, people = world
    agent = session.scalar(select(ProxyGrant).where(ProxyGrant.public_id == "demo-agent-zhou"))
    guardian = session.scalar(select(ProxyGrant).where(ProxyGrant.public_id == "demo-guardian-li"))
    admin, reviewer = accounts[demo.ADMIN], accounts[demo.REVIEWER]
    assert family.may_revoke(accounts[demo.OTHER], agent)  # 王芳 ends her daughter's access
    assert family.may_revoke(accounts[demo.AGENT], agent)  # the daughter gives it up
    assert not family.may_revoke(accounts[demo.ADULT], agent)
    assert not family.may_revoke(reviewer, agent) and family.may_revoke(admin, agent)
    assert family.may_revoke(accounts[demo.PARENT], guardian) and family.may_revoke(admin, guardian)
    assert not family.may_revoke(accounts[demo.OTHER], guardian)


def test_revoking_stops_access_and_booking_messages_at_once(session, world):
    accounts, people = world
    wang, daughter = accounts[demo.OTHER], accounts[demo.AGENT]
    booking = session.scalar(select(Booking).where(Booking.applicant_account_id == wang.id))
    assert [a.id for a in notifications.recipients(session, booking, NOW)] == sorted([wang.id, daughter.id])
    family.revoke(session, "demo-agent-zhou", account=wang, now=NOW)
    assert not family.standing_of(session, daughter, people["王芳"].id, TODAY).may()
    assert [a.id for a in notifications.recipients(session, booking, NOW)] == [wang.id]
    told = session.scalar(select(Notification).where(Notification.kind == "access_revoked"))
    assert told.account_id == daughter.id and told.payload["by"] == "insured"
    with pytest.raises(family.Refused, match="access.not_revocable"):
        family.revoke(session, "demo-agent-zhou", account=wang, now=NOW)
    with pytest.raises(bookings.NotEntitled):
        bookings.cancel(session, booking.id, actor=daughter, now=NOW)


def test_a_view_only_agent_may_not_apply_or_cancel(session, world):
    accounts, people = world
    grant = session.scalar(select(ProxyGrant).where(ProxyGrant.public_id == "demo-agent-zhou"))
    grant.scopes = "view"
    session.commit()
    daughter = accounts[demo.AGENT]
    booking = session.scalar(select(Booking).where(Booking.applicant_account_id == accounts[demo.OTHER].id))
    outcome = bookings.apply(session, account=daughter, policy_id=booking.policy_id, service_code="expert_outpatient",
                             request_key="view-only", now=NOW, details={"city": "广州"})
    assert not outcome.ok and [r.key for r in outcome.reasons] == ["actor.view_only"]
    with pytest.raises(bookings.NotEntitled):
        bookings.cancel(session, booking.id, actor=daughter, now=NOW)
    assert session.get(Booking, booking.id).state == "applied"


def test_an_agent_with_apply_scope_applies_and_is_recorded_as_actor(session, world):
    accounts, people = world
    daughter, wang = accounts[demo.AGENT], accounts[demo.OTHER]
    booking = session.scalar(select(Booking).where(Booking.applicant_account_id == wang.id))
    done = bookings.cancel(session, booking.id, actor=daughter, now=NOW)
    assert done.state == "withdrawn"
    last = done.transitions[-1]
    assert (last.actor_account_id, last.actor_role) == (daughter.id, "proxy")
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "booking.withdrawn"))
    assert (event.actor_account_id, event.subject_person_id) == (daughter.id, people["王芳"].id)
    told = {n.account_id for n in session.scalars(select(Notification).where(Notification.booking_id == booking.id,
                                                                              Notification.created_at == NOW))}
    assert told == {daughter.id, wang.id}  # notifications reach both


# --- staff verify and reject ---------------------------------------------------------------------------------

def _with_proofs(session, grant, status="received"):
    for n, kind in enumerate(family.proofs_needed(grant)):
        doc = Document(proxy_grant_id=grant.id, person_id=grant.insured_person_id, kind=kind, status=status,
                       created_at=NOW, updated_at=NOW)
        session.add(doc)
        session.flush()
        session.add(DocumentPage(public_id=f"pf-{grant.id}-{n}", document_id=doc.id, storage_key=f"k-{grant.id}-{n}",
                                 thumbnail_key=f"k-{grant.id}-{n}.t", sha256=f"{grant.id:032d}{n:032d}", width=1200,
                                 height=1600, byte_size=1000, status=status, uploaded_by_id=grant.grantee_account_id,
                                 created_at=NOW, submitted_at=NOW))
    session.commit()


def test_staff_verify_a_guardianship_once_the_proofs_are_sent(session, world):
    accounts, people = world
    father = _newcomer(session)
    grant = _ask_for_child(session, father, people)
    reviewer = accounts[demo.REVIEWER]
    with pytest.raises(family.Refused, match="access.not_open"):  # nothing sent yet
        family.verify(session, grant.public_id, staff=reviewer, now=NOW)
    with pytest.raises(family.Refused, match="access.proof_missing"):
        family.mark_sent(session, grant, account=father, now=NOW)
    _with_proofs(session, grant)
    grant = family.find(session, grant.public_id)
    family.mark_sent(session, grant, account=father, now=NOW)
    session.commit()
    with pytest.raises(family.Refused, match="access.not_staff"):
        family.verify(session, grant.public_id, staff=accounts[demo.COORDINATOR], now=NOW)
    family.verify(session, grant.public_id, staff=reviewer, now=NOW + timedelta(hours=2),
                  valid_until=date(2040, 1, 1))  # a minor's end is the 18th birthday, whatever is typed
    session.expire_all()
    grant = family.find(session, grant.public_id)
    assert (grant.status, grant.valid_until) == ("verified", family.adulthood(people["李小明"].birth_date))
    pages = session.scalars(select(DocumentPage).join(Document).where(Document.proxy_grant_id == grant.id)).all()
    assert {p.status for p in pages} == {"accepted"} and {p.decided_by_id for p in pages} == {reviewer.id}
    assert family.standing_of(session, father, people["李小明"].id, TODAY).may(family.DOCUMENTS)


def test_verification_waits_for_a_retake(session, world):
    accounts, people = world
    father = _newcomer(session)
    grant = _ask_for_child(session, father, people)
    _with_proofs(session, grant)
    grant = family.find(session, grant.public_id)
    family.mark_sent(session, grant, account=father, now=NOW)
    session.commit()
    page = session.scalar(select(DocumentPage).where(DocumentPage.public_id == f"pf-{grant.id}-1"))
    page.status = "unreadable"
    session.commit()
    with pytest.raises(family.Refused, match="access.proofs_not_ready"):
        family.verify(session, grant.public_id, staff=accounts[demo.REVIEWER], now=NOW)
    assert family.find(session, grant.public_id).status == "pending"


def test_staff_reject_with_a_listed_reason(session, world):
    accounts, people = world
    father = _newcomer(session)
    grant = _ask_for_child(session, father, people)
    reviewer = accounts[demo.REVIEWER]
    with pytest.raises(family.Refused, match="access.reason_needed"):
        family.reject(session, grant.public_id, staff=reviewer, now=NOW, reason="dislike")
    family.reject(session, grant.public_id, staff=reviewer, now=NOW, reason="not_guardian", note="出生证明上的父亲不是申请人")
    grant = family.find(session, grant.public_id)
    assert (grant.status, grant.rejection_reason) == ("rejected", "not_guardian: 出生证明上的父亲不是申请人")
    told = session.scalar(select(Notification).where(Notification.account_id == father.id))
    assert told.payload["state"] == "rejected" and told.payload["reason"].startswith("not_guardian")
    again = _ask_for_child(session, father, people)  # a rejected request does not block a new one
    assert again.status == "draft"


# --- the 18th birthday: telling the guardian and inviting the new adult ---------------------------------------

class Texts:
    def __init__(self, fail=False):
        self.sent, self.fail = [], fail

    def send(self, mobile, text):
        if self.fail:
            raise OSError("gateway down")
        self.sent.append((mobile, text))


def test_the_guardian_is_told_and_the_new_adult_invited_once(session, world):
    accounts, people = world
    child = people["李小明"]
    child.mobile = "13900000018"
    session.commit()
    birthday = family.adulthood(child.birth_date)
    eve = datetime(birthday.year, birthday.month, birthday.day, tzinfo=timezone(timedelta(hours=8))) - timedelta(seconds=1)
    texts = Texts()
    assert family.end_guardianships_of_adults(session, now=eve, sms=texts, invitation="hi").ended == 0
    report = family.end_guardianships_of_adults(session, now=eve + timedelta(seconds=1), sms=texts, invitation="hi")
    assert (report.ended, report.invited, texts.sent) == (1, 1, [("13900000018", "hi")])
    note = session.scalar(select(Notification).where(Notification.kind == "access_ended"))
    assert note.account_id == accounts[demo.PARENT].id and note.payload["on"] == birthday.isoformat()
    again = family.end_guardianships_of_adults(session, now=eve + timedelta(days=1), sms=texts, invitation="hi")
    assert again.ended == 0 and len(texts.sent) == 1


def test_a_failed_invitation_is_reported_and_the_guardian_still_told(session, world):
    accounts, people = world
    people["李小明"].mobile = "13900000018"
    session.commit()
    later = NOW + timedelta(days=365 * 10)
    report = family.end_guardianships_of_adults(session, now=later, sms=Texts(fail=True), invitation="hi")
    assert report.ended == 1 and report.invited == 0 and report.failed == ["139****0018"]
    assert session.scalar(select(func.count()).select_from(Notification).where(Notification.kind == "access_ended")) == 1


# --- the access log -----------------------------------------------------------------------------------------

def test_the_access_log_lists_others_and_collapses_repeated_views(session, world):
    accounts, people = world
    wang, daughter, reviewer = accounts[demo.OTHER], accounts[demo.AGENT], accounts[demo.REVIEWER]
    from webapp.services import audit

    for minutes in (0, 5, 10):
        audit.record(session, "record.view", now=NOW + timedelta(minutes=minutes), actor_id=daughter.id,
                     subject_person_id=people["王芳"].id, detail={"page": "home"})
    audit.record(session, "record.view", now=NOW + timedelta(minutes=11), actor_id=wang.id,
                 subject_person_id=people["王芳"].id, detail={"page": "home"})  # her own: not listed
    audit.record(session, "document.view", now=NOW + timedelta(minutes=20), actor_id=reviewer.id,
                 subject_person_id=people["王芳"].id, target="page:x", detail={"kind": "diagnosis"})
    audit.record(session, "access.refused", now=NOW + timedelta(minutes=21), actor_id=accounts[demo.ADULT].id,
                 subject_person_id=people["王芳"].id)
    session.commit()
    entries, more = family.access_log(session, people["王芳"].id)
    assert more is None
    assert [(e.action, e.actor_kind, e.actor_name, e.count) for e in entries] == [
        ("document.view", "staff", "审核员 陈静", 1),
        ("record.view", "power_of_attorney", "周婷", 3),
    ]
    assert entries[1].label == "母亲"
    first, more = family.access_log(session, people["王芳"].id, limit=1)
    assert len(first) == 1 and more is not None
    rest, _ = family.access_log(session, people["王芳"].id, before_id=more)
    assert [e.action for e in rest] == ["record.view"]


@pytest.mark.parametrize("birth, today, age", [
    (date(2008, 6, 1), date(2026, 5, 31), 17), (date(2008, 6, 1), date(2026, 6, 1), 18),
    (date(2008, 2, 29), date(2026, 2, 28), 17), (date(2008, 2, 29), date(2026, 3, 1), 18),
    (date(2008, 2, 29), date(2028, 2, 29), 20), (date(1969, 11, 23), date(2026, 11, 23), 57),
])
def test_age_on_agrees_with_adulthood(birth, today, age):
    assert family.age_on(birth, today) == age
    assert (family.age_on(birth, today) < 18) is family.is_minor(birth, today)


def test_a_refused_request_does_not_bind_the_asker_either(session, world):
    """A new number tells who they are with the request: refused, nothing of theirs is kept (not even the binding)."""
    _accounts, people = world
    account = Account(mobile="13800000013", created_at=NOW)
    session.add(account)
    session.commit()
    own = ("李强", demo_resident_id("310104", date(1984, 9, 9), 615))
    with pytest.raises(family.Refused, match="access.not_found"):
        family.request_access(session, account, kind="guardian_minor", insured_name="某某",
                              insured_id_number=people["李小明"].id_number, relationship=None, now=NOW, applicant=own)
    assert fresh_account(session, account.id).person_id is None
    assert session.scalar(select(func.count()).select_from(Person).where(Person.name == "李强")) == 0
    with pytest.raises(family.Refused, match="access.own_id"):
        family.request_access(session, account, kind="guardian_minor", insured_name="李小明",
                              insured_id_number=people["李小明"].id_number, relationship=None, now=NOW,
                              applicant=("李强", "310104198409096150"))
    with pytest.raises(family.Refused, match="access.self"):
        family.request_access(session, account, kind="guardian_minor", insured_name="李小明",
                              insured_id_number=people["李小明"].id_number, relationship=None, now=NOW,
                              applicant=("李小明", people["李小明"].id_number))
    grant = _ask_for_child(session, account, people, applicant=own)
    assert grant.status == "draft" and fresh_account(session, account.id).person.name == "李强"


def test_a_retake_sent_later_keeps_the_place_in_the_queue(session, world):
    accounts, people = world
    father = _newcomer(session)
    grant = _ask_for_child(session, father, people)
    _with_proofs(session, grant)
    grant = family.find(session, grant.public_id)
    family.mark_sent(session, grant, account=father, now=NOW)
    session.commit()
    family.mark_sent(session, family.find(session, grant.public_id), account=father, now=NOW + timedelta(days=1))
    session.commit()
    assert family.find(session, grant.public_id).submitted_at == NOW


def test_the_cron_command_ends_guardianships_and_texts_the_new_adult_in_chinese(app, session, world):
    from .web_helpers import CapturingSender, set_clock

    _accounts, people = world
    people["李小明"].mobile = "13900000018"
    session.commit()
    CapturingSender.sent.clear()
    app.config.update(SMS_BACKEND="tests.web_helpers:CapturingSender")
    birthday = family.adulthood(people["李小明"].birth_date)
    set_clock(app, datetime(birthday.year, birthday.month, birthday.day, tzinfo=timezone(timedelta(hours=8))))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["family-birthdays"])
    assert result.exit_code == 0 and "1 guardianship(s) ended, 1 invitation(s) sent" in result.output
    assert [m for m, _ in CapturingSender.sent] == ["13900000018"] and "18" in CapturingSender.sent[0][1]
    assert "监护人" in CapturingSender.sent[0][1]
    assert "0 guardianship(s) ended" in runner.invoke(args=["family-birthdays"]).output


@pytest.mark.parametrize("typed, until", [
    ("2027-05-31", date(2027, 6, 1)), ("2027/5/31", date(2027, 6, 1)), ("2027年5月31日", date(2027, 6, 1)),
    ("2027-12-31", date(2028, 1, 1)), ("", None), (None, None), ("  ", None),
])
def test_a_typed_last_day_becomes_the_first_day_without_access(typed, until):
    assert family.until_after(typed) == until
    assert family.last_day(until) == (until - timedelta(days=1) if until else None)


@pytest.mark.parametrize("typed", ["2027-02-30", "tomorrow", "9999-12-31", "2027-13-01", "20270531"])
def test_a_last_day_that_is_not_a_date_is_refused(typed):
    with pytest.raises(family.Refused, match="access.date"):
        family.until_after(typed)


def test_who_decides_for_themself(session, world):
    accounts, _people = world
    assert family.decides_for_self(session, accounts[demo.ADULT], TODAY)  # an adult insured
    assert not family.decides_for_self(session, accounts[demo.AGENT], TODAY)  # insured under no policy
    assert not family.decides_for_self(session, accounts[demo.REVIEWER], TODAY)  # no person at all
