"""family access: grant requests, proofs, revocation

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 22:06:47.284079
"""
from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

import webapp.models.base


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proxy_grant_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_documents_proxy_grant_id'), ['proxy_grant_id'], unique=False)
        batch_op.create_unique_constraint(batch_op.f('uq_documents_proxy_grant_id_kind'), ['proxy_grant_id', 'kind'])
        batch_op.create_foreign_key(batch_op.f('fk_documents_proxy_grant_id_proxy_grants'), 'proxy_grants', ['proxy_grant_id'], ['id'])

    # Grants made before this revision (staff entered them) get a random public id and count as proven by papers.
    with op.batch_alter_table('proxy_grants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('public_id', sa.String(length=24), nullable=True))
        batch_op.add_column(sa.Column('method', sa.String(length=24), nullable=False, server_default='papers'))
        batch_op.add_column(sa.Column('submitted_at', webapp.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('decided_at', webapp.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('revoked_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('ended_notice_at', webapp.models.base.UTCDateTime(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_proxy_grants_public_id'), ['public_id'])
        batch_op.create_foreign_key(batch_op.f('fk_proxy_grants_revoked_by_id_accounts'), 'accounts', ['revoked_by_id'], ['id'])
    grants = sa.table('proxy_grants', sa.column('id', sa.Integer()), sa.column('public_id', sa.String()))
    bind = op.get_bind()
    for (grant_id,) in bind.execute(sa.select(grants.c.id)).all():
        bind.execute(grants.update().where(grants.c.id == grant_id).values(public_id=secrets.token_urlsafe(12)))
    with op.batch_alter_table('proxy_grants', schema=None) as batch_op:
        batch_op.alter_column('public_id', existing_type=sa.String(length=24), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('proxy_grants', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_proxy_grants_revoked_by_id_accounts'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_proxy_grants_public_id'), type_='unique')
        batch_op.drop_column('ended_notice_at')
        batch_op.drop_column('revoked_by_id')
        batch_op.drop_column('decided_at')
        batch_op.drop_column('submitted_at')
        batch_op.drop_column('method')
        batch_op.drop_column('public_id')

    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_documents_proxy_grant_id_proxy_grants'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_documents_proxy_grant_id_kind'), type_='unique')
        batch_op.drop_index(batch_op.f('ix_documents_proxy_grant_id'))
        batch_op.drop_column('proxy_grant_id')
