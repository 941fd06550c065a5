"""Which choices add up to an amount exactly: the search behind matching one bank line to
several receivables or payables.

Each group offers options (pence, ascending, the first being 0: "none of this group"); a
combination takes one option from every group, at least one of them not zero, and sums to
the target. The search stops at ``limit`` combinations — reconciliation only needs to know
whether none, one, or more than one fits — or after ``steps_max`` steps, when it says it
gave up rather than guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

STEPS_MAX = 200_000


@dataclass(frozen=True, slots=True)
class Combinations:
    found: tuple[tuple[int, ...], ...]
    """Each combination as the index of the option taken from every group, in group order."""
    gave_up: bool = False

    @property
    def unique(self) -> tuple[int, ...] | None:
        return self.found[0] if len(self.found) == 1 and not self.gave_up else None


def exact_combinations(
    target: int, groups: Sequence[Sequence[int]], *, limit: int = 2, steps_max: int = STEPS_MAX
) -> Combinations:
    assert all(options and options[0] == 0 for options in groups), "every group starts with the 0 option"
    if target <= 0 or not groups:
        return Combinations(())
    # Largest groups first prunes soonest; answers are reported in the caller's order.
    order = sorted(range(len(groups)), key=lambda g: (-groups[g][-1], g))
    options = [groups[g] for g in order]
    room_after = [0] * (len(options) + 1)
    for position in range(len(options) - 1, -1, -1):
        room_after[position] = room_after[position + 1] + options[position][-1]
    found: list[tuple[int, ...]] = []
    chosen = [0] * len(options)
    steps = 0

    def search(position: int, left: int) -> bool:
        """False when the search must stop (enough found, or out of steps)."""
        nonlocal steps
        steps += 1
        if steps > steps_max:
            return False
        if left == 0:
            answer = [0] * len(groups)
            for where, index in zip(order, chosen):
                answer[where] = index
            for position_after in range(position, len(options)):
                answer[order[position_after]] = 0
            found.append(tuple(answer))
            return len(found) < limit
        if position == len(options) or left > room_after[position]:
            return True
        for index, pence in enumerate(options[position]):
            if pence > left:
                break
            chosen[position] = index
            if not search(position + 1, left - pence):
                return False
        chosen[position] = 0
        return True

    finished = search(0, target)
    return Combinations(tuple(found), gave_up=not finished and steps > steps_max)
