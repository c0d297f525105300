"""A request by the owner of an ID number to take it back from the account that bound it (services/accounts/binding.py)."""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .people import Account, Person


class IdentityReclaim(Base):
    __tablename__ = "identity_reclaims"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(24), unique=True, default=lambda: secrets.token_urlsafe(12))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)  # the owner asking
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id"), index=True)
    holder_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))  # who held it when asked
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | approved | rejected | withdrawn
    statement: Mapped[str | None] = mapped_column(String(200))  # the owner's own words
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    decision_note: Mapped[str | None] = mapped_column(String(255))

    account: Mapped[Account] = relationship(foreign_keys=[account_id])
    holder: Mapped[Account | None] = relationship(foreign_keys=[holder_account_id])
    person: Mapped[Person] = relationship()
