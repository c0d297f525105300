"""A translated page (or fragment) for every error; never a traceback; the session rolled back."""
from __future__ import annotations

from flask import Flask, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from ..extensions import db


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error):
        actor = getattr(current_user, "id", None) if getattr(current_user, "is_authenticated", False) else None
        app.logger.warning("csrf failure path=%s actor=%s ip=%s", request.path, actor, request.remote_addr)
        return _render(400, "csrf")

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(error):
        # Werkzeug answers 413 both for a body over the limit and for a form of more than MAX_FORM_PARTS parts
        # (or one over-long field) within it: only the first is "a file too large".
        limit, length = request.max_content_length, request.content_length
        return _render(413, "too_large" if length is None or limit is None or length > limit else "form_parts")

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
    template = "errors/_error.html" if request.htmx else "errors/error.html"
    return render_template(template, status=status, kind=kind), status
