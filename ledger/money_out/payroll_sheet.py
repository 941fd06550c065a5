"""Read a provider's payroll CSV into typed lines, pure: bytes in, ``PayrollSheet`` out.

An ISF provider pays its staff from the client bank account, and one payroll run covers many
budgets. The provider's payroll system exports a CSV saying, for each worker and budget, the
hours worked and what they cost; this module turns that file into integer pence per row so
the caller can post each row to its budget. It touches no database: whether a budget
reference or a category exists is for the caller to check.

Layout
------
One header row, then one row per worker per budget. Column names are matched
case-insensitively with surrounding spaces ignored, in any order; a column the reader does not
know is refused, so that a misspelt name never silently drops data.

- ``worker`` (required): the worker's payroll reference or name, 1–200 printable characters.
- ``budget`` (required): the budget reference, e.g. ``ISF-0007``: 1–32 printable characters,
  no spaces.
- ``hours`` (required): hours worked in the pay period, a decimal with at most two places,
  more than 0 and at most 744 (a 31-day month of hours), e.g. ``7.5``.
- ``rate`` (required): the hourly rate in pounds, e.g. ``12.50`` or ``£12.50``; more than
  £0.00 and at most £1,000.00.
- ``employer_costs`` (optional, default 0): the employer's National Insurance and pension
  for the row, in pounds, £0.00 or more.
- ``category`` (optional, default ``staff_pay``): the plan category the cost is spent from,
  1–40 lower-case letters, digits and underscores.
- ``description`` (optional): free text, at most 500 characters.

A row costs ``hours × rate`` rounded half up to the penny, plus ``employer_costs``:
7.5 hours at £11.33 is £84.975, which is £84.98.

The file must be UTF-8 (Excel: "CSV UTF-8"); a byte-order mark is ignored. Blank lines are
skipped, and so are empty cells after the last column (a trailing comma). Line numbers in
messages are physical lines of the file, the header being line 1; a row whose quoted cell
runs over several lines is named by the line it starts on. A sheet has at least one row and
at most 100,000. The same worker on the same budget at the same rate twice is refused (it
would pay them twice); the same worker on two budgets, or on one budget at two rates, is not.

The whole sheet is refused if anything in it is wrong — paying half a payroll run is worse
than paying none — with every problem listed (up to 50), so that the file can be fixed in one
go rather than one error per upload.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from ledger.budgets.plan_money import HOURLY_RATE_PENCE_MAX
from ledger.core.money import AMOUNT_PENCE_MAX, AmountError, format_gbp, parse_amount, to_pence
from ledger.errors import InvalidInput

T = TypeVar("T")

HOURS_HUNDREDTHS_MAX: Final = 744 * 100  # 31 days × 24 hours: no one works more in a month
RATE_PENCE_MAX: Final = HOURLY_RATE_PENCE_MAX  # £1,000 an hour, as for plan lines
ROWS_MAX: Final = 100_000
PROBLEMS_MAX: Final = 50
WORKER_LENGTH_MAX: Final = 200
BUDGET_LENGTH_MAX: Final = 32
CATEGORY_LENGTH_MAX: Final = 40
DESCRIPTION_LENGTH_MAX: Final = 500
DEFAULT_CATEGORY: Final = "staff_pay"

REQUIRED_COLUMNS: Final = ("worker", "budget", "hours", "rate")
OPTIONAL_COLUMNS: Final = ("employer_costs", "category", "description")
KNOWN_COLUMNS: Final = REQUIRED_COLUMNS + OPTIONAL_COLUMNS

_HOURS_RE = re.compile(r"(?P<whole>[0-9]*)(?:\.(?P<fraction>[0-9]*))?")
_CATEGORY_RE = re.compile(r"[a-z0-9_]+")
_LINE_BREAK_RE = re.compile(r"\r\n|\r|\n")
_QUOTED_LENGTH_MAX = 40
# Line breaks and tabs are fine inside a description (a quoted cell may hold them); any other
# control character is a sign of a damaged file.
_DESCRIPTION_WHITESPACE = frozenset("\n\r\t")


@dataclass(frozen=True, slots=True)
class PayrollLine:
    """One row of the sheet: what one worker cost one budget in the pay period."""

    line_no: int
    worker: str
    budget_reference: str
    hours_hundredths: int
    rate_pence: int
    employer_costs_pence: int
    category: str
    description: str | None
    amount_pence: int


@dataclass(frozen=True, slots=True)
class PayrollSheet:
    """A payroll file that has been read in full and found to be sound."""

    file_name: str
    lines: tuple[PayrollLine, ...]

    @property
    def total_pence(self) -> int:
        return sum(line.amount_pence for line in self.lines)

    def totals_by_budget(self) -> dict[str, int]:
        """Budget reference → pence, in the order the budgets first appear in the file, so that
        a summary reads in the same order as the sheet the provider is looking at."""
        totals: dict[str, int] = {}
        for line in self.lines:
            totals[line.budget_reference] = totals.get(line.budget_reference, 0) + line.amount_pence
        return totals


def read_payroll_sheet(data: bytes, file_name: str) -> PayrollSheet:
    """Read a payroll CSV (see the module docstring for the layout).

    Raises one ``InvalidInput`` if anything is wrong; its code and field are those of the first
    problem and ``details`` lists them all: ``{"file": ..., "problems": [{"line", "column",
    "code", "message"}, ...]}``.
    """
    assert isinstance(data, (bytes, bytearray)), f"payroll data must be bytes, got {type(data).__name__}"
    problems = _Problems()
    text = _decode(bytes(data), problems)
    lines = _read_lines(text, problems) if text is not None else []
    if problems:
        raise problems.refusal(file_name)
    return PayrollSheet(file_name=file_name, lines=tuple(lines))


# --- problems -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Problem:
    line: int
    column: str | None
    code: str
    message: str

    def located(self, file_name: str) -> str:
        where = f"{file_name} line {self.line}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "code": self.code, "message": self.message}


@dataclass
class _Problems:
    """Every problem found so far, up to :data:`PROBLEMS_MAX`: past that, a list is no longer
    read, and reading on through a badly broken file only costs time."""

    found: list[_Problem] = field(default_factory=list)

    def add(self, problem: _Problem) -> None:
        if not self.full:
            self.found.append(problem)

    @property
    def full(self) -> bool:
        return len(self.found) >= PROBLEMS_MAX

    def __bool__(self) -> bool:
        return bool(self.found)

    def refusal(self, file_name: str) -> InvalidInput:
        first = self.found[0]
        message = first.located(file_name)
        others = len(self.found) - 1
        if others:
            message += f" (and {others} more problem{'s' if others > 1 else ''}"
            message += f"; stopped after {PROBLEMS_MAX})" if self.full else ")"
        return InvalidInput(
            message,
            code=first.code,
            field=first.column,
            details={"file": file_name, "problems": [problem.as_dict() for problem in self.found]},
        )


class _CellError(Exception):
    """A cell's value is wrong; the row reader adds the line and column."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# --- bytes to rows --------------------------------------------------------------------------


