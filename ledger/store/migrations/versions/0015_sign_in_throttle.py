"""The sign-in throttle counts tries per username and per address in one row each, counted up
in one atomic statement (before, failed sign-ins were counted after the password was checked,
so parallel tries all passed the count). ``sign_in_failure`` stays as the record of failures.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sign_in_throttle',
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('key', sa.String(length=120), nullable=False),
        sa.Column('window_started_at', sa.DateTime(), nullable=False),
        sa.Column('tries', sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('username', 'address')", name=op.f('ck_sign_in_throttle_kind_known')),
        sa.CheckConstraint('tries >= 0', name=op.f('ck_sign_in_throttle_tries_not_negative')),
        sa.PrimaryKeyConstraint('kind', 'key', name=op.f('pk_sign_in_throttle')),
    )


def downgrade() -> None:
    op.drop_table('sign_in_throttle')
