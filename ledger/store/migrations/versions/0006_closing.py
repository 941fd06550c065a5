"""Closing a budget, surplus decisions, and each funder's surplus thresholds.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('budget_closure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('closed_by', sa.String(length=200), nullable=False),
    sa.Column('contingency_returned_pence', sa.BigInteger(), nullable=False),
    sa.Column('card_returned_pence', sa.BigInteger(), nullable=False),
    sa.Column('allocation_released_pence', sa.BigInteger(), nullable=False),
    sa.Column('surplus_pence', sa.BigInteger(), nullable=False),
    sa.Column('to_recover_pence', sa.BigInteger(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('surplus_pence >= 0', name=op.f('ck_budget_closure_surplus_not_negative')),
    sa.CheckConstraint('to_recover_pence >= 0', name=op.f('ck_budget_closure_to_recover_not_negative')),
    sa.CheckConstraint('allocation_released_pence >= 0', name=op.f('ck_budget_closure_released_not_negative')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_budget_closure_budget_id_budget')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget_closure')),
    sa.UniqueConstraint('budget_id', name=op.f('uq_budget_closure_budget_id'))
    )
    op.create_table('surplus_decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('plan_version_id', sa.Integer(), nullable=True),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("action IN ('accept', 'reallocate', 'return', 'offset')", name=op.f('ck_surplus_decision_action_known')),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_surplus_decision_amount_positive')),
    sa.CheckConstraint("action <> 'return' OR entry_id IS NOT NULL", name=op.f('ck_surplus_decision_return_has_entry')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_surplus_decision_budget_id_budget')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_surplus_decision_entry_id_journal_entry')),
    sa.ForeignKeyConstraint(['plan_version_id'], ['support_plan_version.id'], name=op.f('fk_surplus_decision_plan_version_id_support_plan_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_surplus_decision')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_surplus_decision_entry_id'))
    )
    with op.batch_alter_table('surplus_decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_surplus_decision_budget_id'), ['budget_id'], unique=False)

    op.create_table('surplus_threshold',
    sa.Column('funder_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('warn_weeks_tenths', sa.Integer(), nullable=False),
    sa.Column('act_weeks_tenths', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('warn_weeks_tenths >= 0', name=op.f('ck_surplus_threshold_warn_not_negative')),
    sa.CheckConstraint('act_weeks_tenths > warn_weeks_tenths', name=op.f('ck_surplus_threshold_act_above_warn')),
    sa.ForeignKeyConstraint(['funder_id'], ['funder.id'], name=op.f('fk_surplus_threshold_funder_id_funder')),
    sa.PrimaryKeyConstraint('funder_id', name=op.f('pk_surplus_threshold'))
    )


def downgrade() -> None:
    op.drop_table('surplus_threshold')
    with op.batch_alter_table('surplus_decision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_surplus_decision_budget_id'))

    op.drop_table('surplus_decision')
    op.drop_table('budget_closure')
