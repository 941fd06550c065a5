"""Reading a provider's payroll CSV: the layout, line numbers, every refusal, and round trips.

The oracle for a row's cost is computed here with ``decimal`` and ``ROUND_HALF_UP``, not with
the module's integer formula, so that the two can disagree if either is wrong.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.errors import InvalidInput
from ledger.money_out import payroll_sheet
from ledger.money_out.payroll_sheet import PayrollLine, PayrollSheet, read_payroll_sheet

FILE = "payroll.csv"
HEADER = "worker,budget,hours,rate\n"


def read(text: str) -> PayrollSheet:
    return read_payroll_sheet(text.encode("utf-8"), FILE)


def refusal(data: str | bytes) -> InvalidInput:
    """The error a sheet is refused with (and proof that nothing was returned)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with pytest.raises(InvalidInput) as caught:
        read_payroll_sheet(raw, FILE)
    return caught.value


def problems_of(error: InvalidInput) -> list[tuple[int, str | None, str]]:
    return [(problem["line"], problem["column"], problem["code"]) for problem in error.details["problems"]]


def cost_pence(hours: str, rate: str, employer_costs: str = "0") -> int:
    """The oracle: hours × rate to the penny, half up, plus employer's costs, in pence."""
    pay = (Decimal(hours) * Decimal(rate)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return int((pay + Decimal(employer_costs)) * 100)


# --- a realistic sheet ----------------------------------------------------------------------

REALISTIC = """\
worker,budget,hours,rate,employer_costs,category,description
PR-001 Amy Carter,ISF-0001,142.5,12.60,96.40,staff_pay,Day support
PR-002 Ben Hughes,ISF-0002,120,12.60,81.20,staff_pay,Day support
PR-003 Chloe Patel,ISF-0003,86.25,13.10,52.75,staff_pay,
PR-004 Dev Sharma,ISF-0004,160,11.44,101.00,staff_pay,Waking nights
PR-005 Ella Jones,ISF-0005,37.5,15.00,0,activities,Swimming and climbing support
PR-006 Femi Adeyemi,ISF-0006,98,12.00,61.33,,
PR-007 Grace Lee,ISF-0007,7.5,11.33,,staff_pay,Cover shift
PR-008 Harry Wood,ISF-0008,44.75,12.25,22.10,short_breaks,Weekend short break
PR-009 Isla Brown,ISF-0009,130,12.60,88.00,staff_pay,
PR-010 Jack Evans,ISF-0010,52.5,13.75,30.05,staff_pay,Transition: staff employed in advance
PR-011 Kemi Obi,ISF-0011,75,12.60,47.50,staff_pay,
PR-012 Sam Okafor,ISF-0012,60,12.00,38.40,staff_pay,Mornings with Lucy
PR-012 Sam Okafor,ISF-0003,24.5,13.50,16.90,staff_pay,Evenings with Tom
PR-007 Grace Lee,ISF-0007,10,16.50,6.60,staff_pay,Bank holiday rate
"""


def test_a_realistic_sheet_of_twelve_budgets() -> None:
    sheet = read(REALISTIC)

    assert sheet.file_name == FILE
    assert len(sheet.lines) == 14
    assert [line.line_no for line in sheet.lines] == list(range(2, 16))
    totals = sheet.totals_by_budget()
    assert list(totals) == [f"ISF-{n:04d}" for n in range(1, 13)]
    assert sum(totals.values()) == sheet.total_pence

    expected_total = 0
    for row in csv.DictReader(io.StringIO(REALISTIC)):
        expected_total += cost_pence(row["hours"], row["rate"], row["employer_costs"] or "0")
    assert sheet.total_pence == expected_total


def test_one_worker_split_between_two_budgets_at_different_rates() -> None:
    sheet = read(REALISTIC)
    sam = [line for line in sheet.lines if line.worker == "PR-012 Sam Okafor"]

    assert [(line.budget_reference, line.rate_pence) for line in sam] == [("ISF-0012", 1200), ("ISF-0003", 1350)]
    assert sam[0].amount_pence == 60 * 1200 + 3840
    assert sam[1].amount_pence == 33075 + 1690  # 24.5 h × £13.50 = £330.75
    chloe = cost_pence("86.25", "13.10", "52.75")
    assert sheet.totals_by_budget()["ISF-0003"] == chloe + sam[1].amount_pence


def test_one_worker_on_one_budget_at_two_rates() -> None:
    sheet = read(REALISTIC)
    grace = [line for line in sheet.lines if line.worker == "PR-007 Grace Lee"]

    assert [(line.line_no, line.rate_pence, line.amount_pence) for line in grace] == [(8, 1133, 8498), (15, 1650, 17160)]
    assert sheet.totals_by_budget()["ISF-0007"] == 8498 + 17160


def test_every_field_of_a_line() -> None:
    sheet = read(REALISTIC)

    assert sheet.lines[0] == PayrollLine(
        line_no=2,
        worker="PR-001 Amy Carter",
        budget_reference="ISF-0001",
        hours_hundredths=14250,
        rate_pence=1260,
        employer_costs_pence=9640,
        category="staff_pay",
        description="Day support",
        amount_pence=179550 + 9640,
    )
    assert sheet.lines[2].description is None
    assert sheet.lines[4].category == "activities"
    assert sheet.lines[5].category == "staff_pay"  # empty cell: the default
    assert sheet.lines[6].employer_costs_pence == 0  # empty cell: the default


# --- layout ---------------------------------------------------------------------------------


def test_columns_in_any_order_and_case_with_spaces_around_names() -> None:
    sheet = read("  RATE ,Hours,Budget , WORKER,Category\n£12.50,7.25,ISF-0007,Jane Smith,therapies\n")

    (line,) = sheet.lines
    assert (line.worker, line.budget_reference, line.hours_hundredths, line.rate_pence) == ("Jane Smith", "ISF-0007", 725, 1250)
    assert line.category == "therapies"
    assert line.amount_pence == 9063  # 7.25 × 12.50 = 90.625 → 90.63


def test_optional_columns_may_be_left_out() -> None:
    (line,) = read(HEADER + "Jane,ISF-0007,10,12\n").lines

    assert (line.employer_costs_pence, line.category, line.description) == (0, "staff_pay", None)
    assert line.amount_pence == 12000


def test_a_byte_order_mark_is_ignored() -> None:
    data = b"\xef\xbb\xbf" + (HEADER + "Zo\u00eb,ISF-0001,1,\u00a310.00\n").encode("utf-8")

    (line,) = read_payroll_sheet(data, FILE).lines
    assert (line.worker, line.rate_pence) == ("Zo\u00eb", 1000)


def test_trailing_commas_are_ignored() -> None:
    sheet = read("worker,budget,hours,rate,\r\nJane,ISF-0001,1,10,\r\nJohn,ISF-0002,2,10,,,\r\n")

    assert [(line.worker, line.amount_pence) for line in sheet.lines] == [("Jane", 1000), ("John", 2000)]


def test_a_short_row_reads_missing_optional_cells_as_empty() -> None:
    (line,) = read("worker,budget,hours,rate,employer_costs,description\nJane,ISF-0001,1,10\n").lines

    assert (line.employer_costs_pence, line.description) == (0, None)


def test_blank_lines_are_skipped_but_counted() -> None:
    sheet = read("\n" + HEADER + "\n,,,\n   \nJane,ISF-0001,1,10\n\n")

    assert [line.line_no for line in sheet.lines] == [6]


def test_quoted_cells_with_commas_and_line_breaks_keep_line_numbers_right() -> None:
    text = (
        "worker,budget,hours,rate,description\r\n"
        '"Smith, Jane",ISF-0001,1,10,"Support at home,\r\nand in the community"\r\n'
        'Jo "JJ" Jones,ISF-0002,2,10,"three\nline\ndescription"\r\n'
        "Kim,ISF-0003,3,10,plain\r\n"
    )
    sheet = read(text)

    assert [(line.line_no, line.worker) for line in sheet.lines] == [(2, "Smith, Jane"), (4, 'Jo "JJ" Jones'), (7, "Kim")]
    assert sheet.lines[0].description == "Support at home,\r\nand in the community"
    assert sheet.lines[1].description == "three\nline\ndescription"

    error = refusal(text + "Lee,ISF-0004,0,10\r\n")
    assert error.message.startswith("payroll.csv line 8, column hours:")


def test_a_spaced_quoted_cell_is_still_one_cell() -> None:
    (line,) = read('worker,budget,hours,rate\nJane, ISF-0001, 1, "1,000.00"\n').lines

    assert line.rate_pence == 100_000


def test_totals_by_budget_keep_first_seen_order() -> None:
    sheet = read(HEADER + "A,ISF-0003,1,10\nB,ISF-0001,1,10\nC,ISF-0003,1,5\nD,ISF-0002,1,1\n")

    assert list(sheet.totals_by_budget().items()) == [("ISF-0003", 1500), ("ISF-0001", 1000), ("ISF-0002", 100)]


# --- money and hours ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "rate", "employer_costs", "pence"),
    [
        ("7.5", "11.33", "0", 8498),  # £84.975 → £84.98
        ("7.5", "11.31", "0", 8483),  # £84.825 → £84.83
        ("0.5", "0.01", "0", 1),  # half a penny rounds up
        ("0.49", "0.01", "0", 0),
        ("0.01", "0.49", "0", 0),
        ("0.01", "0.50", "0", 1),
        ("1", "12.34", "0.01", 1235),
        ("744", "1000", "0", 74_400_000),
        ("37.33", "9.99", "12.00", 38493),  # 372.9267 → 372.93, + 12.00
    ],
)
def test_cost_is_hours_times_rate_rounded_half_up_plus_employer_costs(hours: str, rate: str, employer_costs: str, pence: int) -> None:
    (line,) = read(f"worker,budget,hours,rate,employer_costs\nJane,ISF-0001,{hours},{rate},{employer_costs}\n").lines

    assert line.amount_pence == pence == cost_pence(hours, rate, employer_costs)


