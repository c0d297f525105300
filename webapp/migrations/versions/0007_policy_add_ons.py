"""policies.add_ons: the add-ons bought with a policy (003's 门急诊加油包 raises the outpatient escort to 5 a year)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing policies bought none that the portal knew of: the empty list, as before.
    with op.batch_alter_table('policies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('add_ons', sa.String(length=255), server_default='', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('policies', schema=None) as batch_op:
        batch_op.drop_column('add_ons')
