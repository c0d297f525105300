"""document pages: public ids, drafts, retakes, review

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 19:55:16.370490
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webapp.models.base


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # No page rows exist before this revision (uploads arrive with it), so public_id needs no backfill.
    with op.batch_alter_table('document_pages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_id', sa.String(length=24), nullable=False))
        batch_op.add_column(sa.Column('source_format', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('replaces_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('submitted_at', webapp.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('decided_at', webapp.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('decided_by_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_document_pages_public_id'), ['public_id'])
        batch_op.create_foreign_key(batch_op.f('fk_document_pages_replaces_id_document_pages'), 'document_pages', ['replaces_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_document_pages_decided_by_id_accounts'), 'accounts', ['decided_by_id'], ['id'])

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_documents_booking_id_kind'), ['booking_id', 'kind'])


def downgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_documents_booking_id_kind'), type_='unique')

    with op.batch_alter_table('document_pages', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_document_pages_decided_by_id_accounts'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_document_pages_replaces_id_document_pages'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_document_pages_public_id'), type_='unique')
        batch_op.drop_column('decided_by_id')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('submitted_at')
        batch_op.drop_column('replaces_id')
        batch_op.drop_column('source_format')
        batch_op.drop_column('public_id')