@pytest.mark.parametrize(
    ("hours", "hundredths"),
    [("7.5", 750), ("7.50", 750), ("07.05", 705), (".5", 50), ("7.", 700), ("0.01", 1), ("744", 74400), ("744.00", 74400)],
)
def test_hours_are_read_as_hundredths(hours: str, hundredths: int) -> None:
    (line,) = read(HEADER + f"Jane,ISF-0001,{hours},10\n").lines

    assert line.hours_hundredths == hundredths


@pytest.mark.parametrize(
    ("hours", "says"),
    [
        ("7.555", "more than two decimal places"),
        ("0.001", "more than two decimal places"),
        ("0", "more than 0 hours"),
        ("0.00", "more than 0 hours"),
        ("-7.5", "not a number of hours"),
        ("+7.5", "not a number of hours"),
        ("744.01", "more than 744 hours"),
        ("99999999999999999999999", "more than 744 hours"),
        ("1e3", "not a number of hours"),
        ("7:30", "not a number of hours"),
        ("7,5", None),  # an unquoted comma makes a fifth cell
        ("seven", "not a number of hours"),
        (".", "not a number of hours"),
        ("NaN", "not a number of hours"),
        ("\u0667", "not a number of hours"),  # an Arabic-Indic seven
    ],
)
def test_bad_hours_are_refused(hours: str, says: str | None) -> None:
    error = refusal(HEADER + f"Jane,ISF-0001,{hours},10\n")

    if says is None:
        assert error.code == "payroll_too_many_columns"
        return
    assert error.code == "payroll_bad_hours"
    assert error.field == "hours"
    assert error.message.startswith("payroll.csv line 2, column hours: ")
    assert says in error.message


