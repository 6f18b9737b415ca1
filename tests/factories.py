"""The one panel factory of the tests: rows written directly (no facilitator service), so a test states only
what it needs.

:func:`build_panel` makes a running panel with groups, statements in sections, panellists with working links
and (unless ``round_status=None``) round 1 asking every statement; the ``make_*`` helpers add one kind of row
each, and ``add_result``/``add_rating`` frozen results and answers.  Every helper adds to the given session and
flushes; the caller commits.  Tokens are derived exactly as the application derives them
(``panellist_token(secret, id, session_version)``), so ``/p/{token}`` works.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache

import numpy as np
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import (
    Account,
    Panel,
    PanelAccess,
    Panellist,
    Rating,
    Round,
    RoundResult,
    RoundStatement,
    StakeholderGroup,
    Statement,
    Submission,
    utcnow,
)
from delphi.domain import POOLED_SCOPE, Actor, CommentStatus, PanellistStatus, PanelRole, group_scope
from delphi.security import panellist_token, token_digest
from delphi.settings import Settings
from tests.conftest import TEST_SECRET

NINE_LABELS = ["Strongly disagree", "", "", "", "Neither agree nor disagree", "", "", "", "Strongly agree"]
COMET = {
    "name": "comet",
    "criterion": {
        "kind": "percent",
        "threshold": 70.0,
        "inclusive": True,
        "max_opposite": 15.0,
        "max_opposite_inclusive": False,
    },
    "agree": [7, 9],
    "disagree": [1, 3],
    "scope": "pooled",
    "min_ratings": 2,
}


@dataclass
class World:
    """One panel ready for panellists: its groups, statements, first panellist (with token), the other
    panellists (with tokens), round 1 (None when :func:`build_panel` was asked for no round) and the accounts
    with access to it, by panel role."""

    panel: Panel
    groups: list[StakeholderGroup]
    statements: list[Statement]
    panellist: Panellist
    token: str
    round: Round | None
    others: list[tuple[Panellist, str]] = field(default_factory=list)
    accounts: dict[str, Account] = field(default_factory=dict)

    @property
    def people(self) -> list[tuple[Panellist, str]]:
        """Every panellist with their link token, in the order made (the first is :attr:`panellist`)."""
        return [(self.panellist, self.token), *self.others]

    @property
    def panellist_ids(self) -> list[int]:
        """The ids of :attr:`people`, in the same order."""
        return [p.id for p, _ in self.people]


#: The password of every account :func:`make_account` makes.
PASSWORD = "correct horse battery staple"


@cache
def password_hash() -> str:
    """One cheap argon2id hash of :data:`PASSWORD` for every test account.

    Verification reads its cost from the hash, so signing in with it takes a millisecond instead of the
    production parameters' ~50 ms; the login code path is the same.
    """
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1).hash(PASSWORD)


async def make_account(session: AsyncSession, email: str, role: str = "facilitator") -> Account:
    """An account named after the e-mail's local part, signing in with :data:`PASSWORD`."""
    account = Account(email=email, name=email.split("@")[0], password_hash=password_hash(), role=role)
    session.add(account)
    await session.flush()
    return account


async def grant(session: AsyncSession, panel: Panel, account: Account, role: PanelRole) -> None:
    session.add(PanelAccess(panel_id=panel.id, account_id=account.id, role=role))
    await session.flush()


async def make_panel(
    session: AsyncSession, title: str = "Involving people in their treatment", **kw
) -> Panel:
    """A running panel on the nine-point scale under :data:`COMET`; ``kw`` sets or overrides any column."""
    columns = {
        "description": "We want to agree how services should involve people in decisions.",
        "consent_text": "Taking part is voluntary.\n\nYour answers are stored without your name.",
        "scale_labels": NINE_LABELS,
        "rule": COMET,
        "status": "running",
        # a round cannot open without a panel contact
        "contact_name": "The research team",
        "contact_email": "research-team@university.example",
    }
    panel = Panel(title=title, **(columns | kw))
    session.add(panel)
    await session.flush()
    return panel


async def make_groups(
    session: AsyncSession,
    panel: Panel,
    names: Sequence[str] = ("Service users", "Practitioners"),
    *,
    lived_experience: Collection[str] = (),
) -> list[StakeholderGroup]:
    """One group per name, in order; those named in ``lived_experience`` are lived-experience groups."""
    groups = [
        StakeholderGroup(panel_id=panel.id, name=n, position=i, is_lived_experience=n in lived_experience)
        for i, n in enumerate(names)
    ]
    session.add_all(groups)
    await session.flush()
    return groups


