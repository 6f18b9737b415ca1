"""The study of several rounds the results, export and API tests read: a panel from
:func:`tests.factories.build_panel`, closed rounds frozen by the engine's own ``close_round``.

Rows are inserted directly (cheap password hashes, panellists without the import path) to keep tests fast;
results are frozen by :func:`delphi.rounds.transitions.close_round`, exactly as in production.

The study (``build_study``):

* groups: Service users (lived experience, 6 people), Practitioners (6), Experts (2, under k = 3);
* statements: S1 agreed by 71% (in under COMET, not under 75%: sensitive), S2 service users agree and
  practitioners do not (divergent),
  S3 everyone disagrees (out), S4 mixed (no consensus), in two sections;
* round 1: everyone submits; a published comment that starts with ``=`` (formula injection), a pending and a
  hidden comment, one "unable"; reasons for ratings (moderated apart): a published one starting with ``=`` on
  the formula comment's rating, another published, a pending and a hidden one; closes with COMET;
* round 2 (``rounds=2``): the unsettled statements are carried forward, S4 is reworded; the service user
  P-001 drops out (no submission, no rating); closes and, with ``max_rounds=2``, finishes the panel;
* suggestions (round 1, reviewed before round 2): P-008's rewording of S4, accepted as S4b with the facilitator's
  wording (:data:`SUGGESTED_REWORDING`), and P-009's new statement, rejected (:data:`SUGGESTED_NEW`);
* with ``unsent_draft=True`` P-001 instead saves round-2 ratings (:data:`P001_DRAFT`) and never sends them:
  under the default analysis population (``submitted``) the frozen results are the same as without them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import (
    Account,
    Panel,
    Panellist,
    Rating,
    Round,
    RoundStatement,
    StakeholderGroup,
    Statement,
    Submission,
    Suggestion,
)
from delphi.domain import Actor, CommentStatus, PanelRole, RoundStatus
from delphi.rounds import transitions
from delphi.settings import Settings
from delphi.stats import rule_by_name
from tests.factories import build_panel, grant, make_account

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FORMULA_COMMENT = '=HYPERLINK("http://evil.example","click")'
PUBLISHED_COMMENT = "Peer support made the difference for me."
PENDING_COMMENT = "My key worker Jo at the Elm Street clinic said so."
HIDDEN_COMMENT = "I am the only user at the Oak Road service."
#: Reasons for ratings outside the middle half, moderated apart from comments (round 1, see build_study).
FORMULA_REASON = '=HYPERLINK("http://evil.example","why")'
PUBLISHED_REASON = "Peer workers need supervision our service cannot fund."
PENDING_REASON = "Take-home doses let me keep my job at the Elm Street depot."
HIDDEN_REASON = "As the only commissioner in the north I see every contract."
#: Round-1 suggestions (``rounds=2``): a rewording of S4 accepted as S4b, and a new statement rejected.
SUGGESTED_REWORDING = "Take-home doses once treatment is stable."
SUGGESTED_NEW = "Evening opening hours at every service."


@dataclass
class Study:
    """The study's panel and owner, its groups (``users``, ``practitioners``, ``experts``), statements (``S1`` …
    ``S4``, and ``S4b`` once reworded), panellists with their link tokens (same order: P-001 first), rounds by
    number, and the rating ids carrying each kind of comment and reason (``formula``, ``published``,
    ``pending``, ``hidden``)."""

    panel: Panel
    owner: Account
    groups: dict[str, StakeholderGroup]
    statements: dict[str, Statement]
    panellists: list[Panellist]
    tokens: list[str]
    rounds: dict[int, Round] = field(default_factory=dict)
    comments: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    suggestions: dict[str, int] = field(default_factory=dict)

    @property
    def emails(self) -> list[str]:
        return [p.email for p in self.panellists if p.email]


# Round-1 ratings per statement: service users (6), practitioners (6), experts (2). "U" is "unable".
ROUND1 = {
    "S1": ([9, 8, 8, 7, 9, 6], [8, 7, 6, 8, 7, 6], [9, 5]),
    "S2": ([9, 9, 8, 8, 7, 9], [2, 3, 4, 3, 2, 5], [5, 6]),
    "S3": ([1, 2, 1, 3, 2, 1], [2, 1, 3, 2, 1, 2], [1, 2]),
    "S4": ([5, 6, 4, 7, "U", 5], [6, 5, 7, 4, 6, 5], [3, 8]),
}
#: Round-2 answers P-001 saves and never sends, with ``unsent_draft=True``: S2 and S4b.
P001_DRAFT = (1, 2)
# Round-2 ratings (P-001, the first service user, has dropped out: None).
ROUND2 = {
    "S2": ([None, 9, 8, 8, 8, 9], [4, 5, 6, 3, 4, 5], [6, 7]),
    "S4b": ([None, 7, 7, 8, 7, 8], [7, 8, 7, 9, 7, 8], [7, 7]),
}


async def study_panel(
    session: AsyncSession, owner: Account, *, max_rounds: int = 2, population: str = "submitted"
) -> Study:
    """The study's draft panel owned by ``owner``: groups, statements, 14 consented panellists
    (``panellist01@people.example``, "Person 1", P-001 …) and a draft round 1 asking every statement."""
    world = await build_panel(
        session,
        panellists=[6, 6, 2],
        pseudonym="P-{n:03d}",
        email="panellist{n:02d}@people.example",
        name="Person {n}",
        panellist_kw={"status": "active", "session_version": 1, "first_visit_at": T0, "consented_at": T0},
        groups=("Service users", "Practitioners", "Experts"),
        lived_experience=("Service users",),
        sections=(
            ("Access", ["Same-week appointments.", "Peer workers at every service."]),
            ("Care", ["Compulsory group therapy.", "Take-home doses after a month."]),
        ),
        round_status=RoundStatus.DRAFT,
        round_kw={"closes_in": None, "opened_at": None, "reminder_offsets_hours": [48]},
        panel_kw={
            "title": "Drug treatment services: what matters",
            "description": "To agree what good drug treatment looks like, with the people who use it.",
            "status": "draft",
            "consent_text": "",
            "scale_min": 1,
            "scale_max": 9,
            "scale_labels": ["Not important", "", "", "", "", "", "", "", "Critical"],
            "rule": rule_by_name("comet").to_dict(),
            "analysis_population": population,
            "quantile_method": "linear",
            "unable_policy": "exclude",
            "max_rounds": max_rounds,
            "k_min": 3,
            "honorarium_minor": 1500,
            "currency": "GBP",
        },
    )
    await grant(session, world.panel, owner, PanelRole.OWNER)
    groups = dict(zip(("users", "practitioners", "experts"), world.groups, strict=True))
    statements = dict(zip(("S1", "S2", "S3", "S4"), world.statements, strict=True))
    people, tokens = zip(*world.people, strict=True)
    assert world.round is not None
    return Study(world.panel, owner, groups, statements, list(people), list(tokens), {1: world.round})


async def open_round(session: AsyncSession, study: Study, number: int) -> Round:
    """Open a draft round directly (no mail), as if ``open_round`` had run at T0 + (number - 1) weeks."""
    round_ = await session.scalar(
        select(Round).where(Round.panel_id == study.panel.id, Round.number == number)
    )
    assert round_ is not None
    start = T0 + timedelta(weeks=number - 1)
    round_.status = RoundStatus.OPEN
    round_.opened_at = round_.opens_at = start
    round_.closes_at = start + timedelta(days=6)
    if number == 1:
        study.panel.rule_locked_at = start
        study.panel.status = "running"
    study.rounds[number] = round_
    await session.flush()
    return round_


async def rate(
    session: AsyncSession,
    study: Study,
    round_: Round,
    table: dict[str, tuple[list, list, list]],
    *,
    submit: bool = True,
) -> None:
    """Insert the ratings of ``table`` (None: no row) and a submission per panellist who rated anything."""
    people = study.panellists
    when = round_.opened_at + timedelta(days=1)
    rows = []
    for key, (users, practitioners, experts) in table.items():
        statement = study.statements[key]
        for p, value in zip(people, [*users, *practitioners, *experts], strict=True):
            if value is not None:
                rows.append(
                    {
                        "round_id": round_.id,
                        "statement_id": statement.id,
                        "panellist_id": p.id,
                        "value": None if value == "U" else value,
                        "unable": value == "U",
                        "comment": "",
                        "comment_status": CommentStatus.PENDING,
                        "reason": "",
                        "created_at": when,
                        "updated_at": when,
                    }
                )
    await session.execute(insert(Rating), rows)
    if submit:
        done = sorted({r["panellist_id"] for r in rows})
        await session.execute(
            insert(Submission),
            [{"round_id": round_.id, "panellist_id": pid, "submitted_at": when} for pid in done],
        )


async def _rating(session: AsyncSession, study: Study, round_: Round, key: str, who: int) -> Rating:
    """Panellist ``who``'s saved rating of statement ``key`` in ``round_`` (it must exist)."""
    rating = await session.scalar(
        select(Rating).where(
            Rating.round_id == round_.id,
            Rating.statement_id == study.statements[key].id,
            Rating.panellist_id == study.panellists[who].id,
        )
    )
    assert rating is not None
    return rating


