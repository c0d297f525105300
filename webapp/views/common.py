"""What every view needs: the clock, the caller's IP, rendering a page or its htmx fragment, safe redirects."""
from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import abort, current_app, render_template, request, session
from flask_login import current_user
from jinja2_fragments.flask import render_block

from ..extensions import db
from ..input_guard import DB_INT_MAX
from ..services import audit
from ..services.clock import require_aware, utc_now


def now() -> datetime:
    """The server clock. Tests (and the browser tests' "move the clock") replace it with app.config["CLOCK"]."""
    clock = current_app.config.get("CLOCK")
    return require_aware(clock() if clock else utc_now(), "CLOCK()")


def login_is_fresh(max_age: timedelta = timedelta(minutes=15)) -> bool:
    """Whether the person signed in (or confirmed it was them) within `max_age` (SECURITY.md: a fresh login to
    view ID documents)."""
    started = session.get("login_at")
    try:
        return started is not None and now() - datetime.fromisoformat(started) <= max_age
    except (TypeError, ValueError):
        return False


def refuse(target: str, *, status: int = 404, subject_person_id: int | None = None):
    """Answer `status` (404: not entitled, so nothing to see; 403: a staff route) and put the attempt in the log
    and the audit trail (SECURITY.md, Logs: refused access with time, actor, subject and IP). Never returns."""
    current_app.logger.warning("refused access account=%s target=%s ip=%s", current_user.id, target, client_ip())
    audit.record_view(db.session, "access.refused", now=now(), actor_id=current_user.id,
                      subject_person_id=subject_person_id, target=target, ip=client_ip())
    abort(status)


def bounded_int(text: str | None, *, low: int = 0, high: int = DB_INT_MAX) -> int | None:
    """A whole number typed in a form or query string, within [low, high], else None. ASCII digits only (int()
    refuses "²" that str.isdigit() accepts) and never a 5,000-digit parse: a number ≥ 2^63 once answered 500."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(high)):
        return None
    number = int(text)
    return number if low <= number <= high else None


def client_ip() -> str | None:
    return request.remote_addr


def page_or_fragment(template: str, block: str, **context):
    """The whole page for a normal request (works without JavaScript); only `block` for an htmx request."""
    if request.htmx:
        return render_block(template, block, **context)
    return render_template(template, **context)


def safe_next(target: str | None, default: str) -> str:
    """A local path to return to after sign-in; anything else (another host, //evil, javascript:) is dropped."""
    if not target or any(ord(c) < 32 or ord(c) == 127 for c in target):  # urlsplit drops tabs and newlines
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target
