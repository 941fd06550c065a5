"""Storing an imported statement against one ledger account: all of it or none of it, each
real transaction once, every line traceable to its file.

The account is where the statement's money is in the ledger:

- a budget's prepaid card (``B:card``): the card provider's statement;
- a budget's cash (``B:cash``): the bank account a direct-payment holder keeps for the person
  (its ledger balance is cash + ring-fenced contingency, which is still in that bank);
- the holder's ``holder:H:unallocated``, which stands for the provider's client bank account
  (its ledger balance is every budget's cash and contingency plus the money not yet
  attributed; see ``ledger.core.accounts``).

:func:`store_statement` takes the holder's book lock, so two imports into one holder's
accounts never interleave, then reads the lines as the parser yields them (a 100 MB file is
never held as a million objects), stores them in batches and keeps one row for the import.
A line is new unless its key (``ledger.statements.keys``) is already stored for the account.
Each line passes ``ledger.statements.line_checks`` first (its date and amount within what the
journal takes, no NUL; its text cleaned), so that every stored line can be reconciled; a
line of £0.00 is counted but not stored (a warning names it).
It never commits: the caller does, or rolls back for a dry run or on any error — a file
that fails on its last line leaves nothing behind.

The parsed statement is read structurally (``StatementLike``): ``ledger`` never imports
``importers``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from moneyed import Money
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from ledger.core.balances import natural, signed_sums
from ledger.core.journal import lock_book
from ledger.core.money import format_gbp
from ledger.core.vocabulary import AccountKind
from ledger.errors import InvalidInput, NotFound
from ledger.statements.keys import LineKeys
from ledger.statements.line_checks import check_line, checked_file_name, plain_optional, plain_text, statement_date
from ledger.statements.totals import StatementTally
from ledger.store.tables import Account
from ledger.store.tables.statements import StatementImport, StatementLineRecord

STATEMENT_ACCOUNT_KINDS = (AccountKind.CARD, AccountKind.CASH, AccountKind.UNALLOCATED)
BATCH_LINES = 2000
DESCRIPTION_LENGTH_MAX = 500
PAYEE_LENGTH_MAX = 300
BANK_ID_LENGTH_MAX = 200
KIND_LENGTH_MAX = 60
WARNINGS_KEPT_MAX = 50
NO_MONEY_LINES_SHOWN = 5
_PENNY = Decimal("0.01")


class LineLike(Protocol):
    line_no: int
    posted_on: date
    amount: Money
    description: str
    payee: str | None
    mcc: str | None
    bank_id: str | None
    balance: Money | None
    kind: str | None
    is_fee: bool
    part: int
    raw: str


class AccountNamesLike(Protocol):
    def describe(self) -> str: ...


class StatementLike(Protocol):
    format: str
    currency: str
    lines: Iterable[LineLike]
    account: AccountNamesLike
    layout: str | None
    period_start: date | None
    period_end: date | None
    opening_balance: Money | None
    closing_balance: Money | None
    closing_balance_on: date | None
    warnings: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SourceFile:
    name: str
    sha256: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class ImportResult:
    import_id: int
    account_id: int
    account_code: str
    file_name: str
    file_sha256: str
    format: str
    layout: str | None
    account_in_file: str
    lines: int
    new: int
    duplicates: int
    lines_total_pence: int
    new_total_pence: int
    period_start: date | None
    period_end: date | None
    opening_pence: int | None
    closing_pence: int | None
    closing_on: date | None
    balances_stated: bool
    ledger_closing_pence: int | None
    warnings: tuple[str, ...]
    imported_by: str

    @classmethod
    def of(cls, row: StatementImport, account: Account) -> ImportResult:
        assert row.id is not None and account.id is not None
        return cls(
            import_id=row.id, account_id=account.id, account_code=account.code, file_name=row.file_name,
            file_sha256=row.file_sha256, format=row.format, layout=row.layout, account_in_file=row.account_in_file,
            lines=row.line_count, new=row.new_count, duplicates=row.duplicate_count,
            lines_total_pence=row.lines_total_pence, new_total_pence=row.new_total_pence,
            period_start=row.period_start, period_end=row.period_end, opening_pence=row.opening_pence,
            closing_pence=row.closing_pence, closing_on=row.closing_on, balances_stated=row.balances_stated,
            ledger_closing_pence=row.ledger_closing_pence, warnings=tuple(json.loads(row.warnings)),
            imported_by=row.imported_by,
        )  # fmt: skip


def statement_account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"no account {account_id}", code="account_not_found", field="account")
    if account.kind not in STATEMENT_ACCOUNT_KINDS:
        raise InvalidInput(
            f"account {account.code} is a {account.kind} account; statements are imported into a budget's card or"
            " cash account, or a holder's unallocated account (its client bank account)",
            code="account_not_for_statements",
            field="account",
        )
    return account


def store_statement(
    session: Session,
    *,
    account_id: int,
    statement: StatementLike,
    source: SourceFile,
    imported_by: str,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    account = statement_account(session, account_id)
    file_name = checked_file_name(source.name)[:500]
    if statement.currency != "GBP":
        raise InvalidInput(
            f"{file_name} is a statement in {statement.currency}; this ledger keeps pounds sterling (GBP) only",
            code="currency_not_gbp",
            field="currency",
        )
    period_start, period_end, closing_balance_on, set_aside = _statement_dates(statement)
    lock_book(session, account.holder_id)
    row = StatementImport(
        account_id=account_id, holder_id=account.holder_id, file_name=file_name, file_sha256=source.sha256,
        file_bytes=source.size_bytes, format=statement.format, layout=statement.layout, currency=statement.currency,
        account_in_file=plain_text(statement.account.describe())[:300], imported_by=imported_by,
    )  # fmt: skip
    session.add(row)
    session.flush()
    assert row.id is not None
    tally = StatementTally()
    stored = _LineWriter(session, import_id=row.id, account_id=account_id)
    keys = LineKeys()
    batch: list[dict[str, Any]] = []
    no_money: list[int] = []
    for line in statement.lines:
        amount_pence = _pence(line.amount)
        check_line(line, file_name=file_name, amount_pence=amount_pence)
        balance_pence = None if line.balance is None else _pence(line.balance)
        tally.add(line_no=line.line_no, posted_on=line.posted_on, amount_pence=amount_pence, balance_pence=balance_pence)
        if amount_pence == 0:  # a card check or a declined attempt: information, nothing to reconcile
            no_money.append(line.line_no)
            continue
        # The key is of the text as the file has it, before cleaning: a file imported before
        # text was cleaned, imported again, finds its lines already stored.
        key = keys.key(
            posted_on=line.posted_on, amount_pence=amount_pence, description=line.description,
            payee=line.payee, part=line.part, bank_id=line.bank_id,
        )  # fmt: skip
        batch.append(_line_row(line, amount_pence, balance_pence, key, row.id, account_id))
        if len(batch) >= BATCH_LINES:
            stored.write(batch)
            batch = []
            if progress is not None:
                progress(tally.count)
    stored.write(batch)
    if progress is not None:
        progress(tally.count)

    totals = tally.result(
        stated_opening_pence=_optional_pence(statement.opening_balance),
        stated_closing_pence=_optional_pence(statement.closing_balance),
    )
    warnings = [*statement.warnings, *set_aside, *totals.warnings, *_no_money_warning(no_money)]
    closing_on = closing_balance_on or period_end or totals.last_on
    ledger_closing = None
    if totals.closing_pence is not None and closing_on is not None:
        ledger_closing = ledger_balance(session, account, as_of=closing_on)
        if ledger_closing != totals.closing_pence:
            warnings.append(
                f"the statement's closing balance on {closing_on.isoformat()} is {format_gbp(totals.closing_pence)};"
                f" the ledger's balance of {account.code} that day is {format_gbp(ledger_closing)}"
                f" (a difference of {format_gbp(totals.closing_pence - ledger_closing)}) until its lines are reconciled"
            )
    if totals.count == 0:
        warnings.append("the statement has no lines")
    row.period_start = period_start or totals.first_on
    row.period_end = period_end or totals.last_on
    row.opening_pence, row.closing_pence = totals.opening_pence, totals.closing_pence
    row.closing_on = closing_on if totals.closing_pence is not None else None
    row.balances_stated = totals.balances_stated
    new_count, new_total_pence = stored.stored()
    row.line_count, row.new_count = totals.count, new_count
    row.duplicate_count = totals.count - new_count - len(no_money)
    row.lines_total_pence, row.new_total_pence = totals.total_pence, new_total_pence
    row.ledger_closing_pence = ledger_closing
    row.warnings = json.dumps(_capped(warnings))
    session.flush()
    return ImportResult.of(row, account)


def _no_money_warning(line_numbers: list[int]) -> list[str]:
    if not line_numbers:
        return []
    shown = ", ".join(map(str, line_numbers[:NO_MONEY_LINES_SHOWN])) + (", …" if len(line_numbers) > NO_MONEY_LINES_SHOWN else "")
    count = len(line_numbers)
    return [f"{count} line{'s' if count != 1 else ''} of £0.00 move{'s' if count == 1 else ''} no money and {'were' if count != 1 else 'was'} not stored (line {shown})"]


def _statement_dates(statement: StatementLike) -> tuple[date | None, date | None, date | None, list[str]]:
    """The period and closing day the file states, each set aside (with a warning) when
    outside the ledger's dates."""
    kept, warnings = [], []
    for value, what in ((statement.period_start, "its period's start"), (statement.period_end, "its period's end"),
                        (statement.closing_balance_on, "its closing balance's day")):  # fmt: skip
        day, warning = statement_date(value, what)
        kept.append(day)
        warnings += [warning] if warning else []
    return kept[0], kept[1], kept[2], warnings


