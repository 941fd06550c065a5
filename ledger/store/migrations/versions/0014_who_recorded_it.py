"""Who recorded a decision somebody else made, beside who made it: a load offset or a surplus
decision (the funder's officer decides; a holder's user records it), a review request (the
person asks; a user records it); and a plan's agreement — the funder whose decision it was,
the document that shows it, and who recorded it.

Rows made before this revision get the decider's own words as their recorder: nothing better
is known of them.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None

RECORDED_BY = (("load_offset", "decided_by"), ("surplus_decision", "decided_by"), ("review_request", "asked_by"))
AGREEMENT_FUNDER_KEY = "fk_support_plan_version_agreement_funder_id_funder"


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, decider in RECORDED_BY:
        op.add_column(table, sa.Column("recorded_by", sa.String(length=200), nullable=False, server_default=""))
        op.execute(f"UPDATE {table} SET recorded_by = {decider}")
        if not sqlite:
            op.alter_column(table, "recorded_by", server_default=None)
    op.add_column("support_plan_version", sa.Column("agreement_recorded_by", sa.String(length=200), nullable=True))
    op.add_column("support_plan_version", sa.Column("agreement_document", sa.String(length=500), nullable=True))
    if sqlite:
        # SQLite adds a column with its reference in place; a batch copy would have to drop a
        # table that plan lines, funding lines and allocations point at.
        op.execute("ALTER TABLE support_plan_version ADD COLUMN agreement_funder_id INTEGER REFERENCES funder (id)")
    else:
        op.add_column("support_plan_version", sa.Column("agreement_funder_id", sa.Integer(), nullable=True))
        op.create_foreign_key(AGREEMENT_FUNDER_KEY, "support_plan_version", "funder", ["agreement_funder_id"], ["id"])


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        op.execute("ALTER TABLE support_plan_version DROP COLUMN agreement_funder_id")
    else:
        op.drop_constraint(AGREEMENT_FUNDER_KEY, "support_plan_version", type_="foreignkey")
        op.drop_column("support_plan_version", "agreement_funder_id")
    op.drop_column("support_plan_version", "agreement_document")
    op.drop_column("support_plan_version", "agreement_recorded_by")
    for table, _ in RECORDED_BY:
        op.drop_column(table, "recorded_by")