@pytest.mark.parametrize("rate", ["12.50", "£12.50", " £12.50 ", "GBP 12.50", "12.5", "£1,000.00", "1000", "0.01"])
def test_rates_are_read_the_way_amounts_are(rate: str) -> None:
    (line,) = read(HEADER + f'Jane,ISF-0001,1,"{rate}"\n').lines

    assert line.rate_pence == cost_pence("1", rate.replace("£", "").replace("GBP", "").replace(",", "").strip())


@pytest.mark.parametrize(
    ("rate", "says"),
    [
        ("12.5.0", "is not an amount of money"),
        ("1e3", "is not an amount of money"),
        ("0", "more than £0.00"),
        ("0.00", "more than £0.00"),
        ("-12.50", "more than £0.00"),
        ("£-12.50", "more than £0.00"),
        ("1000.01", "more than the limit of £1,000.00 an hour"),
        ("12.555", "more than two decimal places"),
        ("$12.50", "not in pounds sterling"),
        ("EUR 12.50", "not in pounds sterling"),
        ("NaN", "is not an amount of money"),
        ("1" * 5000, "is not an amount of money"),
    ],
)
def test_bad_rates_are_refused(rate: str, says: str) -> None:
    error = refusal(HEADER + f"Jane,ISF-0001,1,{rate}\n")

    assert (error.code, error.field) == ("payroll_bad_rate", "rate")
    assert error.message.startswith("payroll.csv line 2, column rate: ")
    assert says in error.message