async def comment(
    session: AsyncSession, study: Study, round_: Round, key: str, who: int, text: str, status: str
) -> int:
    rating = await _rating(session, study, round_, key, who)
    rating.comment = text
    rating.comment_status = status
    await session.flush()
    return rating.id


async def reason(
    session: AsyncSession, study: Study, round_: Round, key: str, who: int, text: str, status: str
) -> int:
    """Give panellist ``who``'s rating of statement ``key`` a reason with moderation ``status``; its rating id."""
    rating = await _rating(session, study, round_, key, who)
    rating.reason = text
    rating.reason_status = status
    await session.flush()
    return rating.id


async def close(
    session: AsyncSession, study: Study, round_: Round, settings: Settings
) -> transitions.CloseOutcome:
    """Close with the engine's ``close_round``.

    Autoflush is turned on meanwhile, as in the web app's sessions: ``close_round`` sets the round closed and,
    for the last round, then asks ``finish_panel`` whether any round is still open, which must see the change.
    """
    sync = session.sync_session
    autoflush, sync.autoflush = sync.autoflush, True
    try:
        outcome = await transitions.close_round(
            session,
            study.panel,
            round_,
            now=round_.closes_at,
            settings=settings,
            actor=Actor.account(study.owner),
        )
        await session.flush()
    finally:
        sync.autoflush = autoflush
    if outcome.next_round is not None:
        study.rounds[outcome.next_round] = await session.scalar(
            select(Round).where(Round.panel_id == study.panel.id, Round.number == outcome.next_round)
        )
    return outcome


