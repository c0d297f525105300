"""staff console: an admin may give back a counted use on appeal

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 09:10:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webapp.models.base


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('use_reversed_at', webapp.models.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('use_reversed_at')
