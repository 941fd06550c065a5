"""Statement files for the import benchmarks, generated from a seed: a prepaid-card CSV in
the shipped ``prepaid_card`` layout and an OFX 1.x credit-card statement with SIC codes."""

from __future__ import annotations

from datetime import date, timedelta
from random import Random

from benchmarks.merchants import merchants

START = date(2026, 4, 1)
_MCC_OF_CATEGORY = {"day_activities": "7999", "short_breaks": "7011", "transport": "4121", "equipment": "5999"}
MERCHANTS = [(m.name.upper(), _MCC_OF_CATEGORY.get(m.category, "5411")) for m in merchants()[::7]]
PREPAID_HEADER = "Transaction ID,Date,Card Number,Merchant,Description,MCC,Type,Amount,Fee,Currency,Balance"


def prepaid_card_rows(lines: int, *, seed: int = 11) -> list[str]:
    """``lines`` card lines: a weekly load, then purchases (one in fifty abroad, with a fee)."""
    rng = Random(seed)
    balance = 0
    rows = [PREPAID_HEADER]
    for n in range(lines):
        day = START + timedelta(days=n * 365 // max(lines, 1))
        if n % 40 == 0:
            amount, fee, merchant, mcc, kind = 40_000, 0, "LOAD", "", "LOAD"
        else:
            merchant, mcc = MERCHANTS[rng.randrange(len(MERCHANTS))]
            amount, kind = -rng.randrange(100, 6000), "PURCHASE"
            fee = rng.randrange(10, 99) if n % 50 == 7 else 0
        balance += amount - fee
        rows.append(
            f"TX{n:08d},{day:%d/%m/%Y},************1234,{merchant},{merchant} {n % 97},{mcc},{kind},"
            f"{_pounds(amount)},{_pounds(fee) if fee else ''},GBP,{_pounds(balance)}"
        )
    return rows


def prepaid_card_csv(lines: int, *, seed: int = 11) -> bytes:
    return ("\n".join(prepaid_card_rows(lines, seed=seed)) + "\n").encode("utf-8")


def prepaid_card_csv_of_size(size_bytes: int) -> bytes:
    """A prepaid-card CSV of about ``size_bytes``."""
    sample = prepaid_card_csv(1000)
    return prepaid_card_csv(size_bytes * 1000 // len(sample))


def ofx_card_statement(transactions: int, *, seed: int = 12) -> bytes:
    rng = Random(seed)
    body = []
    for n in range(transactions):
        day = START + timedelta(days=n * 365 // max(transactions, 1))
        merchant, mcc = MERCHANTS[rng.randrange(len(MERCHANTS))]
        body.append(
            "<STMTTRN>\n<TRNTYPE>DEBIT\n"
            f"<DTPOSTED>{day:%Y%m%d}120000\n<TRNAMT>{_pounds(-rng.randrange(100, 6000))}\n"
            f"<FITID>{n:010d}\n<SIC>{mcc or '5999'}\n<NAME>{merchant}\n<MEMO>CARD PURCHASE {n % 97}\n</STMTTRN>"
        )
    end = START + timedelta(days=365)
    header = (
        "OFXHEADER:100\nDATA:OFXSGML\nVERSION:102\nSECURITY:NONE\nENCODING:USASCII\nCHARSET:1252\n"
        "COMPRESSION:NONE\nOLDFILEUID:NONE\nNEWFILEUID:NONE\n\n"
        "<OFX>\n<SIGNONMSGSRSV1>\n<SONRS>\n<STATUS>\n<CODE>0\n<SEVERITY>INFO\n</STATUS>\n"
        "<DTSERVER>20270401120000\n<LANGUAGE>ENG\n</SONRS>\n</SIGNONMSGSRSV1>\n"
        "<CREDITCARDMSGSRSV1>\n<CCSTMTTRNRS>\n<TRNUID>1\n<STATUS>\n<CODE>0\n<SEVERITY>INFO\n</STATUS>\n"
        "<CCSTMTRS>\n<CURDEF>GBP\n<CCACCTFROM>\n<ACCTID>************1234\n</CCACCTFROM>\n"
        f"<BANKTRANLIST>\n<DTSTART>{START:%Y%m%d}\n<DTEND>{end:%Y%m%d}\n"
    )
    footer = (
        "</BANKTRANLIST>\n<LEDGERBAL>\n<BALAMT>0.00\n"
        f"<DTASOF>{end:%Y%m%d}\n</LEDGERBAL>\n</CCSTMTRS>\n</CCSTMTTRNRS>\n</CREDITCARDMSGSRSV1>\n</OFX>\n"
    )
    return (header + "\n".join(body) + "\n" + footer).encode("ascii")


def _pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    return f"{sign}{abs(pence) // 100}.{abs(pence) % 100:02d}"