async def make_statements(
    session: AsyncSession,
    panel: Panel,
    sections: Sequence[tuple[str, int | Sequence[str]]] = (("Information", 3), ("Choice", 4)),
) -> list[Statement]:
    """Statements numbered from position 1 through the ``(section, count or texts)`` pairs; a count makes
    texts ``"<section> statement <i>"``."""
    rows = []
    for section, texts in sections:
        if isinstance(texts, int):
            texts = [f"{section} statement {i + 1}" for i in range(texts)]
        rows += [Statement(panel_id=panel.id, section=section, text=t, position=len(rows) + 1) for t in texts]
    session.add_all(rows)
    await session.flush()
    return rows


async def make_panellist(
    session: AsyncSession, panel: Panel, group: StakeholderGroup, n: int = 1, *, consented: bool = False, **kw
) -> tuple[Panellist, str]:
    """A panellist with a working link; returns it and its token."""
    (made,) = await make_panellists(session, panel, [group], 1, first=n, consented=consented, **kw)
    return made


async def make_panellists(
    session: AsyncSession,
    panel: Panel,
    groups: Sequence[StakeholderGroup],
    count: int,
    *,
    first: int = 1,
    consented: bool = False,
    pseudonym: str = "P-{n:03d}",
    email: str = "person{n}.{panel}@example.org",
    name: str = "",
    **kw,
) -> list[tuple[Panellist, str]]:
    """``count`` panellists numbered from ``first`` (``email``, ``pseudonym`` and ``name`` formatted with the
    number ``n``, the panel's id ``panel`` and the group's name in lower case ``group``), spread over ``groups`` in turn, each with a working link; a
    consented one is active; ``kw`` sets or overrides any column.  Two flushes whatever ``count`` (load tests
    make hundreds)."""
    people = []
    for i, n in enumerate(range(first, first + count)):
        group = groups[i % len(groups)]
        columns = {
            "email": email.format(n=n, panel=panel.id, group=group.name.lower()),
            "name": name.format(n=n),
            "pseudonym": pseudonym.format(n=n),
            "consented_at": utcnow() if consented else None,
            **({"status": PanellistStatus.ACTIVE} if consented else {}),
        }
        people.append(Panellist(panel_id=panel.id, group_id=group.id, **(columns | kw)))
    session.add_all(people)
    await session.flush()
    tokens = [panellist_token(TEST_SECRET, p.id, p.session_version) for p in people]
    for person, token in zip(people, tokens, strict=True):
        person.token_hash = token_digest(token)
        person.token_issued_at = utcnow()
    await session.flush()
    return list(zip(people, tokens, strict=True))


async def make_round(
    session: AsyncSession,
    panel: Panel,
    statements: Sequence[Statement],
    number: int = 1,
    *,
    status: str = "open",
    closes_in: timedelta | None = timedelta(days=7),
    **kw,
) -> Round:
    """Round ``number`` asking ``statements`` in order: opened a day ago unless a draft, closing ``closes_in``
    from now (None: no date), closed now if closed; ``kw`` sets or overrides any column."""
    now = utcnow()
    columns = {
        "opened_at": now - timedelta(days=1) if status != "draft" else None,
        "closes_at": now + closes_in if closes_in is not None else None,
        "closed_at": now if status == "closed" else None,
    }
    rnd = Round(panel_id=panel.id, number=number, status=status, **(columns | kw))
    session.add(rnd)
    await session.flush()
    session.add_all(
        [RoundStatement(round_id=rnd.id, statement_id=s.id, position=i) for i, s in enumerate(statements)]
    )
    await session.flush()
    return rnd


def figures(counts: Sequence[int], scale_min: int = 1) -> dict:
    """n, median, q1, q3, iqr (type 7 quartiles) of a distribution given as counts per scale point."""
    values = np.repeat(np.arange(scale_min, scale_min + len(counts)), counts)
    if values.size == 0:
        return {"n": 0, "median": None, "q1": None, "q3": None, "iqr": None}
    q1, med, q3 = (float(x) for x in np.percentile(values, [25, 50, 75]))
    return {"n": int(values.size), "median": med, "q1": q1, "q3": q3, "iqr": q3 - q1}


