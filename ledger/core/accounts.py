"""The chart of accounts of DESIGN.md §3, created automatically.

Codes are stable text a person can read:

- per budget (``B`` is the budget's reference, e.g. ``ISF-0007``): ``B:cash``,
  ``B:contingency``, ``B:card``, ``B:payable``, ``B:top_slice``, ``B:fees``,
  ``B:spend:<category>`` for every category the holder's plans can use;
- per budget and funder ``F`` (its code; ``contribution`` for the person's client
  contribution): ``B:receivable:F``, ``B:allocation:F``, ``B:returned:F``;
- per holder ``H`` (its code): ``holder:H:unallocated`` and ``holder:H:unidentified``.

Every budget is its own fund (``Account.budget_id``); the holder's pair forms the holder's
own fund. ``unallocated`` is the holder's client-account money not yet attributed to a
budget; ``unidentified`` is its other side (whose money it is, not yet known), so that the
holder fund balances like every other — the one account DESIGN.md §3 names would otherwise
have nothing to balance against. The client bank account = Σ ``B:cash`` + ``unallocated``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ledger.core.vocabulary import (
    ACCOUNT_TYPE_OF_KIND,
    BUDGET_FIXED_KINDS,
    PER_FUNDER_KINDS,
    AccountKind,
)
from ledger.errors import InvalidInput, NotFound
from ledger.store.tables import Account, Budget, Category, Funder, Holder

CONTRIBUTION_CODE = "contribution"
"""Stands for the person in per-funder account codes: they fund their client contribution."""

_KIND_NAMES = {
    AccountKind.RECEIVABLE: "receivable from",
    AccountKind.CASH: "cash (share of the client bank account)",
    AccountKind.CONTINGENCY: "contingency (ring-fenced)",
    AccountKind.CARD: "money on the prepaid card",
    AccountKind.PAYABLE: "approved wages and invoices not yet paid",
    AccountKind.ALLOCATION: "allocated by",
    AccountKind.SPEND: "spend on",
    AccountKind.TOP_SLICE: "top-slice (management fee)",
    AccountKind.FEES: "bank and card fees",
    AccountKind.RETURNED: "returned to",
    AccountKind.UNALLOCATED: "client account money not yet attributed to a budget",
    AccountKind.UNIDENTIFIED: "whose money is not yet identified",
}


@dataclass(frozen=True, slots=True)
class AccountSpec:
    code: str
    holder_id: int
    budget_id: int | None
    kind: AccountKind
    name: str
    funder_id: int | None = None
    is_person_contribution: bool = False
    category_id: int | None = None


def budget_account_code(reference: str, kind: AccountKind, qualifier: str | None = None) -> str:
    if kind in PER_FUNDER_KINDS or kind is AccountKind.SPEND:
        assert qualifier, f"{kind} accounts need a funder or category code"
        return f"{reference}:{kind}:{qualifier}"
    assert qualifier is None, f"{kind} accounts take no qualifier"
    return f"{reference}:{kind}"


def holder_account_code(holder_code: str, kind: AccountKind) -> str:
    assert kind in (AccountKind.UNALLOCATED, AccountKind.UNIDENTIFIED), kind
    return f"holder:{holder_code}:{kind}"


def holder_specs(holder: Holder) -> list[AccountSpec]:
    assert holder.id is not None
    return [
        AccountSpec(holder_account_code(holder.code, kind), holder.id, None, kind, f"{holder.name}: {_KIND_NAMES[kind]}")
        for kind in (AccountKind.UNALLOCATED, AccountKind.UNIDENTIFIED)
    ]


def budget_fixed_specs(budget: Budget, categories: Iterable[Category]) -> list[AccountSpec]:
    assert budget.id is not None
    specs = [
        AccountSpec(budget_account_code(budget.reference, kind), budget.holder_id, budget.id, kind, f"{budget.reference} {_KIND_NAMES[kind]}")
        for kind in BUDGET_FIXED_KINDS
    ]
    for category in categories:
        specs.append(
            AccountSpec(
                budget_account_code(budget.reference, AccountKind.SPEND, category.code),
                budget.holder_id,
                budget.id,
                AccountKind.SPEND,
                f"{budget.reference} spend on {category.name.lower()}",
                category_id=category.id,
            )
        )
    return specs


def budget_funder_specs(budget: Budget, funder: Funder | None) -> list[AccountSpec]:
    """The per-funder accounts of a budget; ``funder=None`` for the person's contribution."""
    assert budget.id is not None
    code = funder.code if funder else CONTRIBUTION_CODE
    label = funder.name if funder else "the person (client contribution)"
    return [
        AccountSpec(
            budget_account_code(budget.reference, kind, code),
            budget.holder_id,
            budget.id,
            kind,
            f"{budget.reference} {_KIND_NAMES[kind]} {label}",
            funder_id=funder.id if funder else None,
            is_person_contribution=funder is None,
        )
        for kind in PER_FUNDER_KINDS
    ]


def ensure_accounts(session: Session, specs: Sequence[AccountSpec]) -> int:
    """Create the accounts in ``specs`` that do not exist yet; return how many were made."""
    if not specs:
        return 0
    existing = set(
        session.execute(select(Account.code).where(Account.code.in_([s.code for s in specs]))).scalars()
    )
    missing = [spec for spec in specs if spec.code not in existing]
    for spec in missing:
        session.add(
            Account(
                holder_id=spec.holder_id,
                budget_id=spec.budget_id,
                code=spec.code,
                kind=spec.kind,
                type=ACCOUNT_TYPE_OF_KIND[spec.kind],
                funder_id=spec.funder_id,
                is_person_contribution=spec.is_person_contribution,
                category_id=spec.category_id,
                name=spec.name[:300],
            )
        )
    session.flush()
    return len(missing)


def categories_for_holder(session: Session, holder_id: int) -> list[Category]:
    """The standard categories and the holder's own, standard first."""
    return list(
        session.execute(
            select(Category)
            .where(or_(Category.holder_id.is_(None), Category.holder_id == holder_id))
            .order_by(Category.holder_id.is_not(None), Category.id)
        ).scalars()
    )


def account_by_code(session: Session, code: str) -> Account:
    account = session.execute(select(Account).where(Account.code == code)).scalar_one_or_none()
    if account is None:
        raise NotFound(f"there is no account {code!r}", code="account_not_found")
    return account


def account_ids_by_code(session: Session, codes: Iterable[str], *, field: str = "account") -> dict[str, int]:
    """Resolve account codes to ids; an unknown code is bad input naming the code."""
    wanted = sorted(set(codes))
    for code in wanted:
        if not code.isprintable():  # PostgreSQL cannot even compare a text with a NUL in it
            raise InvalidInput(f"{field}: an account code has control characters", code="field_not_printable", field=field)
    found = dict(session.execute(select(Account.code, Account.id).where(Account.code.in_(wanted))).all())
    missing = [code for code in wanted if code not in found]
    if missing:
        raise InvalidInput(
            f"{field}: no such account {missing[0]!r}" + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
            code="unknown_account",
            field=field,
            details={"unknown_accounts": missing[:20]},
        )
    return found


def budget_accounts(session: Session, budget_id: int) -> list[Account]:
    return list(session.execute(select(Account).where(Account.budget_id == budget_id).order_by(Account.id)).scalars())


def holder_accounts(session: Session, holder_id: int) -> list[Account]:
    return list(session.execute(select(Account).where(Account.holder_id == holder_id).order_by(Account.id)).scalars())
