"""What a statement's lines add up to, worked out as they go by (pure, one pass).

- the number of lines, their total, the first and last day;
- the running balances a file gives, checked line by line: each balance must follow from
  the one before and the amounts between. Banks list lines oldest first (Starling) or
  newest first (Lloyds); the order is found from the first pair of balances that agree,
  and every later break is reported with its line;
- where the file states no opening and closing balance but gives running balances, they are
  inferred: the closing is the newest line's balance, the opening the oldest line's balance
  less its amount;
- where it states them, opening + lines must equal closing.

Lines of one row (a purchase and the fee in its own column share a line number) count as one
step: the row's balance comes after both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ledger.core.money import format_gbp

BREAKS_SHOWN_MAX = 10


@dataclass(frozen=True, slots=True)
class _Row:
    line_no: int
    amount_pence: int
    balance_pence: int | None


@dataclass(frozen=True, slots=True)
class TallyResult:
    count: int
    total_pence: int
    first_on: date | None
    last_on: date | None
    opening_pence: int | None
    closing_pence: int | None
    balances_stated: bool
    warnings: tuple[str, ...]


class StatementTally:
    def __init__(self) -> None:
        self.count = 0
        self.total_pence = 0
        self.first_on: date | None = None
        self.last_on: date | None = None
        self._row: _Row | None = None
        self._first_row: _Row | None = None
        self._last_row: _Row | None = None
        self._previous_balanced: _Row | None = None
        self._amount_since_balanced = 0
        """Forward: amounts of the rows after the previous balanced row, this one included."""
        self._order: str | None = None  # "oldest_first" or "newest_first"
        self._breaks: list[str] = []
        self._break_count = 0
        self._balances_seen = 0

    def add(self, *, line_no: int, posted_on: date, amount_pence: int, balance_pence: int | None) -> None:
        self.count += 1
        self.total_pence += amount_pence
        if self.first_on is None or posted_on < self.first_on:
            self.first_on = posted_on
        if self.last_on is None or posted_on > self.last_on:
            self.last_on = posted_on
        row = self._row
        if row is not None and row.line_no == line_no:
            balance = row.balance_pence if balance_pence is None else balance_pence
            self._row = _Row(line_no, row.amount_pence + amount_pence, balance)
            return
        if row is not None:
            self._finish(row)
        self._row = _Row(line_no, amount_pence, balance_pence)

    def _finish(self, row: _Row) -> None:
        if self._first_row is None:
            self._first_row = row
        self._last_row = row
        if row.balance_pence is None:
            self._amount_since_balanced += row.amount_pence
            return
        self._balances_seen += 1
        previous = self._previous_balanced
        if previous is not None:
            self._check(previous, row, self._amount_since_balanced + row.amount_pence)
        self._previous_balanced = row
        self._amount_since_balanced = 0

    def _check(self, previous: _Row, row: _Row, forward_amount: int) -> None:
        assert previous.balance_pence is not None and row.balance_pence is not None
        # newest first: the previous (newer) balance = this balance + the newer rows' amounts
        backward_amount = forward_amount - row.amount_pence + previous.amount_pence
        forward = previous.balance_pence + forward_amount == row.balance_pence
        backward = row.balance_pence + backward_amount == previous.balance_pence
        if self._order is None:
            if forward and not backward:
                self._order = "oldest_first"
            elif backward and not forward:
                self._order = "newest_first"
            elif not forward and not backward:
                self._break(previous, row, forward_amount)
            return
        agrees = forward if self._order == "oldest_first" else backward
        if not agrees:
            self._break(previous, row, forward_amount if self._order == "oldest_first" else backward_amount)

    def _break(self, previous: _Row, row: _Row, amount: int) -> None:
        self._break_count += 1
        if len(self._breaks) < BREAKS_SHOWN_MAX:
            self._breaks.append(
                f"line {row.line_no}: the running balance {format_gbp(row.balance_pence or 0)} does not follow"
                f" from line {previous.line_no}'s {format_gbp(previous.balance_pence or 0)} and the amounts"
                f" between ({format_gbp(amount)})"
            )

    def result(
        self,
        *,
        stated_opening_pence: int | None = None,
        stated_closing_pence: int | None = None,
    ) -> TallyResult:
        if self._row is not None:
            self._finish(self._row)
            self._row = None
        warnings = list(self._breaks)
        if self._break_count > len(self._breaks):
            warnings.append(f"… and {self._break_count - len(self._breaks)} more running-balance breaks")
        opening, closing = stated_opening_pence, stated_closing_pence
        stated = opening is not None or closing is not None
        if not stated:
            opening, closing = self._inferred_balances()
        elif opening is not None and closing is not None and opening + self.total_pence != closing:
            warnings.append(
                f"the statement's opening balance {format_gbp(opening)} plus its lines"
                f" ({format_gbp(self.total_pence)}) is {format_gbp(opening + self.total_pence)},"
                f" not its closing balance {format_gbp(closing)}"
            )
        return TallyResult(
            count=self.count,
            total_pence=self.total_pence,
            first_on=self.first_on,
            last_on=self.last_on,
            opening_pence=opening,
            closing_pence=closing,
            balances_stated=stated,
            warnings=tuple(warnings),
        )

    def _inferred_balances(self) -> tuple[int | None, int | None]:
        first, last = self._first_row, self._last_row
        if first is None or last is None or first.balance_pence is None or last.balance_pence is None:
            return None, None
        if self._order == "newest_first":
            return last.balance_pence - last.amount_pence, first.balance_pence
        if self._order == "oldest_first" or first is last:
            return first.balance_pence - first.amount_pence, last.balance_pence
        return None, None
