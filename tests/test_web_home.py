"""The home through the web client (issue 15 items 1, 2 and 9): the strip's words follow the clock through the
whole-page cache, a card names whose application holds its use and which services share it, and an empty strip
says so in one line. The demo world at Monday 23 Nov 2026 10:00 (services/demo/demo.py)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from webapp.services.demo import demo

from .conftest import build_demo
from .web_helpers import NOW, block, card, set_clock, sign_in, text_of

WANG_POLICY = "P001-DEMO-0006"  # 001: the expert visit and the admission share one use (catalog pool green_channel)


@pytest.fixture()
def world(app, session):
    build_demo(session, NOW)
    set_clock(app, NOW)
    return app


def home(client) -> str:
    response = client.get("/home")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_strip_moves_with_the_clock_through_the_page_cache(world, client):
    sign_in(client, demo.ADULT)
    car = block(home(client), "today-when")  # the first appointment: the car pickup at 13:00
    assert "今天 13:00" in text_of(car) and "3小时后" in text_of(car)
    assert "3小时后" in text_of(block(home(client), "today-when"))  # the same minute: the kept page
    set_clock(world, NOW + timedelta(hours=1, minutes=1))
    assert "2小时后" in text_of(block(home(client), "today-when"))


def test_a_card_names_whose_application_holds_its_use(world, client):
    sign_in(client, demo.OTHER)  # 王芳 applied for her expert visit herself
    mine = text_of(block(card(home(client), WANG_POLICY, "expert_outpatient"), "card-status"))
    assert "已被您的申请占用" in mine
    agent = world.test_client()
    sign_in(agent, demo.AGENT)  # her daughter 周婷, acting for her, reads whose it is
    theirs = text_of(block(card(home(agent), WANG_POLICY, "expert_outpatient"), "card-status"))
    assert "已被王芳的申请占用" in theirs and "您的" not in theirs


def test_services_sharing_one_use_say_so(world, client):
    sign_in(client, demo.OTHER)
    html = home(client)
    admission = text_of(block(card(html, WANG_POLICY, "inpatient"), "shares-use"))
    assert "专家门诊" in admission and "共用" in admission
    assert "共用" in text_of(block(card(html, WANG_POLICY, "expert_outpatient"), "shares-use"))


def test_nothing_to_do_is_one_line(world, client):
    sign_in(client, demo.PARENT)  # acting for 李小明: his visit is approved and being arranged
    html = home(client)
    assert text_of(block(html, "today-empty")) == "今天没有需要您处理的事。"
    assert 'data-testid="today-item"' not in html
