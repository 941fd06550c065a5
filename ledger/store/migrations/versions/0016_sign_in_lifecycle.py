"""The life of a sign-in: a user can be deactivated (who, when) and made to change an
admin-set one-time password; an API token expires and keeps who revoked it; the access
record keeps who did each thing (``actor``) and whose sign-in it was done to
(``subject_user_id``), and a change made at the command line has no signed-in user.

Tokens issued before this revision expire 90 days after it runs: none is cut off by the
upgrade, and none lives for ever. Access records made before it name their user as actor.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 23:30:00
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

EXISTING_TOKENS_LIVE = timedelta(days=90)
SUBJECT_KEY = "fk_access_record_subject_user_id_user_account"


def _sqlite_append_only(on: bool) -> None:
    """SQLite keeps the access record append-only by triggers (0012): lifted while its rows
    are given their actor and the table is copied (a copy loses its triggers), then made again."""
    for change in ("update", "delete"):
        if on:
            op.execute(
                f"CREATE TRIGGER access_record_no_{change} BEFORE {change.upper()} ON access_record "
                f"BEGIN SELECT RAISE(ABORT, 'access_record is append-only: a row cannot be {change}d'); END"
            )
        else:
            op.execute(f"DROP TRIGGER IF EXISTS access_record_no_{change}")


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.add_column("user_account", sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("user_account", sa.Column("password_changed_at", sa.DateTime(timezone=False), nullable=True))
    op.add_column("user_account", sa.Column("deactivated_at", sa.DateTime(timezone=False), nullable=True))
    op.add_column("user_account", sa.Column("deactivated_by", sa.String(length=200), nullable=True))

    expires = datetime.now(UTC).replace(tzinfo=None) + EXISTING_TOKENS_LIVE
    op.add_column("api_token", sa.Column("expires_at", sa.DateTime(timezone=False), nullable=True))
    op.execute(sa.text("UPDATE api_token SET expires_at = :expires").bindparams(expires=expires))
    op.add_column("api_token", sa.Column("revoked_by", sa.String(length=200), nullable=True))

    op.add_column("access_record", sa.Column("actor", sa.String(length=200), nullable=True))
    if sqlite:
        _sqlite_append_only(False)
    op.execute(
        "UPDATE access_record SET actor = (SELECT user_account.display_name || ' (' || user_account.username || ')'"
        " FROM user_account WHERE user_account.id = access_record.user_id)"
    )
    if not sqlite:
        op.alter_column("user_account", "must_change_password", server_default=None)
        op.alter_column("api_token", "expires_at", nullable=False)
        op.add_column("access_record", sa.Column("subject_user_id", sa.Integer(), nullable=True))
        op.create_foreign_key(SUBJECT_KEY, "access_record", "user_account", ["subject_user_id"], ["id"])
        op.alter_column("access_record", "actor", nullable=False)
        op.alter_column("access_record", "user_id", nullable=True)
        op.create_index("ix_access_record_subject_user_id", "access_record", ["subject_user_id"])
        return
    # SQLite changes a column's nullability only by copying the table: these two are copied
    # whole (nothing refers to an access record or a token).
    with op.batch_alter_table("api_token") as batch:
        batch.alter_column("expires_at", existing_type=sa.DateTime(timezone=False), nullable=False)
    with op.batch_alter_table("access_record") as batch:
        batch.add_column(sa.Column("subject_user_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(SUBJECT_KEY, "user_account", ["subject_user_id"], ["id"])
        batch.alter_column("actor", existing_type=sa.String(length=200), nullable=False)
        batch.alter_column("user_id", existing_type=sa.Integer(), nullable=True)
        batch.create_index("ix_access_record_subject_user_id", ["subject_user_id"])
    _sqlite_append_only(True)


def downgrade() -> None:
    """Changes made at the command line (no user) cannot be kept in the older table: they go."""
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        _sqlite_append_only(False)
    op.execute("DELETE FROM access_record WHERE user_id IS NULL")
    if sqlite:
        with op.batch_alter_table("access_record") as batch:
            batch.drop_index("ix_access_record_subject_user_id")
            batch.drop_constraint(SUBJECT_KEY, type_="foreignkey")
            batch.drop_column("subject_user_id")
            batch.drop_column("actor")
            batch.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
        with op.batch_alter_table("api_token") as batch:
            batch.drop_column("revoked_by")
            batch.drop_column("expires_at")
        _sqlite_append_only(True)
    else:
        op.drop_index("ix_access_record_subject_user_id", table_name="access_record")
        op.drop_constraint(SUBJECT_KEY, "access_record", type_="foreignkey")
        op.drop_column("access_record", "subject_user_id")
        op.drop_column("access_record", "actor")
        op.alter_column("access_record", "user_id", nullable=False)
        op.drop_column("api_token", "revoked_by")
        op.drop_column("api_token", "expires_at")
    for column in ("deactivated_by", "deactivated_at", "password_changed_at", "must_change_password"):
        op.drop_column("user_account", column)
