"""The reused home page (views/fragments.py cached_page) never shows anything stale: a new application, a
read message, another language, another session's CSRF token or a one-time message each give a fresh page."""
from __future__ import annotations

import gzip
from datetime import timedelta


from .web_helpers import ADULT, NOW, attr_values, csrf_from, set_clock, sign_in

from .conftest import build_demo


def _home(client, **kw) -> str:
    response = client.get("/home", **kw)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_repeat_visit_is_the_same_page_and_gzip_is_honoured(app, client, session):
    build_demo(session, NOW)
    set_clock(app, NOW)
    sign_in(client, ADULT)
    first, second = _home(client), _home(client)
    assert first == second
    zipped = client.get("/home", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped.headers["Vary"]
    assert gzip.decompress(zipped.data).decode() == first


def test_an_application_and_a_read_message_show_at_once(app, client, session):
    build_demo(session, NOW)
    set_clock(app, NOW)
    sign_in(client, ADULT)
    before = _home(client)
    assert 'data-testid="unread-count"' in before
    client.post("/messages/read", data={"csrf_token": csrf_from(before)})
    after_read = _home(client)
    assert 'data-testid="unread-count"' not in after_read
    form = client.get("/apply/P003-DEMO-0002/remote_consultation").get_data(as_text=True)
    data = {"csrf_token": csrf_from(form), "request_key": "k-cache", "current_diagnosis": "肺癌",
            "questions": "是否需要手术", "treating_hospital": "中山医院"}
    assert client.post("/apply/P003-DEMO-0002/remote_consultation/confirm", data=data).status_code == 303
    after_apply = _home(client)  # the flash message is on this one
    again = _home(client)
    assert after_apply != before and again != after_read
    statuses = dict(zip(attr_values(again, "entitlement-card", "data-service"), attr_values(again, "card-status", "data-status")))
    assert statuses  # the card is now locked: its one use is held by the application
    assert "quota.in_progress" in again


def test_language_and_sessions_do_not_share_pages(app, client, session):
    build_demo(session, NOW)
    set_clock(app, NOW)
    sign_in(client, ADULT)
    zh = _home(client)
    client.post("/language", data={"csrf_token": csrf_from(zh), "locale": "en", "next": "/home"})
    en = _home(client)
    assert 'lang="en"' in en and 'lang="zh-CN"' in zh
    other = app.test_client()
    set_clock(app, NOW + timedelta(minutes=2))  # a new code for the same number after the 60-second wait
    sign_in(other, ADULT)
    theirs = _home(other)
    assert csrf_from(theirs) != csrf_from(zh)
    # each session's token works for its own session
    assert other.post("/messages/read", data={"csrf_token": csrf_from(theirs)}).status_code == 303
