"""Paying for support: wages, invoices, payroll runs and pooled costs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pool',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('shares_changed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], name=op.f('fk_pool_holder_id_holder')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pool')),
    sa.UniqueConstraint('holder_id', 'name', name=op.f('uq_pool_holder_id_name'))
    )
    op.create_table('pool_share',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('pool_id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.CheckConstraint('weight > 0', name=op.f('ck_pool_share_weight_positive')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_pool_share_budget_id_budget')),
    sa.ForeignKeyConstraint(['pool_id'], ['pool.id'], name=op.f('fk_pool_share_pool_id_pool')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pool_share')),
    sa.UniqueConstraint('pool_id', 'budget_id', name=op.f('uq_pool_share_pool_id_budget_id'))
    )
    op.create_table('payable',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('supplier', sa.String(length=200), nullable=False),
    sa.Column('supplier_key', sa.String(length=200), nullable=False),
    sa.Column('number', sa.String(length=100), nullable=False),
    sa.Column('number_key', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('dated_on', sa.Date(), nullable=False),
    sa.Column('approved_by', sa.String(length=200), nullable=False),
    sa.Column('approved_at', sa.DateTime(), nullable=False),
    sa.Column('total_pence', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('approval_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('payment_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('paid_on', sa.Date(), nullable=True),
    sa.Column('paid_by', sa.String(length=200), nullable=True),
    sa.Column('bank_reference', sa.String(length=100), nullable=True),
    sa.Column('cancel_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('cancelled_on', sa.Date(), nullable=True),
    sa.Column('cancelled_by', sa.String(length=200), nullable=True),
    sa.Column('source_file', sa.String(length=500), nullable=True),
    sa.Column('source_sha256', sa.String(length=64), nullable=True),
    sa.CheckConstraint("kind IN ('invoice', 'wages', 'payroll', 'pooled')", name=op.f('ck_payable_kind_known')),
    sa.CheckConstraint("status <> 'paid' OR payment_entry_id IS NOT NULL", name=op.f('ck_payable_paid_has_payment')),
    sa.CheckConstraint("status IN ('approved', 'paid', 'cancelled')", name=op.f('ck_payable_status_known')),
    sa.CheckConstraint('total_pence > 0', name=op.f('ck_payable_total_positive')),
    sa.ForeignKeyConstraint(['approval_entry_id'], ['journal_entry.id'], name=op.f('fk_payable_approval_entry_id_journal_entry')),
    sa.ForeignKeyConstraint(['cancel_entry_id'], ['journal_entry.id'], name=op.f('fk_payable_cancel_entry_id_journal_entry')),
    sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], name=op.f('fk_payable_holder_id_holder')),
    sa.ForeignKeyConstraint(['payment_entry_id'], ['journal_entry.id'], name=op.f('fk_payable_payment_entry_id_journal_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payable')),
    sa.UniqueConstraint('approval_entry_id', name=op.f('uq_payable_approval_entry_id')),
    sa.UniqueConstraint('cancel_entry_id', name=op.f('uq_payable_cancel_entry_id')),
    sa.UniqueConstraint('holder_id', 'source_sha256', name=op.f('uq_payable_holder_id_source_sha256'))
    )
    op.create_index(op.f('ix_payable_holder_id'), 'payable', ['holder_id'], unique=False)
    op.create_index(op.f('ix_payable_payment_entry_id'), 'payable', ['payment_entry_id'], unique=False)
    op.create_index(op.f('ix_payable_status'), 'payable', ['status'], unique=False)
    op.create_index('uq_payable_holder_id_supplier_key_number_key', 'payable', ['holder_id', 'supplier_key', 'number_key'], unique=True, sqlite_where=sa.text("status <> 'cancelled'"), postgresql_where=sa.text("status <> 'cancelled'"))
    op.create_table('payable_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payable_id', sa.Integer(), nullable=False),
    sa.Column('line_no', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=True),
    sa.Column('worker', sa.String(length=200), nullable=True),
    sa.Column('hours_hundredths', sa.Integer(), nullable=True),
    sa.Column('rate_pence', sa.BigInteger(), nullable=True),
    sa.Column('employer_costs_pence', sa.BigInteger(), nullable=True),
    sa.Column('pool_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_payable_line_amount_positive')),
    sa.CheckConstraint('line_no >= 1', name=op.f('ck_payable_line_line_no_positive')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_payable_line_budget_id_budget')),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_payable_line_category_id_category')),
    sa.ForeignKeyConstraint(['payable_id'], ['payable.id'], name=op.f('fk_payable_line_payable_id_payable')),
    sa.ForeignKeyConstraint(['pool_id'], ['pool.id'], name=op.f('fk_payable_line_pool_id_pool')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payable_line')),
    sa.UniqueConstraint('payable_id', 'line_no', name=op.f('uq_payable_line_payable_id_line_no'))
    )
    op.create_index(op.f('ix_payable_line_budget_id'), 'payable_line', ['budget_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_payable_line_budget_id'), table_name='payable_line')
    op.drop_table('payable_line')
    op.drop_index('uq_payable_holder_id_supplier_key_number_key', table_name='payable')
    op.drop_index(op.f('ix_payable_status'), table_name='payable')
    op.drop_index(op.f('ix_payable_payment_entry_id'), table_name='payable')
    op.drop_index(op.f('ix_payable_holder_id'), table_name='payable')
    op.drop_table('payable')
    op.drop_table('pool_share')
    op.drop_table('pool')
