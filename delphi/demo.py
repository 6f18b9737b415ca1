"""The demo: a SQLite database under ./var, mail captured locally, and two seeded panels.

The first panel asks how people who use drug services should be involved in decisions about their own treatment;
its round 1 is over and round 2 is open.  It is offered in Welsh too (:mod:`delphi.demo_cymraeg`), and three
of its panellists read Welsh (:data:`DEMO_WELSH_READERS`).  The second asks what helps people stay in treatment;
its round 1 is an open round (idea generation), open now with a few answers in, in English only.  Statements,
questions and answers are ours, written for the demo.
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

from delphi import demo_cymraeg
from delphi.accounts import create_account
from delphi.db.engine import make_engine, make_sessionmaker
from delphi.db.migrations import upgrade
from delphi.db.models import (
    Account,
    BaselineAnswer,
    OutboxMessage,
    Panel,
    PanelLanguage,
    Panellist,
    RankAnswer,
    RankingItem,
    Rating,
    Round,
    RoundRanking,
    RoundStatement,
    StakeholderGroup,
    Submission,
    utcnow,
)
from delphi.domain import Actor, RoundKind
from delphi.locale import language_name, language_tag
from delphi.panels import baseline as baseline_setup
from delphi.panels import open_questions
from delphi.panels.consent_text import default_consent_text
from delphi.panels.groups import add_group
from delphi.panels.panellists import import_panellists
from delphi.panels.rankings import add_ranking_question
from delphi.panels.settings import NINE_POINT_LABELS, PanelInput, create_panel
from delphi.panels.statements import add_statement
from delphi.panels.translation_gaps import round_items
from delphi.panels.translations import further_languages, key, store_texts
from delphi.participation import consent, ideas, submit
from delphi.rounds import lookup, schedule, transitions
from delphi.security import panellist_token
from delphi.settings import DatabaseSettings, Settings, load_settings

DEMO_EMAIL = "facilitator@demo.example"
#: The demo panel's contact, shown on every panellist page and in every mail, and its neutral name for discreet mode.
DEMO_CONTACT_NAME = "Alex Morgan, research team"
DEMO_CONTACT_EMAIL = "research-team@demo.example"
DEMO_CONTACT_PHONE = "020 7946 0000"
DEMO_DISCREET_NAME = "Service feedback study"
DEMO_UNABLE_LABEL = "I can't rate this"
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
            unable_label=DEMO_UNABLE_LABEL,
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
    await add_ranking_question(session, panel, DEMO_RANKING[0], DEMO_RANKING[1], False, actor)
    session.add(
        PanelLanguage(
            panel_id=panel.id, language=demo_cymraeg.LANGUAGE, translated_by=demo_cymraeg.TRANSLATED_BY
        )
    )
    await session.flush()
    return account, panel


#: The demo panel's ranking question and its items, in the order of the panel's average priority (first first).
DEMO_RANKING = (
    "Put these service changes in order of priority",
    (
        "Shorter waiting times for a first appointment",
        "A named key worker for each person",
        "More peer support workers",
        "Help with housing and benefits",
        "Evening and weekend opening hours",
    ),
)


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

    Three of them read Welsh (:data:`DEMO_WELSH_READERS`, with ``per_group`` of at least 5); each round's texts
    are stored in Welsh (:func:`store_welsh`) before it opens, so the open check finds no translation missing.
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
        for i in range(per_group):
            name = f"{stem.title()} {i + 1}"
            language = demo_cymraeg.LANGUAGE if name in DEMO_WELSH_READERS else "en"
            lines.append(f"{stem}{i + 1:02d}@demo.example,{g.name},{name},{language}")
    await import_panellists(session, panel, "\n".join(lines), secret_key=settings.secret_key, actor=actor)
    start = now - timedelta(days=15)
    await store_welsh(session, panel, await lookup.get_round(session, panel, 1))
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
                "language": language_tag(p.language),
            }
            if not (n % 11 == 3 and si == 9):
                row["value"] = int(np.clip(np.rint(rng.normal(ROUND1_MEANS[si][gi], 1.1)), 1, 9))
                row["unable"] = False
            rows.append(row)
    for k, (si, text) in enumerate(DEMO_COMMENTS):
        rows[k * 7 * len(links) + si].update(comment=text, comment_status="published")
    await session.execute(insert(Rating), rows)
    # the ranking question: each panellist's order is the panel's average one with noise (W well below 0.7, so
    # the question is asked again in round 2)
    ranked = (
        await session.scalars(
            select(RankingItem)
            .join(RoundRanking, RoundRanking.question_id == RankingItem.question_id)
            .where(RoundRanking.round_id == round1.id)
            .order_by(RankingItem.question_id, RankingItem.position)
        )
    ).all()
    answers = []
    for p in people[:-2] if ranked else []:
        order = np.argsort(np.arange(len(ranked)) + rng.normal(0, 1.6, len(ranked)), kind="stable")
        ranks = np.empty(len(ranked), dtype=int)
        ranks[order] = np.arange(1, len(ranked) + 1)
        answers.append(
            {
                "round_id": round1.id,
                "question_id": ranked[0].question_id,
                "panellist_id": p.id,
                "ranks": {str(item.id): int(r) for item, r in zip(ranked, ranks, strict=True)},
                "unable": False,
                "language": language_tag(p.language),
            }
        )
    if ranked:
        await session.execute(insert(RankAnswer), answers)
    await _demo_baseline(session, panel, actor, people, start)
    await session.execute(
        insert(Submission),
        [
            {
                "round_id": round1.id,
                "panellist_id": p.id,
                "submitted_at": start + timedelta(days=2),
                "language": language_tag(p.language),
            }
            for p in people[:-3]
        ],
    )
    await transitions.close_round(
        session, panel, round1, now=start + timedelta(days=14), settings=settings, actor=actor
    )
    await session.execute(update(OutboxMessage).values(status="sent", sent_at=start))
    await store_welsh(session, panel, await lookup.get_round(session, panel, 2))
    await _open_for_two_weeks(session, panel, 2, now, settings, actor)


#: The first demo panel's panellists (by name) who read Welsh: a service user, a practitioner and an expert, each
#: of whom consented, answered the about-you questions and sent round 1.
DEMO_WELSH_READERS = ("Service 2", "Practitioners 3", "Experts 5")


async def store_welsh(session: AsyncSession, panel: Panel, round_: Round) -> int:
    """Store the Welsh (:mod:`delphi.demo_cymraeg`) of every text a panellist of ``round_`` reads
    (:func:`~delphi.panels.translation_gaps.round_items`), and of the neutral name for discreet mode (read only
    once discreet mode is ticked); returns how many translations were saved or changed (0 when all were there).

    Raises LookupError naming each English text that has no Welsh (a demo text changed without its
    translation).  Changes rows in the caller's session; never commits.
    """
    items = [(item.key, item.source) for item in await round_items(session, panel, round_)]
    if (panel.discreet_name or "").strip():
        items.append((key("panel", "discreet_name"), panel.discreet_name))
    texts: dict[str, tuple[str, str]] = {}
    missing: list[str] = []
    for key_, source in items:
        text = demo_cymraeg.welsh(source)
        if text is None:
            missing.append(source)
        else:
            texts[key_] = (text, source)
    if missing:
        raise LookupError("No Welsh in delphi.demo_cymraeg for: " + "; ".join(repr(m) for m in missing))
    saved, _ = await store_texts(session, panel.id, demo_cymraeg.LANGUAGE, texts)
    await session.flush()
    return saved


#: The demo panel's about-you (baseline) questions: (text, choices) of the one-choice question and (text, unit)
#: of the number one.
DEMO_BASELINE_YEARS = (
    "How long have you used or worked in drug services?",
    ("Less than a year", "1 to 5 years", "More than 5 years"),
)
DEMO_BASELINE_AGE = ("Age", "years")


async def _demo_baseline(
    session: AsyncSession, panel: Panel, actor: Actor, people: list[Panellist], at: datetime
) -> None:
    """Two baseline questions (years in drug services, age), answered at consent by all but every seventh
    panellist (who skipped), a few preferring not to say."""
    years = list(DEMO_BASELINE_YEARS[1])
    q_years = await baseline_setup.add_question(
        session, panel, actor, kind="single", text=DEMO_BASELINE_YEARS[0], choices="\n".join(years)
    )
    q_age = await baseline_setup.add_question(
        session, panel, actor, kind="number", text=DEMO_BASELINE_AGE[0], unit=DEMO_BASELINE_AGE[1]
    )
    rng = np.random.default_rng(15)  # its own generator: the ratings' draws stay as they were
    answers = []
    for n, p in enumerate(people):
        p.baseline_at = at
        if n % 7 == 6:
            continue
        lang = language_tag(p.language)
        answers.append({"panellist_id": p.id, "question_id": q_years.id, "chosen": [years[int(rng.integers(3))]],
                        "number": None, "prefer_not": False, "answered_at": at, "language": lang})  # fmt: skip
        age = None if n % 9 == 4 else float(int(rng.integers(22, 66)))
        answers.append({"panellist_id": p.id, "question_id": q_age.id, "chosen": [], "number": age, "prefer_not": age is None,
                        "answered_at": at, "language": lang})  # fmt: skip
    await session.execute(insert(BaselineAnswer), answers)


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


#: The second demo panel: round 1 is an open round (idea generation), open now, with a few answers in.
OPEN_DEMO_TITLE = "Staying in drug treatment: what helps and what gets in the way"
OPEN_DEMO_DESCRIPTION = (
    "We are asking service users, practitioners and experts what helps people stay in drug treatment. In the "
    "first round you answer a few open questions in your own words. From your answers we write statements, which "
    "the panel then rates from 1 (strongly disagree) to 9 (strongly agree) in the later rounds."
)
#: (question, hint) of the open round.
OPEN_DEMO_QUESTIONS: tuple[tuple[str, str], ...] = (
    (
        "What should drug services do to make it easier to stay in treatment?",
        "One idea a box. Add as many as you like.",
    ),
    (
        "What makes it hard for people to keep going to a drug service?",
        "Think of your own experience or others'.",
    ),
)
#: Answers the simulated panellists gave, per question, taken in turn.
OPEN_DEMO_ANSWERS: tuple[tuple[str, ...], ...] = (
    (
        "Offer appointments in the evening, so people who work can still come.",
        "Keep the same key worker, so you don't have to tell your story again.",
        "Send a text reminder the day before an appointment.",
        "Don't discharge people for missing one appointment.",
        "Peer mentors who have been through treatment themselves.",
        "Help with the cost of travel to the clinic.",
        "Explain changes to a prescription before they happen.",
    ),
    (
        "Long waits at the chemist for a daily dose.",
        "Feeling judged by the staff at reception.",
        "There is nowhere to bring children.",
        "Losing your place after a stay in hospital or prison.",
        "Appointments that clash with work.",
    ),
)
#: Panellists per group in the second panel, and how many of them (the first ones) have answered.
OPEN_DEMO_PER_GROUP = 4
OPEN_DEMO_ANSWERED = 9


async def seed_open_demo(session: AsyncSession, account: Account, settings: Settings, now: datetime) -> Panel:
    """Create the second demo panel if missing (idempotent; the caller commits): owned by ``account``, round 1 an
    open round with :data:`OPEN_DEMO_QUESTIONS`, opened two days before ``now`` and closing in twelve days, 12
    panellists (4 a group), the first :data:`OPEN_DEMO_ANSWERED` of whom consented and answered (one or two
    answers a question, the first three sent them).  Its invitations are marked sent (they went out in the
    simulated past), so the demo mailbox holds the first panel's."""
    panel = await session.scalar(select(Panel).where(Panel.title == OPEN_DEMO_TITLE))
    if panel is not None:
        return panel
    actor = Actor.account(account)
    panel = await create_panel(
        session,
        PanelInput(
            title=OPEN_DEMO_TITLE,
            description=OPEN_DEMO_DESCRIPTION,
            consent_text=DEMO_CONSENT,
            scale_min=1,
            scale_max=9,
            scale_labels=NINE_POINT_LABELS,
            allow_unable=True,
            unable_label="I can't rate this",
            max_rounds=3,
            k_min=3,
            contact_name=DEMO_CONTACT_NAME,
            contact_email=DEMO_CONTACT_EMAIL,
            contact_phone=DEMO_CONTACT_PHONE,
        ),
        account.id,
        actor,
    )
    for i, name in enumerate(DEMO_GROUPS):
        await add_group(session, panel, name, actor, lived_experience=i == 0)
    await open_questions.set_round_kind(session, panel, RoundKind.OPEN, actor)
    questions = [
        await open_questions.add_question(session, panel, q, hint, actor) for q, hint in OPEN_DEMO_QUESTIONS
    ]
    lines = ["email,group,name,language"]
    for name in DEMO_GROUPS:
        stem = name.split()[0].lower()
        lines += [
            f"ideas-{stem}{i + 1:02d}@demo.example,{name},{stem.title()} {i + 1},en"
            for i in range(OPEN_DEMO_PER_GROUP)
        ]
    await import_panellists(session, panel, "\n".join(lines), secret_key=settings.secret_key, actor=actor)
    start = now - timedelta(days=2)
    await _open_for_two_weeks(session, panel, 1, start, settings, actor)
    await session.execute(
        update(OutboxMessage).where(OutboxMessage.panel_id == panel.id).values(status="sent", sent_at=start)
    )
    people = (
        await session.scalars(select(Panellist).where(Panellist.panel_id == panel.id).order_by(Panellist.id))
    ).all()
    turn = 0
    for n, person in enumerate(people[:OPEN_DEMO_ANSWERED]):
        at = start + timedelta(hours=3 + 4 * n)
        await consent.record_consent(session, person, now=at)
        items = []
        for question, pool in zip(questions, OPEN_DEMO_ANSWERS, strict=True):
            for slot in range(1, 2 + (n + question.position) % 2):
                items.append(ideas.IdeaInput(question.id, slot, pool[turn % len(pool)]))
                turn += 1
        await ideas.save_ideas(session, person, items, now=at)
        if n < 3:
            await submit.submit(session, person, send_receipt=False, now=at + timedelta(minutes=20))
    return panel