def _decode(data: bytes, problems: _Problems) -> str | None:
    """UTF-8 only. Guessing Windows-1252 would usually work, and silently misread the one file
    where it does not; the person who exported the file can choose "CSV UTF-8" instead."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        readable = data[: error.start].decode("utf-8")
        line = 1 + len(_LINE_BREAK_RE.findall(readable))
        bad_byte = data[error.start]
        problems.add(
            _Problem(
                line,
                None,
                "payroll_encoding",
                f"the file is not UTF-8 text (byte 0x{bad_byte:02X} cannot be read);"
                ' save it as "CSV UTF-8" and upload it again',
            )
        )
        return None


@dataclass(frozen=True, slots=True)
class _Row:
    line_no: int
    cells: list[str]


def _rows(text: str, problems: _Problems) -> Iterator[_Row]:
    """The non-blank records of the file, each with the physical line it starts on.

    ``newline=""`` keeps line breaks inside quoted cells as they are, and the reader's
    ``line_num`` counts physical lines, so a record starts on the line after the previous one
    ended. ``strict`` refuses a malformed quote rather than guess where the cell ends.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True, skipinitialspace=True)
    previous_end = 0
    while True:
        start = previous_end + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            problems.add(
                _Problem(
                    start,
                    None,
                    "payroll_malformed_csv",
                    f"the row starting here is not valid CSV ({error}); check its quotes",
                )
            )
            return
        previous_end = reader.line_num
        if any(cell.strip() for cell in cells):
            yield _Row(start, cells)


