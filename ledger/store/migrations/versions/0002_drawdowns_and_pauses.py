"""Drawdowns: the loads made onto prepaid cards, pauses that stop them, each holder's load
day and time, and the scheduler's lease and job store.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('budget_pause',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('ended_by', sa.String(length=200), nullable=True),
    sa.CheckConstraint('ends_on IS NULL OR ends_on >= starts_on', name=op.f('ck_budget_pause_pause_order')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_budget_pause_budget_id_budget')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_budget_pause'))
    )
    with op.batch_alter_table('budget_pause', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_budget_pause_budget_id'), ['budget_id'], unique=False)

    op.create_table('drawdown',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_part_id', sa.Integer(), nullable=False),
    sa.Column('period_starts_on', sa.Date(), nullable=False),
    sa.Column('period_ends_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('plan_version_id', sa.Integer(), nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('posted_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_drawdown_amount_positive')),
    sa.CheckConstraint('period_ends_on >= period_starts_on', name=op.f('ck_drawdown_period_order')),
    sa.ForeignKeyConstraint(['budget_part_id'], ['budget_part.id'], name=op.f('fk_drawdown_budget_part_id_budget_part')),
    sa.ForeignKeyConstraint(['entry_id'], ['journal_entry.id'], name=op.f('fk_drawdown_entry_id_journal_entry')),
    sa.ForeignKeyConstraint(['plan_version_id'], ['support_plan_version.id'], name=op.f('fk_drawdown_plan_version_id_support_plan_version')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drawdown')),
    sa.UniqueConstraint('budget_part_id', 'period_starts_on', name=op.f('uq_drawdown_budget_part_id_period_starts_on')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_drawdown_entry_id'))
    )
    _add_holder_load_day_and_time()
    _create_scheduler_tables()


def _create_scheduler_tables() -> None:
    op.create_table('scheduler_lease',
    sa.Column('name', sa.String(length=40), nullable=False),
    sa.Column('holder', sa.String(length=200), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('renewed_at', sa.DateTime(), nullable=True),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_scheduler_lease'))
    )
    # The one lease, ready to be taken: taking it is then a single conditional UPDATE.
    op.execute("INSERT INTO scheduler_lease (name, holder, expires_at) VALUES ('scheduler', '', '2000-01-01 00:00:00')")
    op.create_table('apscheduler_jobs',
    sa.Column('id', sa.Unicode(length=191), nullable=False),
    sa.Column('next_run_time', sa.Float(precision=25), nullable=True),
    sa.Column('job_state', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_apscheduler_jobs'))
    )
    op.create_index(op.f('ix_apscheduler_jobs_next_run_time'), 'apscheduler_jobs', ['next_run_time'], unique=False)


def _add_holder_load_day_and_time() -> None:
    check = "load_weekday >= 0 AND load_weekday <= 6"
    if op.get_bind().dialect.name == "sqlite":
        # A plain ADD COLUMN: batch mode would copy and drop ``holder``, which SQLite refuses
        # while budgets and accounts refer to it (foreign keys are on).
        op.execute(
            "ALTER TABLE holder ADD COLUMN load_weekday INTEGER DEFAULT 0 NOT NULL"
            f" CONSTRAINT ck_holder_load_weekday_range CHECK ({check})"
        )
        op.execute("ALTER TABLE holder ADD COLUMN load_time TIME DEFAULT '06:00:00' NOT NULL")
        return
    op.add_column('holder', sa.Column('load_weekday', sa.Integer(), server_default=sa.text('0'), nullable=False))
    op.add_column('holder', sa.Column('load_time', sa.Time(), server_default=sa.text("'06:00:00'"), nullable=False))
    op.create_check_constraint(op.f('ck_holder_load_weekday_range'), 'holder', check)

def downgrade() -> None:
    op.drop_index(op.f('ix_apscheduler_jobs_next_run_time'), table_name='apscheduler_jobs')
    op.drop_table('apscheduler_jobs')
    op.drop_table('scheduler_lease')
    with op.batch_alter_table('holder', schema=None) as batch_op:
        batch_op.drop_constraint('ck_holder_load_weekday_range', type_='check')
        batch_op.drop_column('load_time')
        batch_op.drop_column('load_weekday')

    op.drop_table('drawdown')
    with op.batch_alter_table('budget_pause', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_budget_pause_budget_id'))

    op.drop_table('budget_pause')
