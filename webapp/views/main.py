"""The landing page and a health check."""
from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from ..config import LOCALES
from ..extensions import db
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
        if current_user.is_authenticated:
            current_user.locale = chosen  # messages sent later (SMS, reminders) use it too
            db.session.commit()
    return redirect(safe_next(request.form.get("next"), url_for("main.index")), code=303)


@bp.get("/healthz")
def healthz():
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
