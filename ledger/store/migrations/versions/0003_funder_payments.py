"""Funder payments: expected payments (receivables due), receipts and their shares over budgets.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('expected_payment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('funder_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('description', sa.String(length=300), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('replaced_at', sa.DateTime(), nullable=True),
    sa.Column('replaced_by', sa.String(length=200), nullable=True),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_expected_payment_amount_positive')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_expected_payment_budget_id_budget')),
    sa.ForeignKeyConstraint(['funder_id'], ['funder.id'], name=op.f('fk_expected_payment_funder_id_funder')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_expected_payment'))
    )
    op.create_index(op.f('ix_expected_payment_budget_id'), 'expected_payment', ['budget_id'], unique=False)
    op.create_index(op.f('ix_expected_payment_funder_id'), 'expected_payment', ['funder_id'], unique=False)
    op.create_table('contribution_receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=140), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_contribution_receipt_amount_positive')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_contribution_receipt_budget_id_budget')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_contribution_receipt_entry_id_journal_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contribution_receipt')),
    sa.UniqueConstraint('budget_id', 'received_on', 'reference', name=op.f('uq_contribution_receipt_budget_id_received_on_reference')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_contribution_receipt_entry_id'))
    )
    op.create_table('funder_receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('funder_id', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('reference', sa.String(length=140), nullable=False),
    sa.Column('by_remittance', sa.Boolean(), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_funder_receipt_amount_positive')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_funder_receipt_entry_id_journal_entry')),
    sa.ForeignKeyConstraint(['funder_id'], ['funder.id'], name=op.f('fk_funder_receipt_funder_id_funder')),
    sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], name=op.f('fk_funder_receipt_holder_id_holder')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funder_receipt')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_funder_receipt_entry_id')),
    sa.UniqueConstraint('holder_id', 'funder_id', 'received_on', 'reference', name=op.f('uq_funder_receipt_holder_id_funder_id_received_on_reference'))
    )
    op.create_index(op.f('ix_funder_receipt_funder_id'), 'funder_receipt', ['funder_id'], unique=False)
    op.create_table('money_attribution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('funder_id', sa.Integer(), nullable=True),
    sa.Column('attributed_on', sa.Date(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_money_attribution_amount_positive')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_money_attribution_budget_id_budget')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_money_attribution_entry_id_journal_entry')),
    sa.ForeignKeyConstraint(['funder_id'], ['funder.id'], name=op.f('fk_money_attribution_funder_id_funder')),
    sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], name=op.f('fk_money_attribution_holder_id_holder')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_money_attribution')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_money_attribution_entry_id'))
    )
    op.create_index(op.f('ix_money_attribution_holder_id'), 'money_attribution', ['holder_id'], unique=False)
    op.create_table('receipt_share',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('funder_receipt_id', sa.Integer(), nullable=True),
    sa.Column('contribution_receipt_id', sa.Integer(), nullable=True),
    sa.Column('attribution_id', sa.Integer(), nullable=True),
    sa.Column('budget_id', sa.Integer(), nullable=True),
    sa.Column('expected_payment_id', sa.Integer(), nullable=True),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('(CASE WHEN funder_receipt_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN contribution_receipt_id IS NULL THEN 0 ELSE 1 END) + (CASE WHEN attribution_id IS NULL THEN 0 ELSE 1 END) = 1', name=op.f('ck_receipt_share_one_source')),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_receipt_share_amount_positive')),
    sa.CheckConstraint('expected_payment_id IS NULL OR budget_id IS NOT NULL', name=op.f('ck_receipt_share_instalment_has_budget')),
    sa.ForeignKeyConstraint(['attribution_id'], ['money_attribution.id'], name=op.f('fk_receipt_share_attribution_id_money_attribution')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_receipt_share_budget_id_budget')),
    sa.ForeignKeyConstraint(['contribution_receipt_id'], ['contribution_receipt.id'], name=op.f('fk_receipt_share_contribution_receipt_id_contribution_receipt')),
    sa.ForeignKeyConstraint(['expected_payment_id'], ['expected_payment.id'], name=op.f('fk_receipt_share_expected_payment_id_expected_payment')),
    sa.ForeignKeyConstraint(['funder_receipt_id'], ['funder_receipt.id'], name=op.f('fk_receipt_share_funder_receipt_id_funder_receipt')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_receipt_share'))
    )
    op.create_index(op.f('ix_receipt_share_attribution_id'), 'receipt_share', ['attribution_id'], unique=False)
    op.create_index(op.f('ix_receipt_share_contribution_receipt_id'), 'receipt_share', ['contribution_receipt_id'], unique=False)
    op.create_index(op.f('ix_receipt_share_expected_payment_id'), 'receipt_share', ['expected_payment_id'], unique=False)
    op.create_index(op.f('ix_receipt_share_funder_receipt_id'), 'receipt_share', ['funder_receipt_id'], unique=False)


def downgrade() -> None:
    for index, table in (
        ('ix_receipt_share_funder_receipt_id', 'receipt_share'),
        ('ix_receipt_share_expected_payment_id', 'receipt_share'),
        ('ix_receipt_share_contribution_receipt_id', 'receipt_share'),
        ('ix_receipt_share_attribution_id', 'receipt_share'),
        ('ix_money_attribution_holder_id', 'money_attribution'),
        ('ix_funder_receipt_funder_id', 'funder_receipt'),
        ('ix_expected_payment_funder_id', 'expected_payment'),
        ('ix_expected_payment_budget_id', 'expected_payment'),
    ):
        op.drop_index(op.f(index), table_name=table)
    for table in ('receipt_share', 'money_attribution', 'funder_receipt', 'contribution_receipt', 'expected_payment'):
        op.drop_table(table)
