"""identity verification: a self-asserted binding is a claim until verified; owners reclaim a squatted ID

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 02:00:00
"""
from __future__ import annotations

from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

from webapp.migrate import sqlite_table_rebuild

import webapp.models.base


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with sqlite_table_rebuild(), op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_person_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('claimed_at', webapp.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('identity_method', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('identity_verified_at', webapp.models.base.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('identity_verified_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_accounts_claimed_person_id'), ['claimed_person_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_accounts_claimed_person_id_persons'), 'persons', ['claimed_person_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_accounts_identity_verified_by_id_accounts'), 'accounts', ['identity_verified_by_id'], ['id'])

    op.create_table(
        'identity_reclaims',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('public_id', sa.String(length=24), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('holder_account_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('statement', sa.String(length=200), nullable=True),
        sa.Column('created_at', webapp.models.base.UTCDateTime(), nullable=False),
        sa.Column('decided_at', webapp.models.base.UTCDateTime(), nullable=True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decision_note', sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_identity_reclaims_account_id_accounts')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['accounts.id'], name=op.f('fk_identity_reclaims_decided_by_id_accounts')),
        sa.ForeignKeyConstraint(['holder_account_id'], ['accounts.id'], name=op.f('fk_identity_reclaims_holder_account_id_accounts')),
        sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_identity_reclaims_person_id_persons')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_reclaims')),
        sa.UniqueConstraint('public_id', name=op.f('uq_identity_reclaims_public_id')),
    )
    with op.batch_alter_table('identity_reclaims', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_identity_reclaims_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_identity_reclaims_person_id'), ['person_id'], unique=False)

    # Bindings made before this revision stay as they are (taking them away would lock customers out of their
    # policies); those whose sign-in number is the mobile the insurer gave for the person count as verified by
    # that match, the others show as "identity not verified" to the people they ask for access.
    accounts = sa.table('accounts', sa.column('id', sa.Integer()), sa.column('mobile', sa.String()),
                        sa.column('person_id', sa.Integer()), sa.column('identity_method', sa.String()),
                        sa.column('identity_verified_at', webapp.models.base.UTCDateTime()))
    persons = sa.table('persons', sa.column('id', sa.Integer()), sa.column('mobile', sa.String()))
    policies = sa.table('policies', sa.column('insured_id', sa.Integer()), sa.column('holder_id', sa.Integer()))
    bind = op.get_bind()
    on_policy = sa.select(policies.c.insured_id).union(sa.select(policies.c.holder_id))
    matched = bind.execute(
        sa.select(accounts.c.id).join(persons, persons.c.id == accounts.c.person_id)
        .where(persons.c.mobile == accounts.c.mobile, accounts.c.person_id.in_(on_policy))
    ).scalars().all()
    moment = datetime.now(timezone.utc)
    for account_id in matched:
        bind.execute(accounts.update().where(accounts.c.id == account_id)
                     .values(identity_method='policy_mobile', identity_verified_at=moment))


def downgrade() -> None:
    with op.batch_alter_table('identity_reclaims', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_identity_reclaims_person_id'))
        batch_op.drop_index(batch_op.f('ix_identity_reclaims_account_id'))
    op.drop_table('identity_reclaims')
    # A claim not verified yet gave nothing and is dropped; verified bindings stay bound (person_id).
    with sqlite_table_rebuild(), op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_accounts_identity_verified_by_id_accounts'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_accounts_claimed_person_id_persons'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_accounts_claimed_person_id'))
        batch_op.drop_column('identity_verified_by_id')
        batch_op.drop_column('identity_verified_at')
        batch_op.drop_column('identity_method')
        batch_op.drop_column('claimed_at')
        batch_op.drop_column('claimed_person_id')
