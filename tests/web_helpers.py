"""Helpers for the web tests: sign in like a browser (CSRF on), read tokens and test ids, snapshot the database."""
from __future__ import annotations

import re
from html import unescape
from urllib.parse import quote

from sqlalchemy import func, select

from webapp.models import (
    AuditEvent, Booking, BookingTransition, DocumentPage, Entitlement, LoginSession, Notification, Policy, RateHit, SignInCode,
)

from .conftest import at

NOW = at(2026, 11, 23, 10, 0)  # a Monday, China time

ADULT, PARENT, OTHER = "13800000001", "13800000002", "13800000003"

_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
_CODE = re.compile(r'data-testid="demo-code">(\d{6})<')
_QUESTION = re.compile(r'data-testid="human-check">\s*<label[^>]*>([^<]*)</label>')


def set_clock(app, moment) -> None:
    app.config["CLOCK"] = lambda: moment


def csrf_from(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1)


def csrf_token(client, path: str = "/sign-in") -> str:
    """A CSRF token as a browser gets it: from a page's form."""
    response = client.get(path, follow_redirects=True)
    return csrf_from(response.get_data(as_text=True))


def demo_code(html: str) -> str | None:
    match = _CODE.search(html)
    return match.group(1) if match else None


def human_answer(html: str) -> dict:
    """The answer to the sign-in page's question for a person, worked out as a person would: the two numbers in
    the question (data-testid="human-check"), added. Empty when the page asks none."""
    match = _QUESTION.search(html)
    if not match:
        return {}
    a, b = map(int, re.findall(r"\d+", unescape(match.group(1))))
    return {"human_answer": str(a + b)}


def request_code(client, mobile: str, **kw):
    page = client.get("/sign-in").get_data(as_text=True)
    form = {"csrf_token": csrf_from(page), "mobile": mobile, **human_answer(page), **kw.pop("data", {})}
    return client.post("/sign-in", data=form, **kw)


def sign_in(client, mobile: str, *, next: str | None = None, follow: bool = False):
    """GET /sign-in, POST the number, read the demo code, POST /sign-in/verify. Returns the verify response."""
    page = client.get("/sign-in" + (f"?next={quote(next, safe='/')}" if next else ""))
    assert page.status_code == 200, page.status_code
    token = csrf_from(page.get_data(as_text=True))
    form = {"csrf_token": token, "mobile": mobile}
    if next:
        form["next"] = next
    sent = client.post("/sign-in", data={**form, **human_answer(page.get_data(as_text=True))})
    if sent.status_code == 422 and human_answer(sent.get_data(as_text=True)):
        # A device that signed in before with another number is asked only now, for this one.
        html = sent.get_data(as_text=True)
        sent = client.post("/sign-in", data={**form, "csrf_token": csrf_from(html), **human_answer(html)})
    html = sent.get_data(as_text=True)
    assert sent.status_code == 200, (sent.status_code, html)
    code = demo_code(html)
    assert code, "no demo code on the page"
    form["code"] = code
    form["csrf_token"] = csrf_from(html)
    response = client.post("/sign-in/verify", data=form, follow_redirects=follow)
    if not follow:
        assert response.status_code == 302, (response.status_code, response.get_data(as_text=True))
    return response


def testids(html: str, name: str) -> list[str]:
    return re.findall(rf'data-testid="{name}"', html)


def attr_values(html: str, testid: str, attr: str) -> list[str]:
    """Values of `attr` on elements with data-testid=`testid` (attribute after the test id, as templates write it)."""
    out = []
    for tag in re.findall(rf'<[^>]*data-testid="{testid}"[^>]*>', html):
        match = re.search(rf'\b{attr}="([^"]*)"', tag)
        if match:
            out.append(unescape(match.group(1)))
    return out


def element(html: str, marker: str) -> str:
    """The whole element whose opening tag contains `marker` (e.g. 'data-testid="timeline"'), nested tags of the
    same name included."""
    start = html.index(marker)
    open_at = html.rfind("<", 0, start)
    tag = re.match(r"<(\w+)", html[open_at:]).group(1)
    depth = 0
    for match in re.compile(rf"<(/?){tag}\b[^>]*>").finditer(html, open_at):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return html[open_at:match.end()]
    raise AssertionError(f"unclosed <{tag}> at {marker}")


def block(html: str, testid: str) -> str:
    return element(html, f'data-testid="{testid}"')


def card(html: str, policy: str, service: str) -> str:
    """One entitlement card of the home page."""
    return element(html, f'data-service="{service}" data-policy="{policy}"')


def text_of(fragment: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def fresh(session):
    """End the test session's transaction (a SQLite snapshot would hide what requests wrote since) and forget
    loaded objects, so the next read sees the database as it is now."""
    session.commit()
    session.expire_all()
    return session


def booking(session, reference: str) -> Booking:
    fresh(session)
    return session.scalar(select(Booking).where(Booking.reference == reference))


def booking_of(session, policy_number: str, service_code: str) -> Booking:
    fresh(session)
    rows = [b for b in session.scalars(select(Booking).join(Policy).where(Policy.number == policy_number))
            if b.service.code == service_code]
    assert len(rows) == 1, rows
    return rows[0]


def snapshot(session) -> dict:
    """Everything a state-changing request could touch, by value."""
    fresh(session)
    return {
        "bookings": sorted((b.id, b.state, b.starts_at, b.closed_at, b.updated_at, b.applicant_account_id)
                           for b in session.scalars(select(Booking))),
        "entitlements": sorted((e.id, e.held, e.used) for e in session.scalars(select(Entitlement))),
        "transitions": session.scalar(select(func.count()).select_from(BookingTransition)),
        "notifications_unread": session.scalar(select(func.count()).select_from(Notification)
                                               .where(Notification.read_at.is_(None))),
        "notifications": session.scalar(select(func.count()).select_from(Notification)),
        "pages": sorted((p.public_id, p.status) for p in session.scalars(select(DocumentPage))),
    }


def counts(session) -> dict:
    fresh(session)
    return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (Booking, Entitlement, BookingTransition, Notification, AuditEvent, SignInCode, LoginSession,
                          RateHit)}


class CapturingSender:
    """SMS_BACKEND = "tests.web_helpers:CapturingSender": keeps the texts instead of sending them."""

    sent: list[tuple[str, str]] = []

    def __init__(self, config=None):
        pass

    def send(self, mobile: str, text: str) -> None:
        CapturingSender.sent.append((mobile, text))


def use_english(client) -> None:
    token = csrf_token(client, "/")
    response = client.post("/language", data={"csrf_token": token, "locale": "en", "next": "/"})
    assert response.status_code == 303
