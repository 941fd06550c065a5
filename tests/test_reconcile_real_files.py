"""Every statement file in pounds in tests/data/statements, imported and reconciled end to end
on both databases: a card's file into a card, a bank's into a budget's own bank account.

Money out becomes spend or fees (nothing is left behind), money in on a bank account waits
for a person (the ledger has no entry for it), reconciling again changes nothing, and the
flags are exactly the ones the lines call for: none of these real statements buys anything
excluded; our prepaid sample's cash machine withdrawal is flagged, as the plan allows no cash.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from ledger.reconcile.automatic import reconcile_accounts
from ledger.reconcile.status import account_status
from ledger.store.database import Database
from ledger.store.tables.flags import Flag
from ledger.store.tables.statements import StatementLineRecord
from tests.support.builders import make_world
from tests.test_import_real_files import DATA, FORMAT, STORED
from web.statement_import import import_statement

CARD_FILES = {"csv/sample__prepaid_card.csv", "qif/sample__ccard.qif", "qif/sample__santander_uk_credit_card.qif"}
LINE_FLAGS = {
    "csv/sample__prepaid_card.csv": {("CASH_WITHDRAWAL", "ATM WITHDRAWAL")},
    "csv/ofxstatement-lloyds__sample-statement.csv": {("LARGE_SPEND", "OUiog dollaros      202.40 VISAXR     1.16168 CD 1417")},
    "csv/sample__hsbc.csv": {("LARGE_SPEND", "J CARER, WAGES")},
    "csv/starling-developer-sdk__v2-get-statement.csv": {("LARGE_SPEND", "Rent")},
    "qif/sample__santander_uk.qif": {("LARGE_SPEND", "TRANSFER REFERENCE R&D CARE LTD")},
}
"""File → (code, line description) of every flag raised about one of its lines."""


@pytest.mark.parametrize("name", sorted(STORED))
def test_a_real_statement_reconciles_whole_and_raises_only_the_flags_its_lines_call_for(db: Database, name: str) -> None:
    with db.write() as session:
        world = make_world(session)
        account = world.account_id(session, "card" if name in CARD_FILES else "cash")
        import_statement(session, account_id=account, data=(DATA / name).read_bytes(), file_name=name, format=FORMAT.get(name, "auto"), imported_by="t")
        first = reconcile_accounts(session, [account], actor="test")
        again = reconcile_accounts(session, [account], actor="test")
        lines = session.execute(select(StatementLineRecord.amount_pence, StatementLineRecord.kind).where(StatementLineRecord.account_id == account)).all()
        money_in = [pence for pence, kind in lines if pence > 0 and (name not in CARD_FILES or "load" in (kind or "").lower())]
        assert len(first.matched_line_ids) + first.unmatched == len(lines) == STORED[name]
        assert first.unmatched == len(money_in)
        assert (len(again.matched_line_ids), again.flags_raised, again.unmatched) == (0, 0, first.unmatched)
        status = account_status(session, account)
        assert status.unmatched_line_pence == sum(money_in)
        flagged = session.execute(
            select(Flag.code, StatementLineRecord.description).join(StatementLineRecord, StatementLineRecord.id == Flag.statement_line_id)
        ).all()
        assert set(map(tuple, flagged)) == LINE_FLAGS.get(name, set())
        assert session.scalar(select(func.count()).select_from(Flag).where(Flag.code.like("EXCLUDED%"))) == 0
