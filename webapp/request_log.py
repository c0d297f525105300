"""A request id on every log line of a request, and on its response (issue 16 item 5: structured logs).

Each request gets an id: the one the reverse proxy sent in `X-Request-ID` when a proxy is trusted (TRUSTED_PROXIES,
e.g. nginx's `proxy_set_header X-Request-ID $request_id;`) and it looks like an id, else a fresh random one. It is
sent back in the response's `X-Request-ID` (a customer quoting it finds their request's lines), set on every log
record made while the request runs (`record.request_id`, "-" outside a request), and gunicorn's access line shows it
(gunicorn.conf.py). In production the app logs JSON lines to stderr, one object per record:
`{"time", "level", "logger", "message", "request_id"[, "exception"]}`; elsewhere the logging setup is left alone.
"""
from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from datetime import datetime, timezone

from flask import Flask, current_app, g, has_request_context, request

HEADER = "X-Request-ID"
_SANE = re.compile(r"[A-Za-z0-9._:-]{8,128}")  # nginx's $request_id is 32 hex; no spaces, quotes or controls
_ATTR = "_lvtong_request_id"


def init_app(app: Flask) -> None:
    app.before_request(_assign)
    app.after_request(_answer)
    install()
    if app.config.get("ENV_MODE") == "production" and not app.testing:
        use_json_lines()


def current() -> str:
    """This request's id, or "-" outside a request."""
    if has_request_context():
        return g.get("request_id") or "-"
    return "-"


def _assign() -> None:
    sent = request.headers.get(HEADER, "")
    trusted = bool(current_app.config.get("TRUSTED_PROXIES"))
    g.request_id = sent if trusted and _SANE.fullmatch(sent) else secrets.token_hex(16)


def _answer(response):
    response.headers[HEADER] = current()
    return response


def install() -> None:
    """Give every log record of this process a `request_id` (wrapping whatever record factory is set: call it after
    logsafe.install; idempotent)."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, _ATTR, False):
        return

    def factory(*args, **kwargs):
        record = previous(*args, **kwargs)
        record.request_id = current()
        return record

    setattr(factory, _ATTR, True)
    logging.setLogRecordFactory(factory)


class JsonLines(logging.Formatter):
    """One JSON object per record, on one line (a traceback is a string field, its line breaks escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def use_json_lines(stream=None) -> logging.Handler:
    """Send the app's records (INFO and up) to stderr as JSON lines, once per process."""
    root = logging.getLogger()
    for handler in root.handlers:
        if isinstance(handler.formatter, JsonLines):
            return handler
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLines())
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    return handler
