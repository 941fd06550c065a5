"""How fast the CSV importer reads a prepaid-card statement (``prepaid_card`` layout).

Generates a seeded card export in memory (loads, purchases with MCCs, some with a fee,
refunds, a running balance), then times ``importers.csv_statement.read`` and the iteration
of its lines, which is where the parsing happens. Prints lines per second and the peak
memory Python allocated while iterating (``tracemalloc``; the lines are counted, not kept,
as the ledger's store does with them).

    .venv/bin/python -m benchmarks.bench_csv_parse                 # 100,000 lines, best of 3
    .venv/bin/python -m benchmarks.bench_csv_parse --lines 1300000 --repeat 1   # ~100 MB
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc
from datetime import date, timedelta

from importers import csv_statement

HEADER = "Transaction ID,Date,Card Number,Merchant,Description,MCC,Type,Amount,Fee,Currency,Balance"
MERCHANTS = (
    ("TESCO STORES 3021", "5411"),
    ("SAINSBURYS S/MKT", "5411"),
    ("BOOTS 1123", "5912"),
    ("TRAINLINE.COM", "4112"),
    ("LEISURE CENTRE", "7997"),
    ("ARGOS LTD", "5311"),
    ("COSTA COFFEE", "5814"),
    ("AMAZON.CO.UK", "5942"),
    ("TAXI, \"STATION\" CARS", "4121"),
)


def card_export(line_count: int, seed: int = 11) -> bytes:
    """A prepaid-card CSV of ``line_count`` transactions, oldest first."""
    rng = random.Random(seed)
    day = date(2024, 4, 1)
    balance = 0
    rows = [HEADER]
    for number in range(1, line_count + 1):
        if number % 40 == 1:
            kind, merchant, mcc, amount, fee = "LOAD", "", "", 50_000, 0
            description = "Weekly load"
            day += timedelta(days=1)
        else:
            merchant, mcc = rng.choice(MERCHANTS)
            refund = rng.random() < 0.004
            kind = "REFUND" if refund else "PURCHASE"
            amount = rng.randint(100, 4_000) * (1 if refund else -1)
            fee = 0 if rng.random() > 0.05 else rng.choice((50, 150, 275))
            description = f"{merchant} {day:%d%b%y}".upper()
        balance += amount - fee
        merchant_cell = f'"{merchant.replace(chr(34), chr(34) * 2)}"' if "," in merchant else merchant
        rows.append(
            ",".join(
                (
                    f"TXN{number:09d}",
                    f"{day:%d/%m/%Y}",
                    "************4821",
                    merchant_cell,
                    description if "," not in description else f'"{description}"',
                    mcc,
                    kind,
                    _pounds(amount),
                    _pounds(fee) if fee else "",
                    "GBP",
                    _pounds(balance),
                )
            )
        )
    return ("\r\n".join(rows) + "\r\n").encode("utf-8")


def _pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    return f"{sign}{abs(pence) // 100}.{abs(pence) % 100:02d}"


def parse_all(data: bytes) -> int:
    statement = csv_statement.read(data)
    count = 0
    for _ in statement.lines:
        count += 1
    return count


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--lines", type=int, default=100_000)
    options.add_argument("--repeat", type=int, default=3)
    arguments = options.parse_args()

    data = card_export(arguments.lines)
    print(f"file: {arguments.lines:,} transactions, {len(data) / 1e6:.1f} MB")
    timings = []
    for _ in range(arguments.repeat):
        started = time.perf_counter()
        count = parse_all(data)
        timings.append(time.perf_counter() - started)
    best = min(timings)
    print(f"statement lines: {count:,} (fees as their own lines)")
    print(f"parse: best {best:.3f} s of {arguments.repeat}, {arguments.lines / best:,.0f} transactions/s")

    tracemalloc.start()
    parse_all(data)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"peak memory allocated while parsing: {peak / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
