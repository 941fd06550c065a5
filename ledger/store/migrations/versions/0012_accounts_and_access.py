"""Sign-in and access: user accounts with a role, family members' links to budgets, sessions,
API tokens, failed sign-ins, and the append-only record of family views and auditor exports
(on PostgreSQL the application role may insert and read ``access_record``, never change it;
on SQLite triggers refuse a change).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 21:04:15.894707
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

APP_ROLE = "phb_ledger_app"


def upgrade() -> None:
    op.create_table('sign_in_failure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=120), nullable=False),
    sa.Column('address', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failure'))
    )
    with op.batch_alter_table('sign_in_failure', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_failure_address_at', ['address', 'at'], unique=False)
        batch_op.create_index('ix_sign_in_failure_username_at', ['username', 'at'], unique=False)

    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=120), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('holder_id', sa.Integer(), nullable=True),
    sa.Column('funder_id', sa.Integer(), nullable=True),
    sa.Column('password_hash', sa.String(length=300), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.CheckConstraint("(role = 'funder_auditor') = (funder_id IS NOT NULL)", name=op.f('ck_user_account_auditors_have_a_funder')),
    sa.CheckConstraint("(role IN ('holder_admin', 'holder_staff')) = (holder_id IS NOT NULL)", name=op.f('ck_user_account_holder_roles_have_a_holder')),
    sa.CheckConstraint("role IN ('holder_admin', 'holder_staff', 'funder_auditor', 'family', 'system_admin')", name=op.f('ck_user_account_role_known')),
    sa.ForeignKeyConstraint(['funder_id'], ['funder.id'], name=op.f('fk_user_account_funder_id_funder')),
    sa.ForeignKeyConstraint(['holder_id'], ['holder.id'], name=op.f('fk_user_account_holder_id_holder')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('username', name=op.f('uq_user_account_username'))
    )
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_account_funder_id'), ['funder_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_account_holder_id'), ['holder_id'], unique=False)

    op.create_table('access_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=True),
    sa.Column('funder_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_access_record_budget_id_budget')),
    sa.ForeignKeyConstraint(['funder_id'], ['funder.id'], name=op.f('fk_access_record_funder_id_funder')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_access_record_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_record'))
    )
    with op.batch_alter_table('access_record', schema=None) as batch_op:
        batch_op.create_index('ix_access_record_budget_id_at', ['budget_id', 'at'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_record_user_id'), ['user_id'], unique=False)

    op.create_table('api_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_used_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_api_token_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_api_token_token_sha256'))
    )
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)

    op.create_table('family_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('budget_id', sa.Integer(), nullable=False),
    sa.Column('basis', sa.String(length=20), nullable=False),
    sa.Column('representative_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.CheckConstraint("(basis = 'representative') = (representative_id IS NOT NULL)", name=op.f('ck_family_link_representative_named')),
    sa.CheckConstraint("basis IN ('person', 'representative')", name=op.f('ck_family_link_basis_known')),
    sa.ForeignKeyConstraint(['budget_id'], ['budget.id'], name=op.f('fk_family_link_budget_id_budget')),
    sa.ForeignKeyConstraint(['representative_id'], ['representative.id'], name=op.f('fk_family_link_representative_id_representative')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_family_link_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_family_link')),
    sa.UniqueConstraint('user_id', 'budget_id', name=op.f('uq_family_link_user_id_budget_id'))
    )
    with op.batch_alter_table('family_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_family_link_budget_id'), ['budget_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_family_link_user_id'), ['user_id'], unique=False)

    op.create_table('user_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_user_session_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_session')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_user_session_token_sha256'))
    )
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_session_user_id'), ['user_id'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON access_record FROM {APP_ROLE}")
    else:
        for change in ("update", "delete"):
            op.execute(
                f"CREATE TRIGGER access_record_no_{change} BEFORE {change.upper()} ON access_record "
                f"BEGIN SELECT RAISE(ABORT, 'access_record is append-only: a row cannot be {change}d'); END"
            )


def downgrade() -> None:
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_session_user_id'))

    op.drop_table('user_session')
    with op.batch_alter_table('family_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_family_link_user_id'))
        batch_op.drop_index(batch_op.f('ix_family_link_budget_id'))

    op.drop_table('family_link')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))

    op.drop_table('api_token')
    with op.batch_alter_table('access_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_record_user_id'))
        batch_op.drop_index('ix_access_record_budget_id_at')

    op.drop_table('access_record')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_account_holder_id'))
        batch_op.drop_index(batch_op.f('ix_user_account_funder_id'))

    op.drop_table('user_account')
    with op.batch_alter_table('sign_in_failure', schema=None) as batch_op:
        batch_op.drop_index('ix_sign_in_failure_username_at')
        batch_op.drop_index('ix_sign_in_failure_address_at')

    op.drop_table('sign_in_failure')
