"""The demo's sign-ins: one person in each role, all with the same password, which the start
page of ``phb-ledger serve --demo`` shows so a newcomer can try every role. Made only by the
demo: a real database has no such users."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.access.users import UserSpec, create_user, link_family
from ledger.demo.world import World
from ledger.store.tables import Representative

DEMO_PASSWORD = "demo-password-2026"
CREATED_BY = "demo"


@dataclass(frozen=True, slots=True)
class DemoUser:
    username: str
    display_name: str
    role: str
    role_words: str
    sees: str
    holder: str | None = None
    funder: str | None = None
    budgets: tuple[str, ...] = ()
    """Family: the budgets linked, through the person's representative where there is one."""
    as_person: bool = False

    @property
    def password(self) -> str:
        return DEMO_PASSWORD


DEMO_USERS = (
    DemoUser("sam.reed@tamarvalley.example", "Sam Reed", "holder_admin", "Provider admin",
             "Tamar Valley's twelve ISF budgets, statements, payroll, flags and reviews", holder="tamar-valley-isf"),
    DemoUser("lee.carter@tamarvalley.example", "Lee Carter", "holder_staff", "Provider staff",
             "the same as Sam, without closing quarters or budgets", holder="tamar-valley-isf"),
    DemoUser("accounts@moorview.example", "Moorview accounts team", "holder_admin", "Managed-account service",
             "the eighteen managed accounts", holder="moorview-accounts"),
    DemoUser("finance@devon-icb.example", "Priya Nair (Devon ICB)", "funder_auditor", "ICB auditor",
             "every budget NHS Devon ICB funds, its share of the jointly funded ones", funder="devon-icb"),
    DemoUser("audit@plymouth.example", "Mark Jenkin (Plymouth City Council)", "funder_auditor", "Council auditor",
             "only the council's share of the budgets it co-funds", funder="plymouth-asc"),
    DemoUser("carol.pascoe@example.org", "Carol Pascoe", "family", "Family (nominated family member)",
             "Beth's balance page (ISF-0002)", budgets=("ISF-0002",)),
    DemoUser("grace.okafor@example.org", "Grace Okafor", "family", "Family (parent, direct payment)",
             "Noah's balance page (DP-0001); can upload statements and explain flags", budgets=("DP-0001",)),
    DemoUser("tom.bassett@example.org", "Tom Bassett", "family", "Person (direct payment on a card)",
             "his own balance page (DP-0003)", budgets=("DP-0003",), as_person=True),
    DemoUser("hollie.t@example.org", "Hollie Trebilcock", "family", "Young person (own sign-in)",
             "her own balance page (ISF-0008)", budgets=("ISF-0008",), as_person=True),
    DemoUser("admin@example.org", "Service admin", "system_admin", "System admin", "everything; sets up funders, holders and users"),
)


def create_demo_users(session: Session, world: World, *, today: date) -> int:
    for demo in DEMO_USERS:
        user = create_user(
            session,
            UserSpec(demo.username, demo.display_name, demo.role, DEMO_PASSWORD,
                     holder_id=world.holder_ids.get(demo.holder) if demo.holder else None,
                     funder_id=world.funder_ids.get(demo.funder) if demo.funder else None),
            created_by=CREATED_BY,
        )  # fmt: skip
        for reference in demo.budgets:
            budget_id = world.budget_ids[reference]
            representative = None
            if not demo.as_person:
                representative = session.scalar(
                    select(Representative.id).where(Representative.name == demo.display_name).order_by(Representative.id).limit(1)
                )
            link_family(session, user.id, budget_id, representative_id=representative, created_by=CREATED_BY,  # type: ignore[arg-type]
                        today=datetime.combine(today, time(12, 0)))  # fmt: skip
    return len(DEMO_USERS)
