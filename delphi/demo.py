"""The demo: a SQLite database under ./var, mail captured locally, and a seeded panel.

The panel asks how people who use drug services should be involved in decisions about their own treatment.  Its
draft recommendations are ours, written for the demo.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from datetime import datetime, timedelta
from pathlib import Path

import click
import numpy as np
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.accounts import create_account
from delphi.db.engine import make_engine, make_sessionmaker
from delphi.db.migrations import upgrade
from delphi.db.models import (
    Account,
    OutboxMessage,
    Panel,
    Panellist,
    Rating,
    Round,
    RoundStatement,
    StakeholderGroup,
    Submission,
    utcnow,
)
from delphi.domain import Actor
from delphi.panels.consent_text import default_consent_text
from delphi.panels.groups import add_group
from delphi.panels.panellists import import_panellists
from delphi.panels.settings import NINE_POINT_LABELS, PanelInput, create_panel
from delphi.panels.statements import add_statement
from delphi.rounds import lookup, schedule, transitions
from delphi.settings import DatabaseSettings, Settings, load_settings

DEMO_EMAIL = "facilitator@demo.example"
#: The demo panel's contact, shown on every panellist page and in every mail, and its neutral name for discreet mode.
DEMO_CONTACT_NAME = "Alex Morgan, research team"
DEMO_CONTACT_EMAIL = "research-team@demo.example"
DEMO_CONTACT_PHONE = "020 7946 0000"
DEMO_DISCREET_NAME = "Service feedback study"
DEMO_TITLE = "Involving people who use drug services in decisions about their treatment"
DEMO_GROUPS = ("Service users", "Practitioners", "Experts")
#: (section, text) of the draft recommendations.
DEMO_STATEMENTS: tuple[tuple[str, str], ...] = (
    (
        "Information before treatment",
        "Services should offer clear information on what treatment involves in more than one form, such as a short "
        "video or an audio recording, not only in writing.",
    ),
    (
        "Information before treatment",
        "Before treatment starts, staff should talk honestly with each person about how hard treatment can be, so "
        "that they can prepare for it.",
    ),
    (
        "Agreeing the plan",
        "A treatment contract should be revisited with the person's key worker after the first weeks, and changed "
        "where it no longer fits.",
    ),
    (
        "Agreeing the plan",
        "People starting substitute prescribing should be offered an induction group with others starting at the "
        "same time.",
    ),
    (
        "Agreeing the plan",
        "People should have a say in how long their detox lasts and in which medication is used for it.",
    ),
    (
        "Choice of services",
        "Commissioners should fund a range of services locally, including services for people with complex needs.",
    ),
    (
        "Choice of services",
        "Referral to residential treatment should follow published, evidence-based guidelines that people can read.",
    ),
    (
        "Choice of services",
        "When a person has a justified preference for a type of treatment, staff should accept it and explain its "
        "risks plainly.",
    ),
    (
        "Waiting and referral",
        "When the service a person prefers is not available, staff should tell them so and record the alternatives "
        "they were offered.",
    ),
    (
        "Waiting and referral",
        "Services should give realistic waiting times for referrals and tell people promptly when there is a delay.",
    ),
)

DEMO_DESCRIPTION = (
    "We are asking service users, practitioners and experts how people who use drug services should take part in "
    "decisions about their own treatment. Over two or three short rounds you will rate draft recommendations from "
    "1 (strongly disagree) to 9 (strongly agree). From the second round you will see, anonymously, how the panel "
    "answered last time, and you can change your mind."
)
#: The default consent text for the demo's k of 3 (the promise of docs/statistics.md, "Disclosure control").
DEMO_CONSENT = default_consent_text(3)


async def seed_demo(session: AsyncSession, *, password: str) -> tuple[Account, Panel]:
    """Create the demo facilitator and panel if missing (idempotent); the caller commits."""
    account = await session.scalar(select(Account).where(Account.email == DEMO_EMAIL))
    if account is None:
        account = await create_account(
            session, email=DEMO_EMAIL, password=password, role="facilitator", name="Demo facilitator"
        )
    panel = await session.scalar(select(Panel).where(Panel.title == DEMO_TITLE))
    if panel is not None:
        return account, panel
    actor = Actor.account(account)
    panel = await create_panel(
        session,
        PanelInput(
            title=DEMO_TITLE,
            description=DEMO_DESCRIPTION,
            consent_text=DEMO_CONSENT,
            scale_min=1,
            scale_max=9,
            scale_labels=NINE_POINT_LABELS,
            allow_unable=True,
            unable_label="I can't rate this",
            max_rounds=3,
            k_min=3,
            honorarium_minor=1500,
            currency="GBP",
            contact_name=DEMO_CONTACT_NAME,
            contact_email=DEMO_CONTACT_EMAIL,
            contact_phone=DEMO_CONTACT_PHONE,
            # not discreet, but ready to be: ticking "Discreet mode" in the settings is enough
            discreet=False,
            discreet_name=DEMO_DISCREET_NAME,
        ),
        account.id,
        actor,
    )
    for i, name in enumerate(DEMO_GROUPS):
        await add_group(session, panel, name, actor, lived_experience=i == 0)
    for section, text in DEMO_STATEMENTS:
        await add_statement(session, panel, text, section, actor)
    return account, panel


#: Mean rating per group (service users, practitioners, experts) for each demo statement in round 1.  Statement 5
#: (a say in detox length and medication) is where service users diverge from the professionals.
ROUND1_MEANS = (
    (8.4, 8.2, 8.3),
    (7.9, 7.2, 6.8),
    (7.0, 6.2, 5.5),
    (6.0, 6.5, 5.8),
    (8.6, 4.6, 4.2),
    (8.3, 8.4, 8.6),
    (6.2, 7.0, 7.4),
    (7.0, 5.2, 5.0),
    (8.2, 7.8, 8.1),
    (5.5, 5.8, 5.9),
)
DEMO_COMMENTS = (
    (0, "A short video would help people who find long leaflets hard to read."),
    (4, "People know their own bodies. Being asked about the medication makes you stick with it."),
    (4, "Clinical safety has to come first, but the person should be part of the decision."),
    (7, "Explaining the risks properly matters more than just saying yes."),
)


async def simulate_demo_rounds(
    session: AsyncSession,
    panel: Panel,
    account: Account,
    settings: Settings,
    now: datetime,
    per_group: int = 10,
) -> None:
    """Add 30 simulated panellists, run round 1 in the past (answered, closed) and open round 2 now.

    Round-1 mail is marked sent (it went out in the simulated past), so the demo mailbox shows round 2's.
    """
    actor = Actor.account(account)
    groups = (
        await session.scalars(
            select(StakeholderGroup)
            .where(StakeholderGroup.panel_id == panel.id)
            .order_by(StakeholderGroup.position)
        )
    ).all()
    lines = ["email,group,name,language"]
    for g in groups:
        stem = g.name.split()[0].lower()
        lines += [
            f"{stem}{i + 1:02d}@demo.example,{g.name},{stem.title()} {i + 1},en" for i in range(per_group)
        ]
    await import_panellists(session, panel, "\n".join(lines), secret_key=settings.secret_key, actor=actor)
    start = now - timedelta(days=15)
    round1 = await _open_for_two_weeks(session, panel, 1, start, settings, actor)
    rng = np.random.default_rng(2026)
    links = (
        await session.scalars(
            select(RoundStatement)
            .where(RoundStatement.round_id == round1.id)
            .order_by(RoundStatement.position)
        )
    ).all()
    people = (
        await session.scalars(select(Panellist).where(Panellist.panel_id == panel.id).order_by(Panellist.id))
    ).all()
    group_index = {g.id: i for i, g in enumerate(groups)}
    rows = []
    for n, p in enumerate(people):
        gi = group_index[p.group_id]
        p.status, p.first_visit_at, p.consented_at = "active", start, start
        for si, link in enumerate(links):
            row = {
                "round_id": round1.id,
                "statement_id": link.statement_id,
                "panellist_id": p.id,
                "value": None,
                "unable": True,
                "comment": "",
                "comment_status": "pending",
            }
            if not (n % 11 == 3 and si == 9):
                row["value"] = int(np.clip(np.rint(rng.normal(ROUND1_MEANS[si][gi], 1.1)), 1, 9))
                row["unable"] = False
            rows.append(row)
    for k, (si, text) in enumerate(DEMO_COMMENTS):
        rows[k * 7 * len(links) + si].update(comment=text, comment_status="published")
    await session.execute(insert(Rating), rows)
    await session.execute(
        insert(Submission),
        [
            {"round_id": round1.id, "panellist_id": p.id, "submitted_at": start + timedelta(days=2)}
            for p in people[:-3]
        ],
    )
    await transitions.close_round(
        session, panel, round1, now=start + timedelta(days=14), settings=settings, actor=actor
    )
    await session.execute(update(OutboxMessage).values(status="sent", sent_at=start))
    await _open_for_two_weeks(session, panel, 2, now, settings, actor)


async def _open_for_two_weeks(
    session: AsyncSession, panel: Panel, number: int, at: datetime, settings: Settings, actor: Actor
) -> Round:
    """Schedule round ``number`` to close 14 days after ``at`` (reminders 168 and 48 hours before), open it at
    ``at`` and return it."""
    round_ = await lookup.get_round(session, panel, number)
    await schedule.set_schedule(
        session,
        panel,
        round_,
        opens_at=None,
        closes_at=at + timedelta(days=14),
        reminder_hours=[168, 48],
        now=at,
        actor=actor,
    )
    await transitions.open_round(session, panel, round_, now=at, settings=settings, actor=actor)
    return round_


def _secret_file(path: Path, nbytes: int) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    path.write_text(value + "\n")
    path.chmod(0o600)
    return value


def prepare_demo(*, reset: bool, base_url: str, var_dir: Path = Path("var")) -> dict[str, str]:
    """Migrate and seed the demo database; print the facilitator login; return the environment to serve with."""
    url = os.environ.get("DELPHI_DATABASE_URL") or f"sqlite+aiosqlite:///{var_dir / 'demo.db'}"
    if reset and url.startswith("sqlite"):
        for suffix in ("", "-wal", "-shm"):
            Path(str(var_dir / "demo.db") + suffix).unlink(missing_ok=True)
    env = {
        "DELPHI_DATABASE_URL": url,
        "DELPHI_DEV_MAIL": os.environ.get("DELPHI_DEV_MAIL", "1"),
        "DELPHI_BASE_URL": os.environ.get("DELPHI_BASE_URL", base_url),
        "DELPHI_SECRET_KEY": os.environ.get("DELPHI_SECRET_KEY") or _secret_file(var_dir / "demo-secret", 48),
    }
    password = _secret_file(var_dir / "demo-password", 12)
    db = DatabaseSettings(url=url)
    settings = load_settings({**os.environ, **env})
    upgrade(db)

    async def go() -> None:
        engine = make_engine(db, null_pool=True)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                account, panel = await seed_demo(session, password=password)
                if panel.status == "draft":
                    await simulate_demo_rounds(session, panel, account, settings, utcnow())
        finally:
            await engine.dispose()

    asyncio.run(go())
    click.echo("")
    click.echo("Delphi demo ready.")
    click.echo(f"  Open       {env['DELPHI_BASE_URL']}/login")
    click.echo(f"  E-mail     {DEMO_EMAIL}")
    click.echo(f"  Password   {password}")
    click.echo(f"  Mailbox    {env['DELPHI_BASE_URL']}/dev/mail  (mail the demo sends is captured here)")
    click.echo("")
    return env
