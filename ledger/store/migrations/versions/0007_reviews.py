"""Reviews due: default intervals per funding stream, reviews held, reviews asked for.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# The shipped defaults, one row per funding stream; each funder kind changes its own through
# `PUT /review-intervals/{funder_kind}`. Copied here as literals: a migration never changes.
#
# - icb: NHS England's personal health budget guidance — the care plan is reviewed within
#   3 months of the PHB being set up, then at least once a year (NHS England, "Guidance on
#   direct payments for healthcare: understanding the regulations", on the National Health
#   Service (Direct Payments) Regulations 2013, S.I. 2013/1617).
# - council_adult_social_care: the Care and Support (Direct Payments) Regulations 2014,
#   regulation 7(1)(a), and the Care and Support Statutory Guidance, chapter 12 — a direct
#   payment is reviewed at least once within its first 6 months, then at intervals of no
#   more than 12 months.
# - council_children_education: the same council rule (6 months, then every 12) until a
#   council sets its own; an EHC plan itself is reviewed at least every 12 months (SEND Code
#   of Practice 2015, 9.166).
#
# A significant change: a revision moving the budget total by 10% or more (1000 basis
# points), reviewed within 28 days of its agreement — a house default, not from guidance.
QUARTERLY_ONLY = "kind = 'quarterly_quality'"
SEED = """
INSERT INTO review_interval
    (funder_kind, first_after_months, then_every_months, significant_change_days,
     significant_change_basis_points, updated_by, updated_at)
VALUES
    ('icb', 3, 12, 28, 1000, 'shipped default', '2026-11-24 00:00:00'),
    ('council_adult_social_care', 6, 12, 28, 1000, 'shipped default', '2026-11-24 00:00:00'),
    ('council_children_education', 6, 12, 28, 1000, 'shipped default', '2026-11-24 00:00:00')
"""


def upgrade() -> None:
    op.create_table('review_interval',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('funder_kind', sa.String(length=40), nullable=False),
    sa.Column('first_after_months', sa.Integer(), nullable=False),
    sa.Column('then_every_months', sa.Integer(), nullable=False),
    sa.Column('significant_change_days', sa.Integer(), nullable=False),
    sa.Column('significant_change_basis_points', sa.Integer(), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('first_after_months >= 1 AND first_after_months <= 24', name=op.f('ck_review_interval_first_after_range')),
    sa.CheckConstraint('then_every_months >= 1 AND then_every_months <= 24', name=op.f('ck_review_interval_then_every_range')),
    sa.CheckConstraint('significant_change_days >= 1 AND significant_change_days <= 365', name=op.f('ck_review_interval_significant_change_days_range')),
    sa.CheckConstraint('significant_change_basis_points >= 1 AND significant_change_basis_points <= 10000', name=op.f('ck_review_interval_significant_change_basis_points_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_interval')),
    sa.UniqueConstraint('funder_kind', name=op.f('uq_review_interval_funder_kind'))
    )
    op.execute(SEED)
    op.create_table('budget_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('plan', 'quarterly_quality', 'significant_change', 'requested')", name=op.f('ck_budget_review_kind_known')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_budget_review_budget_id_budget')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget_review'))
    )
    op.create_index(op.f('ix_budget_review_budget_id'), 'budget_review', ['budget_id'], unique=False)
    op.create_index('uq_budget_review_quarter', 'budget_review', ['budget_id', 'due_on'], unique=True, sqlite_where=sa.text(QUARTERLY_ONLY), postgresql_where=sa.text(QUARTERLY_ONLY))
    op.create_table('review_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('asked_by', sa.String(length=200), nullable=False),
    sa.Column('asked_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('answered_review_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['answered_review_id'], ['budget_review.id'], name=op.f('fk_review_request_answered_review_id_budget_review')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_review_request_budget_id_budget')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_request'))
    )
    op.create_index(op.f('ix_review_request_budget_id'), 'review_request', ['budget_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_review_request_budget_id'), table_name='review_request')
    op.drop_table('review_request')
    op.drop_index('uq_budget_review_quarter', table_name='budget_review', sqlite_where=sa.text(QUARTERLY_ONLY), postgresql_where=sa.text(QUARTERLY_ONLY))
    op.drop_index(op.f('ix_budget_review_budget_id'), table_name='budget_review')
    op.drop_table('budget_review')
    op.drop_table('review_interval')
