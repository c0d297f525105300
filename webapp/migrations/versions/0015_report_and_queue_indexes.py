"""indexes for the weekly report, which scanned the whole history at one million insured (issue 16 item 2)

bookings.applied_at: the bookings received in a week. booking_transitions (booking_id, to_state, at): the moment each
booking alive in the week was first scheduled, looked up by index instead of grouping every transition ever made.
booking_transitions (quota_effect, at): the week's counted and given-back uses.

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-10 10:00:00
"""
from __future__ import annotations

from alembic import op


revision = '0015'
down_revision = '0013'
branch_labels = None
depends_on = None

_INDEXES = (
    ('bookings', 'ix_bookings_applied_at', ['applied_at']),
    ('booking_transitions', 'ix_booking_transitions_booking_state_at', ['booking_id', 'to_state', 'at']),
    ('booking_transitions', 'ix_booking_transitions_effect_at', ['quota_effect', 'at']),
)


def upgrade() -> None:
    for table, name, columns in _INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade() -> None:
    for table, name, _columns in reversed(_INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
