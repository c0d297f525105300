"""A translated page (or fragment) for every error; never a traceback; the session rolled back."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..extensions import db


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error):
        actor = getattr(current_user, "id", None) if getattr(current_user, "is_authenticated", False) else None
        app.logger.warning("csrf failure path=%s actor=%s ip=%s", request.path, actor, request.remote_addr)
        return _render(400, "csrf")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        return _render(error.code or 500, "http")

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        app.logger.exception("unhandled error on %s", request.path)
        return _render(500, "unexpected")


def _render(status: int, kind: str):
    try:
        db.session.rollback()
    except Exception:  # the database itself may be what failed
        pass
    template = "errors/_error.html" if request.headers.get("HX-Request") else "errors/error.html"
    return render_template(template, status=status, kind=kind), status
