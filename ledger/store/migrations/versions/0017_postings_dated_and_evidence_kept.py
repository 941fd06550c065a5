"""A posting carries its entry's date (so that a period's postings are read without the
entry); the database now refuses one dated otherwise, whatever writes it. Evidence — the
receipts, invoices and timesheets behind an explanation — and repayment notices are kept:
the application may add them, never change or delete them (on PostgreSQL its role loses
UPDATE and DELETE; on SQLite triggers refuse both).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08 00:00:00
"""

from __future__ import annotations

from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

APP_ROLE = "phb_ledger_app"
KEPT = ("evidence", "repayment_notice")
MISDATED = "a posting is dated as its entry"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER posting_dated_as_its_entry BEFORE INSERT ON posting "
            "WHEN NEW.entry_date IS NOT (SELECT entry_date FROM journal_entry WHERE id = NEW.entry_id) "
            f"BEGIN SELECT RAISE(ABORT, '{MISDATED}'); END"
        )
        for table in KEPT:
            for change in ("update", "delete"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{change} BEFORE {change.upper()} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{table} rows are kept: they cannot be {change}d'); END"
                )
        return
    # One statement-level check over the rows a statement adds (as the late-postings check
    # does): a row-level trigger would look the entry up once per posting.
    op.execute(
        f"""
        CREATE FUNCTION phb_refuse_misdated_postings() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            misdated_entry_id bigint;
        BEGIN
            SELECT a.entry_id INTO misdated_entry_id
              FROM added a JOIN journal_entry e ON e.id = a.entry_id
             WHERE a.entry_date IS DISTINCT FROM e.entry_date
             LIMIT 1;
            IF FOUND THEN
                RAISE EXCEPTION '{MISDATED}: entry % has a posting dated otherwise', misdated_entry_id
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER posting_dated_as_its_entry AFTER INSERT ON posting REFERENCING NEW TABLE AS added "
        "FOR EACH STATEMENT EXECUTE FUNCTION phb_refuse_misdated_postings()"
    )
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON {', '.join(KEPT)} FROM {APP_ROLE}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS posting_dated_as_its_entry")
        for table in KEPT:
            for change in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{change}")
        return
    op.execute("DROP TRIGGER IF EXISTS posting_dated_as_its_entry ON posting")
    op.execute("DROP FUNCTION IF EXISTS phb_refuse_misdated_postings()")
    op.execute(f"GRANT UPDATE, DELETE ON {', '.join(KEPT)} TO {APP_ROLE}")
