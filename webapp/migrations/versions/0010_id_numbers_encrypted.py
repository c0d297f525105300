"""persons.id_number encrypted at rest: AES-GCM ciphertext, its key id and a keyed blind index (issue 17 item 5)

Existing rows are encrypted with the configured keys (services/accounts/id_vault.py: LVTONG_ID_KEYS, LVTONG_ID_INDEX_KEY),
the unique constraint moves to (id_type, id_number_index) and the plaintext column is dropped. The downgrade
decrypts back into a plaintext column (it needs every key the rows name).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 03:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from webapp.migrate import sqlite_table_rebuild

from webapp.services.accounts import id_vault

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

BATCH = 500


def _persons(*columns):
    return sa.table('persons', sa.column('id', sa.Integer()), *columns)


def upgrade() -> None:
    with sqlite_table_rebuild():
        with op.batch_alter_table('persons', schema=None) as batch_op:
            batch_op.add_column(sa.Column('id_number_ct', sa.LargeBinary(), nullable=True))
            batch_op.add_column(sa.Column('id_number_key', sa.String(length=16), nullable=True))
            batch_op.add_column(sa.Column('id_number_index', sa.String(length=64), nullable=True))
        persons = _persons(sa.column('id_number', sa.String()), sa.column('id_number_ct', sa.LargeBinary()),
                           sa.column('id_number_key', sa.String()), sa.column('id_number_index', sa.String()))
        bind = op.get_bind()
        rows = bind.execute(sa.select(persons.c.id, persons.c.id_number).order_by(persons.c.id)).all()
        update = persons.update().where(persons.c.id == sa.bindparam('pid')).values(
            id_number_ct=sa.bindparam('ct'), id_number_key=sa.bindparam('key'), id_number_index=sa.bindparam('ix'))
        for start in range(0, len(rows), BATCH):
            values = []
            for pid, number in rows[start:start + BATCH]:
                ct, key = id_vault.encrypt(number)
                values.append({'pid': pid, 'ct': ct, 'key': key, 'ix': id_vault.blind_index(number)})
            bind.execute(update, values)
        with op.batch_alter_table('persons', schema=None) as batch_op:
            batch_op.alter_column('id_number_ct', existing_type=sa.LargeBinary(), nullable=False)
            batch_op.alter_column('id_number_key', existing_type=sa.String(length=16), nullable=False)
            batch_op.alter_column('id_number_index', existing_type=sa.String(length=64), nullable=False)
            batch_op.drop_constraint(batch_op.f('uq_persons_id_type_id_number'), type_='unique')
            batch_op.create_unique_constraint(batch_op.f('uq_persons_id_type_id_number_index'), ['id_type', 'id_number_index'])
            batch_op.drop_column('id_number')


def downgrade() -> None:
    with sqlite_table_rebuild():
        with op.batch_alter_table('persons', schema=None) as batch_op:
            batch_op.add_column(sa.Column('id_number', sa.String(length=32), nullable=True))
        persons = _persons(sa.column('id_number', sa.String()), sa.column('id_number_ct', sa.LargeBinary()),
                           sa.column('id_number_key', sa.String()))
        bind = op.get_bind()
        rows = bind.execute(sa.select(persons.c.id, persons.c.id_number_ct, persons.c.id_number_key)
                            .order_by(persons.c.id)).all()
        update = persons.update().where(persons.c.id == sa.bindparam('pid')).values(id_number=sa.bindparam('number'))
        for start in range(0, len(rows), BATCH):
            bind.execute(update, [{'pid': pid, 'number': id_vault.decrypt(ct, key)} for pid, ct, key in rows[start:start + BATCH]])
        with op.batch_alter_table('persons', schema=None) as batch_op:
            batch_op.alter_column('id_number', existing_type=sa.String(length=32), nullable=False)
            batch_op.drop_constraint(batch_op.f('uq_persons_id_type_id_number_index'), type_='unique')
            batch_op.create_unique_constraint(batch_op.f('uq_persons_id_type_id_number'), ['id_type', 'id_number'])
            batch_op.drop_column('id_number_index')
            batch_op.drop_column('id_number_key')
            batch_op.drop_column('id_number_ct')
