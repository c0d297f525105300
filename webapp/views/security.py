"""Headers on every response, fragments and error pages included (SECURITY.md, "Requests and responses")."""
from __future__ import annotations

from flask import Flask, request
from flask_login import current_user

CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)


def init_app(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        if request.endpoint == "static" and response.direct_passthrough and response.status_code == 200:
            # A static file arrives as a stream, which flask-compress would answer without gzip (old WeChat
            # webviews know no zstd or brotli) and never close. Read it whole (it is small) and close it.
            response.direct_passthrough = False
            response.make_sequence()
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.vary.add("HX-Request")
        response.vary.add("Cookie")
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if getattr(current_user, "is_authenticated", False) and "private" not in response.headers.get("Cache-Control", ""):
            response.headers["Cache-Control"] = "no-store"  # a view may allow the browser's own cache (thumbnails)
        return response
