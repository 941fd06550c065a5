"""Journal entries as frozen values, their pure checks, and their hashes.

A :class:`NewEntry` is what a caller asks to post; a :class:`StoredEntry` is what the book
holds. Both are immutable with their postings in a tuple, so nothing downstream can alter an
entry after it was checked. The types built once per posted row are named tuples (as in
Beancount): as immutable as a frozen dataclass and several times cheaper to construct,
which matters at tens of thousands of entries a second. Everything here is pure (no database), so the same rules serve
the journal, ``verify`` and the tests.

Signs: a posting's ``amount_pence`` is positive for a debit and negative for a credit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import NamedTuple

from ledger.core.money import AMOUNT_PENCE_MAX, format_gbp
from ledger.core.vocabulary import EntryKind
from ledger.errors import InvalidInput

POSTINGS_MIN = 2
POSTINGS_MAX = 1000
DESCRIPTION_LENGTH_MAX = 500
KEY_LENGTH_MAX = 255
CREATED_BY_LENGTH_MAX = 200
SOURCE_LINE_MAX = 2_147_483_647
PROVENANCE_TEXT_LENGTH_MAX = {"source_file": 500, "source_format": 40, "importer": 80}
ENTRY_DATE_MIN = date(2000, 1, 1)
ENTRY_DATE_MAX = date(2099, 12, 31)

_ENTRY_KINDS = frozenset(kind.value for kind in EntryKind)

FundKey = int | None
"""The fund an account belongs to: its budget id, or ``None`` for the holder's own fund."""


class NewPosting(NamedTuple):
    account_id: int
    amount_pence: int


@dataclass(frozen=True, slots=True)
class Provenance:
    """Where an entry that came from a statement came from."""

    source_file: str | None = None
    source_line: int | None = None
    source_format: str | None = None
    importer: str | None = None

    def as_tuple(self) -> tuple[str | None, int | None, str | None, str | None]:
        return (self.source_file, self.source_line, self.source_format, self.importer)


NO_PROVENANCE = Provenance()


@dataclass(frozen=True, slots=True)
class NewEntry:
    book_id: int
    entry_date: date
    description: str
    idempotency_key: str
    postings: tuple[NewPosting, ...]
    kind: str = EntryKind.MANUAL
    provenance: Provenance = NO_PROVENANCE
    reverses_entry_id: int | None = None
    created_by: str = "system"


class StoredPosting(NamedTuple):
    line_no: int
    account_id: int
    amount_pence: int


class StoredEntry(NamedTuple):
    id: int
    book_id: int
    seq: int
    entry_date: date
    kind: str
    description: str
    idempotency_key: str
    reverses_entry_id: int | None
    provenance: Provenance
    created_at: datetime
    created_by: str
    content_hash: str
    prev_hash: str
    entry_hash: str
    postings: tuple[StoredPosting, ...] = ()


class PostOutcome(StrEnum):
    """The one result type of posting, in order of precedence. Only ``created`` changed the
    book; ``exists`` returns the original for a replay; the rest are conflicts (HTTP 409):
    the key was used before for an entry that says something else."""

    CREATED = "created"
    EXISTS = "exists"
    EXISTS_WITH_DIFFERENT_POSTINGS = "exists_with_different_postings"
    EXISTS_WITH_DIFFERENT_DATE = "exists_with_different_date"
    EXISTS_WITH_DIFFERENT_REVERSAL = "exists_with_different_reversal"
    EXISTS_WITH_DIFFERENT_KIND = "exists_with_different_kind"
    EXISTS_WITH_DIFFERENT_DESCRIPTION = "exists_with_different_description"
    EXISTS_WITH_DIFFERENT_PROVENANCE = "exists_with_different_provenance"

    @property
    def is_conflict(self) -> bool:
        return self not in (PostOutcome.CREATED, PostOutcome.EXISTS)


class PostResult(NamedTuple):
    outcome: PostOutcome
    entry: StoredEntry


# --- pure checks -------------------------------------------------------------------------


def entry_label(index: int | None) -> str:
    """How errors name an entry: ``entry`` when one was posted, ``entries[3]`` in a batch.
    Built only when something is wrong: the checks run per entry."""
    return "entry" if index is None else f"entries[{index}]"


