"""The repayment notice regulation 15 of the NHS (Direct Payments) Regulations 2013 requires
when a funder asks for money back: the reasons, the amount, the date by which to repay, who
repays, and that the recipient may ask for the decision to be reconsidered. Plain words; the
budget's reference, never the person's name."""

from __future__ import annotations

from datetime import date

from ledger.core.money import format_gbp

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")


def plain_date(day: date) -> str:
    """``date(2026, 12, 1)`` → ``"1 December 2026"`` (whatever the server's locale)."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def repayment_notice_text(
    *,
    funder_name: str,
    budget_reference: str,
    flag_id: int,
    flag_code: str,
    flag_reason: str,
    reasons: str,
    amount_pence: int,
    repay_by: date,
    repayer: str,
    issued_on: date,
) -> str:
    """The written notice of regulation 15(2): reasons, amount, time to repay, who repays;
    and how to ask for reconsideration (15(4)). The budget reference stands for the person."""
    amount, by = format_gbp(amount_pence), plain_date(repay_by)
    return "\n".join(
        [
            "Notice requiring repayment from a personal health budget",
            "Given under regulation 15 of the National Health Service (Direct Payments) Regulations 2013",
            "",
            f"From: {funder_name}",
            f"Date of this notice: {plain_date(issued_on)}",
            f"Budget reference: {budget_reference}",
            f"About: flag {flag_id} ({flag_code}): {flag_reason}",
            "",
            f"{funder_name} has decided that {amount} of this budget must be repaid.",
            "",
            "Why we have decided this:",
            reasons,
            "",
            f"Amount to repay: {amount}",
            f"Repay by: {by}",
            f"Who must repay: {repayer}",
            "",
            "If you disagree",
            f"You can ask {funder_name} to reconsider this decision. To do this, reply to this notice or contact"
            f" {funder_name} before {by}, the date by which the money is to be repaid, and say why you disagree."
            f" You can send any evidence or information you would like {funder_name} to consider."
            f" {funder_name} will reconsider the decision and let you know the outcome.",
        ]
    )


# --- evidence ------------------------------------------------------------------------------
