"""indexes for lookups that scanned whole tables at one million insured (issue 16), and for retention's deletes

notifications.dedupe_key: every booking move looks up its notices by key alone, under the quota row lock.
document_pages.replaces_id, bookings.entitlement_id: foreign keys PostgreSQL checks on every delete of the row
they point at (papers-purge deleted page by page). bookings.closed_at: papers-purge finds long-closed applications.
sign_in_codes.expires_at, login_sessions.ended_at: the retention job deletes by them (services/retention.py).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-10 09:00:00
"""
from __future__ import annotations

from alembic import op


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

_INDEXES = (
    ('notifications', 'dedupe_key'),
    ('document_pages', 'replaces_id'),
    ('bookings', 'entitlement_id'),
    ('bookings', 'closed_at'),
    ('sign_in_codes', 'expires_at'),
    ('login_sessions', 'ended_at'),
)


def upgrade() -> None:
    for table, column in _INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(batch_op.f(f'ix_{table}_{column}'), [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(_INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f'ix_{table}_{column}'))
