"""the staff queue's place of each application waiting for papers or review, stored on the booking (issue 16)

bookings.review_from (when the papers became complete; NULL while the customer owes one) and bookings.review_by (the
reviewer's promised day), kept by services/desk/staff_queue.remember whenever papers, applications or proxy grants change
and recomputed when the calendar changes, so the queue counts, sorts and pages them in SQL. Backfilled here by the
same rule (staff_queue.remember over every application waiting for papers or review). A partial index over the open
applications holding every column the queue sorts and counts by (an index-only scan of the open ones, never the
history), and one over the failed-booking steps (the "choosing" stage). For the weekly report: the open applications'
service, day applied and promise (read from the index alone), and the moves to "scheduled" by moment.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-11 08:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webapp.models.base


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


# Copied, not imported: a migration keeps the values of its day (webapp/models/bookings.py holds the same).
_OPEN = "state IN ('applied', 'under_review', 'approved', 'scheduled')"
_FAILED = "rule = 'named_expert_unavailable'"
_NOT_CLOSED = "closed_at IS NULL"
_SCHEDULED = "to_state = 'scheduled'"
_OPEN_QUEUE = ['state', 'review_from', 'review_by', 'arrange_by', 'starts_at', 'approved_at', 'updated_at', 'applied_at',
               'id']


def upgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_from', webapp.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('review_by', sa.Date(), nullable=True))
        batch_op.create_index('ix_bookings_open_queue', _OPEN_QUEUE, unique=False, postgresql_include=['details'],
                              postgresql_where=sa.text(_OPEN), sqlite_where=sa.text(_OPEN))
        batch_op.create_index('ix_bookings_open_report', ['service_id', 'applied_at', 'arrange_by', 'id'], unique=False,
                              postgresql_where=sa.text(_NOT_CLOSED), sqlite_where=sa.text(_NOT_CLOSED))
    with op.batch_alter_table('booking_transitions', schema=None) as batch_op:
        batch_op.create_index('ix_booking_transitions_failed_booking', ['booking_id'], unique=False,
                              postgresql_where=sa.text(_FAILED), sqlite_where=sa.text(_FAILED))
        batch_op.create_index('ix_booking_transitions_scheduled_at', ['at', 'booking_id'], unique=False,
                              postgresql_where=sa.text(_SCHEDULED), sqlite_where=sa.text(_SCHEDULED))
    from sqlalchemy.orm import Session

    from webapp.services.calendar import workdays_store
    from webapp.services.desk import staff_queue

    session = Session(bind=op.get_bind())
    workdays_store.load_overrides(session)
    staff_queue.remember_all(session)
    session.flush()


def downgrade() -> None:
    with op.batch_alter_table('booking_transitions', schema=None) as batch_op:
        batch_op.drop_index('ix_booking_transitions_scheduled_at')
        batch_op.drop_index('ix_booking_transitions_failed_booking')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('ix_bookings_open_report')
        batch_op.drop_index('ix_bookings_open_queue')
        batch_op.drop_column('review_by')
        batch_op.drop_column('review_from')