def _read_lines(text: str, problems: _Problems) -> list[PayrollLine]:
    rows = _rows(text, problems)
    header = next(rows, None)
    if header is None:
        if not problems:
            problems.add(_Problem(1, None, "payroll_empty", "the file is empty: it needs a header row and at least one row"))
        return []
    columns = _read_header(header, problems)
    if columns is None:
        return []
    lines: list[PayrollLine] = []
    first_line_of: dict[tuple[str, str, int], int] = {}
    row_count = 0
    for row in rows:
        row_count += 1
        if row_count > ROWS_MAX:
            problems.add(
                _Problem(row.line_no, None, "payroll_too_many_rows", f"the file has more than {ROWS_MAX:,} rows; split it into smaller files")
            )
            return lines
        line = _read_line(row, columns, problems)
        if line is not None and _is_new(line, first_line_of, problems):
            lines.append(line)
        if problems.full:
            return lines
    if row_count == 0 and not problems:
        problems.add(_Problem(header.line_no, None, "payroll_empty", "the file has a header row but no rows of payroll under it"))
    return lines


# --- the header -----------------------------------------------------------------------------


def _read_header(row: _Row, problems: _Problems) -> list[str] | None:
    """The canonical column name at each position, or ``None`` if the header is unusable (the
    rows cannot be read without knowing what each cell is)."""
    names = [cell.strip().lower() for cell in row.cells]
    while names and not names[-1]:
        names.pop()  # a trailing comma on the header row
    problems_before = len(problems.found)
    seen: set[str] = set()
    for position, (name, written) in enumerate(zip(names, row.cells), start=1):
        if not name:
            problems.add(
                _Problem(row.line_no, None, "payroll_unnamed_column", f"column {position} has no name; known columns are {_known_columns()}")
            )
        elif name in seen:
            problems.add(_Problem(row.line_no, name, "payroll_duplicate_column", f"the column {name} appears twice in the header"))
        elif name not in KNOWN_COLUMNS:
            problems.add(_Problem(row.line_no, written.strip(), "payroll_unknown_column", _unknown_column_message(written.strip())))
        seen.add(name)
    for required in REQUIRED_COLUMNS:
        if required not in seen:
            problems.add(
                _Problem(row.line_no, required, "payroll_missing_column", f"the header has no {required} column; it needs {', '.join(REQUIRED_COLUMNS)}")
            )
    if len(problems.found) > problems_before:
        return None
    return names


def _unknown_column_message(name: str) -> str:
    message = f"{_quoted(name)} is not a column this sheet can have"
    if ";" in name or "\t" in name:
        return message + '; the file seems to be separated by semicolons or tabs: save it as "CSV UTF-8" (comma delimited)'
    close = difflib.get_close_matches(name.lower(), KNOWN_COLUMNS, n=1)
    if close:
        return message + f"; did you mean {close[0]}?"
    return message + f"; known columns are {_known_columns()}"


def _known_columns() -> str:
    return ", ".join(KNOWN_COLUMNS)


# --- one row --------------------------------------------------------------------------------


