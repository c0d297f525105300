"""Messages to an account: booking status changes and reminders before a free-change deadline passes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    subject_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # status | reminder_free_change
    # Makes producing a message idempotent: a reminder run twice by cron writes one row.
    dedupe_key: Mapped[str] = mapped_column(String(96), index=True)  # every booking move looks it up alone
    payload: Mapped[dict] = mapped_column(default=dict)  # state, deadline …: rendered per language on view
    created_at: Mapped[datetime] = mapped_column(index=True)
    read_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]  # handed to the outside channel (SMS …), if any

    __table_args__ = (UniqueConstraint("account_id", "dedupe_key"),)