def check_shape(entry: NewEntry, index: int | None = None) -> None:
    """Everything about an entry that needs no database: raise ``InvalidInput`` naming the
    field (``index`` is the entry's place in a batch, if it came in one)."""
    count = len(entry.postings)
    if count < POSTINGS_MIN or count > POSTINGS_MAX:
        _refuse_posting_count(count, entry_label(index))
    for line, posting in enumerate(entry.postings):
        amount = posting.amount_pence
        if amount == 0 or not -AMOUNT_PENCE_MAX <= amount <= AMOUNT_PENCE_MAX or type(amount) is not int:
            _check_posting(posting, f"{entry_label(index)}.postings[{line}]")
    provenance = entry.provenance
    if (
        not ENTRY_DATE_MIN <= entry.entry_date <= ENTRY_DATE_MAX
        or entry.kind not in _ENTRY_KINDS
        or not _plain_text_ok(entry)
        or (provenance is not NO_PROVENANCE and not _provenance_ok(provenance))
    ):
        _check_shape_slowly(entry, entry_label(index))


def _plain_text_ok(entry: NewEntry) -> bool:
    """The common case, checked quickly: printable one-line description, key and author
    within their limits."""
    description, key, author = entry.description, entry.idempotency_key, entry.created_by
    return (
        0 < len(description) <= DESCRIPTION_LENGTH_MAX
        and description.isprintable()
        and not description.isspace()
        and 0 < len(key) <= KEY_LENGTH_MAX
        and key.isprintable()
        and key[0] != " "
        and key[-1] != " "
        and 0 < len(author) <= CREATED_BY_LENGTH_MAX
        and author.isprintable()
    )


def _provenance_ok(provenance: Provenance) -> bool:
    file, line, format_, importer = provenance.as_tuple()
    return (
        (line is None or (type(line) is int and 1 <= line <= SOURCE_LINE_MAX))
        and (file is None or (0 < len(file) <= PROVENANCE_TEXT_LENGTH_MAX["source_file"] and file.isprintable()))
        and (format_ is None or (0 < len(format_) <= PROVENANCE_TEXT_LENGTH_MAX["source_format"] and format_.isprintable()))
        and (importer is None or (0 < len(importer) <= PROVENANCE_TEXT_LENGTH_MAX["importer"] and importer.isprintable()))
    )


def _refuse_posting_count(count: int, where: str) -> None:
    if count < POSTINGS_MIN:
        raise InvalidInput(
            f"{where} has {count} posting(s); an entry needs at least {POSTINGS_MIN}",
            code="entry_too_few_postings",
            field=f"{where}.postings",
        )
    raise InvalidInput(
        f"{where} has {count} postings; the limit is {POSTINGS_MAX}",
        code="entry_too_many_postings",
        field=f"{where}.postings",
    )


def _check_shape_slowly(entry: NewEntry, where: str) -> None:
    """Every field check, one by one, with a message naming what is wrong (and the rarer
    fields the quick path does not look at)."""
    _check_text(entry, where)
    if not ENTRY_DATE_MIN <= entry.entry_date <= ENTRY_DATE_MAX:
        raise InvalidInput(
            f"{where}.entry_date {entry.entry_date} is outside {ENTRY_DATE_MIN}–{ENTRY_DATE_MAX}",
            code="entry_date_out_of_range",
            field=f"{where}.entry_date",
        )
    if entry.kind not in _ENTRY_KINDS:
        raise InvalidInput(f"{where}.kind {entry.kind!r} is not a known entry kind", code="entry_kind_unknown", field=f"{where}.kind")
    if entry.provenance is not NO_PROVENANCE:
        _check_provenance(entry.provenance, where)
    author = entry.created_by
    if not author or len(author) > CREATED_BY_LENGTH_MAX or not author.isprintable():
        raise InvalidInput(
            f"{where}.created_by must be 1–{CREATED_BY_LENGTH_MAX} printable characters",
            code="created_by_invalid",
            field=f"{where}.created_by",
        )


def _check_provenance(provenance: Provenance, where: str) -> None:
    line = provenance.source_line
    if line is not None and (type(line) is not int or not 1 <= line <= SOURCE_LINE_MAX):
        raise InvalidInput(
            f"{where}.source_line must be a line number from 1 to {SOURCE_LINE_MAX}",
            code="provenance_invalid",
            field=f"{where}.source_line",
        )
    for name, limit in PROVENANCE_TEXT_LENGTH_MAX.items():
        value = getattr(provenance, name)
        if value is not None and (not value or len(value) > limit or not value.isprintable()):
            raise InvalidInput(
                f"{where}.{name} must be 1–{limit} printable characters",
                code="provenance_invalid",
                field=f"{where}.{name}",
            )


def _check_posting(posting: NewPosting, where: str) -> None:
    amount = posting.amount_pence
    assert type(amount) is int, f"{where}: amount must be int pence"
    if amount == 0:
        raise InvalidInput(f"{where} has a zero amount", code="posting_zero_amount", field=f"{where}.amount")
    if abs(amount) > AMOUNT_PENCE_MAX:
        raise InvalidInput(
            f"{where} is larger than the limit of {format_gbp(AMOUNT_PENCE_MAX)}",
            code="amount_too_large",
            field=f"{where}.amount",
        )


