"""Initial schema: parties, budgets, support plans, the chart of accounts and the journal.

Besides the tables this revision
- seeds the standard spend categories of DESIGN.md §1;
- makes journal rows append-only on both databases (UPDATE and DELETE refused by triggers);
- on PostgreSQL, adds a deferred constraint trigger that refuses, at commit, any entry with
  fewer than two postings or whose postings do not sum to zero within each fund; refuses
  postings added to an entry after the transaction that created it; and creates the
  application role with INSERT but no UPDATE or DELETE on journal rows.

The SQL is written out here rather than imported, so this revision never changes.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

APP_ROLE = "phb_ledger_app"
JOURNAL_TABLES = ("journal_entry", "posting")
STANDARD_CATEGORIES = (
    ("staff_pay", "Staff pay and personal assistants", "Paying your support workers"),
    ("agency_support", "Agency support", "Support from an agency"),
    ("activities", "Activities", "Things to do"),
    ("equipment", "Equipment", "Equipment"),
    ("assistive_technology", "Assistive technology", "Technology that helps you"),
    ("transport", "Transport", "Getting about"),
    ("short_breaks", "Short breaks and respite", "Short breaks"),
    ("therapies", "Therapies (including complementary)", "Therapies"),
    ("counselling", "Counselling", "Counselling"),
    ("exercise", "Exercise", "Exercise"),
    ("training", "Training", "Training"),
    ("accommodation_contribution", "Accommodation contribution", "Help with where you live"),
    ("insurance", "Insurance (employer's liability)", "Insurance"),
    ("payroll_account_fees", "Payroll and account fees", "Payroll and bank fees"),
    ("brokerage_support_planning", "Brokerage and support planning", "Help to plan your support"),
    ("transition", "Transition", "Getting ready to move"),
)


def upgrade() -> None:
    _create_tables()
    _seed_standard_categories()
    _guard_journal()
    if op.get_bind().dialect.name == "postgresql":
        _grant_application_role()


def _create_tables() -> None:
    op.create_table('funder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('label', sa.String(length=60), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funder')),
    sa.UniqueConstraint('code', name=op.f('uq_funder_code'))
    )
    op.create_table('holder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_holder')),
    sa.UniqueConstraint('code', name=op.f('uq_holder_code'))
    )
    op.create_table('person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('preferred_name', sa.String(length=100), nullable=True),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('eligibility_group', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person'))
    )
    op.create_table('budget',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=32), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('lead_funder_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('previous_placement_annual_cost_pence', sa.BigInteger(), nullable=True),
    sa.Column('previous_placement_description', sa.String(length=300), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('period_end > period_start', name=op.f('ck_budget_period_order')),
    sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], name=op.f('fk_budget_holder_id_holder')),
    sa.ForeignKeyConstraint(['lead_funder_id'], ['funder.id'], name=op.f('fk_budget_lead_funder_id_funder')),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_budget_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget')),
    sa.UniqueConstraint('reference', name=op.f('uq_budget_reference'))
    )
    with op.batch_alter_table('budget', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_holder_id'), ['holder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_budget_lead_funder_id'), ['lead_funder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_budget_person_id'), ['person_id'], unique=False)

    op.create_table('category',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('plain_name', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], name=op.f('fk_category_holder_id_holder')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_category')),
    sa.UniqueConstraint('holder_id', 'code', name=op.f('uq_category_holder_id_code'))
    )
    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.create_index('uq_category_standard_code', ['code'], unique=True, sqlite_where=sa.text('holder_id IS NULL'), postgresql_where=sa.text('holder_id IS NULL'))

    op.create_table('ledger_book',
    sa.Column('holder_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('head_seq', sa.BigInteger(), nullable=False),
    sa.Column('head_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], name=op.f('fk_ledger_book_holder_id_holder')),
    sa.PrimaryKeyConstraint('holder_id', name=op.f('pk_ledger_book'))
    )
    op.create_table('representative',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('relationship', sa.String(length=100), nullable=True),
    sa.Column('legal_basis', sa.String(length=60), nullable=False),
    sa.Column('speaks_for_person', sa.Boolean(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['person.id'], name=op.f('fk_representative_person_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_representative'))
    )
    with op.batch_alter_table('representative', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_representative_person_id'), ['person_id'], unique=False)

    op.create_table('account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=True),
    sa.Column('code', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('type', sa.String(length=10), nullable=False),
    sa.Column('funder_id', sa.Integer(), nullable=True),
    sa.Column('is_person_contribution', sa.Boolean(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_account_budget_id_budget')),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_account_category_id_category')),
    sa.ForeignKeyConstraint(['funder_id'], ['funder.id'], name=op.f('fk_account_funder_id_funder')),
    sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], name=op.f('fk_account_holder_id_holder')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account')),
    sa.UniqueConstraint('code', name=op.f('uq_account_code'))
    )
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.create_index('ix_account_budget_id_kind', ['budget_id', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_account_holder_id'), ['holder_id'], unique=False)

    op.create_table('budget_contact',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('organisation', sa.String(length=200), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_budget_contact_budget_id_budget')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget_contact'))
    )
    with op.batch_alter_table('budget_contact', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_contact_budget_id'), ['budget_id'], unique=False)

    op.create_table('budget_part',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('management_option', sa.String(length=20), nullable=False),
    sa.Column('holding', sa.String(length=20), nullable=False),
    sa.Column('cadence', sa.String(length=20), nullable=False),
    sa.Column('timing', sa.String(length=20), nullable=False),
    sa.Column('initial_float_weeks', sa.Integer(), nullable=False),
    sa.CheckConstraint('initial_float_weeks >= 0 AND initial_float_weeks <= 52', name=op.f('ck_budget_part_float_weeks')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_budget_part_budget_id_budget')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget_part')),
    sa.UniqueConstraint('budget_id', 'management_option', 'holding', name=op.f('uq_budget_part_budget_id_management_option_holding'))
    )
    op.create_table('closed_period',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.String(length=6), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=False),
    sa.Column('closed_by', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=True),
    sa.ForeignKeyConstraint(['book_id'], ['ledger_book.holder_id'], name=op.f('fk_closed_period_book_id_ledger_book')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_closed_period')),
    sa.UniqueConstraint('book_id', 'quarter', name=op.f('uq_closed_period_book_id_quarter'))
    )
    op.create_table('journal_entry',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('book_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=False),
    sa.Column('reverses_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('source_file', sa.String(length=500), nullable=True),
    sa.Column('source_line', sa.Integer(), nullable=True),
    sa.Column('source_format', sa.String(length=40), nullable=True),
    sa.Column('importer', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('entry_hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint('seq >= 1', name=op.f('ck_journal_entry_seq_positive')),
    sa.ForeignKeyConstraint(['book_id'], ['ledger_book.holder_id'], name=op.f('fk_journal_entry_book_id_ledger_book')),
    sa.ForeignKeyConstraint(['reverses_entry_id'], ['journal_entry.id'], name=op.f('fk_journal_entry_reverses_entry_id_journal_entry')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_journal_entry')),
    sa.UniqueConstraint('book_id', 'idempotency_key', name=op.f('uq_journal_entry_book_id_idempotency_key')),
    sa.UniqueConstraint('book_id', 'seq', name=op.f('uq_journal_entry_book_id_seq'))
    )
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.create_index('uq_journal_entry_reverses_entry_id', ['reverses_entry_id'], unique=True, sqlite_where=sa.text('reverses_entry_id IS NOT NULL'), postgresql_where=sa.text('reverses_entry_id IS NOT NULL'))

    op.create_table('support_plan_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('total_pence', sa.BigInteger(), nullable=False),
    sa.Column('contingency_pence', sa.BigInteger(), nullable=False),
    sa.Column('top_slice_basis_points', sa.Integer(), nullable=True),
    sa.Column('top_slice_pence', sa.BigInteger(), nullable=False),
    sa.Column('speaks_for_representative_id', sa.Integer(), nullable=True),
    sa.Column('review_every_months', sa.Integer(), nullable=True),
    sa.Column('next_review_on', sa.Date(), nullable=True),
    sa.Column('change_reason', sa.String(length=1000), nullable=True),
    sa.Column('notes', sa.String(length=4000), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('agreed_by_name', sa.String(length=200), nullable=True),
    sa.Column('agreed_by_role', sa.String(length=200), nullable=True),
    sa.Column('agreed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint('contingency_pence >= 0', name=op.f('ck_support_plan_version_contingency_not_negative')),
    sa.CheckConstraint('top_slice_basis_points IS NULL OR (top_slice_basis_points >= 0 AND top_slice_basis_points <= 10000)', name=op.f('ck_support_plan_version_top_slice_percent_range')),
    sa.CheckConstraint('top_slice_pence >= 0', name=op.f('ck_support_plan_version_top_slice_not_negative')),
    sa.CheckConstraint('total_pence >= 0', name=op.f('ck_support_plan_version_total_not_negative')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_support_plan_version_budget_id_budget')),
    sa.ForeignKeyConstraint(['speaks_for_representative_id'], ['representative.id'], name=op.f('fk_support_plan_version_speaks_for_representative_id_representative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_plan_version')),
    sa.UniqueConstraint('budget_id', 'version', name=op.f('uq_support_plan_version_budget_id_version'))
    )
    with op.batch_alter_table('support_plan_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_plan_version_budget_id'), ['budget_id'], unique=False)

    op.create_table('funding_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_version_id', sa.Integer(), nullable=False),
    sa.Column('funder_id', sa.Integer(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('client_contribution_pence', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_pence >= 0', name=op.f('ck_funding_line_amount_not_negative')),
    sa.CheckConstraint('client_contribution_pence >= 0 AND client_contribution_pence <= amount_pence', name=op.f('ck_funding_line_contribution_range')),
    sa.ForeignKeyConstraint(['funder_id'], ['funder.id'], name=op.f('fk_funding_line_funder_id_funder')),
    sa.ForeignKeyConstraint(['plan_version_id'], ['support_plan_version.id'], name=op.f('fk_funding_line_plan_version_id_support_plan_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_funding_line')),
    sa.UniqueConstraint('plan_version_id', 'funder_id', name=op.f('uq_funding_line_plan_version_id_funder_id'))
    )
    with op.batch_alter_table('funding_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_funding_line_funder_id'), ['funder_id'], unique=False)

    op.create_table('plan_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_version_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('budget_part_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.String(length=500), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('annual_amount_pence', sa.BigInteger(), nullable=True),
    sa.Column('weekly_hours_hundredths', sa.Integer(), nullable=True),
    sa.Column('hourly_rate_pence', sa.BigInteger(), nullable=True),
    sa.Column('weeks', sa.Integer(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_pence >= 0', name=op.f('ck_plan_line_amount_not_negative')),
    sa.ForeignKeyConstraint(['budget_part_id'], ['budget_part.id'], name=op.f('fk_plan_line_budget_part_id_budget_part')),
    sa.ForeignKeyConstraint(['category_id'], ['category.id'], name=op.f('fk_plan_line_category_id_category')),
    sa.ForeignKeyConstraint(['plan_version_id'], ['support_plan_version.id'], name=op.f('fk_plan_line_plan_version_id_support_plan_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_line')),
    sa.UniqueConstraint('plan_version_id', 'position', name=op.f('uq_plan_line_plan_version_id_position'))
    )
    with op.batch_alter_table('plan_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_line_category_id'), ['category_id'], unique=False)

    op.create_table('plan_outcome',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_version_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('description', sa.String(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['plan_version_id'], ['support_plan_version.id'], name=op.f('fk_plan_outcome_plan_version_id_support_plan_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_outcome')),
    sa.UniqueConstraint('plan_version_id', 'position', name=op.f('uq_plan_outcome_plan_version_id_position'))
    )
    op.create_table('plan_part_amount',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plan_version_id', sa.Integer(), nullable=False),
    sa.Column('budget_part_id', sa.Integer(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_pence >= 0', name=op.f('ck_plan_part_amount_amount_not_negative')),
    sa.ForeignKeyConstraint(['budget_part_id'], ['budget_part.id'], name=op.f('fk_plan_part_amount_budget_part_id_budget_part')),
    sa.ForeignKeyConstraint(['plan_version_id'], ['support_plan_version.id'], name=op.f('fk_plan_part_amount_plan_version_id_support_plan_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_part_amount')),
    sa.UniqueConstraint('plan_version_id', 'budget_part_id', name=op.f('uq_plan_part_amount_plan_version_id_budget_part_id'))
    )
    with op.batch_alter_table('plan_part_amount', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_part_amount_budget_part_id'), ['budget_part_id'], unique=False)

    op.create_table('posting',
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('line_no', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('entry_date', sa.Date(), nullable=False),
    sa.CheckConstraint('amount_pence <> 0', name=op.f('ck_posting_amount_not_zero')),
    sa.CheckConstraint('line_no >= 1', name=op.f('ck_posting_line_no_positive')),
    sa.ForeignKeyConstraint(['account_id'], ['account.id'], name=op.f('fk_posting_account_id_account')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_posting_entry_id_journal_entry')),
    sa.PrimaryKeyConstraint('entry_id', 'line_no', name=op.f('pk_posting')),
    sqlite_with_rowid=False
    )
    with op.batch_alter_table('posting', schema=None) as batch_op:
        batch_op.create_index('ix_posting_account_date', ['account_id', 'entry_date', 'entry_id', 'amount_pence'], unique=False)



def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS posting_with_its_entry ON posting")
        op.execute("DROP FUNCTION IF EXISTS phb_refuse_late_postings()")
        op.execute("DROP TRIGGER IF EXISTS journal_entry_balanced ON journal_entry")
        op.execute("DROP FUNCTION IF EXISTS phb_check_entry_balanced()")
        for table in JOURNAL_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute("DROP FUNCTION IF EXISTS phb_refuse_journal_change()")
    else:
        for table in JOURNAL_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
    with op.batch_alter_table('posting', schema=None) as batch_op:
        batch_op.drop_index('ix_posting_account_date')

    op.drop_table('posting')
    with op.batch_alter_table('plan_part_amount', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_part_amount_budget_part_id'))

    op.drop_table('plan_part_amount')
    op.drop_table('plan_outcome')
    with op.batch_alter_table('plan_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_line_category_id'))

    op.drop_table('plan_line')
    with op.batch_alter_table('funding_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_funding_line_funder_id'))

    op.drop_table('funding_line')
    with op.batch_alter_table('support_plan_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_plan_version_budget_id'))

    op.drop_table('support_plan_version')
    with op.batch_alter_table('journal_entry', schema=None) as batch_op:
        batch_op.drop_index('uq_journal_entry_reverses_entry_id', sqlite_where=sa.text('reverses_entry_id IS NOT NULL'), postgresql_where=sa.text('reverses_entry_id IS NOT NULL'))

    op.drop_table('journal_entry')
    op.drop_table('closed_period')
    op.drop_table('budget_part')
    with op.batch_alter_table('budget_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_contact_budget_id'))

    op.drop_table('budget_contact')
    with op.batch_alter_table('account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_holder_id'))
        batch_op.drop_index('ix_account_budget_id_kind')

    op.drop_table('account')
    with op.batch_alter_table('representative', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_representative_person_id'))

    op.drop_table('representative')
    op.drop_table('ledger_book')
    with op.batch_alter_table('category', schema=None) as batch_op:
        batch_op.drop_index('uq_category_standard_code', sqlite_where=sa.text('holder_id IS NULL'), postgresql_where=sa.text('holder_id IS NULL'))

    op.drop_table('category')
    with op.batch_alter_table('budget', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_person_id'))
        batch_op.drop_index(batch_op.f('ix_budget_lead_funder_id'))
        batch_op.drop_index(batch_op.f('ix_budget_holder_id'))

    op.drop_table('budget')
    op.drop_table('person')
    op.drop_table('holder')
    op.drop_table('funder')


def _seed_standard_categories() -> None:
    category = sa.table(
        "category",
        sa.column("holder_id", sa.Integer),
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("plain_name", sa.String),
    )
    op.bulk_insert(
        category,
        [{"holder_id": None, "code": c, "name": n, "plain_name": p} for c, n, p in STANDARD_CATEGORIES],
    )


def _guard_journal() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in JOURNAL_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'journal rows are append-only: {table} cannot be updated'); END"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'journal rows are append-only: {table} cannot be deleted'); END"
            )
        return
    op.execute(
        """
        CREATE FUNCTION phb_refuse_journal_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'journal rows are append-only: % cannot be %d', TG_TABLE_NAME, lower(TG_OP)
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    for table in JOURNAL_TABLES:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION phb_refuse_journal_change()"
        )
    # Balance is checked at commit, once per entry, in one query: the deferred constraint
    # trigger on journal_entry. Postings can only be added in the transaction that creates
    # their entry (a statement-level trigger, so a COPY of a whole batch is checked once), so
    # no posting can later unbalance an entry that was checked when it was committed. The
    # journal never writes inside a savepoint; a posting written in one would be refused,
    # since its entry's xmin would then be the savepoint's, not the transaction's.
    # These queries are planned once per session from the statistics of that moment, and on a
    # young database (a table that looks tiny) the planner picks full scans, which then run
    # for every entry of a large import. So the functions forbid sequential scans, and the
    # account and entry lookups are a LATERAL subquery with OFFSET 0 (never flattened into a
    # join) and a scalar subquery: each is a primary-key probe whatever the statistics say.
    op.execute(
        """
        CREATE FUNCTION phb_check_entry_balanced() RETURNS trigger LANGUAGE plpgsql
        SET enable_seqscan = off AS $$
        DECLARE
            posting_count bigint;
            foreign_postings bigint;
            unbalanced_funds bigint;
            unbalanced_fund text;
        BEGIN
            SELECT coalesce(sum(fund.postings), 0), coalesce(sum(fund.foreign_postings), 0),
                   count(*) FILTER (WHERE fund.total <> 0), min(fund.name) FILTER (WHERE fund.total <> 0)
              INTO posting_count, foreign_postings, unbalanced_funds, unbalanced_fund
              FROM (SELECT count(*) AS postings, sum(line.amount_pence) AS total,
                           count(*) FILTER (WHERE line.holder_id IS DISTINCT FROM NEW.book_id) AS foreign_postings,
                           coalesce('budget ' || line.budget_id, 'holder fund') AS name
                      FROM (SELECT p.amount_pence, a.holder_id, a.budget_id
                              FROM posting p
                              JOIN LATERAL (SELECT holder_id, budget_id FROM account
                                             WHERE id = p.account_id OFFSET 0) AS a ON true
                             WHERE p.entry_id = NEW.id) AS line
                     GROUP BY line.budget_id) AS fund;
            IF foreign_postings > 0 THEN
                RAISE EXCEPTION 'journal entry % posts to an account of another holder''s book', NEW.id
                    USING ERRCODE = 'check_violation';
            END IF;
            IF posting_count < 2 THEN
                RAISE EXCEPTION 'journal entry % has % posting(s); an entry needs at least two',
                    NEW.id, posting_count USING ERRCODE = 'check_violation';
            END IF;
            IF unbalanced_funds > 0 THEN
                RAISE EXCEPTION 'journal entry % does not sum to zero within fund %', NEW.id, unbalanced_fund
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER journal_entry_balanced AFTER INSERT ON journal_entry "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION phb_check_entry_balanced()"
    )
    op.execute(
        """
        CREATE FUNCTION phb_refuse_late_postings() RETURNS trigger LANGUAGE plpgsql
        SET enable_seqscan = off AS $$
        DECLARE
            late_entry_id bigint;
        BEGIN
            SELECT written.entry_id INTO late_entry_id
              FROM (SELECT DISTINCT entry_id FROM added) AS written
             WHERE (SELECT e.xmin FROM journal_entry e WHERE e.id = written.entry_id) <> pg_current_xact_id()::xid
             LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION 'journal entry % is already posted; postings are written with their entry only',
                    late_entry_id USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER posting_with_its_entry AFTER INSERT ON posting REFERENCING NEW TABLE AS added "
        "FOR EACH STATEMENT EXECUTE FUNCTION phb_refuse_late_postings()"
    )


def _grant_application_role() -> None:
    # The role is cluster-wide and shared by every database of the service, so it is
    # created once and never dropped by a downgrade.
    op.execute(
        f"""
        DO $$ BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                CREATE ROLE {APP_ROLE} NOLOGIN;
            END IF;
        END $$
        """
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {', '.join(JOURNAL_TABLES)} FROM {APP_ROLE}")
    op.execute(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON alembic_version FROM {APP_ROLE}")
    # Tables later migrations create get the ordinary grants; a later journal table must
    # revoke UPDATE and DELETE itself, as above.
    op.execute(
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP_ROLE}"
    )
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {APP_ROLE}")
