"""Which mail a round event sends to whom, with what context; :mod:`delphi.mail` renders and queues it.

Contexts never carry a link token: the outbox stores placeholders that delivery replaces at send time.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panel, Panellist, Rating, Round, RoundStatement
from delphi.db.queries import ANSWERED
from delphi.domain import RoundStatus
from delphi.mail import kinds
from delphi.mail.outbox import Recipient, enqueue_mail_many
from delphi.rounds.final_shown import WITHHELD, shown_final_list
from delphi.rounds.released import load_released, rule_scope


def summary_lines(round_number: int, verdicts: Sequence[str | None], n_now: int) -> list[str]:
    """The "round N is open" mail's sentences on the last round (pure).

    ``verdicts``: one per statement of round ``round_number``, already through disclosure control
    (:data:`~delphi.rounds.final_shown.WITHHELD` where panellists may not see it); ``n_now``: statements asked
    in the new round.  Withheld verdicts are counted apart, without saying what they were.
    """
    shown = [v for v in verdicts if v != WITHHELD]
    agreed = sum(v == "in" for v in shown)
    out = [f"In round {round_number} the panel agreed on {agreed} of {len(shown)} recommendations."]
    withheld = len(verdicts) - len(shown)
    if withheld:
        out.append(f"For {withheld} more, too few people answered to show a result.")
    out.append(
        f"This round asks {n_now} again or for the first time, and shows how the panel answered last time."
    )
    return out


async def _previous_summary(session: AsyncSession, panel: Panel, round_: Round) -> list[str]:
    """Plain sentences on what the last round settled, for the "round N is open" mail.

    A verdict counts only where panellists may see it (:mod:`delphi.rounds.released`), as on the pages.
    """
    prev = await session.scalar(
        select(Round).where(
            Round.panel_id == panel.id, Round.number == round_.number - 1, Round.status == RoundStatus.CLOSED
        )
    )
    if prev is None:
        return []
    asked = (
        await session.execute(
            select(RoundStatement.statement_id, RoundStatement.verdict).where(
                RoundStatement.round_id == prev.id
            )
        )
    ).all()
    released = await load_released(session, panel, [prev.id])
    scope = rule_scope(panel)
    verdicts = [
        verdict if (r := released.get((prev.id, sid))) is not None and r.verdict_released(scope) else WITHHELD
        for sid, verdict in asked
    ]
    n_now = await session.scalar(
        select(func.count()).select_from(RoundStatement).where(RoundStatement.round_id == round_.id)
    )
    return summary_lines(prev.number, verdicts, int(n_now or 0))


async def round_opened(
    session: AsyncSession,
    panel: Panel,
    round_: Round,
    recipients: Sequence[Panellist],
    tag: str = "",
) -> int:
    """Round 1: an invitation; later rounds: "round N is open" with a short summary. Returns mails queued.

    ``tag`` makes a fresh dedupe key, for a re-issued link (a new mail with the new link).
    """
    if round_.number == 1:
        items = [
            Recipient(
                p.email or "",
                kinds.invitation.key(tag, round_id=round_.id, panellist_id=p.id),
                kinds.invitation(panel, round_, p),
                p.language,
                p.id,
            )
            for p in recipients
        ]
        kind = kinds.invitation
    else:
        summary = await _previous_summary(session, panel, round_)
        items = [
            Recipient(
                p.email or "",
                kinds.round_open.key(tag, round_id=round_.id, panellist_id=p.id),
                kinds.round_open(panel, round_, p, summary=summary),
                p.language,
                p.id,
            )
            for p in recipients
        ]
        kind = kinds.round_open
    return await enqueue_mail_many(session, kind, items, panel_id=panel.id, round_id=round_.id)


async def reminder(
    session: AsyncSession,
    panel: Panel,
    round_: Round,
    recipients: Sequence[Panellist],
    tag: str,
) -> int:
    """A reminder to each of ``recipients`` with their own progress ("12 of 40 rated").

    ``tag`` names the reminder (``"48h"``, ``"manual-<unix time in microseconds>"``; never empty) in the dedupe key, so each
    reminder of a round goes to a person once.
    """
    total = (
        await session.scalar(
            select(func.count()).select_from(RoundStatement).where(RoundStatement.round_id == round_.id)
        )
        or 0
    )
    rated = dict(
        (
            await session.execute(
                select(Rating.panellist_id, func.count())
                .where(Rating.round_id == round_.id, ANSWERED)
                .group_by(Rating.panellist_id)
            )
        ).all()
    )
    items = [
        Recipient(
            p.email or "",
            kinds.reminder.key(tag, round_id=round_.id, panellist_id=p.id),
            kinds.reminder(panel, round_, p, rated=rated.get(p.id, 0), total=total),
            p.language,
            p.id,
        )
        for p in recipients
    ]
    return await enqueue_mail_many(session, kinds.reminder, items, panel_id=panel.id, round_id=round_.id)


async def final_results(session: AsyncSession, panel: Panel, recipients: Sequence[Panellist]) -> int:
    """The panel has finished: what it agreed on (as the panellists' results page lists it), and a link to it."""
    n_rounds = (
        await session.scalar(
            select(func.count())
            .select_from(Round)
            .where(Round.panel_id == panel.id, Round.status == RoundStatus.CLOSED)
        )
        or 0
    )
    # the same list as the results page, after disclosure control
    agreed = [s.text for s in (await shown_final_list(session, panel)).consensus_in]
    items = [
        Recipient(
            p.email or "",
            kinds.final_results.key(panel_id=panel.id, panellist_id=p.id),
            kinds.final_results(panel, p, agreed=agreed, n_rounds=n_rounds),
            p.language,
            p.id,
        )
        for p in recipients
    ]
    return await enqueue_mail_many(session, kinds.final_results, items, panel_id=panel.id)


async def invite_late_joiner(
    session: AsyncSession, panel: Panel, p: Panellist, reissued: bool = False
) -> None:
    """A panellist added (or given a new link) while a round is open gets that round's invitation now; a new
    link's invitation has its own dedupe key (``reissue<session version>``), so it goes even if one went before."""
    open_round = await session.scalar(
        select(Round).where(Round.panel_id == panel.id, Round.status == RoundStatus.OPEN)
    )
    if open_round is not None and p.email:
        await round_opened(
            session, panel, open_round, [p], tag=f"reissue{p.session_version}" if reissued else ""
        )
