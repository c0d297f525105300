"""Memoised rendering of the home page: its policy sections, and the whole page for a repeat visit.

A section's HTML is a pure function of its card data and the language: the rules run on every request
(nothing stale is ever shown), and only the templating of an unchanged section is skipped. The key is the
data itself, so there is nothing to invalidate; the cache is bounded and per process.
"""
from __future__ import annotations

import gzip
import threading
import time
from collections import OrderedDict

from flask import Response, render_template, request
from markupsafe import Markup

from ..services.home.cards import PolicyCards

_LIMIT = 2048
_cache: OrderedDict[tuple, Markup] = OrderedDict()
_lock = threading.Lock()


def _key(pc: PolicyCards, locale: str, viewer: int | None) -> tuple:
    p = pc.policy
    cards = tuple(
        (c.service.code, c.available, tuple((r.key, r.until, tuple(sorted(r.params.items()))) for r in c.reasons), c.quota,
         c.left, c.in_progress, c.period_start, c.period_last_day, c.resets_on, c.promise_by, c.promise_from_slip,
         c.held_by)
        for c in pc.cards
    )
    ended = (pc.ended.key, pc.ended.until) if pc.ended else None
    # The viewer matters only where a card names who holds a use ("your application" or someone else's).
    held = viewer if any(c.held_by for c in pc.cards) else None
    return (locale, held, p.id, p.number, p.effective_date, p.expiry_date, pc.product.code, ended, pc.can_apply, cards)


def policy_html(pc: PolicyCards, locale: str, viewer: int | None = None) -> Markup:
    key = _key(pc, locale, viewer)
    with _lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    # The output of an autoescaped template.
    html = Markup(render_template("portal/_policy.html", policy_cards=pc))  # nosec B704
    with _lock:
        _cache[key] = html
        while len(_cache) > _LIMIT:
            _cache.popitem(last=False)
    return html



PAGE_TTL = 600.0  # seconds; far inside the CSRF token's 4-hour life, which a cached page carries
PAGE_LIMIT = 256  # pages of ~40 KB (HTML and gzip): about 10 MB per worker at most
_pages: OrderedDict[tuple, tuple[float, str, bytes]] = OrderedDict()


def cached_page(key: tuple, render) -> Response:
    """The page for `key`, rendered again when its inputs changed (they are in the key) or it is 10 minutes old.
    Kept gzipped too, so a repeat visit costs neither the template nor the compression."""
    now = time.monotonic()
    with _lock:
        found = _pages.get(key)
    if found is None or now - found[0] >= PAGE_TTL:
        html = render()
        found = (now, html, gzip.compress(html.encode(), compresslevel=6, mtime=0))
        with _lock:
            _pages[key] = found
            _pages.move_to_end(key)
            while len(_pages) > PAGE_LIMIT:
                _pages.popitem(last=False)
    if request.accept_encodings["gzip"]:
        response = Response(found[2], mimetype="text/html")
        response.headers["Content-Encoding"] = "gzip"  # flask-compress leaves an encoded response alone
        response.vary.add("Accept-Encoding")
        return response
    return Response(found[1], mimetype="text/html")


def clear() -> None:
    """Forget every rendered section and page (tests start each from nothing; nothing else needs it)."""
    with _lock:
        _cache.clear()
        _pages.clear()