def test_the_message_quotes_the_cell_as_written() -> None:
    error = refusal(HEADER + "Jane,ISF-0001,1,10\nJohn,ISF-0001,1,10\nAl,ISF-0002,1,10\n" + "Bo,ISF-0003,1,12.5.0\n" * 4)

    assert error.message.startswith('payroll.csv line 5, column rate: "12.5.0" is not an amount of money')


@pytest.mark.parametrize(
    ("costs", "code"),
    [("-0.01", "payroll_bad_amount"), ("1e3", "payroll_bad_amount"), ("12.345", "payroll_bad_amount"), ("£1,000,000,000.00", "payroll_bad_amount")],
)
def test_bad_employer_costs_are_refused(costs: str, code: str) -> None:
    error = refusal(f'worker,budget,hours,rate,employer_costs\nJane,ISF-0001,1,10,"{costs}"\n')

    assert (error.code, error.field) == (code, "employer_costs")
    assert error.message.startswith("payroll.csv line 2, column employer_costs: ")


def test_employer_costs_may_be_zero() -> None:
    (line,) = read("worker,budget,hours,rate,employer_costs\nJane,ISF-0001,1,10,£0.00\n").lines

    assert line.employer_costs_pence == 0


# --- text -----------------------------------------------------------------------------------


def test_text_at_its_longest_is_accepted() -> None:
    worker, budget, description = "W" * 200, "B" * 32, "d" * 500
    (line,) = read(f"worker,budget,hours,rate,category,description\n{worker},{budget},1,1,{'c' * 40},{description}\n").lines

    assert (line.worker, line.budget_reference, line.category, line.description) == (worker, budget, "c" * 40, description)


@pytest.mark.parametrize(
    ("column", "cell", "code"),
    [
        ("worker", "W" * 201, "payroll_bad_text"),
        ("worker", '"Jane\tSmith"', "payroll_bad_text"),
        ("worker", '"Jane\nSmith"', "payroll_bad_text"),
        ("worker", "Jane\x00Smith", "payroll_bad_text"),
        ("budget", "B" * 33, "payroll_bad_text"),
        ("budget", "ISF 0007", "payroll_bad_text"),
        ("description", "d" * 501, "payroll_bad_text"),
        ("description", "bell\x07", "payroll_bad_text"),
        ("category", "Staff_Pay", "payroll_bad_category"),
        ("category", "staff pay", "payroll_bad_category"),
        ("category", "staff-pay", "payroll_bad_category"),
        ("category", "c" * 41, "payroll_bad_category"),
        ("worker", "", "payroll_missing_value"),
        ("budget", "  ", "payroll_missing_value"),
        ("hours", "", "payroll_missing_value"),
        ("rate", "", "payroll_missing_value"),
    ],
)
def test_bad_text_is_refused(column: str, cell: str, code: str) -> None:
    values = {"worker": "Jane", "budget": "ISF-0001", "hours": "1", "rate": "10", "category": "staff_pay", "description": "x"}
    values[column] = cell
    error = refusal(",".join(values) + "\n" + ",".join(values.values()) + "\n")

    assert (error.code, error.field) == (code, column)
    assert error.message.startswith(f"payroll.csv line 2, column {column}: ")


def test_a_description_may_span_lines() -> None:
    (line,) = read('worker,budget,hours,rate,description\nJane,ISF-0001,1,10,"first\n\tsecond"\n').lines

    assert line.description == "first\n\tsecond"


def test_the_same_text_trimmed() -> None:
    (line,) = read('worker,budget,hours,rate,description\n  Jane Smith  ,ISF-0001 ,1,10,"  note  "\n').lines

    assert (line.worker, line.budget_reference, line.description) == ("Jane Smith", "ISF-0001", "note")


