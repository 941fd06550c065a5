"""Finding the rules that match a statement line, fast, and the most specific one per group.

A group is what a rule decides (a flag code for spend checks; one group for categories):
each group yields at most one rule. Built once per rule set; a lookup costs a dictionary
probe per MCC, or one per word run of the merchant key, however many rules there are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

R = TypeVar("R")

PATTERN_WORDS_MAX = 5


@dataclass(frozen=True, slots=True)
class MccEntry(Generic[R]):
    group: str
    first: int
    last: int
    order: int
    """Position in the file: on equal specificity the earlier rule wins."""
    rule: R


@dataclass(frozen=True, slots=True)
class PatternEntry(Generic[R]):
    group: str
    key: str
    """The pattern as ``merchant_key`` writes it: 1 to ``PATTERN_WORDS_MAX`` words."""
    order: int
    rule: R

    @property
    def words(self) -> int:
        return self.key.count(" ") + 1


class MccIndex(Generic[R]):
    """Rules by MCC: one code beats a range, a narrower range a wider one."""

    def __init__(self, entries: Iterable[MccEntry[R]]) -> None:
        self._exact: dict[int, list[MccEntry[R]]] = {}
        self._ranges: list[MccEntry[R]] = []
        for entry in entries:
            if entry.first == entry.last:
                self._exact.setdefault(entry.first, []).append(entry)
            else:
                self._ranges.append(entry)
        self._found: dict[int, tuple[R, ...]] = {}

    def best(self, mcc: int) -> tuple[R, ...]:
        """The most specific rule of each group for ``mcc``, in file order."""
        found = self._found.get(mcc)
        if found is None:
            candidates = self._exact.get(mcc, []) + [e for e in self._ranges if e.first <= mcc <= e.last]
            found = tuple(e.rule for e in _best_per_group(candidates, lambda e: (e.last - e.first, e.order)))
            self._found[mcc] = found  # at most 10,000 codes: the cache stays small
        return found


class PatternIndex(Generic[R]):
    """Rules by merchant pattern: a pattern matches a run of whole words of the key; the
    pattern with the most words wins."""

    def __init__(self, entries: Iterable[PatternEntry[R]]) -> None:
        self._by_key: dict[str, list[PatternEntry[R]]] = {}
        for entry in entries:
            self._by_key.setdefault(entry.key, []).append(entry)
        self._first_words = frozenset(key.partition(" ")[0] for key in self._by_key)
        self._sizes = tuple(sorted({entry.words for entries in self._by_key.values() for entry in entries}))

    def best(self, key: str) -> tuple[R, ...]:
        """The best rule of each group whose pattern appears in ``key`` (a merchant key), in
        file order."""
        if not key:
            return ()
        words = key.split()
        count = len(words)
        candidates: list[PatternEntry[R]] = []
        for start, word in enumerate(words):
            if word not in self._first_words:
                continue
            for size in self._sizes:
                if start + size > count:
                    break
                found = self._by_key.get(word if size == 1 else " ".join(words[start : start + size]))
                if found:
                    candidates.extend(found)
        if not candidates:
            return ()
        if len(candidates) == 1:
            return (candidates[0].rule,)
        return tuple(e.rule for e in _best_per_group(candidates, lambda e: (-e.words, e.order)))


class _Ranked(Protocol):
    @property
    def group(self) -> str: ...
    @property
    def order(self) -> int: ...


E = TypeVar("E", bound=_Ranked)


def _best_per_group(candidates: Sequence[E], rank: Callable[[E], tuple[int, int]]) -> list[E]:
    """The lowest-ranked candidate of each group, in file order."""
    best: dict[str, E] = {}
    for entry in candidates:
        current = best.get(entry.group)
        if current is None or rank(entry) < rank(current):
            best[entry.group] = entry
    return sorted(best.values(), key=lambda e: e.order)