def _check_text(entry: NewEntry, where: str) -> None:
    description = entry.description
    if not description.strip():
        raise InvalidInput(f"{where}.description is empty", code="description_empty", field=f"{where}.description")
    if not description.isprintable() and not description.replace("\n", " ").replace("\t", " ").isprintable():
        raise InvalidInput(
            f"{where}.description contains control characters", code="description_not_printable", field=f"{where}.description"
        )
    if len(description) > DESCRIPTION_LENGTH_MAX:
        raise InvalidInput(
            f"{where}.description is longer than {DESCRIPTION_LENGTH_MAX} characters",
            code="description_too_long",
            field=f"{where}.description",
        )
    key = entry.idempotency_key
    if not key or len(key) > KEY_LENGTH_MAX or not key.isprintable() or key != key.strip():
        raise InvalidInput(
            f"{where}.idempotency_key must be 1–{KEY_LENGTH_MAX} printable characters with no"
            " leading or trailing spaces",
            code="idempotency_key_invalid",
            field=f"{where}.idempotency_key",
        )


def fund_totals(postings: Iterable[NewPosting | StoredPosting], fund_of: Mapping[int, FundKey]) -> dict[FundKey, int]:
    """Sum of the postings per fund. A balanced entry has every total zero."""
    totals: dict[FundKey, int] = {}
    for posting in postings:
        fund = fund_of[posting.account_id]
        totals[fund] = totals.get(fund, 0) + posting.amount_pence
    return totals


def check_balanced(entry: NewEntry, fund_of: Mapping[int, FundKey], index: int | None = None) -> None:
    postings = entry.postings
    if len(postings) == 2:  # most entries: one debit, one credit
        first, second = postings
        if first.amount_pence + second.amount_pence == 0 and fund_of[first.account_id] == fund_of[second.account_id]:
            return
    totals = fund_totals(postings, fund_of)
    unbalanced = {fund: total for fund, total in totals.items() if total != 0}
    if unbalanced:
        where = entry_label(index)
        described = ", ".join(
            f"{'the holder fund' if fund is None else f'budget {fund}'} by {format_gbp(total)}"
            for fund, total in unbalanced.items()
        )
        raise InvalidInput(
            f"{where} does not balance: its postings must sum to zero within each budget; off in {described}",
            code="entry_unbalanced",
            field=f"{where}.postings",
            details={"off_by_pence": {("holder" if f is None else str(f)): t for f, t in unbalanced.items()}},
        )


def negated(postings: Iterable[StoredPosting]) -> tuple[NewPosting, ...]:
    """The postings of a reversal: the same accounts, opposite amounts, same order."""
    return tuple(NewPosting(p.account_id, -p.amount_pence) for p in postings)


# --- hashing -----------------------------------------------------------------------------
#
# Hashes are SHA-256 over a canonical text that anyone can rebuild from the stored rows:
# fields joined by "," where text is written as a netstring ("<length>:<text>", so no
# character inside it can be mistaken for a separator), None as "~", integers and ISO dates
# as themselves, and postings as "account:amount" pairs sorted and joined by ";".


def _text(value: str | None) -> str:
    return "~" if value is None else f"{len(value)}:{value}"


def _number(value: int | None) -> str:
    return "~" if value is None else str(value)


def _provenance_text(provenance: Provenance) -> str:
    file, line, format_, importer = provenance.as_tuple()
    # The lines of one statement share everything but the line number, so the rest is
    # encoded once per file and kept (a bounded cache: it is cleared when it grows large).
    parts = _PROVENANCE_PARTS.get((file, format_, importer))
    if parts is None:
        if len(_PROVENANCE_PARTS) > _CACHE_SIZE_MAX:
            _PROVENANCE_PARTS.clear()
        parts = _PROVENANCE_PARTS[(file, format_, importer)] = (
            "~" if file is None else f"{len(file)}:{file}",
            f"{'~' if format_ is None else f'{len(format_)}:{format_}'},{'~' if importer is None else f'{len(importer)}:{importer}'}",
        )
    return f"{parts[0]},{'~' if line is None else line},{parts[1]}"


def iso_date(day: date) -> str:
    """``day.isoformat()``, remembered: a journal has few distinct dates and many entries."""
    text = _ISO_DATES.get(day)
    if text is None:
        if len(_ISO_DATES) > _CACHE_SIZE_MAX:
            _ISO_DATES.clear()
        text = _ISO_DATES[day] = day.isoformat()
    return text