class _RowReader:
    """Reads the cells of one row, keeping every cell's problem rather than stopping at the
    first, and reports them in the order of the file's columns."""

    def __init__(self, row: _Row, columns: list[str]) -> None:
        self.row = row
        self.columns = columns
        self.problems: list[tuple[int, _Problem]] = []
        cells = [cell.strip() for cell in row.cells]
        self.cells = dict(zip(columns, cells + [""] * (len(columns) - len(cells))))
        self.extra_cells = cells[len(columns) :]

    def value(self, column: str, read: Callable[[str], T], *, default: T | None = None, required: bool = False) -> T | None:
        text = self.cells.get(column, "")
        if not text:
            if required:
                self._fail(column, "payroll_missing_value", f"is empty: every row needs a {column}")
            return default
        try:
            return read(text)
        except _CellError as error:
            self._fail(column, error.code, error.message)
            return None

    def check_no_extra_cells(self) -> None:
        for offset, cell in enumerate(self.extra_cells):
            if cell:
                position = len(self.columns) + offset + 1
                problem = _Problem(
                    self.row.line_no,
                    None,
                    "payroll_too_many_columns",
                    f"cell {position} holds {_quoted(cell)} but the header names only {len(self.columns)} columns",
                )
                self.problems.append((position, problem))
                return

    def _fail(self, column: str, code: str, message: str) -> None:
        self.problems.append((self.columns.index(column), _Problem(self.row.line_no, column, code, message)))

    def report(self, problems: _Problems) -> bool:
        """Add this row's problems to the sheet's; true if there were none."""
        for _, problem in sorted(self.problems, key=lambda pair: pair[0]):
            problems.add(problem)
        return not self.problems


def _read_line(row: _Row, columns: list[str], problems: _Problems) -> PayrollLine | None:
    cells = _RowReader(row, columns)
    worker = cells.value("worker", _read_worker, required=True)
    budget = cells.value("budget", _read_budget, required=True)
    hours = cells.value("hours", _read_hours, required=True)
    rate = cells.value("rate", _read_rate, required=True)
    employer_costs = cells.value("employer_costs", _read_employer_costs, default=0)
    category = cells.value("category", _read_category, default=DEFAULT_CATEGORY)
    description = cells.value("description", _read_description)
    cells.check_no_extra_cells()
    if not cells.report(problems):
        return None
    assert worker is not None and budget is not None and hours is not None and rate is not None
    assert employer_costs is not None and category is not None
    amount = _row_cost(hours, rate, employer_costs)
    if amount > AMOUNT_PENCE_MAX:
        problems.add(
            _Problem(row.line_no, "employer_costs", "payroll_bad_amount", f"the row comes to more than the limit of {format_gbp(AMOUNT_PENCE_MAX)}")
        )
        return None
    return PayrollLine(
        line_no=row.line_no,
        worker=worker,
        budget_reference=budget,
        hours_hundredths=hours,
        rate_pence=rate,
        employer_costs_pence=employer_costs,
        category=category,
        description=description,
        amount_pence=amount,
    )


def _row_cost(hours_hundredths: int, rate_pence: int, employer_costs_pence: int) -> int:
    """Hours × rate, rounded half up to the penny (hours are in hundredths), plus employer's
    costs. Integer arithmetic: a float would round 84.975 down as often as up."""
    return (hours_hundredths * rate_pence + 50) // 100 + employer_costs_pence


def _is_new(line: PayrollLine, first_line_of: dict[tuple[str, str, int], int], problems: _Problems) -> bool:
    """Refuse a second row for the same worker, budget and rate: it would pay the worker
    twice. Case and spacing are ignored, since "jane smith " is the same person as "Jane Smith"."""
    key = (" ".join(line.worker.split()).casefold(), line.budget_reference.casefold(), line.rate_pence)
    first = first_line_of.setdefault(key, line.line_no)
    if first == line.line_no:
        return True
    problems.add(
        _Problem(
            line.line_no,
            "worker",
            "payroll_duplicate_row",
            f"{_quoted(line.worker)} on {line.budget_reference} at {format_gbp(line.rate_pence)} an hour is already on line {first};"
            " give one row per worker, budget and rate",
        )
    )
    return False


# --- one cell -------------------------------------------------------------------------------


def _read_worker(text: str) -> str:
    return _plain_text(text, WORKER_LENGTH_MAX)


def _read_budget(text: str) -> str:
    reference = _plain_text(text, BUDGET_LENGTH_MAX)
    if any(char.isspace() for char in reference):
        raise _CellError("payroll_bad_text", f"{_quoted(reference)} contains a space; a budget reference has none, e.g. ISF-0007")
    return reference


def _read_description(text: str) -> str:
    if len(text) > DESCRIPTION_LENGTH_MAX:
        raise _CellError("payroll_bad_text", f"is {len(text)} characters long; at most {DESCRIPTION_LENGTH_MAX}")
    if not all(char.isprintable() or char in _DESCRIPTION_WHITESPACE for char in text):
        raise _CellError("payroll_bad_text", "contains a control character")
    return text