# --- duplicates -----------------------------------------------------------------------------


def test_the_same_worker_budget_and_rate_twice_is_refused_naming_both_lines() -> None:
    error = refusal(HEADER + "Jane Smith,ISF-0007,10,12.50\nJohn,ISF-0007,1,12.50\n  jane  SMITH ,ISF-0007,5,£12.50\n")

    assert (error.code, error.field) == ("payroll_duplicate_row", "worker")
    assert error.message.startswith("payroll.csv line 4, column worker: ")
    assert "already on line 2" in error.message
    assert problems_of(error) == [(4, "worker", "payroll_duplicate_row")]


def test_a_duplicate_is_found_whatever_the_case_of_the_budget() -> None:
    error = refusal(HEADER + "Jane,ISF-0007,10,12.50\nJane,isf-0007,10,12.50\n")

    assert error.code == "payroll_duplicate_row"


def test_the_same_worker_on_two_budgets_or_at_two_rates_is_fine() -> None:
    sheet = read(HEADER + "Jane,ISF-0007,10,12.50\nJane,ISF-0008,10,12.50\nJane,ISF-0007,3,15.00\n")

    assert [line.amount_pence for line in sheet.lines] == [12500, 12500, 4500]


# --- the header and the file ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "code", "line", "column"),
    [
        (b"", "payroll_empty", 1, None),
        (b"\xef\xbb\xbf\r\n \r\n", "payroll_empty", 1, None),
        (HEADER.encode(), "payroll_empty", 1, None),
        (b"worker,budget,hours\nJane,ISF-0001,1\n", "payroll_missing_column", 1, "rate"),
        (b"worker,budget,hours,rate,employer_cost\nJane,ISF-0001,1,10,0\n", "payroll_unknown_column", 1, "employer_cost"),
        (b"worker,budget,hours,rate,Rate\nJane,ISF-0001,1,10,10\n", "payroll_duplicate_column", 1, "rate"),
        (b"worker,,budget,hours,rate\nJane,,ISF-0001,1,10\n", "payroll_unnamed_column", 1, None),
        (b"worker;budget;hours;rate\nJane;ISF-0001;1;10\n", "payroll_unknown_column", 1, "worker;budget;hours;rate"),
        (b"worker,budget,hours,rate\n\nJane,ISF-0001,1,10,surplus\n", "payroll_too_many_columns", 3, None),
        (b'worker,budget,hours,rate\nJane,"ISF-0001,1,10\nJohn,ISF-0002,1,10\n', "payroll_malformed_csv", 2, None),
        (b'worker,budget,hours,rate\nJane,"ISF-0001"x,1,10\n', "payroll_malformed_csv", 2, None),
        (b"worker,budget,hours,rate\nJane,ISF-0001,1,10\nJos\xe9,ISF-0002,1,10\n", "payroll_encoding", 3, None),
        (b"worker,budget,hours,rate\r\nJane,ISF-0001,1,\xa310\r\n", "payroll_encoding", 2, None),
        (b"worker,budget,hours,rate\nJane,ISF-0001,1,10\nJohn,ISF-0001,1,10\nJane,ISF-0001,2,10\n", "payroll_duplicate_row", 4, "worker"),
        (b"worker,budget,hours,rate\nJane,ISF 1,1,10\n", "payroll_bad_text", 2, "budget"),
        (b"worker,budget,hours,rate,category\nJane,ISF-1,1,10,Pay\n", "payroll_bad_category", 2, "category"),
        (b"worker,budget,hours,rate\nJane,ISF-1,,10\n", "payroll_missing_value", 2, "hours"),
        (b"worker,budget,hours,rate\nJane,ISF-1,1.234,10\n", "payroll_bad_hours", 2, "hours"),
        (b"worker,budget,hours,rate\nJane,ISF-1,1,ten\n", "payroll_bad_rate", 2, "rate"),
        (b"worker,budget,hours,rate,employer_costs\nJane,ISF-1,1,10,-1\n", "payroll_bad_amount", 2, "employer_costs"),
    ],
)
def test_each_refusal_names_its_code_line_and_column(data: bytes, code: str, line: int, column: str | None) -> None:
    error = refusal(data)

    assert error.code == code
    assert error.field == column
    where = f"payroll.csv line {line}, column {column}: " if column else f"payroll.csv line {line}: "
    assert error.message.startswith(where)
    assert error.details["file"] == FILE
    first = error.details["problems"][0]
    assert (first["line"], first["column"], first["code"]) == (line, column, code)
    assert error.message.startswith(f"{where}{first['message']}")
    assert error.status_code == 422


