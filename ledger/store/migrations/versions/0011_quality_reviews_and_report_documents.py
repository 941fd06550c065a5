"""Quarterly quality reviews as held (outcomes, actions, attendance, the money decision) and
the documents the reports make and keep, each version beside the last.

Both are append-only: on PostgreSQL the application role may insert and read these tables,
never change or delete them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 19:51:17.777067
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

APP_ROLE = "phb_ledger_app"
APPEND_ONLY = ("report_document", "quality_review", "quality_review_outcome", "quality_review_action", "quality_review_attendee")


def upgrade() -> None:
    op.create_table('report_document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('params_key', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=200), nullable=False),
    sa.Column('period', sa.String(length=40), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=True),
    sa.Column('holder_id', sa.Integer(), nullable=True),
    sa.Column('funder_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('trigger', sa.String(length=20), nullable=False),
    sa.Column('generated_by', sa.String(length=200), nullable=False),
    sa.Column('generated_at', sa.DateTime(), nullable=False),
    sa.Column('model_sha256', sa.String(length=64), nullable=False),
    sa.Column('model_gzip', sa.LargeBinary(), nullable=False),
    sa.Column('html_gzip', sa.LargeBinary(), nullable=False),
    sa.CheckConstraint("trigger IN ('scheduled', 'on_demand')", name=op.f('ck_report_document_trigger_known')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_report_document_version_positive')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_report_document_budget_id_budget')),
    sa.ForeignKeyConstraint(['funder_id'], ['funder.id'], name=op.f('fk_report_document_funder_id_funder')),
    sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], name=op.f('fk_report_document_holder_id_holder')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_document')),
    sa.UniqueConstraint('params_key', 'version', name=op.f('uq_report_document_params_key_version'))
    )
    with op.batch_alter_table('report_document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_document_budget_id'), ['budget_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_document_funder_id'), ['funder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_document_holder_id'), ['holder_id'], unique=False)
        batch_op.create_index('ix_report_document_kind_period', ['kind', 'period'], unique=False)

    op.create_table('quality_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('quarter', sa.String(length=6), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('plan_version_id', sa.Integer(), nullable=True),
    sa.Column('working', sa.Text(), nullable=False),
    sa.Column('not_working', sa.Text(), nullable=False),
    sa.Column('to_change', sa.Text(), nullable=False),
    sa.Column('money_decision', sa.String(length=20), nullable=False),
    sa.Column('money_decision_amount_pence', sa.BigInteger(), nullable=True),
    sa.Column('money_decision_note', sa.String(length=2000), nullable=True),
    sa.Column('budget_review_id', sa.Integer(), nullable=True),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("money_decision IN ('none', 'keep', 'reallocate', 'return')", name=op.f('ck_quality_review_money_decision_known')),
    sa.CheckConstraint('money_decision_amount_pence IS NULL OR money_decision_amount_pence >= 0', name=op.f('ck_quality_review_money_amount_not_negative')),
    sa.CheckConstraint('revision >= 1', name=op.f('ck_quality_review_revision_positive')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_quality_review_budget_id_budget')),
    sa.ForeignKeyConstraint(['budget_review_id'], ['budget_review.id'], name=op.f('fk_quality_review_budget_review_id_budget_review')),
    sa.ForeignKeyConstraint(['plan_version_id'], ['support_plan_version.id'], name=op.f('fk_quality_review_plan_version_id_support_plan_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_review')),
    sa.UniqueConstraint('budget_id', 'quarter', 'revision', name=op.f('uq_quality_review_budget_id_quarter_revision'))
    )
    with op.batch_alter_table('quality_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_review_budget_id'), ['budget_id'], unique=False)

    op.create_table('quality_review_action',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('who', sa.String(length=200), nullable=False),
    sa.Column('what', sa.String(length=1000), nullable=False),
    sa.Column('by_when', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('carried_from_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.String(length=1000), nullable=True),
    sa.CheckConstraint("status IN ('open', 'done', 'carried', 'dropped')", name=op.f('ck_quality_review_action_status_known')),
    sa.ForeignKeyConstraint(['carried_from_id'], ['quality_review_action.id'], name=op.f('fk_quality_review_action_carried_from_id_quality_review_action')),
    sa.ForeignKeyConstraint(['review_id'], ['quality_review.id'], name=op.f('fk_quality_review_action_review_id_quality_review')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_review_action')),
    sa.UniqueConstraint('review_id', 'position', name=op.f('uq_quality_review_action_review_id_position'))
    )
    with op.batch_alter_table('quality_review_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_review_action_review_id'), ['review_id'], unique=False)

    op.create_table('quality_review_attendee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['review_id'], ['quality_review.id'], name=op.f('fk_quality_review_attendee_review_id_quality_review')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_review_attendee')),
    sa.UniqueConstraint('review_id', 'position', name=op.f('uq_quality_review_attendee_review_id_position'))
    )
    with op.batch_alter_table('quality_review_attendee', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_review_attendee_review_id'), ['review_id'], unique=False)

    op.create_table('quality_review_outcome',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('review_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('plan_outcome_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.String(length=1000), nullable=False),
    sa.Column('rating', sa.String(length=20), nullable=False),
    sa.Column('note', sa.String(length=2000), nullable=True),
    sa.CheckConstraint("rating IN ('achieved', 'partly', 'not_achieved')", name=op.f('ck_quality_review_outcome_rating_known')),
    sa.ForeignKeyConstraint(['plan_outcome_id'], ['plan_outcome.id'], name=op.f('fk_quality_review_outcome_plan_outcome_id_plan_outcome')),
    sa.ForeignKeyConstraint(['review_id'], ['quality_review.id'], name=op.f('fk_quality_review_outcome_review_id_quality_review')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quality_review_outcome')),
    sa.UniqueConstraint('review_id', 'position', name=op.f('uq_quality_review_outcome_review_id_position'))
    )
    with op.batch_alter_table('quality_review_outcome', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quality_review_outcome_review_id'), ['review_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        for table in APPEND_ONLY:
            op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {table} FROM {APP_ROLE}")


def downgrade() -> None:
    with op.batch_alter_table('quality_review_outcome', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_review_outcome_review_id'))

    op.drop_table('quality_review_outcome')
    with op.batch_alter_table('quality_review_attendee', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_review_attendee_review_id'))

    op.drop_table('quality_review_attendee')
    with op.batch_alter_table('quality_review_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_review_action_review_id'))

    op.drop_table('quality_review_action')
    with op.batch_alter_table('quality_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quality_review_budget_id'))

    op.drop_table('quality_review')
    with op.batch_alter_table('report_document', schema=None) as batch_op:
        batch_op.drop_index('ix_report_document_kind_period')
        batch_op.drop_index(batch_op.f('ix_report_document_holder_id'))
        batch_op.drop_index(batch_op.f('ix_report_document_funder_id'))
        batch_op.drop_index(batch_op.f('ix_report_document_budget_id'))

    op.drop_table('report_document')
