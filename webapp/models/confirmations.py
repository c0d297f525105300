"""The day-before confirmation of an appointment (issue 18 item 5): the customer confirms in the portal, or the
desk notes what the customer said on the phone. One row per booking and appointment time: a new time starts
unconfirmed again."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base


class DayConfirmation(Base):
    __tablename__ = "day_confirmations"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    starts_at: Mapped[datetime]  # the appointment confirmed (the booking's starts_at when it was confirmed)
    state: Mapped[str] = mapped_column(String(24))  # confirmed_online | confirmed_phone | wants_change
    by_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))  # the customer, or the staff member
    note: Mapped[str | None] = mapped_column(String(200))  # what the desk noted from the call
    at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("booking_id", "starts_at"),)
