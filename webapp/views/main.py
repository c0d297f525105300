"""The landing page and a health check."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text, update
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from ..config import LOCALES
from ..db import write_transaction
from ..extensions import db
from ..models import Account
from .common import safe_next

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    if current_user.is_authenticated:
        return redirect(url_for("portal.home"))
    return render_template("main/index.html")


@bp.post("/language")
def set_language():
    """Switch language; the choice sticks for the session (a form, so it works without JavaScript)."""
    chosen = request.form.get("locale")
    if chosen in LOCALES:
        session["locale"] = chosen
        if current_user.is_authenticated:  # messages sent later (SMS, reminders) use it too
            with write_transaction(db.session):
                db.session.execute(update(Account).where(Account.id == current_user.id).values(locale=chosen))
    return redirect(_page_to_return_to(request.form.get("next")), code=303)


@bp.get("/healthz")
def healthz():
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}


# Pages shown in answer to a posted form have no GET; the switch returns to the form's own page instead.
_FORM_PAGES = {"auth.verify": "auth.sign_in", "apply.confirm": "apply.start"}


def _page_to_return_to(target: str | None) -> str:
    """The page the switch was pressed on, when it can be shown again (a wrong code is shown at /sign-in/verify,
    which only answers POST: going back there would be a 405)."""
    path = safe_next(target, url_for("main.index"))
    adapter = current_app.url_map.bind("")
    try:
        adapter.match(urlsplit(path).path, method="GET")
        return path
    except MethodNotAllowed:
        endpoint, args = adapter.match(urlsplit(path).path, method="POST")
        return url_for(_FORM_PAGES[endpoint], **args) if endpoint in _FORM_PAGES else url_for("main.index")
    except HTTPException:
        return url_for("main.index")
