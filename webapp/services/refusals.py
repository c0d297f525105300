"""One refusal for every rule: the service did nothing and changed nothing, and says why with a stable key.

Usage:
    raise Refused("access.self")                       # key: "subject.reason", a key of views/refusal_text.py
    raise Refused("photo.too_large", max_mb=15)        # params: the values its sentence needs (dates, numbers)
    except Refused as refused: refused.key, refused.params
Views word it with `refusal_text.say(refused, reader=...)` or let `refusal_text.attempt(...)` catch and flash it.
The older classes (family.Refused, documents.DocumentRefused, …) are subclasses, so either may be caught.
"""
from __future__ import annotations


class Refused(Exception):
    """Not done, and nothing changed. `key`: a stable translation key; `params`: the values its sentence needs."""

    def __init__(self, key: str, **params):
        super().__init__(key)
        self.key = key
        self.params = params

    @property
    def reason(self) -> str:
        """The older spelling of `key`, still read by some tests."""
        return self.key

    def __str__(self) -> str:
        return f"{self.key} {self.params}" if self.params else self.key
