"""desk_links: the single-use SMS link after an application taken by phone (issue 18 item 4)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 05:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webapp.models.base


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('desk_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('mobile', sa.String(length=20), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', webapp.models.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', webapp.models.base.UTCDateTime(), nullable=False),
    sa.Column('used_at', webapp.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_desk_links_account_id_accounts')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_desk_links_booking_id_bookings')),
    sa.ForeignKeyConstraint(['created_by_id'], ['accounts.id'], name=op.f('fk_desk_links_created_by_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_desk_links')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_desk_links_token_hash'))
    )
    with op.batch_alter_table('desk_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_desk_links_booking_id'), ['booking_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('desk_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_desk_links_booking_id'))
    op.drop_table('desk_links')
