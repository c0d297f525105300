"""Applications for a service ("bookings") and the full history of their states."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base
from .products import Entitlement, Policy, Service

# Partial indexes' conditions (constants: services/booking/booking_states.OPEN and services/booking/booking_states.FAILED_BOOKING).
OPEN_STATES_SQL = "state IN ('applied', 'under_review', 'approved', 'scheduled')"
FAILED_BOOKING_SQL = "rule = 'named_expert_unavailable'"
NOT_CLOSED_SQL = "closed_at IS NULL"
SCHEDULED_SQL = "to_state = 'scheduled'"


class Booking(Base):
    __tablename__ = "bookings"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)  # shown to people: "LT-7K3Q9P2M"
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    entitlement_id: Mapped[int] = mapped_column(ForeignKey("entitlements.id"), index=True)
    applicant_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    acting_as: Mapped[str] = mapped_column(String(24))  # self | guardian | power_of_attorney
    # Idempotency: a double tap or a replayed form carries the same key and creates nothing new.
    request_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(24), index=True)
    units: Mapped[int] = mapped_column(default=1)  # uses, or days for a days quota
    change_rule: Mapped[str] = mapped_column(String(24))  # the catalog rule in force when applied
    details: Mapped[dict] = mapped_column(default=dict)  # what the form asked: city, hospital, dates …
    admission_slip_date: Mapped[date | None]
    applied_at: Mapped[datetime] = mapped_column(index=True)  # the weekly report counts a week's by it
    papers_complete_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]
    arrange_by: Mapped[date | None]  # the promised latest day of arrangement, once it can be computed
    # An application waiting for papers or review, as the staff queue places it (services/desk/staff_queue.remember):
    # when its papers became complete (None while the customer still owes one) and the reviewer's promised day.
    review_from: Mapped[datetime | None]
    review_by: Mapped[date | None]
    starts_at: Mapped[datetime | None]  # the appointment, once scheduled
    appointment: Mapped[dict | None]  # hospital, department, doctor, meeting point, escort contact
    closed_at: Mapped[datetime | None] = mapped_column(index=True)  # papers-purge finds the long-closed by it
    # An admin gave a counted use back on the customer's appeal (the reason is on the "refund" transition).
    use_reversed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]

    policy: Mapped[Policy] = relationship()
    service: Mapped[Service] = relationship()
    entitlement: Mapped[Entitlement] = relationship()
    transitions: Mapped[list["BookingTransition"]] = relationship(
        back_populates="booking", order_by="BookingTransition.id"
    )

    __table_args__ = (
        UniqueConstraint("applicant_account_id", "request_key"),
        # The staff queue counts, sorts and pages the open applications from this index alone (migration 0016); on
        # PostgreSQL it carries the details too, for the cities of the filter.
        Index("ix_bookings_open_queue", "state", "review_from", "review_by", "arrange_by", "starts_at", "approved_at",
              "updated_at", "applied_at", "id", postgresql_where=text(OPEN_STATES_SQL), sqlite_where=text(OPEN_STATES_SQL),
              postgresql_include=["details"]),
        # The weekly report reads the open ones' figures from this index alone (services/desk/insurer_report.py).
        Index("ix_bookings_open_report", "service_id", "applied_at", "arrange_by", "id", postgresql_where=text(NOT_CLOSED_SQL),
              sqlite_where=text(NOT_CLOSED_SQL)),
    )


class BookingTransition(Base):
    """One step in a booking's life: who moved it, when, and — if it spent a use — the rule that made it count."""

    __tablename__ = "booking_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(24))
    to_state: Mapped[str] = mapped_column(String(24))
    actor_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    actor_role: Mapped[str] = mapped_column(String(16))  # customer | proxy | staff | system
    at: Mapped[datetime]
    quota_effect: Mapped[str] = mapped_column(String(8))  # hold | release | spend | refund | none
    units: Mapped[int | None]  # what a spend used or a refund gave back (days served of a days quota); else None
    rule: Mapped[str | None] = mapped_column(String(48))  # e.g. "noon_day_before", "no_show"
    reason: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[dict] = mapped_column(default=dict)  # deadline, seed citation, appointment …

    booking: Mapped[Booking] = relationship(back_populates="transitions")

    __table_args__ = (
        # The weekly report: a booking's first move to "scheduled" (services/desk/insurer_report.py), a week's quota steps.
        Index("ix_booking_transitions_booking_state_at", "booking_id", "to_state", "at"),
        Index("ix_booking_transitions_effect_at", "quota_effect", "at"),
        # The queue's failed bookings waiting for the customer's choice (staff_queue._staged; migration 0016).
        Index("ix_booking_transitions_failed_booking", "booking_id", postgresql_where=text(FAILED_BOOKING_SQL),
              sqlite_where=text(FAILED_BOOKING_SQL)),
        # The weekly report: the week's moves to "scheduled" (migration 0016).
        Index("ix_booking_transitions_scheduled_at", "at", "booking_id", postgresql_where=text(SCHEDULED_SQL),
              sqlite_where=text(SCHEDULED_SQL)),
    )
