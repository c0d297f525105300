"""Sign-in by mobile number and one-time SMS code, server-side login sessions, and rate-limit hits.

SECURITY.md, "Sessions and login": codes are stored hashed, single use and short-lived; a login session is a
row that sign-out ends, so a cookie captured before sign-out is useless after it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class SignInCode(Base):
    __tablename__ = "sign_in_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    mobile: Mapped[str] = mapped_column(String(20), index=True)  # normalised, 11 digits
    code_hash: Mapped[str] = mapped_column(String(64))  # HMAC-SHA256(secret, mobile:code), hex
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)  # wrong guesses against this code
    used_at: Mapped[datetime | None]
    ip: Mapped[str | None] = mapped_column(String(45))


class LoginSession(Base):
    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the token in the cookie
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None] = mapped_column(index=True)
    ended_reason: Mapped[str | None] = mapped_column(String(24))  # sign_out | disabled | expired
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(255))


class RateHit(Base):
    """One counted attempt in a rate-limit bucket ("code:mobile:138…", "code-ip:1.2.3.4"); old rows are swept."""

    __tablename__ = "rate_hits"

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(96), index=True)
    at: Mapped[datetime] = mapped_column(index=True)


class HumanCheck(Base):
    """A question a person answers before a code is texted to a number not seen from their device (issue 17
    item 4, SMS pumping). The answer stays here; the session cookie holds only the random token. Any answer,
    right or wrong, spends it."""

    __tablename__ = "human_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the token in the session
    answer: Mapped[int]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