class _LineWriter:
    """Inserts a batch's lines, skipping those whose key the account already has.

    ``INSERT … ON CONFLICT DO NOTHING`` lets the unique index decide, row by row: a
    ``SELECT … IN (…)`` first would be planned from the table's statistics, and on a table
    that was empty when they were taken PostgreSQL scans it whole for every batch. What was
    stored is counted afterwards from the import's own rows (an indexed query)."""

    def __init__(self, session: Session, *, import_id: int, account_id: int) -> None:
        self.session = session
        self.import_id = import_id
        table = StatementLineRecord.__table__
        dialect_insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
        self.statement = dialect_insert(table).on_conflict_do_nothing(index_elements=[table.c.account_id, table.c.dedupe_key])

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.session.execute(self.statement, rows)

    def stored(self) -> tuple[int, int]:
        """How many lines this import stored, and their sum."""
        table = StatementLineRecord.__table__
        count, total = self.session.execute(
            select(func.count(), func.coalesce(func.sum(table.c.amount_pence), 0)).where(table.c.import_id == self.import_id)
        ).one()
        return int(count), int(total)


def _line_row(line: LineLike, amount_pence: int, balance_pence: int | None, key: str, import_id: int, account_id: int) -> dict[str, Any]:
    payee, bank_id, kind = plain_optional(line.payee), plain_optional(line.bank_id), plain_optional(line.kind)
    return {
        "import_id": import_id,
        "account_id": account_id,
        "line_no": line.line_no,
        "part": line.part,
        "posted_on": line.posted_on,
        "amount_pence": amount_pence,
        "description": plain_text(line.description or "")[:DESCRIPTION_LENGTH_MAX],
        "payee": payee[:PAYEE_LENGTH_MAX] if payee else None,
        "mcc": plain_optional(line.mcc),
        "bank_id": bank_id[:BANK_ID_LENGTH_MAX] if bank_id else None,
        "balance_pence": balance_pence,
        "kind": kind[:KIND_LENGTH_MAX] if kind else None,
        "is_fee": line.is_fee,
        "raw": line.raw,
        "dedupe_key": key,
    }