async def add_result(
    session: AsyncSession,
    rnd: Round,
    statement: Statement,
    counts: Sequence[int],
    *,
    group: StakeholderGroup | None = None,
    n_unable: int = 0,
    verdict: str = "none",
) -> RoundResult:
    f = figures(counts)
    n = f["n"]
    agree = sum(counts[6:9]) if len(counts) >= 9 else 0
    disagree = sum(counts[0:3])
    row = RoundResult(
        round_id=rnd.id,
        statement_id=statement.id,
        scope=group_scope(group.id) if group else POOLED_SCOPE,
        group_id=group.id if group else None,
        n=n,
        n_unable=n_unable,
        median=f["median"],
        q1=f["q1"],
        q3=f["q3"],
        iqr=f["iqr"],
        pct_agree=100 * agree / n if n else None,
        pct_disagree=100 * disagree / n if n else None,
        verdict=verdict,
        counts=list(counts),
    )
    session.add(row)
    await session.flush()
    return row


async def add_rating(
    session: AsyncSession,
    rnd: Round,
    statement: Statement,
    panellist: Panellist,
    value: int | None,
    *,
    unable: bool = False,
    comment: str = "",
    comment_status: str = CommentStatus.PENDING,
) -> Rating:
    row = Rating(
        round_id=rnd.id,
        statement_id=statement.id,
        panellist_id=panellist.id,
        value=value,
        unable=unable,
        comment=comment,
        comment_status=comment_status,
    )
    session.add(row)
    await session.flush()
    return row


async def build_panel(
    session: AsyncSession,
    *,
    panellists: int | Sequence[int] = 1,
    consented: bool = False,
    pseudonym: str = "P-{n:03d}",
    email: str = "person{n}.{panel}@example.org",
    name: str = "",
    first: int = 1,
    panellist_kw: dict | None = None,
    sections: Sequence[tuple[str, int | Sequence[str]]] = (("Information", 3), ("Choice", 4)),
    groups: Sequence[str] = ("Service users", "Practitioners"),
    lived_experience: Collection[str] = (),
    round_status: str | None = "open",
    round_kw: dict | None = None,
    access: dict[str, str] | None = None,
    panel_kw: dict | None = None,
) -> World:
    """A running panel (``panel_kw`` overrides its columns) with ``groups`` (``lived_experience`` names the
    lived-experience ones), statements in ``sections`` (as in :func:`make_statements`: seven in two sections by
    default), panellists numbered from ``first`` (``pseudonym``, ``email``, ``name`` and ``panellist_kw`` as in
    :func:`make_panellists`) and round 1 in ``round_status`` asking every statement (None: no round;
    ``round_kw`` as in :func:`make_round`).  ``panellists`` is a count spread over the groups in turn (the
    first in the first group) or one count per group, given in group order.  ``access`` maps a panel role to
    an e-mail: an account (see :func:`make_account`) with that role on the panel, in :attr:`World.accounts`."""
    panel = await make_panel(session, **(panel_kw or {}))
    made_groups = await make_groups(session, panel, groups, lived_experience=lived_experience)
    statements = await make_statements(session, panel, sections)
    who = {
        "consented": consented,
        "pseudonym": pseudonym,
        "email": email,
        "name": name,
        **(panellist_kw or {}),
    }
    if isinstance(panellists, int):
        people = await make_panellists(session, panel, made_groups, panellists, first=first, **who)
    else:
        people = []
        for group, count in zip(made_groups, panellists, strict=True):
            people += await make_panellists(session, panel, [group], count, first=first + len(people), **who)
    rnd = None
    if round_status:
        rnd = await make_round(session, panel, statements, status=round_status, **(round_kw or {}))
    accounts = {}
    for role, address in (access or {}).items():
        accounts[role] = await make_account(
            session, address, "researcher" if role == "researcher" else "facilitator"
        )
        await grant(session, panel, accounts[role], PanelRole(role))
    (person, token), *others = people
    return World(panel, made_groups, statements, person, token, rnd, others, accounts)