def _plain_text(text: str, max_length: int) -> str:
    if len(text) > max_length:
        raise _CellError("payroll_bad_text", f"is {len(text)} characters long; at most {max_length}")
    if not text.isprintable():
        raise _CellError("payroll_bad_text", f"{_quoted(text)} contains a line break, tab or other character that cannot be printed")
    return text


def _read_category(text: str) -> str:
    if len(text) > CATEGORY_LENGTH_MAX or not _CATEGORY_RE.fullmatch(text):
        raise _CellError(
            "payroll_bad_category",
            f"{_quoted(text)} is not a category code: 1–{CATEGORY_LENGTH_MAX} lower-case letters, digits and underscores, e.g. staff_pay",
        )
    return text


def _read_hours(text: str) -> int:
    """Hours → hundredths of an hour. Only plain decimals: "7:30" might mean 7.5 hours or
    7.3, and "1e3" is a spreadsheet's float, so both are refused rather than guessed at."""
    match = _HOURS_RE.fullmatch(text)
    if match is None or not (match["whole"] or match["fraction"]):
        raise _CellError(
            "payroll_bad_hours", f"{_quoted(text)} is not a number of hours; write it as a decimal, e.g. 7.5 for seven and a half hours"
        )
    whole, fraction = match["whole"] or "0", match["fraction"] or ""
    if len(fraction) > 2:
        raise _CellError("payroll_bad_hours", f"{_quoted(text)} has more than two decimal places; write hours to the hundredth, e.g. 7.25")
    if len(whole.lstrip("0")) > 4:  # no int() of a huge digit string: it is out of range anyway
        raise _CellError("payroll_bad_hours", _too_many_hours(text))
    hundredths = int(whole) * 100 + int(fraction.ljust(2, "0"))
    if hundredths == 0:
        raise _CellError("payroll_bad_hours", f"{_quoted(text)} hours: a row needs more than 0 hours")
    if hundredths > HOURS_HUNDREDTHS_MAX:
        raise _CellError("payroll_bad_hours", _too_many_hours(text))
    return hundredths


def _too_many_hours(text: str) -> str:
    return f"{_quoted(text)} is more than {HOURS_HUNDREDTHS_MAX // 100} hours, the hours in a 31-day month"


def _read_rate(text: str) -> int:
    pence = _pence(text, "payroll_bad_rate")
    if pence <= 0:
        raise _CellError("payroll_bad_rate", f"{_quoted(text)} must be more than £0.00 an hour")
    if pence > RATE_PENCE_MAX:
        raise _CellError("payroll_bad_rate", f"{_quoted(text)} is more than the limit of {format_gbp(RATE_PENCE_MAX)} an hour")
    return pence


def _read_employer_costs(text: str) -> int:
    pence = _pence(text, "payroll_bad_amount")
    if pence < 0:
        raise _CellError("payroll_bad_amount", f"{_quoted(text)} is negative; employer's costs are £0.00 or more")
    return pence


_AMOUNT_TROUBLE = {
    "amount_too_many_decimals": "has more than two decimal places; amounts are in pounds and pence",
    "amount_other_currency": "is not in pounds sterling",
    "amount_too_large": f"is more than the limit of {format_gbp(AMOUNT_PENCE_MAX)}",
}


def _pence(text: str, code: str) -> int:
    """Pounds as written → pence, through the one parser every amount goes through."""
    try:
        return to_pence(parse_amount(text))
    except AmountError as error:
        trouble = _AMOUNT_TROUBLE.get(error.code, "is not an amount of money (write it like 12.50 or £12.50)")
        raise _CellError(code, f"{_quoted(text)} {trouble}") from None


def _quoted(text: str) -> str:
    """A cell's text for a message: quoted, cut short, control characters made visible."""
    if len(text) > _QUOTED_LENGTH_MAX:
        text = text[: _QUOTED_LENGTH_MAX - 1] + "…"
    visible = "".join(char if char.isprintable() else f"\\u{ord(char):04x}" for char in text)
    return f'"{visible}"'
