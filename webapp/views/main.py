"""The landing page, the help page, the language and care-mode switches, and a health check."""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, after_this_request, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from .. import proxies
from ..config import LOCALES
from ..extensions import db
from ..i18n import gettext as _
from ..services.booking import notifications
from ..services.papers.storage import StorageError
from ..services.products.catalog import default_catalog
from ..services.products.hotlines import application_lines, held_products, product_hotlines
from . import acting
from .common import safe_next
from .papers import storage

bp = Blueprint("main", __name__)
health_log = logging.getLogger("lvtong.health")


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
            notifications.remember_locale(db.session, current_user.id, chosen)
    return redirect(_page_to_return_to(request.form.get("next")), code=303)


CARE_MAX_AGE = 2 * 365 * 24 * 3600  # 关怀模式 sticks on this phone for two years (issue 15 item 11: "a switch that sticks")


def _care_cookie() -> str:
    # __Host-: only over HTTPS, for this host and path / alone (production sets SESSION_COOKIE_SECURE).
    return "__Host-care" if current_app.config.get("SESSION_COOKIE_SECURE") else "care"


@bp.app_template_global()
def care_on() -> bool:
    """Whether 关怀模式 (larger text, larger targets, stronger contrast) is on for this browser. It changes every page,
    so a whole-page cache must have it in its key."""
    return request.cookies.get(_care_cookie()) == "1"


@bp.post("/care")
def set_care():
    """Turn 关怀模式 on or off; kept in a long-lived cookie on this phone (before and after sign-in alike), not in
    the account: an older person's own phone stays in large print whoever signs in on it."""
    chosen = request.form.get("care")
    if chosen not in ("on", "off"):
        flash(_("Please choose to turn care mode on or off."), "error")
    else:
        def keep(response):
            response.set_cookie(_care_cookie(), "1" if chosen == "on" else "0", max_age=CARE_MAX_AGE, path="/",
                                secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")), httponly=True,
                                samesite="Lax")
            return response

        after_this_request(keep)
        flash(_("Care mode is on: larger text and buttons.") if chosen == "on" else _("Care mode is off."))
    return redirect(_page_to_return_to(request.form.get("next")), code=303)


@bp.get("/help")
def help_page():
    """Whom to call: signed in, the lines of every product the customer holds and of the person they act for;
    otherwise every product's hotline. Calling is one tap (tel: buttons)."""
    catalog = default_catalog()
    people = []
    if current_user.is_authenticated and not current_user.is_staff:
        me = next((p for p in acting.represented() if p.standing.relation == "self"), None)
        chosen = acting.current()
        wanted = [p for p in (me, chosen) if p is not None]
        if len(wanted) == 2 and wanted[0].person_id == wanted[1].person_id:
            wanted.pop()
        held = held_products(db.session, catalog, [p.person_id for p in wanted])
        people = [(p, [product_hotlines(product) for product in held[p.person_id]]) for p in wanted if p.person_id in held]
    return render_template("main/help.html", people=people, lines=application_lines(catalog))


HEALTH_STATEMENT_TIMEOUT_MS = 2000  # a database that answers slower than this is reported down (connecting: db.py)


@bp.get("/healthz")
def healthz():
    """For the load balancer: 200 when the database answers `SELECT 1` and the page store can be read and written
    (services/papers/storage.py `check`), else 503 naming what failed, each check bounded by a few seconds. The proxy
    warning (proxies.py) rides along without failing the server. Why a check failed goes to the log, not out."""
    failed = [name for name, check in (("database", _database_answers), ("store", _store_usable)) if not check()]
    body = {"status": "unavailable", "failed": failed} if failed else {"status": "ok"}
    warnings = proxies.warnings(current_app)
    if warnings:
        body["warnings"] = warnings
    return body, 503 if failed else 200


def _database_answers() -> bool:
    try:
        if db.session.get_bind().dialect.name == "postgresql":
            db.session.execute(text(f"SET LOCAL statement_timeout = {HEALTH_STATEMENT_TIMEOUT_MS}"))
        db.session.execute(text("SELECT 1"))
        return True
    except SQLAlchemyError:
        health_log.error("health check: the database does not answer", exc_info=True)
        return False
    finally:
        db.session.rollback()


def _store_usable() -> bool:
    try:
        storage().check()
        return True
    except (StorageError, ValueError):
        health_log.error("health check: the page store is not usable", exc_info=True)
        return False


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
