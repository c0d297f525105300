"""day_confirmations: the customer's confirmation of tomorrow's appointment, online or by phone (issue 18 item 5)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 05:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webapp.models.base


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('day_confirmations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', webapp.models.base.UTCDateTime(), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('by_account_id', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('at', webapp.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_day_confirmations_booking_id_bookings')),
    sa.ForeignKeyConstraint(['by_account_id'], ['accounts.id'], name=op.f('fk_day_confirmations_by_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_day_confirmations')),
    sa.UniqueConstraint('booking_id', 'starts_at', name=op.f('uq_day_confirmations_booking_id_starts_at'))
    )
    with op.batch_alter_table('day_confirmations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_day_confirmations_booking_id'), ['booking_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('day_confirmations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_day_confirmations_booking_id'))
    op.drop_table('day_confirmations')
