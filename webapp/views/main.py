"""The landing page and a health check."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text, update

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
    return redirect(safe_next(request.form.get("next"), url_for("main.index")), code=303)


@bp.get("/healthz")
def healthz():
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
