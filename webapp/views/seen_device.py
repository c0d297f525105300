"""Which numbers have signed in from this device: a long-lived signed cookie holding keyed hashes of them (never
a number itself), set after each successful sign-in. A number the device has seen gets its code without the
person-check and asks for codes within an allowance of its own (issue 17 items 1 and 4)."""
from __future__ import annotations

import hashlib
import hmac

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

MAX_AGE = 365 * 24 * 3600  # a year; it lets nobody in, it only spares a known phone the question
MAX_NUMBERS = 5  # a family phone that a few people sign in from


def _cookie_name() -> str:
    # __Host-: only over HTTPS, for this host and path / alone (production sets SESSION_COOKIE_SECURE).
    return "__Host-seen" if current_app.config.get("SESSION_COOKIE_SECURE") else "seen"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="seen-numbers")


def digest(mobile: str) -> str:
    """A keyed hash of a number: the same on every request, useless to anyone without the secret key."""
    key = str(current_app.secret_key).encode()
    return hmac.new(key, f"seen-number:{mobile}".encode(), hashlib.sha256).hexdigest()[:24]


def digests() -> list[str]:
    raw = request.cookies.get(_cookie_name())
    if not raw:
        return []
    try:
        value = _serializer().loads(raw, max_age=MAX_AGE)
    except BadSignature:
        return []
    return [d for d in value if isinstance(d, str)][:MAX_NUMBERS] if isinstance(value, list) else []


def has_seen(mobile: str) -> bool:
    return digest(mobile) in digests()


def remember(response, mobile: str):
    """Add `mobile` to the device's list (newest first); meant for after_this_request."""
    seen = [digest(mobile)] + [d for d in digests() if d != digest(mobile)]
    response.set_cookie(_cookie_name(), _serializer().dumps(seen[:MAX_NUMBERS]), max_age=MAX_AGE, path="/",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")), httponly=True, samesite="Lax")
    return response


__all__ = ["digest", "digests", "has_seen", "remember"]
