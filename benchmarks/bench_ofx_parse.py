"""Parsing a large OFX card statement: ``ofxparse`` on its own against the importer.

    python -m benchmarks.bench_ofx_parse                       # 100,000 transactions, ~27 MB
    python -m benchmarks.bench_ofx_parse --transactions 20000 --whole-file 2000,5000,10000 --tracemalloc

Generates, in memory and seeded, an OFX 1.x (SGML) credit-card statement as a UK card
provider writes one: header, sign-on, one ``CCSTMTRS`` with ``--transactions`` transactions
(``TRNTYPE``, ``DTPOSTED``, ``DTUSER``, ``TRNAMT``, ``FITID``, ``SIC``, ``NAME``, ``MEMO``),
ledger balance. Each measurement runs in a child process of its own, which generates the
file and then does only that one thing, so that its peak resident set (``ru_maxrss``) is its
own; ``generate only`` is the floor (interpreter, imports, the file's bytes).

- ``importer``: ``importers.ofx_statement.read`` and every line consumed, with the time spent
  inside ``OfxParser.parse`` (on the slices ``importers.ofx_cleanup`` hands it) measured
  apart from the rest (decoding, cleaning, our own reading of amounts and dates, the lines).
- ``ofxparse on the slices``: ``OfxParser.parse`` on the documents ``ofx_cleanup`` makes,
  nothing else.
- ``--whole-file N,…``: ``OfxParser.parse`` on the whole file as it is, for files of N
  transactions (what ``ofxparse`` does unaided: its SGML pass is quadratic, so keep N small;
  100,000 took 413 s and 1 GB when measured for issue 11).
- ``--tracemalloc``: the importer again under ``tracemalloc`` (slower), for the peak of the
  Python allocations made by parsing alone, the file's bytes excluded.

Times are ``time.perf_counter``; nothing is asserted. Medians over ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import io
import json
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from datetime import date, timedelta
from random import Random

SEED = 20_261_124
START = date(2025, 4, 1)
MERCHANTS = (
    ("TESCO STORES 2931", "5411"), ("SAINSBURYS S/MKTS", "5411"), ("BOOTS 1043", "5912"), ("COSTA COFFEE 41882", "5814"),
    ("TFL TRAVEL CH", "4111"), ("ARGOS LTD", "5311"), ("SHELL KINGS CROSS", "5541"), ("AMAZON.CO.UK*2K4LM", "5942"),
    ("MORRISONS 0142", "5411"), ("SUPERDRUG 0871", "5912"), ("NATIONAL RAIL", "4112"), ("GREGGS PLC 1125", "5814"),
    ("DUNELM STORES", "5719"), ("SCREWFIX DIRECT", "5251"), ("ODEON CINEMAS", "7832"), ("ALDI 55 LEEDS", "5411"),
)  # fmt: skip
PLACES = ("LONDON", "LEEDS", "BRISTOL", "MANCHESTER", "EXETER", "NORWICH", "YORK", "DERBY")


def card_statement(transactions: int, *, seed: int = SEED) -> bytes:
    """An SGML credit-card statement of ``transactions`` purchases and refunds (~270 bytes each)."""
    rng = Random(seed)
    parts = [
        "OFXHEADER:100\r\nDATA:OFXSGML\r\nVERSION:102\r\nSECURITY:NONE\r\nENCODING:USASCII\r\nCHARSET:1252\r\n"
        "COMPRESSION:NONE\r\nOLDFILEUID:NONE\r\nNEWFILEUID:NONE\r\n\r\n<OFX>\r\n<SIGNONMSGSRSV1>\r\n<SONRS>\r\n<STATUS>\r\n"
        "<CODE>0\r\n<SEVERITY>INFO\r\n</STATUS>\r\n<DTSERVER>20260401120000[0:GMT]\r\n<LANGUAGE>ENG\r\n</SONRS>\r\n"
        "</SIGNONMSGSRSV1>\r\n<CREDITCARDMSGSRSV1>\r\n<CCSTMTTRNRS>\r\n<TRNUID>1\r\n<STATUS>\r\n<CODE>0\r\n<SEVERITY>INFO\r\n"
        "</STATUS>\r\n<CCSTMTRS>\r\n<CURDEF>GBP\r\n<CCACCTFROM>\r\n<ACCTID>************4417\r\n</CCACCTFROM>\r\n"
        f"<BANKTRANLIST>\r\n<DTSTART>{START:%Y%m%d}\r\n<DTEND>{START + timedelta(days=365):%Y%m%d}\r\n"
    ]
    pence_total = 0
    for n in range(transactions):
        day = START + timedelta(days=n * 365 // max(transactions, 1))
        merchant, mcc = MERCHANTS[rng.randrange(len(MERCHANTS))]
        refund = rng.random() < 0.004
        pence = rng.randrange(100, 9000) * (1 if refund else -1)
        pence_total += pence
        place = PLACES[rng.randrange(len(PLACES))]
        parts.append(
            f"<STMTTRN>\r\n<TRNTYPE>{'CREDIT' if refund else 'DEBIT'}\r\n<DTPOSTED>{day:%Y%m%d}{rng.randrange(24):02d}"
            f"{rng.randrange(60):02d}00[0:GMT]\r\n<DTUSER>{day - timedelta(days=1):%Y%m%d}\r\n<TRNAMT>{_pounds(pence)}\r\n"
            f"<FITID>{day:%Y%m%d}{n:09d}\r\n<SIC>{mcc}\r\n<NAME>{merchant}\r\n"
            f"<MEMO>{'REFUND' if refund else 'PURCHASE'} CARD 4417 {merchant} {place} GB ON {day - timedelta(days=1):%d %b}"
            f" REF {rng.randrange(10**11):011d}\r\n</STMTTRN>\r\n"
        )
    parts.append(
        f"</BANKTRANLIST>\r\n<LEDGERBAL>\r\n<BALAMT>{_pounds(pence_total)}\r\n<DTASOF>{START + timedelta(days=365):%Y%m%d}\r\n"
        "</LEDGERBAL>\r\n</CCSTMTRS>\r\n</CCSTMTTRNRS>\r\n</CREDITCARDMSGSRSV1>\r\n</OFX>\r\n"
    )
    return "".join(parts).encode("ascii")


def _pounds(pence: int) -> str:
    sign = "-" if pence < 0 else ""
    return f"{sign}{abs(pence) // 100}.{abs(pence) % 100:02d}"


# --- what a child process measures ------------------------------------------------------------


def _measure(mode: str, transactions: int) -> dict[str, float]:
    data = card_statement(transactions)
    result: dict[str, float] = {"bytes": len(data)}
    if mode == "generate":
        pass
    elif mode in ("importer", "importer-tracemalloc"):
        result.update(_importer(data, traced=mode.endswith("tracemalloc")))
    elif mode == "slices":
        from ofxparse import OfxParser

        from importers import ofx_cleanup

        cleaned = ofx_cleanup.clean(data)
        began = time.perf_counter()
        for document in ofx_cleanup.ofxparse_inputs(cleaned):
            OfxParser.parse(io.BytesIO(document))
        result["seconds"] = time.perf_counter() - began
    elif mode == "whole":
        from ofxparse import OfxParser

        began = time.perf_counter()
        parsed = OfxParser.parse(io.BytesIO(data))
        result["seconds"] = time.perf_counter() - began
        result["lines"] = len(parsed.account.statement.transactions)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def _importer(data: bytes, *, traced: bool) -> dict[str, float]:
    from ofxparse import OfxParser

    from importers import ofx_statement

    inside_ofxparse = 0.0

    class TimedOfxParser(OfxParser):
        @classmethod
        def parse(cls, file_handle, fail_fast=True, custom_date_format=None):  # type: ignore[no-untyped-def]
            nonlocal inside_ofxparse
            began = time.perf_counter()
            try:
                return OfxParser.parse(file_handle, fail_fast=fail_fast, custom_date_format=custom_date_format)
            finally:
                inside_ofxparse += time.perf_counter() - began

    ofx_statement.OfxParser = TimedOfxParser  # type: ignore[misc]
    if traced:
        tracemalloc.start()
    began = time.perf_counter()
    statement = ofx_statement.read(data)
    checked = time.perf_counter()
    lines = sum(1 for _ in statement.lines)
    ended = time.perf_counter()
    result = {
        "seconds": ended - began, "read_seconds": checked - began, "lines_seconds": ended - checked,
        "ofxparse_seconds": inside_ofxparse, "lines": lines,
    }  # fmt: skip
    if traced:
        result["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
    return result


def _in_child(mode: str, transactions: int) -> dict[str, float]:
    command = [sys.executable, "-m", "benchmarks.bench_ofx_parse", "--child", mode, "--transactions", str(transactions)]
    finished = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(finished.stdout.strip().splitlines()[-1])


def _median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(run[key] for run in runs)


def main(argv: list[str] | None = None) -> int:
    arguments = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    arguments.add_argument("--transactions", type=int, default=100_000)
    arguments.add_argument("--repeat", type=int, default=1)
    arguments.add_argument("--whole-file", default="", help="comma-separated transaction counts for ofxparse unaided")
    arguments.add_argument("--tracemalloc", action="store_true")
    arguments.add_argument("--child", help=argparse.SUPPRESS)
    args = arguments.parse_args(argv)
    if args.child:
        print(json.dumps(_measure(args.child, args.transactions)))
        return 0

    n = args.transactions
    floor = _in_child("generate", n)
    print(f"OFX 1.x credit-card statement, {n:,} transactions, {floor['bytes'] / 1e6:.1f} MB")
    print(f"  generate only:           peak RSS {floor['peak_rss_mb']:.0f} MB (the floor)")
    runs = [_in_child("importer", n) for _ in range(args.repeat)]
    total, ofxparse_s = _median(runs, "seconds"), _median(runs, "ofxparse_seconds")
    print(f"  importer (read + lines): {total:.2f} s — read() {_median(runs, 'read_seconds'):.2f} s, lines"
          f" {_median(runs, 'lines_seconds'):.2f} s; inside OfxParser.parse {ofxparse_s:.2f} s ({100 * ofxparse_s / total:.0f}%),"
          f" the rest {total - ofxparse_s:.2f} s; {int(runs[0]['lines']):,} lines;"
          f" peak RSS {max(r['peak_rss_mb'] for r in runs):.0f} MB")  # fmt: skip
    slices = [_in_child("slices", n) for _ in range(args.repeat)]
    print(f"  ofxparse on the slices:  {_median(slices, 'seconds'):.2f} s; peak RSS {max(r['peak_rss_mb'] for r in slices):.0f} MB")
    if args.tracemalloc:
        traced = _in_child("importer-tracemalloc", n)
        print(f"  importer, tracemalloc:   peak {traced['tracemalloc_peak_mb']:.0f} MB of Python allocations while parsing"
              f" ({traced['seconds']:.1f} s under tracing)")  # fmt: skip
    for size in (int(s) for s in args.whole_file.split(",") if s.strip()):
        whole = _in_child("whole", size)
        print(f"  ofxparse, whole file of {size:,} transactions ({whole['bytes'] / 1e6:.1f} MB): {whole['seconds']:.2f} s,"
              f" peak RSS {whole['peak_rss_mb']:.0f} MB")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
