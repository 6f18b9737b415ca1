"""The demo: a SQLite database under ./var, mail captured locally, and a seeded panel.

The panel asks how people who use drug services should be involved in decisions about their own treatment.  Its
draft recommendations are ours, written for the demo.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path

import click
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.accounts import create_account
from delphi.db.engine import make_engine, make_sessionmaker
from delphi.db.migrations import upgrade
from delphi.db.models import Account, Panel, PanelAccess, StakeholderGroup, Statement
from delphi.domain import PanelRole
from delphi.settings import DatabaseSettings

DEMO_EMAIL = "facilitator@demo.example"
DEMO_TITLE = "Involving people who use drug services in decisions about their treatment"
DEMO_GROUPS = ("Service users", "Practitioners", "Experts")
NINE_POINT_LABELS = [
    "Strongly disagree",
    "",
    "",
    "",
    "Neither agree nor disagree",
    "",
    "",
    "",
    "Strongly agree",
]

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
DEMO_CONSENT = (
    "Taking part is voluntary and you can leave at any time without giving a reason. Other panel members will "
    "never see your name or e-mail address: your answers are shown only as part of group results, and groups of "
    "fewer than three people are never shown separately. Your comments are shown to others only after a "
    "facilitator has checked that they do not identify anyone. If you leave, we keep the ratings you already gave "
    "under a code name unless you ask us to delete them."
)


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
    from delphi.stats import rule_by_name

    panel = Panel(
        title=DEMO_TITLE,
        description=DEMO_DESCRIPTION,
        consent_text=DEMO_CONSENT,
        scale_min=1,
        scale_max=9,
        scale_labels=NINE_POINT_LABELS,
        allow_unable=True,
        unable_label="I can't rate this",
        rule=rule_by_name("comet").to_dict(),
        max_rounds=3,
        k_min=3,
        honorarium_minor=1500,
        currency="GBP",
    )
    session.add(panel)
    await session.flush()
    session.add(PanelAccess(panel_id=panel.id, account_id=account.id, role=PanelRole.OWNER))
    for i, name in enumerate(DEMO_GROUPS):
        session.add(StakeholderGroup(panel_id=panel.id, name=name, position=i, is_lived_experience=i == 0))
    for i, (section, text) in enumerate(DEMO_STATEMENTS):
        session.add(Statement(panel_id=panel.id, section=section, text=text, position=i))
    await session.flush()
    audit.record(
        session,
        actor=f"account:{account.email}",
        account_id=account.id,
        panel_id=panel.id,
        action="panel.created",
        detail={"title": panel.title, "seed": "demo"},
    )
    return account, panel


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
    upgrade(db)

    async def go() -> None:
        engine = make_engine(db, null_pool=True)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                await seed_demo(session, password=password)
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
