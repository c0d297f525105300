"""A question a person answers before a code is texted to a number this device has not signed in with (issue 17
item 4: SMS pumping; ASVS 2.2.x anti-automation).

A sum of two numbers under ten, put on the page by the server: it needs no JavaScript and no third-party script,
so it works inside WeChat's browser and for a person reading it aloud. A determined bot can read it too; what it
buys is that sending a code to a new number costs a page load, a question and a form per number, and the budgets
in signin.request_code cap what is left. The answer stays in the database; the session holds only a random
token. Each question answers once: right or wrong, it is spent, and expires after ten minutes anyway.
"""
from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from ...db import write_transaction
from ...models import HumanCheck
from ..clock import require_aware

QUESTION_TTL = timedelta(minutes=10)
_CHINESE_DIGITS = {c: n for n, c in enumerate("零一二三四五六七八九")}


@dataclass(frozen=True)
class Question:
    token: str  # for the session; only its hash is stored
    a: int
    b: int


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def ask(session: Session, *, now: datetime) -> Question:
    """A new question (and old ones that expired over an hour ago are cleared away)."""
    require_aware(now, "now")
    a, b = 1 + secrets.randbelow(9), 1 + secrets.randbelow(9)
    token = secrets.token_urlsafe(24)
    with write_transaction(session):
        session.execute(delete(HumanCheck).where(HumanCheck.expires_at < now - timedelta(hours=1)))
        session.add(HumanCheck(token_hash=_token_hash(token), answer=a + b, created_at=now, expires_at=now + QUESTION_TTL))
    return Question(token, a, b)


def read_number(text: str | None) -> int | None:
    """What a person typed as a small number: "12", full-width "１２", or in Chinese "十二"; else None."""
    text = "".join(unicodedata.normalize("NFKC", (text or "")[:16]).split())
    if len(text) > 4:  # the answer is at most 18
        return None
    if text.isascii() and text.isdigit():
        return int(text)
    if text and all(c in _CHINESE_DIGITS or c == "十" for c in text):
        if "十" not in text:
            return int("".join(str(_CHINESE_DIGITS[c]) for c in text)) if len(text) <= 2 else None
        tens, _, ones = text.partition("十")
        if len(tens) > 1 or len(ones) > 1 or "十" in ones:
            return None
        return (_CHINESE_DIGITS[tens] if tens else 1) * 10 + (_CHINESE_DIGITS[ones] if ones else 0)
    return None


def answer(session: Session, token: str | None, given: str | None, *, now: datetime) -> bool:
    """Whether `given` answers the live question behind `token`. The question is spent either way."""
    require_aware(now, "now")
    if not token or not isinstance(token, str):
        return False
    with write_transaction(session):
        row = session.scalar(select(HumanCheck).where(HumanCheck.token_hash == _token_hash(token),
                                                      HumanCheck.used_at.is_(None), HumanCheck.expires_at > now))
        if row is None:
            return False
        spent = session.execute(update(HumanCheck).where(HumanCheck.id == row.id, HumanCheck.used_at.is_(None))
                                .values(used_at=now).execution_options(synchronize_session=False))
        expected = row.answer
    return spent.rowcount == 1 and read_number(given) == expected


__all__ = ["QUESTION_TTL", "Question", "answer", "ask", "read_number"]
