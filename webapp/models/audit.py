"""Audit events: who did or saw what, for whom, when and from where. Never a code, token or document content."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    subject_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), index=True)
    action: Mapped[str] = mapped_column(String(48))  # e.g. booking.apply, quota.refused, document.view
    target: Mapped[str | None] = mapped_column(String(64))  # e.g. "booking:12"
    ip: Mapped[str | None] = mapped_column(String(45))
    detail: Mapped[dict] = mapped_column(default=dict)
