"""How each kind of value reads in a document people look at (HTML, PDF) and in a
spreadsheet cell (CSV): one function per kind, so every format writes a figure the same way."""

from __future__ import annotations

from datetime import date, datetime

from ledger.core.money import format_amount, format_gbp
from reports.document import Value, ValueKind

MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")


money_text = format_gbp
"""-123456 → "-£1,234.56": the sign first, then the pound sign, then commas."""


def source_text(file_name: str | None, line_no: int | None) -> str | None:
    """Where an entry came from: ``file line N``, the file alone when it has no line (a file
    read whole, such as a payroll sheet), or None."""
    if not file_name:
        return None
    return file_name if line_no is None else f"{file_name} line {line_no}"


def whole_pounds_text(pence: int) -> str:
    """For easy-read letters: "£1,235" (to the nearest pound, half up)."""
    sign = "-" if pence < 0 else ""
    pounds = (abs(pence) + 50) // 100
    return f"{sign}£{pounds:,}"


def day_text(day: date) -> str:
    """1 April 2026 (the NHS.UK style: no leading zero, month in words)."""
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def moment_text(moment: datetime) -> str:
    return f"{day_text(moment.date())} at {moment:%H:%M}"


def tenths_text(tenths: int) -> str:
    sign = "-" if tenths < 0 else ""
    whole, tenth = divmod(abs(tenths), 10)
    return f"{sign}{whole}.{tenth}"


def basis_points_text(basis_points: int) -> str:
    """1250 → "12.5%"; 1234 → "12.34%"; 1000 → "10%"."""
    sign = "-" if basis_points < 0 else ""
    whole, part = divmod(abs(basis_points), 100)
    fraction = f"{part:02d}".rstrip("0")
    return f"{sign}{whole}{'.' + fraction if fraction else ''}%"


def hundredths_text(hundredths: int) -> str:
    sign = "-" if hundredths < 0 else ""
    whole, part = divmod(abs(hundredths), 100)
    fraction = f"{part:02d}".rstrip("0")
    return f"{sign}{whole}{'.' + fraction if fraction else ''}"


def display(value: Value, kind: ValueKind) -> str:
    """A value as a person reads it on the page."""
    if value is None:
        return ""
    if kind == ValueKind.MONEY:
        return money_text(int(value))  # type: ignore[arg-type]
    if kind == ValueKind.DATE:
        return day_text(value) if isinstance(value, date) else str(value)
    if kind == ValueKind.WEEKS:
        return f"{tenths_text(int(value))} weeks"  # type: ignore[arg-type]
    if kind == ValueKind.PERCENT:
        return basis_points_text(int(value))  # type: ignore[arg-type]
    if kind == ValueKind.HOURS:
        return hundredths_text(int(value))  # type: ignore[arg-type]
    if kind == ValueKind.COUNT:
        return f"{int(value):,}"  # type: ignore[arg-type]
    return str(value)


def cell(value: Value, kind: ValueKind) -> str:
    """A value as a CSV cell: plain numbers a spreadsheet reads (1234.56, 4.3, 12.5), ISO
    dates; text as it is (the CSV writer guards it against formula injection)."""
    if value is None:
        return ""
    if kind == ValueKind.MONEY:
        return format_amount(int(value))  # type: ignore[arg-type]
    if kind == ValueKind.DATE:
        return value.isoformat() if isinstance(value, date) else str(value)
    if kind == ValueKind.WEEKS:
        return tenths_text(int(value))  # type: ignore[arg-type]
    if kind == ValueKind.PERCENT:
        return basis_points_text(int(value)).rstrip("%")  # type: ignore[arg-type]
    if kind == ValueKind.HOURS:
        return hundredths_text(int(value))  # type: ignore[arg-type]
    if kind == ValueKind.COUNT:
        return str(int(value))  # type: ignore[arg-type]
    return str(value)
