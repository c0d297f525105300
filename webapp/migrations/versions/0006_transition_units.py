"""units per step: what a spend or a refund moved (a nursing aide spends the days served, not the days booked)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 23:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('booking_transitions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('units', sa.Integer(), nullable=True))
    # Before this revision every spend and refund moved the whole booking.
    op.execute("UPDATE booking_transitions SET units = (SELECT units FROM bookings WHERE bookings.id = "
               "booking_transitions.booking_id) WHERE quota_effect IN ('spend', 'refund')")


def downgrade() -> None:
    with op.batch_alter_table('booking_transitions', schema=None) as batch_op:
        batch_op.drop_column('units')