def test_an_unknown_column_suggests_the_one_meant() -> None:
    error = refusal("worker,budget,hours,rate,employer_cost\n")

    assert "did you mean employer_costs?" in error.message


def test_a_semicolon_separated_file_is_explained() -> None:
    error = refusal("worker;budget;hours;rate\nJane;ISF-0001;1;10\n")

    assert "semicolons" in error.message


def test_an_encoding_error_names_the_byte() -> None:
    error = refusal(b"worker,budget,hours,rate\nJane,ISF-0001,1,\xa310\n")

    assert "0xA3" in error.message
    assert "UTF-8" in error.message


def test_a_header_problem_stops_the_rows_being_read() -> None:
    error = refusal("worker,budget,hours,rte\nJane,ISF-0001,oops,10\n")

    assert problems_of(error) == [(1, "rte", "payroll_unknown_column"), (1, "rate", "payroll_missing_column")]


def test_too_many_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    assert payroll_sheet.ROWS_MAX == 100_000
    monkeypatch.setattr(payroll_sheet, "ROWS_MAX", 3)
    rows = "".join(f"W{n},ISF-0001,1,10\n" for n in range(4))

    assert len(read(HEADER + rows[: rows.index("W3")]).lines) == 3
    error = refusal(HEADER + rows)
    assert (error.code, error.field) == ("payroll_too_many_rows", None)
    assert error.message.startswith("payroll.csv line 5: ")


# --- several problems -----------------------------------------------------------------------


def test_every_problem_is_collected_in_file_order() -> None:
    text = (
        "rate,worker,budget,hours,employer_costs\n"
        "10,Jane,ISF-0001,1,0\n"
        "12.5.0,Jane,ISF 0001,7.555,-1\n"
        "\n"
        "10,,ISF-0002,1,0\n"
        "10,Jane,ISF-0001,2,0\n"
        "10,John,ISF-0003,1,0,extra\n"
    )
    error = refusal(text)

    assert problems_of(error) == [
        (3, "rate", "payroll_bad_rate"),
        (3, "budget", "payroll_bad_text"),
        (3, "hours", "payroll_bad_hours"),
        (3, "employer_costs", "payroll_bad_amount"),
        (5, "worker", "payroll_missing_value"),
        (6, "worker", "payroll_duplicate_row"),
        (7, None, "payroll_too_many_columns"),
    ]
    assert error.code == "payroll_bad_rate"
    assert error.field == "rate"
    assert error.message.startswith('payroll.csv line 3, column rate: "12.5.0" is not an amount of money')
    assert error.message.endswith("(and 6 more problems)")
    assert all(set(problem) == {"line", "column", "code", "message"} for problem in error.details["problems"])


def test_collecting_stops_after_fifty_problems() -> None:
    error = refusal(HEADER + "Jane,ISF-0001,0,0\n" * 200)

    assert len(error.details["problems"]) == 50
    assert error.details["problems"][-1]["line"] == 26
    assert "(and 49 more problems; stopped after 50)" in error.message


# --- properties -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    worker: str
    budget: str
    hours_hundredths: int
    rate_pence: int
    employer_costs_pence: int | None
    category: str | None
    description: str | None

    def duplicate_key(self) -> tuple[str, str, int]:
        return (" ".join(self.worker.split()).casefold(), self.budget.casefold(), self.rate_pence)


_visible = st.characters(categories=("L", "M", "N", "P", "S"), include_characters=" ")
_trimmed = lambda text: text == text.strip() and bool(text)  # noqa: E731
workers = st.text(_visible, min_size=1, max_size=30).filter(_trimmed)
budgets = st.text(st.characters(categories=("L", "N", "P", "S")), min_size=1, max_size=32)
descriptions = st.text(st.one_of(_visible, st.just("\n")), min_size=1, max_size=60).filter(_trimmed)
rows = st.builds(
    Row,
    worker=workers,
    budget=budgets,
    hours_hundredths=st.integers(1, payroll_sheet.HOURS_HUNDREDTHS_MAX),
    rate_pence=st.integers(1, payroll_sheet.RATE_PENCE_MAX),
    employer_costs_pence=st.none() | st.integers(0, 10_000_000),
    category=st.none() | st.from_regex(r"[a-z0-9_]{1,40}", fullmatch=True),
    description=st.none() | descriptions,
)