def _pence(amount: Money) -> int:
    value = amount.amount
    assert value == value.quantize(_PENNY), f"importers hand over whole pence, not {value}"
    return int(value.scaleb(2))


def _optional_pence(amount: Money | None) -> int | None:
    return None if amount is None else _pence(amount)


def _capped(warnings: list[str]) -> list[str]:
    if len(warnings) <= WARNINGS_KEPT_MAX:
        return warnings
    return [*warnings[:WARNINGS_KEPT_MAX], f"… and {len(warnings) - WARNINGS_KEPT_MAX} more warnings"]


def ledger_balance(session: Session, account: Account, *, as_of: date) -> int:
    """What the ledger says the statement's account holds at the end of ``as_of``."""
    if account.kind == AccountKind.CARD:
        members = [account]
    elif account.kind == AccountKind.CASH:
        members = list(
            session.scalars(
                select(Account).where(
                    Account.budget_id == account.budget_id,
                    Account.kind.in_([AccountKind.CASH, AccountKind.CONTINGENCY]),
                )
            )
        )
    else:
        members = list(
            session.scalars(
                select(Account).where(
                    Account.holder_id == account.holder_id,
                    Account.kind.in_([AccountKind.CASH, AccountKind.CONTINGENCY, AccountKind.UNALLOCATED]),
                )
            )
        )
    sums = signed_sums(session, [m.id for m in members if m.id is not None], as_of=as_of)
    return sum(natural(m.type, sums.get(m.id or 0, 0)) for m in members)


def imports_of(session: Session, account_id: int) -> list[ImportResult]:
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(f"no account {account_id}", code="account_not_found", field="account")
    rows = session.scalars(
        select(StatementImport).where(StatementImport.account_id == account_id).order_by(StatementImport.id.desc())
    )
    return [ImportResult.of(r, account) for r in rows]


def statement_import(session: Session, import_id: int) -> ImportResult:
    row = session.get(StatementImport, import_id)
    if row is None:
        raise NotFound(f"no statement import {import_id}", code="statement_import_not_found", field="import")
    account = session.get(Account, row.account_id)
    assert account is not None
    return ImportResult.of(row, account)


def lines_of_import(session: Session, import_id: int, *, offset: int = 0, limit: int = 500) -> list[StatementLineRecord]:
    """The lines this import stored (not the duplicates it found), in file order."""
    statement_import(session, import_id)
    query = (
        select(StatementLineRecord)
        .where(StatementLineRecord.import_id == import_id)
        .order_by(StatementLineRecord.line_no, StatementLineRecord.part)
        .offset(offset)
        .limit(limit)
    )
    return list(session.scalars(query))


def stored_line_count(session: Session, account_id: int) -> int:
    table = StatementLineRecord.__table__
    return int(session.scalar(select(func.count()).select_from(table).where(table.c.account_id == account_id)) or 0)
