"""Imported statements, their lines with provenance, and providers' own CSV layouts.

Statement lines are facts: on PostgreSQL the application role may insert and read them,
never change or delete them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

APP_ROLE = "phb_ledger_app"


def upgrade() -> None:
    op.create_table('csv_layout_definition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], name=op.f('fk_csv_layout_definition_holder_id_holder')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_csv_layout_definition')),
    sa.UniqueConstraint('holder_id', 'name', 'version', name=op.f('uq_csv_layout_definition_holder_id_name_version'))
    )
    with op.batch_alter_table('csv_layout_definition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_csv_layout_definition_holder_id'), ['holder_id'], unique=False)

    op.create_table('statement_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('file_name', sa.String(length=500), nullable=False),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('file_bytes', sa.BigInteger(), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=False),
    sa.Column('layout', sa.String(length=120), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('account_in_file', sa.String(length=300), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=True),
    sa.Column('period_end', sa.Date(), nullable=True),
    sa.Column('opening_pence', sa.BigInteger(), nullable=True),
    sa.Column('closing_pence', sa.BigInteger(), nullable=True),
    sa.Column('closing_on', sa.Date(), nullable=True),
    sa.Column('balances_stated', sa.Boolean(), nullable=False),
    sa.Column('line_count', sa.Integer(), nullable=False),
    sa.Column('new_count', sa.Integer(), nullable=False),
    sa.Column('duplicate_count', sa.Integer(), nullable=False),
    sa.Column('lines_total_pence', sa.BigInteger(), nullable=False),
    sa.Column('new_total_pence', sa.BigInteger(), nullable=False),
    sa.Column('ledger_closing_pence', sa.BigInteger(), nullable=True),
    sa.Column('warnings', sa.Text(), nullable=False),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.Column('imported_by', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_statement_import_account_id_account')),
    sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], name=op.f('fk_statement_import_holder_id_holder')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_import'))
    )
    with op.batch_alter_table('statement_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_import_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_import_file_sha256'), ['file_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_import_holder_id'), ['holder_id'], unique=False)

    op.create_table('statement_line',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('import_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('part', sa.Integer(), nullable=False),
    sa.Column('posted_on', sa.Date(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('payee', sa.String(length=300), nullable=True),
    sa.Column('mcc', sa.String(length=4), nullable=True),
    sa.Column('bank_id', sa.String(length=200), nullable=True),
    sa.Column('balance_pence', sa.BigInteger(), nullable=True),
    sa.Column('kind', sa.String(length=60), nullable=True),
    sa.Column('is_fee', sa.Boolean(), nullable=False),
    sa.Column('raw', sa.Text(), nullable=False),
    sa.Column('dedupe_key', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_statement_line_account_id_account')),
    sa.ForeignKeyConstraint(['import_id'], ['statement_import.id'], name=op.f('fk_statement_line_import_id_statement_import')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_line')),
    sa.UniqueConstraint('account_id', 'dedupe_key', name=op.f('uq_statement_line_account_id_dedupe_key'))
    )
    with op.batch_alter_table('statement_line', schema=None) as batch_op:
        batch_op.create_index('ix_statement_line_account_id_posted_on', ['account_id', 'posted_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_statement_line_import_id'), ['import_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON statement_line FROM {APP_ROLE}")


def downgrade() -> None:
    with op.batch_alter_table('statement_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_line_import_id'))
        batch_op.drop_index('ix_statement_line_account_id_posted_on')

    op.drop_table('statement_line')
    with op.batch_alter_table('statement_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_import_holder_id'))
        batch_op.drop_index(batch_op.f('ix_statement_import_file_sha256'))
        batch_op.drop_index(batch_op.f('ix_statement_import_account_id'))

    op.drop_table('statement_import')
    with op.batch_alter_table('csv_layout_definition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_csv_layout_definition_holder_id'))

    op.drop_table('csv_layout_definition')