_CACHE_SIZE_MAX = 4096
_PROVENANCE_PARTS: dict[tuple[str | None, str | None, str | None], tuple[str, str]] = {}
_ISO_DATES: dict[date, str] = {}


_NO_PROVENANCE_TEXT = "~,~,~,~"


def _canonical_postings(postings: Iterable[NewPosting | StoredPosting]) -> list[tuple[int, int]]:
    # Order-free: the same postings in another order are the same entry.
    return sorted([(p.account_id, p.amount_pence) for p in postings])


def _postings_text(postings: Sequence[NewPosting | StoredPosting]) -> str:
    if len(postings) == 2:  # most entries: no list to build and sort
        first, second = postings
        low = (first.account_id, first.amount_pence)
        high = (second.account_id, second.amount_pence)
        if high < low:
            low, high = high, low
        return f"{low[0]}:{low[1]};{high[0]}:{high[1]}"
    return ";".join([f"{account}:{amount}" for account, amount in _canonical_postings(postings)])


def content_hash(
    *,
    book_id: int,
    entry_date: date,
    kind: str,
    description: str,
    idempotency_key: str,
    reverses_entry_id: int | None,
    provenance: Provenance,
    postings: Sequence[NewPosting | StoredPosting],
) -> str:
    """SHA-256 of what an entry says. Equal for a replay with the same content; it is also
    what ``verify`` recomputes from the stored rows to detect an altered amount."""
    return _content_hash(book_id, entry_date, kind, description, idempotency_key, reverses_entry_id, provenance, postings)


def new_entry_content_hash(entry: NewEntry) -> str:
    return _content_hash(
        entry.book_id, entry.entry_date, entry.kind, entry.description, entry.idempotency_key,
        entry.reverses_entry_id, entry.provenance, entry.postings,
    )  # fmt: skip


def stored_entry_content_hash(entry: StoredEntry) -> str:
    return _content_hash(
        entry.book_id, entry.entry_date, entry.kind, entry.description, entry.idempotency_key,
        entry.reverses_entry_id, entry.provenance, entry.postings,
    )  # fmt: skip


def _content_hash(
    book_id: int,
    entry_date: date,
    kind: str,
    description: str,
    key: str,
    reverses_entry_id: int | None,
    provenance: Provenance,
    postings: Sequence[NewPosting | StoredPosting],
) -> str:
    # Positional and in one expression: this runs once per posted entry.
    return _sha256(
        f"entry.v1,{book_id},{iso_date(entry_date)},{len(kind)}:{kind},{len(description)}:{description},"
        f"{len(key)}:{key},{'~' if reverses_entry_id is None else reverses_entry_id},"
        f"{_NO_PROVENANCE_TEXT if provenance is NO_PROVENANCE else _provenance_text(provenance)},"
        f"{_postings_text(postings)}".encode()
    ).hexdigest()


_sha256 = hashlib.sha256


def chain_hash(*, prev_hash: str, seq: int, content_hash_hex: str, created_at: datetime, created_by: str) -> str:
    """SHA-256 linking an entry to its predecessor in the book: change any earlier entry
    (or this one's content, time or author) and every later link breaks."""
    return chain_hash_with(prev_hash, seq, content_hash_hex, chain_suffix(created_at, created_by))


def chain_suffix(created_at: datetime, created_by: str) -> str:
    """The part of the chain text that entries posted together share (worked out once)."""
    return f",{created_at.isoformat()},{_text(created_by)}"


def chain_hash_with(prev_hash: str, seq: int, content_hash_hex: str, suffix: str) -> str:
    return hashlib.sha256(f"chain.v1,{prev_hash},{seq},{content_hash_hex}{suffix}".encode()).hexdigest()


def replay_outcome(stored: StoredEntry, new: NewEntry) -> PostOutcome:
    """Compare a replayed key's new content with what is stored, field by field, in the
    precedence order of :class:`PostOutcome`."""
    if _canonical_postings(stored.postings) != _canonical_postings(new.postings):
        return PostOutcome.EXISTS_WITH_DIFFERENT_POSTINGS
    if stored.entry_date != new.entry_date:
        return PostOutcome.EXISTS_WITH_DIFFERENT_DATE
    if stored.reverses_entry_id != new.reverses_entry_id:
        return PostOutcome.EXISTS_WITH_DIFFERENT_REVERSAL
    if stored.kind != new.kind:
        return PostOutcome.EXISTS_WITH_DIFFERENT_KIND
    if stored.description != new.description:
        return PostOutcome.EXISTS_WITH_DIFFERENT_DESCRIPTION
    if stored.provenance != new.provenance:
        return PostOutcome.EXISTS_WITH_DIFFERENT_PROVENANCE
    return PostOutcome.EXISTS