def as_decimal(hundredths: int, *, trim: bool) -> str:
    text = f"{hundredths // 100}.{hundredths % 100:02d}"
    return text.rstrip("0").rstrip(".") if trim else text


def as_pounds(pence: int, style: int) -> str:
    plain = f"{pence // 100}.{pence % 100:02d}"
    return [plain, f"£{plain}", f"£{pence // 100:,}.{pence % 100:02d}"][style]


@st.composite
def sheets(draw: st.DrawFn) -> tuple[bytes, list[str], list[Row], list[int]]:
    """A rendered sheet, its columns, its rows, and the line each row should start on."""
    drawn = draw(st.lists(rows, min_size=1, max_size=15, unique_by=Row.duplicate_key))
    optional = [column for column in payroll_sheet.OPTIONAL_COLUMNS if draw(st.booleans())]
    columns = draw(st.permutations(list(payroll_sheet.REQUIRED_COLUMNS) + optional))
    shout = draw(st.booleans())
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=draw(st.sampled_from(["\r\n", "\n"])))
    writer.writerow([name.upper() if shout else name for name in columns])
    starts: list[int] = []
    line = 2
    for row in drawn:
        cells = {
            "worker": row.worker,
            "budget": row.budget,
            "hours": as_decimal(row.hours_hundredths, trim=draw(st.booleans())),
            "rate": as_pounds(row.rate_pence, draw(st.integers(0, 2))),
            "employer_costs": "" if row.employer_costs_pence is None else as_pounds(row.employer_costs_pence, draw(st.integers(0, 2))),
            "category": row.category or "",
            "description": row.description or "",
        }
        written = [cells[name] for name in columns]
        writer.writerow(written)
        starts.append(line)
        line += 1 + sum(cell.count("\n") for cell in written)
    return out.getvalue().encode("utf-8"), columns, drawn, starts


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sheets())
def test_a_rendered_sheet_reads_back_to_the_same_values(rendered: tuple[bytes, list[str], list[Row], list[int]]) -> None:
    data, columns, drawn, starts = rendered
    sheet = read_payroll_sheet(data, FILE)

    assert len(sheet.lines) == len(drawn)
    expected_total = 0
    for line, row, start in zip(sheet.lines, drawn, starts):
        employer_costs = row.employer_costs_pence if "employer_costs" in columns and row.employer_costs_pence is not None else 0
        category = row.category if "category" in columns and row.category else "staff_pay"
        description = row.description if "description" in columns else None
        assert line == PayrollLine(
            line_no=start,
            worker=row.worker,
            budget_reference=row.budget,
            hours_hundredths=row.hours_hundredths,
            rate_pence=row.rate_pence,
            employer_costs_pence=employer_costs,
            category=category,
            description=description,
            amount_pence=line.amount_pence,
        )
        oracle = cost_pence(as_decimal(row.hours_hundredths, trim=False), as_pounds(row.rate_pence, 0), as_pounds(employer_costs, 0))
        assert line.amount_pence == oracle
        expected_total += oracle
    assert sheet.total_pence == expected_total
    assert sum(sheet.totals_by_budget().values()) == expected_total


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200), st.binary(max_size=200).map(lambda tail: HEADER.encode() + tail)))
def test_any_bytes_give_a_sheet_or_one_invalid_input(data: bytes) -> None:
    try:
        sheet = read_payroll_sheet(data, FILE)
    except InvalidInput as error:
        problems = error.details["problems"]
        assert 1 <= len(problems) <= payroll_sheet.PROBLEMS_MAX
        assert error.code == problems[0]["code"]
        assert error.code.startswith("payroll_")
        assert error.field == problems[0]["column"]
        assert error.message.startswith(f"{FILE} line {problems[0]['line']}")
    else:
        assert sheet.lines
        assert sum(sheet.totals_by_budget().values()) == sheet.total_pence
