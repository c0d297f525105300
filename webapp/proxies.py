"""A reverse proxy's header seen while TRUSTED_PROXIES is 0 (issue 16 item 4).

Behind a load balancer with TRUSTED_PROXIES=0 every customer has the balancer's address: one IP's sign-in limit
then refuses everyone after 20 code requests an hour, and the audit log names the balancer. Starting cannot see a
request's headers, so the app does not refuse to start: in production the first request that carries such a header
logs an ERROR (once per process) and /healthz reports a warning from then on, until TRUSTED_PROXIES is set.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, request

log = logging.getLogger("lvtong.security")

HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")
_SEEN = "proxy_header_seen"  # app.extensions key: the header's name, once one has been seen


def watch(app: Flask) -> None:
    """Look for a proxy's header on each request while no proxy is trusted (a dict look-up once one was seen)."""
    if not app.config.get("TRUSTED_PROXIES"):
        app.before_request(_look)


def _look() -> None:
    app = current_app._get_current_object()
    if _SEEN in app.extensions or app.config.get("ENV_MODE") != "production":
        return
    name = next((h for h in HEADERS if h in request.headers), None)
    if name is None:
        return
    app.extensions[_SEEN] = name
    log.error("%s seen but TRUSTED_PROXIES=0: every client has the proxy's address (per-IP limits refuse everyone, "
              "the audit log names the proxy); set TRUSTED_PROXIES to the number of proxies in front", name)


def warnings(app: Flask) -> list[str]:
    """What /healthz reports about the proxy setting: empty while nothing is wrong."""
    name = app.extensions.get(_SEEN)
    return [f"{name} seen but TRUSTED_PROXIES=0: set TRUSTED_PROXIES"] if name else []
