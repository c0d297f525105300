"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21 17:23:41.145611
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import webapp.models.base


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('id_type', sa.String(length=16), nullable=False),
    sa.Column('id_number', sa.String(length=32), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('mobile', sa.String(length=20), nullable=True),
    sa.Column('created_at', webapp.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_persons')),
    sa.UniqueConstraint('id_type', 'id_number', name=op.f('uq_persons_id_type_id_number'))
    )
    op.create_table('products',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=48), nullable=False),
    sa.Column('name_zh', sa.String(length=128), nullable=False),
    sa.Column('name_en', sa.String(length=128), nullable=False),
    sa.Column('seed_file', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
    sa.UniqueConstraint('code', name=op.f('uq_products_code'))
    )
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mobile', sa.String(length=20), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('staff_role', sa.String(length=16), nullable=True),
    sa.Column('display_name', sa.String(length=64), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('created_at', webapp.models.base.UTCDateTime(), nullable=False),
    sa.Column('disabled_at', webapp.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_accounts_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('mobile', name=op.f('uq_accounts_mobile'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_person_id'), ['person_id'], unique=False)

    op.create_table('policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('insured_id', sa.Integer(), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('expiry_date', sa.Date(), nullable=False),
    sa.Column('cooling_off_days', sa.Integer(), nullable=False),
    sa.Column('waiting_days', sa.Integer(), nullable=False),
    sa.Column('is_renewal', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('status_changed_on', sa.Date(), nullable=True),
    sa.Column('created_at', webapp.models.base.UTCDateTime(), nullable=False),
    sa.CheckConstraint('cooling_off_days >= 0 AND waiting_days >= 0', name=op.f('ck_policies_periods_not_negative')),
    sa.CheckConstraint('expiry_date > effective_date', name=op.f('ck_policies_expiry_after_effective')),
    sa.ForeignKeyConstraint(['holder_id'], ['persons.id'], name=op.f('fk_policies_holder_id_persons')),
    sa.ForeignKeyConstraint(['insured_id'], ['persons.id'], name=op.f('fk_policies_insured_id_persons')),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_policies_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policies')),
    sa.UniqueConstraint('number', name=op.f('uq_policies_number'))
    )
    with op.batch_alter_table('policies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_policies_insured_id'), ['insured_id'], unique=False)

    op.create_table('services',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=48), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('pool', sa.String(length=48), nullable=False),
    sa.Column('name_zh', sa.String(length=128), nullable=False),
    sa.Column('name_en', sa.String(length=128), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_services_product_id_products')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_services')),
    sa.UniqueConstraint('product_id', 'code', name=op.f('uq_services_product_id_code'))
    )
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', webapp.models.base.UTCDateTime(), nullable=False),
    sa.Column('actor_account_id', sa.Integer(), nullable=True),
    sa.Column('subject_person_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=48), nullable=False),
    sa.Column('target', sa.String(length=64), nullable=True),
    sa.Column('ip', sa.String(length=45), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_account_id'], ['accounts.id'], name=op.f('fk_audit_events_actor_account_id_accounts')),
    sa.ForeignKeyConstraint(['subject_person_id'], ['persons.id'], name=op.f('fk_audit_events_subject_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_actor_account_id'), ['actor_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_subject_person_id'), ['subject_person_id'], unique=False)

    op.create_table('diagnoses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('certainty', sa.String(length=16), nullable=False),
    sa.Column('diagnosed_on', sa.Date(), nullable=False),
    sa.Column('hospital', sa.String(length=128), nullable=False),
    sa.Column('hospital_grade', sa.String(length=4), nullable=False),
    sa.Column('public_hospital', sa.Boolean(), nullable=False),
    sa.Column('verified_at', webapp.models.base.UTCDateTime(), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_diagnoses_person_id_persons')),
    sa.ForeignKeyConstraint(['verified_by_id'], ['accounts.id'], name=op.f('fk_diagnoses_verified_by_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_diagnoses'))
    )
    with op.batch_alter_table('diagnoses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_diagnoses_person_id'), ['person_id'], unique=False)

    op.create_table('entitlements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('pool', sa.String(length=48), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('quota', sa.Integer(), nullable=True),
    sa.Column('held', sa.Integer(), nullable=False),
    sa.Column('used', sa.Integer(), nullable=False),
    sa.CheckConstraint('held >= 0 AND used >= 0', name=op.f('ck_entitlements_counts_not_negative')),
    sa.CheckConstraint('quota IS NULL OR held + used <= quota', name=op.f('ck_entitlements_within_quota')),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], name=op.f('fk_entitlements_policy_id_policies')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_entitlements')),
    sa.UniqueConstraint('policy_id', 'pool', 'period_start', name=op.f('uq_entitlements_policy_id_pool_period_start'))
    )
    op.create_table('holiday_overrides',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('is_workday', sa.Boolean(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=True),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('entered_at', webapp.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entered_by_id'], ['accounts.id'], name=op.f('fk_holiday_overrides_entered_by_id_accounts')),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_holiday_overrides'))
    )
    op.create_table('proxy_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('grantee_account_id', sa.Integer(), nullable=False),
    sa.Column('insured_person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('relationship_label', sa.String(length=32), nullable=True),
    sa.Column('scopes', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_at', webapp.models.base.UTCDateTime(), nullable=True),
    sa.Column('rejection_reason', sa.String(length=255), nullable=True),
    sa.Column('created_at', webapp.models.base.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', webapp.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['grantee_account_id'], ['accounts.id'], name=op.f('fk_proxy_grants_grantee_account_id_accounts')),
    sa.ForeignKeyConstraint(['insured_person_id'], ['persons.id'], name=op.f('fk_proxy_grants_insured_person_id_persons')),
    sa.ForeignKeyConstraint(['verified_by_id'], ['accounts.id'], name=op.f('fk_proxy_grants_verified_by_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proxy_grants'))
    )
    with op.batch_alter_table('proxy_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proxy_grants_grantee_account_id'), ['grantee_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_proxy_grants_insured_person_id'), ['insured_person_id'], unique=False)

    op.create_table('published_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('entered_by_id', sa.Integer(), nullable=True),
    sa.Column('entered_at', webapp.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entered_by_id'], ['accounts.id'], name=op.f('fk_published_years_entered_by_id_accounts')),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_published_years'))
    )
    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=16), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('entitlement_id', sa.Integer(), nullable=False),
    sa.Column('applicant_account_id', sa.Integer(), nullable=False),
    sa.Column('acting_as', sa.String(length=24), nullable=False),
    sa.Column('request_key', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('change_rule', sa.String(length=24), nullable=False),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('admission_slip_date', sa.Date(), nullable=True),
    sa.Column('applied_at', webapp.models.base.UTCDateTime(), nullable=False),
    sa.Column('papers_complete_at', webapp.models.base.UTCDateTime(), nullable=True),
    sa.Column('approved_at', webapp.models.base.UTCDateTime(), nullable=True),
    sa.Column('arrange_by', sa.Date(), nullable=True),
    sa.Column('starts_at', webapp.models.base.UTCDateTime(), nullable=True),
    sa.Column('appointment', sa.JSON(), nullable=True),
    sa.Column('closed_at', webapp.models.base.UTCDateTime(), nullable=True),
    sa.Column('updated_at', webapp.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['applicant_account_id'], ['accounts.id'], name=op.f('fk_bookings_applicant_account_id_accounts')),
    sa.ForeignKeyConstraint(['entitlement_id'], ['entitlements.id'], name=op.f('fk_bookings_entitlement_id_entitlements')),
    sa.ForeignKeyConstraint(['policy_id'], ['policies.id'], name=op.f('fk_bookings_policy_id_policies')),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_bookings_service_id_services')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bookings')),
    sa.UniqueConstraint('applicant_account_id', 'request_key', name=op.f('uq_bookings_applicant_account_id_request_key')),
    sa.UniqueConstraint('reference', name=op.f('uq_bookings_reference'))
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_applicant_account_id'), ['applicant_account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_policy_id'), ['policy_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_state'), ['state'], unique=False)

    op.create_table('booking_transitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.Column('from_state', sa.String(length=24), nullable=True),
    sa.Column('to_state', sa.String(length=24), nullable=False),
    sa.Column('actor_account_id', sa.Integer(), nullable=True),
    sa.Column('actor_role', sa.String(length=16), nullable=False),
    sa.Column('at', webapp.models.base.UTCDateTime(), nullable=False),
    sa.Column('quota_effect', sa.String(length=8), nullable=False),
    sa.Column('rule', sa.String(length=48), nullable=True),
    sa.Column('reason', sa.String(length=255), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_account_id'], ['accounts.id'], name=op.f('fk_booking_transitions_actor_account_id_accounts')),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_booking_transitions_booking_id_bookings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_booking_transitions'))
    )
    with op.batch_alter_table('booking_transitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_transitions_booking_id'), ['booking_id'], unique=False)

    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=True),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.String(length=255), nullable=True),
    sa.Column('created_at', webapp.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', webapp.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], name=op.f('fk_documents_booking_id_bookings')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_documents_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_documents'))
    )
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_documents_booking_id'), ['booking_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_documents_person_id'), ['person_id'], unique=False)

    op.create_table('document_pages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=128), nullable=False),
    sa.Column('thumbnail_key', sa.String(length=128), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('byte_size', sa.Integer(), nullable=False),
    sa.Column('display_name', sa.String(length=128), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('status_reason', sa.String(length=255), nullable=True),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', webapp.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_document_pages_document_id_documents')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['accounts.id'], name=op.f('fk_document_pages_uploaded_by_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_pages')),
    sa.UniqueConstraint('document_id', 'sha256', name=op.f('uq_document_pages_document_id_sha256')),
    sa.UniqueConstraint('storage_key', name=op.f('uq_document_pages_storage_key'))
    )
    with op.batch_alter_table('document_pages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_pages_document_id'), ['document_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('document_pages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_pages_document_id'))

    op.drop_table('document_pages')
    with op.batch_alter_table('documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_documents_person_id'))
        batch_op.drop_index(batch_op.f('ix_documents_booking_id'))

    op.drop_table('documents')
    with op.batch_alter_table('booking_transitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_transitions_booking_id'))

    op.drop_table('booking_transitions')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bookings_state'))
        batch_op.drop_index(batch_op.f('ix_bookings_policy_id'))
        batch_op.drop_index(batch_op.f('ix_bookings_applicant_account_id'))

    op.drop_table('bookings')
    op.drop_table('published_years')
    with op.batch_alter_table('proxy_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proxy_grants_insured_person_id'))
        batch_op.drop_index(batch_op.f('ix_proxy_grants_grantee_account_id'))

    op.drop_table('proxy_grants')
    op.drop_table('holiday_overrides')
    op.drop_table('entitlements')
    with op.batch_alter_table('diagnoses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_diagnoses_person_id'))

    op.drop_table('diagnoses')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_subject_person_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_account_id'))

    op.drop_table('audit_events')
    op.drop_table('services')
    with op.batch_alter_table('policies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policies_insured_id'))

    op.drop_table('policies')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_person_id'))

    op.drop_table('accounts')
    op.drop_table('products')
    op.drop_table('persons')