async def rate_everyone(
    session: AsyncSession, panel: Panel, round_: Round, patterns: dict[str, list[int]]
) -> None:
    """Every panellist of ``panel`` rates every statement of ``round_`` and submits: the i-th statement (by
    position) gets ``patterns[<their group's name>][i % len]``."""
    groups = {g.id: g.name for g in (await session.scalars(select(StakeholderGroup))).all()}
    links = (
        await session.scalars(
            select(RoundStatement)
            .where(RoundStatement.round_id == round_.id)
            .order_by(RoundStatement.position)
        )
    ).all()
    people = (await session.scalars(select(Panellist).where(Panellist.panel_id == panel.id))).all()
    for p in people:
        values = patterns[groups[p.group_id]]
        for i, link in enumerate(links):
            session.add(
                Rating(
                    round_id=round_.id,
                    statement_id=link.statement_id,
                    panellist_id=p.id,
                    value=values[i % len(values)],
                )
            )
        session.add(Submission(round_id=round_.id, panellist_id=p.id))
    await session.flush()


#: Round-1 ratings by group of :func:`build_draft_panel`'s four statements: 0 agreed by all; 1 rejected by all;
#: 2 split (service users disagree with the professionals); 3 mixed for everyone.
PATTERNS = {
    "Service users": [9, 1, 2, 5],
    "Practitioners": [8, 2, 9, 7],
    "Experts": [9, 1, 8, 3],
}
#: When :func:`build_draft_panel` was called first (to the second), and its owner as an actor.
NOW = datetime.now(UTC).replace(microsecond=0)
ACTOR = Actor("account:fac@example.org", None)


async def build_draft_panel(session: AsyncSession, per_group: int = 4) -> Panel:
    """A draft panel "Test panel" (at most three rounds) owned by fac@example.org, with the groups of
    :data:`PATTERNS` (the first lived experience), four statements in "Section A", ``per_group`` invited
    panellists in each group, numbered from 0 (``serv0@example.org`` … ``prac4@example.org`` …: the
    group's first four letters) and a draft round 1
    asking every statement, closing 10 days after :data:`NOW` with reminders 168 and 48 hours before."""
    world = await build_panel(
        session,
        panellists=[per_group] * len(PATTERNS),
        first=0,
        email="{group:.4}{n}@example.org",
        name="Person {n}",
        groups=list(PATTERNS),
        lived_experience=list(PATTERNS)[:1],
        sections=(("Section A", [f"Statement {i}" for i in range(4)]),),
        round_status="draft",
        round_kw={
            "closes_in": None,
            "closes_at": NOW + timedelta(days=10),
            "reminder_offsets_hours": [168, 48],
        },
        access={"owner": "fac@example.org"},
        panel_kw={
            "title": "Test panel",
            "max_rounds": 3,
            "status": "draft",
            "consent_text": "",
            "description": "",
            "scale_labels": [],
        },
    )
    return world.panel


async def build_draft_panel_by_services(session: AsyncSession, settings: Settings) -> Panel:
    """:func:`build_draft_panel`'s panel (one panellist a group, no reminders) made through the facilitator's
    use cases instead of rows, for tests of the audit trail that setting up leaves (``panel.created``,
    ``group.added``, ``statement.added``, ``panellist.imported``, ``round.scheduled``)."""
    from delphi.panels.groups import add_group
    from delphi.panels.panellists import import_panellists
    from delphi.panels.settings import PanelInput, create_panel
    from delphi.panels.statements import add_statement
    from delphi.rounds import lookup, schedule

    account = await make_account(session, "fac@example.org")
    panel = await create_panel(
        session,
        PanelInput(
            title="Test panel",
            max_rounds=3,
            contact_name="The research team",
            contact_email="research-team@university.example",
        ),
        account.id,
        ACTOR,
    )
    for i, name in enumerate(PATTERNS):
        await add_group(session, panel, name, ACTOR, lived_experience=i == 0)
    for i in range(4):
        await add_statement(session, panel, f"Statement {i}", "Section A", ACTOR)
    csv = "\n".join(
        ["email,group,name,language", *(f"{g[:4].lower()}0@example.org,{g},Person 0,en" for g in PATTERNS)]
    )
    await import_panellists(session, panel, csv, secret_key=settings.secret_key, actor=ACTOR)
    round1 = await lookup.get_round(session, panel, 1)
    closes_at = NOW + timedelta(days=10)
    await schedule.set_schedule(
        session, panel, round1, opens_at=None, closes_at=closes_at, reminder_hours=[], now=NOW, actor=ACTOR
    )
    await session.flush()
    return panel
