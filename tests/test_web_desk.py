"""A phone application through the web (issue 18 item 4; seed 003 line 488: "如您通过客服电话申请，客服将发送申请短信
链接"): the coordinator finds 张伟 and applies for an expert visit on P003-DEMO-0002; the SMS (log backend) carries the
link; the link alone shows nothing medical, signs in with a code for 张伟's number only, once, and opens the papers.
An application that asks for no papers (the escort) gets a plain confirmation instead of a link."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from webapp.models import Booking, DeskLink
from webapp.services.demo import demo

from .conftest import build_demo
from .web_helpers import ADULT, NOW, OTHER, csrf_from, demo_code, fresh, set_clock, sign_in, text_of

POLICY = "P003-DEMO-0002"
ESCORT = {"city": "上海", "hospital": "复旦大学附属中山医院", "department": "肿瘤内科", "meeting_at": "2026-11-30T09:00",
          "meeting_point": "门诊楼一楼大厅"}
ESCORT_FORM = f"/staff/desk/apply?policy={POLICY}&service=escort_outpatient"
EXPERT = {"city": "上海", "hospital": "复旦大学附属中山医院", "department": "肿瘤内科", "preferred_date_1": "2026-11-30"}
FORM = f"/staff/desk/apply?policy={POLICY}&service=expert_outpatient"


@pytest.fixture()
def world(app, session):
    build_demo(session, NOW)
    set_clock(app, NOW)
    return session


def signed_in(app, mobile):
    client = app.test_client()
    sign_in(client, mobile)
    return client


def phone_application(app, caplog) -> tuple[str, str]:
    """The coordinator's whole call: find, form, send. Returns (reference, the link texted)."""
    desk = signed_in(app, demo.COORDINATOR)
    found = desk.post("/staff/desk/find", data={"csrf_token": csrf_from(desk.get("/staff/desk").get_data(as_text=True)),
                                                "q": ADULT}).get_data(as_text=True)
    assert "张伟" in found and f'href="{FORM.replace("&", "&amp;")}"' in found
    page = desk.get(FORM).get_data(as_text=True)
    assert "138****0001" in page
    with caplog.at_level("INFO", logger="lvtong.sms.dev"):
        sent = desk.post(FORM, data={**EXPERT, "request_key": "rk-phone", "csrf_token": csrf_from(page)})
    assert sent.status_code == 303
    reference = sent.headers["Location"].rsplit("/", 1)[1]
    texts = [r.getMessage() for r in caplog.records if r.name == "lvtong.sms.dev" and "/l/" in r.getMessage()]
    assert len(texts) == 1 and "138****0001" in texts[0]
    link = re.search(r"https?://[^/\s]+(/l/[A-Za-z0-9_-]{43,})", texts[0]).group(1)
    return reference, link


def test_the_desk_applies_and_the_caller_signs_in_once_from_the_link(app, world, caplog):
    reference, link = phone_application(app, caplog)
    booking = fresh(world).scalar(select(Booking).where(Booking.reference == reference))
    assert booking.state == "applied" and booking.policy.number == POLICY and booking.transitions[0].actor_role == "staff"
    phone = app.test_client()
    opened = phone.get(link)
    html = opened.get_data(as_text=True)
    assert opened.status_code == 200 and "138****0001" in html
    for medical in ("张伟", reference, "复旦", "肿瘤", "陪诊", "escort", POLICY):
        assert medical not in html, medical
    coded = phone.post(link, data={"csrf_token": csrf_from(html)})
    code = demo_code(coded.get_data(as_text=True))
    wrong = phone.post(link + "/sign-in", data={"csrf_token": csrf_from(coded.get_data(as_text=True)), "code": "000000"})
    assert wrong.status_code == 422 and world.scalar(select(DeskLink.used_at)) is None
    landed = phone.post(link + "/sign-in", data={"csrf_token": csrf_from(coded.get_data(as_text=True)), "code": code})
    assert landed.status_code == 303 and landed.headers["Location"] == f"/bookings/{reference}/papers"
    assert phone.get(landed.headers["Location"]).status_code == 200
    assert fresh(world).scalar(select(DeskLink.used_at)) is not None
    assert phone.get(link).status_code == 404  # spent: even for its own account
    detail = text_of(phone.get(f"/bookings/{reference}").get_data(as_text=True))
    assert "Submitted for you by the service desk (phone application)" in detail or "由客服代为提交" in detail


def test_the_link_is_404_to_anyone_else_and_once_expired(app, world, caplog):
    _, link = phone_application(app, caplog)
    stranger = signed_in(app, OTHER)
    assert stranger.get(link).status_code == 404
    assert stranger.post(link, data={"csrf_token": csrf_from(stranger.get("/home").get_data(as_text=True))}).status_code == 404
    assert app.test_client().get(link[:-1] + ("A" if link[-1] != "A" else "B")).status_code == 404
    set_clock(app, NOW.replace(day=26, hour=10, minute=1))  # 72 h and a minute later
    assert app.test_client().get(link).status_code == 404


@pytest.mark.parametrize("mobile, status", [(demo.REVIEWER, 403), (demo.ADMIN, 200), (demo.COORDINATOR, 200)])
def test_coordinators_and_admins_take_phone_applications(app, world, mobile, status):
    client = signed_in(app, mobile)
    assert client.get("/staff/desk").status_code == status
    assert ('data-testid="nav-desk"' in client.get("/staff/").get_data(as_text=True)) is (status == 200)


def test_a_bad_query_says_why_and_echoes_nothing(app, world):
    desk = signed_in(app, demo.COORDINATOR)
    response = desk.post("/staff/desk/find", data={"csrf_token": csrf_from(desk.get("/staff/desk").get_data(as_text=True)),
                                                   "q": "11010519800101101"})
    assert response.status_code == 422 and "11010519800101101" not in response.get_data(as_text=True)


def test_an_escort_needs_no_papers_so_the_caller_gets_a_confirmation_not_a_link(app, world, caplog):
    desk = signed_in(app, demo.COORDINATOR)
    page = desk.get(ESCORT_FORM).get_data(as_text=True)
    caplog.clear()  # the coordinator's own sign-in code may be there already, when an earlier test left INFO on
    with caplog.at_level("INFO", logger="lvtong.sms.dev"):
        sent = desk.post(ESCORT_FORM, data={**ESCORT, "request_key": "rk-escort", "csrf_token": csrf_from(page)})
    assert sent.status_code == 303
    texts = [r.getMessage() for r in caplog.records if r.name == "lvtong.sms.dev"]
    assert len(texts) == 1 and "/l/" not in texts[0] and "138****0001" in texts[0]
    assert fresh(world).scalar(select(DeskLink)) is None
