"""human_checks: the question asked before a code is texted to a number not seen from the device (SMS pumping)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 00:30:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webapp.models.base


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('human_checks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('answer', sa.Integer(), nullable=False),
    sa.Column('created_at', webapp.models.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', webapp.models.base.UTCDateTime(), nullable=False),
    sa.Column('used_at', webapp.models.base.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_human_checks')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_human_checks_token_hash'))
    )
    with op.batch_alter_table('human_checks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_human_checks_expires_at'), ['expires_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('human_checks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_human_checks_expires_at'))
    op.drop_table('human_checks')
