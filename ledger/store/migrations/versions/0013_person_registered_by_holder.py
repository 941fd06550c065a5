"""Which holder registered a person: a holder's users see a person with no budget yet only if
their holder registered them (before, every holder's users saw every such person).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 00:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None

COLUMN = "registered_by_holder_id"
FOREIGN_KEY = "fk_person_registered_by_holder_id_holder"
INDEX = "ix_person_registered_by_holder_id"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with its reference in place; a batch copy of ``person`` would
        # have to drop a table that budgets and representatives point at.
        op.execute(f"ALTER TABLE person ADD COLUMN {COLUMN} INTEGER REFERENCES holder (id)")
    else:
        op.add_column("person", sa.Column(COLUMN, sa.Integer(), nullable=True))
        op.create_foreign_key(FOREIGN_KEY, "person", "holder", [COLUMN], ["id"])
    op.create_index(INDEX, "person", [COLUMN], unique=False)


def downgrade() -> None:
    op.drop_index(INDEX, table_name="person")
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE person DROP COLUMN {COLUMN}")
    else:
        op.drop_constraint(FOREIGN_KEY, "person", type_="foreignkey")
        op.drop_column("person", COLUMN)
