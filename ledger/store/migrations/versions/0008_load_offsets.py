"""Surplus offset against the next card loads, and what was withheld from each load.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('load_offset',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('budget_part_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=1000), nullable=False),
    sa.Column('decided_by', sa.String(length=200), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('amount_pence > 0', name=op.f('ck_load_offset_amount_positive')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_load_offset_budget_id_budget')),
    sa.ForeignKeyConstraint(['budget_part_id'], ['budget_part.id'], name=op.f('fk_load_offset_budget_part_id_budget_part')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_load_offset'))
    )
    op.create_index(op.f('ix_load_offset_budget_id'), 'load_offset', ['budget_id'], unique=False)
    op.create_index(op.f('ix_load_offset_budget_part_id'), 'load_offset', ['budget_part_id'], unique=False)
    op.create_table('withheld_load',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('budget_part_id', sa.Integer(), nullable=False),
    sa.Column('period_starts_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('withheld_pence', sa.BigInteger(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('withheld_pence > 0', name=op.f('ck_withheld_load_withheld_positive')),
    sa.ForeignKeyConstraint(['budget_part_id'], ['budget_part.id'], name=op.f('fk_withheld_load_budget_part_id_budget_part')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_withheld_load')),
    sa.UniqueConstraint('budget_part_id', 'period_starts_on', name=op.f('uq_withheld_load_budget_part_id_period_starts_on'))
    )


def downgrade() -> None:
    op.drop_table('withheld_load')
    op.drop_index(op.f('ix_load_offset_budget_part_id'), table_name='load_offset')
    op.drop_index(op.f('ix_load_offset_budget_id'), table_name='load_offset')
    op.drop_table('load_offset')
