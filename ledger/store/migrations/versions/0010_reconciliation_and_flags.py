"""Reconciliation (matches, categorisations, holder rules, remittance advices, locks, the
audit trail) and flags (history, evidence, repayment notices, funder settings and rule sets);
the plan's daily cash allowance; the "uncategorised" category spend waits in.

The audit trails are append-only: on PostgreSQL the application role may insert and read
``reconciliation_event``, ``flag_event`` and ``categorisation``, never change or delete them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24 08:05:18.108145
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

APP_ROLE = "phb_ledger_app"
APPEND_ONLY = ("reconciliation_event", "flag_event", "categorisation")
UNCATEGORISED = {"holder_id": None, "code": "uncategorised", "name": "Not yet categorised", "plain_name": "Not sorted yet"}


def upgrade() -> None:
    op.create_table('flag_settings',
    sa.Column('funder_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('large_spend_pence', sa.BigInteger(), nullable=False),
    sa.Column('duplicate_window_days', sa.Integer(), nullable=False),
    sa.Column('over_plan_tolerance_basis_points', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['funder_id'], ['funder.id'], name=op.f('fk_flag_settings_funder_id_funder')),
    sa.PrimaryKeyConstraint('funder_id', name=op.f('pk_flag_settings'))
    )
    op.create_table('funder_rule_set',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('funder_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('based_on', sa.String(length=80), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['funder_id'], ['funder.id'], name=op.f('fk_funder_rule_set_funder_id_funder')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funder_rule_set')),
    sa.UniqueConstraint('funder_id', 'version', name=op.f('uq_funder_rule_set_funder_id_version'))
    )
    with op.batch_alter_table('funder_rule_set', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funder_rule_set_funder_id'), ['funder_id'], unique=False)

    op.create_table('category_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('rule_key', sa.String(length=80), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('match_on', sa.String(length=10), nullable=False),
    sa.Column('pattern', sa.String(length=200), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=10), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('retired_at', sa.DateTime(), nullable=True),
    sa.Column('retired_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_category_rule_category_id_category')),
    sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], name=op.f('fk_category_rule_holder_id_holder')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category_rule')),
    sa.UniqueConstraint('holder_id', 'rule_key', 'version', name=op.f('uq_category_rule_holder_id_rule_key_version'))
    )
    with op.batch_alter_table('category_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_category_rule_holder_id'), ['holder_id'], unique=False)

    op.create_table('reconciliation_lock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('through_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=True),
    sa.Column('locked_by', sa.String(length=200), nullable=False),
    sa.Column('locked_at', sa.DateTime(), nullable=False),
    sa.Column('reopened_at', sa.DateTime(), nullable=True),
    sa.Column('reopened_by', sa.String(length=200), nullable=True),
    sa.Column('reopen_reason', sa.String(length=1000), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_reconciliation_lock_account_id_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_lock'))
    )
    with op.batch_alter_table('reconciliation_lock', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_lock_account_id'), ['account_id'], unique=False)

    op.create_table('remittance_advice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('funder_id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=140), nullable=False),
    sa.Column('total_pence', sa.BigInteger(), nullable=False),
    sa.Column('lines', sa.Text(), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['funder_id'], ['funder.id'], name=op.f('fk_remittance_advice_funder_id_funder')),
    sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], name=op.f('fk_remittance_advice_holder_id_holder')),
    sa.ForeignKeyConstraint(['receipt_id'], ['funder_receipt.id'], name=op.f('fk_remittance_advice_receipt_id_funder_receipt')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_remittance_advice')),
    sa.UniqueConstraint('holder_id', 'funder_id', 'reference', name=op.f('uq_remittance_advice_holder_id_funder_id_reference'))
    )
    with op.batch_alter_table('remittance_advice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remittance_advice_holder_id'), ['holder_id'], unique=False)

    op.create_table('flag',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('cause_key', sa.String(length=200), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=True),
    sa.Column('funder_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('severity', sa.String(length=10), nullable=False),
    sa.Column('rule_id', sa.String(length=80), nullable=False),
    sa.Column('rule_version', sa.String(length=80), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=True),
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('statement_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('state', sa.String(length=30), nullable=False),
    sa.Column('raised_at', sa.DateTime(), nullable=False),
    sa.Column('state_changed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_flag_account_id_account')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_flag_budget_id_budget')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_flag_entry_id_journal_entry')),
    sa.ForeignKeyConstraint(['funder_id'], ['funder.id'], name=op.f('fk_flag_funder_id_funder')),
    sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], name=op.f('fk_flag_holder_id_holder')),
    sa.ForeignKeyConstraint(['statement_line_id'], ['statement_line.id'], name=op.f('fk_flag_statement_line_id_statement_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flag')),
    sa.UniqueConstraint('cause_key', name=op.f('uq_flag_cause_key'))
    )
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flag_budget_id'), ['budget_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flag_code'), ['code'], unique=False)
        batch_op.create_index(batch_op.f('ix_flag_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_flag_funder_id'), ['funder_id'], unique=False)
        batch_op.create_index('ix_flag_holder_id_state', ['holder_id', 'state'], unique=False)
        batch_op.create_index(batch_op.f('ix_flag_statement_line_id'), ['statement_line_id'], unique=False)

    op.create_table('reconciliation_match',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('statement_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('active_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('method', sa.String(length=30), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('undone_at', sa.DateTime(), nullable=True),
    sa.Column('undone_by', sa.String(length=200), nullable=True),
    sa.Column('undo_reason', sa.String(length=1000), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_reconciliation_match_account_id_account')),
    sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], name=op.f('fk_reconciliation_match_holder_id_holder')),
    sa.ForeignKeyConstraint(['statement_line_id'], ['statement_line.id'], name=op.f('fk_reconciliation_match_statement_line_id_statement_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_match')),
    sa.UniqueConstraint('active_line_id', name=op.f('uq_reconciliation_match_active_line_id'))
    )
    with op.batch_alter_table('reconciliation_match', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_match_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reconciliation_match_holder_id'), ['holder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reconciliation_match_statement_line_id'), ['statement_line_id'], unique=False)

    op.create_table('evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=True),
    sa.Column('flag_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('statement_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('file_name', sa.String(length=300), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('uploaded_by', sa.String(length=200), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_evidence_budget_id_budget')),
    sa.ForeignKeyConstraint(['flag_id'], ['flag.id'], name=op.f('fk_evidence_flag_id_flag')),
    sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], name=op.f('fk_evidence_holder_id_holder')),
    sa.ForeignKeyConstraint(['statement_line_id'], ['statement_line.id'], name=op.f('fk_evidence_statement_line_id_statement_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence'))
    )
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_flag_id'), ['flag_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_holder_id'), ['holder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_statement_line_id'), ['statement_line_id'], unique=False)

    op.create_table('reconciliation_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('statement_line_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('match_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_reconciliation_event_account_id_account')),
    sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], name=op.f('fk_reconciliation_event_holder_id_holder')),
    sa.ForeignKeyConstraint(['match_id'], ['reconciliation_match.id'], name=op.f('fk_reconciliation_event_match_id_reconciliation_match')),
    sa.ForeignKeyConstraint(['statement_line_id'], ['statement_line.id'], name=op.f('fk_reconciliation_event_statement_line_id_statement_line')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_event'))
    )
    with op.batch_alter_table('reconciliation_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_event_holder_id'), ['holder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reconciliation_event_statement_line_id'), ['statement_line_id'], unique=False)

    op.create_table('reconciliation_match_part',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('match_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('active_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('budget_id', sa.Integer(), nullable=True),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('posted_here', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_reconciliation_match_part_account_id_account')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_reconciliation_match_part_budget_id_budget')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_reconciliation_match_part_entry_id_journal_entry')),
    sa.ForeignKeyConstraint(['match_id'], ['reconciliation_match.id'], name=op.f('fk_reconciliation_match_part_match_id_reconciliation_match')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_match_part')),
    sa.UniqueConstraint('account_id', 'active_entry_id', name=op.f('uq_reconciliation_match_part_account_id_active_entry_id'))
    )
    with op.batch_alter_table('reconciliation_match_part', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_match_part_budget_id'), ['budget_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reconciliation_match_part_entry_id'), ['entry_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reconciliation_match_part_match_id'), ['match_id'], unique=False)

    op.create_table('repayment_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('flag_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('funder_id', sa.Integer(), nullable=True),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('reasons', sa.Text(), nullable=False),
    sa.Column('repay_by', sa.Date(), nullable=False),
    sa.Column('repayer', sa.String(length=200), nullable=False),
    sa.Column('issued_by', sa.String(length=200), nullable=False),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_repayment_notice_budget_id_budget')),
    sa.ForeignKeyConstraint(['flag_id'], ['flag.id'], name=op.f('fk_repayment_notice_flag_id_flag')),
    sa.ForeignKeyConstraint(['funder_id'], ['funder.id'], name=op.f('fk_repayment_notice_funder_id_funder')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_repayment_notice'))
    )
    with op.batch_alter_table('repayment_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_repayment_notice_flag_id'), ['flag_id'], unique=False)

    op.create_table('categorisation',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('match_part_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('merchant_key', sa.String(length=200), nullable=False),
    sa.Column('rule_id', sa.String(length=80), nullable=False),
    sa.Column('rule_version', sa.String(length=80), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('by_person', sa.Boolean(), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_categorisation_budget_id_budget')),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_categorisation_category_id_category')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_categorisation_entry_id_journal_entry')),
    sa.ForeignKeyConstraint(['match_part_id'], ['reconciliation_match_part.id'], name=op.f('fk_categorisation_match_part_id_reconciliation_match_part')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_categorisation'))
    )
    with op.batch_alter_table('categorisation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_categorisation_budget_id'), ['budget_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_categorisation_match_part_id'), ['match_part_id'], unique=False)

    op.create_table('flag_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('flag_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('from_state', sa.String(length=30), nullable=True),
    sa.Column('to_state', sa.String(length=30), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('actor_role', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('evidence_ids', sa.String(length=500), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('load_offset_id', sa.Integer(), nullable=True),
    sa.Column('notice_id', sa.Integer(), nullable=True),
    sa.Column('plan_version_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_flag_event_entry_id_journal_entry')),
    sa.ForeignKeyConstraint(['flag_id'], ['flag.id'], name=op.f('fk_flag_event_flag_id_flag')),
    sa.ForeignKeyConstraint(['load_offset_id'], ['load_offset.id'], name=op.f('fk_flag_event_load_offset_id_load_offset')),
    sa.ForeignKeyConstraint(['notice_id'], ['repayment_notice.id'], name=op.f('fk_flag_event_notice_id_repayment_notice')),
    sa.ForeignKeyConstraint(['plan_version_id'], ['support_plan_version.id'], name=op.f('fk_flag_event_plan_version_id_support_plan_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_flag_event'))
    )
    with op.batch_alter_table('flag_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_flag_event_flag_id'), ['flag_id'], unique=False)

    with op.batch_alter_table('support_plan_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('cash_withdrawal_daily_cap_pence', sa.BigInteger(), nullable=True))

    category = sa.table("category", sa.column("holder_id", sa.Integer), sa.column("code", sa.String), sa.column("name", sa.String), sa.column("plain_name", sa.String))
    op.bulk_insert(category, [UNCATEGORISED])
    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {APP_ROLE}")



def downgrade() -> None:
    op.execute("DELETE FROM category WHERE holder_id IS NULL AND code = 'uncategorised'")
    with op.batch_alter_table('support_plan_version', schema=None) as batch_op:
        batch_op.drop_column('cash_withdrawal_daily_cap_pence')

    with op.batch_alter_table('flag_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flag_event_flag_id'))

    op.drop_table('flag_event')
    with op.batch_alter_table('categorisation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_categorisation_match_part_id'))
        batch_op.drop_index(batch_op.f('ix_categorisation_budget_id'))

    op.drop_table('categorisation')
    with op.batch_alter_table('repayment_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_repayment_notice_flag_id'))

    op.drop_table('repayment_notice')
    with op.batch_alter_table('reconciliation_match_part', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconciliation_match_part_match_id'))
        batch_op.drop_index(batch_op.f('ix_reconciliation_match_part_entry_id'))
        batch_op.drop_index(batch_op.f('ix_reconciliation_match_part_budget_id'))

    op.drop_table('reconciliation_match_part')
    with op.batch_alter_table('reconciliation_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconciliation_event_statement_line_id'))
        batch_op.drop_index(batch_op.f('ix_reconciliation_event_holder_id'))

    op.drop_table('reconciliation_event')
    with op.batch_alter_table('evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_statement_line_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_holder_id'))
        batch_op.drop_index(batch_op.f('ix_evidence_flag_id'))

    op.drop_table('evidence')
    with op.batch_alter_table('reconciliation_match', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconciliation_match_statement_line_id'))
        batch_op.drop_index(batch_op.f('ix_reconciliation_match_holder_id'))
        batch_op.drop_index(batch_op.f('ix_reconciliation_match_account_id'))

    op.drop_table('reconciliation_match')
    with op.batch_alter_table('flag', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_flag_statement_line_id'))
        batch_op.drop_index('ix_flag_holder_id_state')
        batch_op.drop_index(batch_op.f('ix_flag_funder_id'))
        batch_op.drop_index(batch_op.f('ix_flag_entry_id'))
        batch_op.drop_index(batch_op.f('ix_flag_code'))
        batch_op.drop_index(batch_op.f('ix_flag_budget_id'))

    op.drop_table('flag')
    with op.batch_alter_table('remittance_advice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remittance_advice_holder_id'))

    op.drop_table('remittance_advice')
    with op.batch_alter_table('reconciliation_lock', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reconciliation_lock_account_id'))

    op.drop_table('reconciliation_lock')
    with op.batch_alter_table('category_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_category_rule_holder_id'))

    op.drop_table('category_rule')
    with op.batch_alter_table('funder_rule_set', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funder_rule_set_funder_id'))

    op.drop_table('funder_rule_set')
    op.drop_table('flag_settings')