async def demo_links(session: AsyncSession, panel: Panel, settings: Settings) -> list[tuple[str, str]]:
    """``[(name, personal link)]`` of the panel's first and last panellist (by id), then, for each further
    language the panel is offered in, its first panellist reading it, named with the language's own name
    (``"Service 2 (Cymraeg)"``); for the terminal.  Empty for a panel without panellists."""
    people = (
        await session.scalars(select(Panellist).where(Panellist.panel_id == panel.id).order_by(Panellist.id))
    ).all()
    shown = [(p, p.name or p.pseudonym) for p in (people[:1] + people[-1:] if len(people) > 1 else people)]
    for further in await further_languages(session, panel.id):
        tag = language_tag(further.language)
        reader = next((p for p in people if language_tag(p.language) == tag), None)
        if reader is not None:
            shown.append(
                (reader, f"{reader.name or reader.pseudonym} ({language_name(tag, in_language=tag)})")
            )
    return [
        (name, f"{settings.base_url}/p/{panellist_token(settings.secret_key, p.id, p.session_version)}")
        for p, name in shown
    ]


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

    panels: list[tuple[str, list[tuple[str, str]]]] = []

    async def go() -> None:
        engine = make_engine(db, null_pool=True)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                account, panel = await seed_demo(session, password=password)
                if panel.status == "draft":
                    await simulate_demo_rounds(session, panel, account, settings, utcnow())
                second = await seed_open_demo(session, account, settings, utcnow())
                panels.append(
                    ("Panel 1, round 2 open: statements to rate", await demo_links(session, panel, settings))
                )
                panels.append(
                    ("Panel 2, round 1 open: open questions", await demo_links(session, second, settings))
                )
        finally:
            await engine.dispose()

    asyncio.run(go())
    click.echo("")
    click.echo("Delphi demo ready.")
    click.echo(f"  Open       {env['DELPHI_BASE_URL']}/login")
    click.echo(f"  E-mail     {DEMO_EMAIL}")
    click.echo(f"  Password   {password}")
    click.echo(f"  Mailbox    {env['DELPHI_BASE_URL']}/dev/mail  (mail the demo sends is captured here)")
    width = max((len(name) for _, links in panels for name, _ in links), default=0)
    for heading, links in panels:
        click.echo(f"  {heading}; take part as:")
        for name, link in links:
            click.echo(f"    {name:<{width}} {link}")
    click.echo("")
    return env