async def build_study(
    session: AsyncSession,
    settings: Settings,
    *,
    rounds: int = 2,
    commit: bool = True,
    population: str = "submitted",
    unsent_draft: bool = False,
) -> Study:
    """The study of the module docstring with ``rounds`` (0, 1 or 2) closed rounds, the analysis
    ``population`` and, with ``unsent_draft``, P-001's unsent round-2 answers.

    With ``rounds=0`` round 1 is open with round-1 ratings saved but not submitted by P-002 (for monitoring).
    """
    owner = await make_account(session, "owner@facilitators.example")
    study = await study_panel(session, owner, population=population)
    r1 = await open_round(session, study, 1)
    await rate(session, study, r1, ROUND1)
    study.comments["formula"] = await comment(
        session, study, r1, "S2", 0, FORMULA_COMMENT, CommentStatus.PUBLISHED
    )
    study.comments["published"] = await comment(
        session, study, r1, "S1", 1, PUBLISHED_COMMENT, CommentStatus.PUBLISHED
    )
    study.comments["pending"] = await comment(
        session, study, r1, "S4", 2, PENDING_COMMENT, CommentStatus.PENDING
    )
    study.comments["hidden"] = await comment(
        session, study, r1, "S3", 3, HIDDEN_COMMENT, CommentStatus.HIDDEN
    )
    # Reasons: on the formula comment's rating too (P-001 rated S2 9), so one rating carries both texts.
    study.reasons["formula"] = await reason(
        session, study, r1, "S2", 0, FORMULA_REASON, CommentStatus.PUBLISHED
    )
    study.reasons["published"] = await reason(
        session, study, r1, "S2", 6, PUBLISHED_REASON, CommentStatus.PUBLISHED
    )
    study.reasons["pending"] = await reason(
        session, study, r1, "S4", 13, PENDING_REASON, CommentStatus.PENDING
    )
    study.reasons["hidden"] = await reason(session, study, r1, "S1", 12, HIDDEN_REASON, CommentStatus.HIDDEN)
    if rounds == 0:
        await session.execute(
            Submission.__table__.delete().where(
                Submission.round_id == r1.id, Submission.panellist_id == study.panellists[1].id
            )
        )
        # P-003 has not started; P-014 (an expert) bounced.
        await session.execute(
            Rating.__table__.delete().where(
                Rating.round_id == r1.id, Rating.panellist_id == study.panellists[2].id
            )
        )
        await session.execute(
            Submission.__table__.delete().where(
                Submission.round_id == r1.id, Submission.panellist_id == study.panellists[2].id
            )
        )
        study.panellists[2].first_visit_at = None
        study.panellists[13].status = "bounced"
    if rounds >= 1:
        await close(session, study, r1, settings)
    if rounds >= 2:
        r2 = study.rounds[2]
        s4 = study.statements["S4"]
        s4b = Statement(
            panel_id=study.panel.id,
            section="Care",
            text="Take-home doses after four weeks of stable treatment.",
            position=s4.position,
            parent_id=s4.id,
            version=2,
        )
        session.add(s4b)
        await session.flush()
        s4.status, s4.status_round = "withdrawn", 2
        link = await session.scalar(
            select(RoundStatement).where(
                RoundStatement.round_id == r2.id, RoundStatement.statement_id == s4.id
            )
        )
        assert link is not None, "S4 should have been carried forward"
        link.statement_id = s4b.id
        study.statements["S4b"] = s4b
        reviewed = r1.closes_at + timedelta(days=1)
        suggested = [
            Suggestion(
                panel_id=study.panel.id,
                round_id=r1.id,
                panellist_id=study.panellists[7].id,
                kind="rewording",
                statement_id=s4.id,
                section="Care",
                text=SUGGESTED_REWORDING,
                status="accepted",
                result_statement_id=s4b.id,
                reviewed_at=reviewed,
                created_at=r1.opened_at,
            ),
            Suggestion(
                panel_id=study.panel.id,
                round_id=r1.id,
                panellist_id=study.panellists[8].id,
                kind="new",
                section="Access",
                text=SUGGESTED_NEW,
                status="rejected",
                reviewed_at=reviewed,
                created_at=r1.opened_at,
            ),
        ]
        session.add_all(suggested)
        await session.flush()
        study.suggestions = {"rewording": suggested[0].id, "new": suggested[1].id}
        r2 = await open_round(session, study, 2)
        await rate(session, study, r2, ROUND2)
        if unsent_draft:
            draft = {
                key: ([value, *[None] * 5], [None] * 6, [None] * 2)
                for key, value in zip(ROUND2, P001_DRAFT, strict=True)
            }
            await rate(session, study, r2, draft, submit=False)
        await close(session, study, r2, settings)
    if commit:
        await session.commit()
    return study


async def add_role(session: AsyncSession, study: Study, email: str, role: PanelRole | None) -> Account:
    """An account with ``role`` on the study's panel (None: no access), committed."""
    account = await make_account(
        session, email, "researcher" if role == PanelRole.RESEARCHER else "facilitator"
    )
    if role is not None:
        await grant(session, study.panel, account, role)
    await session.commit()
    return account
