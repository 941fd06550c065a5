"""Contingency used, top-slice taken month by month, and notional costs recorded.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

_ENTRY_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('contingency_use',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('agreed_by_name', sa.String(length=200), nullable=False),
    sa.Column('agreed_by_role', sa.String(length=200), nullable=False),
    sa.Column('agreed_on', sa.Date(), nullable=False),
    sa.Column('used_on', sa.Date(), nullable=False),
    sa.Column('destination', sa.String(length=10), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('entry_id', _ENTRY_ID, nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_contingency_use_amount_positive')),
    sa.CheckConstraint('agreed_on <= used_on', name=op.f('ck_contingency_use_agreed_before_use')),
    sa.CheckConstraint(
        "(destination = 'card' AND category_id IS NULL) OR (destination = 'spend' AND category_id IS NOT NULL)",
        name=op.f('ck_contingency_use_destination_category'),
    ),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_contingency_use_budget_id_budget')),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_contingency_use_category_id_category')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_contingency_use_entry_id_journal_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contingency_use')),
    sa.UniqueConstraint('budget_id', 'idempotency_key', name=op.f('uq_contingency_use_budget_id_idempotency_key')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_contingency_use_entry_id'))
    )
    with op.batch_alter_table('contingency_use', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contingency_use_budget_id'), ['budget_id'], unique=False)

    op.create_table('top_slice_taken',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('month_starts_on', sa.Date(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('plan_version_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', _ENTRY_ID, nullable=False),
    sa.Column('posted_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount_pence <> 0', name=op.f('ck_top_slice_taken_amount_not_zero')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_top_slice_taken_budget_id_budget')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_top_slice_taken_entry_id_journal_entry')),
    sa.ForeignKeyConstraint(['plan_version_id'], ['support_plan_version.id'], name=op.f('fk_top_slice_taken_plan_version_id_support_plan_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_top_slice_taken')),
    sa.UniqueConstraint('budget_id', 'month_starts_on', name=op.f('uq_top_slice_taken_budget_id_month_starts_on')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_top_slice_taken_entry_id'))
    )

    op.create_table('notional_cost',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('funder_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('incurred_on', sa.Date(), nullable=False),
    sa.Column('supplier', sa.String(length=200), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('entry_id', _ENTRY_ID, nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_notional_cost_amount_positive')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_notional_cost_budget_id_budget')),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_notional_cost_category_id_category')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_notional_cost_entry_id_journal_entry')),
    sa.ForeignKeyConstraint(['funder_id'], ['funder.id'], name=op.f('fk_notional_cost_funder_id_funder')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notional_cost')),
    sa.UniqueConstraint('budget_id', 'supplier', 'reference', name=op.f('uq_notional_cost_budget_id_supplier_reference')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_notional_cost_entry_id'))
    )
    with op.batch_alter_table('notional_cost', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notional_cost_budget_id'), ['budget_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notional_cost', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notional_cost_budget_id'))
    op.drop_table('notional_cost')
    op.drop_table('top_slice_taken')
    with op.batch_alter_table('contingency_use', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contingency_use_budget_id'))
    op.drop_table('contingency_use')
