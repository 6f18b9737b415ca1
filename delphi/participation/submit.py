"""Submitting a round, and the receipt that says so (with the honorarium owed).

Works in the caller's transaction.  Submitting inserts the unique Submission with ``ON CONFLICT DO NOTHING``
and is therefore idempotent: a double click or a replayed request submits once and mails one receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.dialect import dialect_name, insert_for
from delphi.db.models import Panel, Panellist, Round, Statement, Submission, utcnow
from delphi.errors import InvalidInput
from delphi.formatting import shorten
from delphi.mail import kinds
from delphi.mail.outbox import enqueue_mail
from delphi.panels.translations import Wording, wording_for
from delphi.participation import ideas, paging, ranking
from delphi.participation.checks import Scale
from delphi.participation.facts import (
    Progress,
    answered_ids,
    load_facts,
    progress,
    require_round,
    statements_by_id,
    submission_count,
    submitted_at,
)
from delphi.participation.issues import N_, Issue, fail_many
from delphi.participation.links import actor_of
from delphi.participation.saving import write_target
from delphi.participation.writes import answer_language


@dataclass(frozen=True, slots=True)
class Receipt:
    """A panellist's submission of a round, and the honorarium owed (None when the panel pays none).

    ``owed_round_minor`` is the amount for this round, ``owed_total_minor`` for every round submitted so far.
    ``created`` is True only for the request that made the submission (then the receipt mail was enqueued).
    """

    round_number: int
    submitted_at: datetime
    closes_at: datetime | None
    progress: Progress
    owed_round_minor: int | None
    owed_total_minor: int | None
    currency: str
    created: bool = False


def receipt(
    panel: Panel, rnd: Round, submitted: datetime, progress: Progress, n_submitted: int, created: bool
) -> Receipt:
    """The :class:`Receipt` of round ``rnd`` submitted at ``submitted``, ``n_submitted`` rounds so far."""
    fee = panel.honorarium_minor
    return Receipt(
        round_number=rnd.number,
        submitted_at=submitted,
        closes_at=rnd.closes_at,
        progress=progress,
        owed_round_minor=fee if fee else None,
        owed_total_minor=fee * n_submitted if fee else None,
        currency=panel.currency,
        created=created,
    )


def _missing_issues(
    missing: list[int], statements: dict[int, Statement], scale: Scale, w: Wording, panel: Panel
) -> list[Issue]:
    """One issue per statement still to answer (field ``s<id>``), quoting its text and the "unable" answer in
    the panellist's language (``w``)."""
    unable = w.panel(panel, "unable_label") or scale.unable_label
    return [
        Issue(
            f"s{sid}",
            N_("Rate “%(text)s”, or choose “%(unable)s”.") if scale.allow_unable else N_("Rate “%(text)s”."),
            {
                "text": shorten(w.statement(sid, statements[sid].text)) if sid in statements else str(sid),
                "unable": unable,
            },
        )
        for sid in missing
    ]


async def submit(
    session: AsyncSession, panellist: Panellist, *, send_receipt: bool = True, now: datetime | None = None
) -> Receipt:
    """Mark the panellist's current round complete; idempotent.

    Requires consent, an open round and an answer (a rating or "unable") to every statement; missing answers
    raise :class:`~delphi.errors.InvalidInput` with one issue per statement (field ``s<id>``), then one per ranking
    question not yet ranked nor marked "unable" (field ``rk<question id>``).  The first call
    inserts the Submission (with the language the panellist submitted in, ``Submission.language``; a later call
    keeps it), writes a ``round.submitted`` audit event and (unless ``send_receipt`` is false)
    enqueues the receipt e-mail (dedupe key ``receipt:r<round id>:p<panellist id>``); later calls return the
    same receipt with ``created`` False.  Answers can still be changed until the round closes.
    """
    now = now or utcnow()
    target = await write_target(session, panellist, [], now)
    facts = await load_facts(session, panellist)
    rnd = require_round(facts)
    if rnd.kind == "open" and not await ideas.count_answers(session, rnd.id, panellist.id):
        raise fail_many(
            InvalidInput, [Issue("answers", N_("Write at least one answer before you send them."))]
        )
    missing = paging.unanswered(facts.statement_ids, await answered_ids(session, rnd.id, panellist.id))
    unranked = await ranking.unanswered_rankings(session, rnd.id, panellist.id)
    if missing or unranked:  # refused: quote what is left in the panellist's language
        w = await wording_for(session, facts.panel, panellist.language)
        issues = _missing_issues(
            missing, await statements_by_id(session, missing), target.scale, w, facts.panel
        )
        raise fail_many(InvalidInput, issues + ranking.missing_ranking_issues(unranked, w))
    stmt = (
        insert_for(dialect_name(session), Submission)
        .values(
            round_id=rnd.id,
            panellist_id=panellist.id,
            submitted_at=now,
            language=answer_language(panellist.language),
        )
        .on_conflict_do_nothing(index_elements=["round_id", "panellist_id"])
        .returning(Submission.id)
    )
    created = (await session.execute(stmt)).scalar_one_or_none() is not None
    when = await submitted_at(session, rnd.id, panellist.id) or now
    done = Progress(len(facts.statement_ids), len(facts.statement_ids))
    result = receipt(facts.panel, rnd, when, done, await submission_count(session, panellist.id), created)
    if created:
        audit.record(
            session,
            actor=actor_of(panellist),
            action="round.submitted",
            panel_id=facts.panel.id,
            detail={"round": rnd.number, "panellist": panellist.pseudonym},
        )
        if send_receipt:
            await _enqueue_receipt(session, panellist, facts.panel, rnd, when)
    return result


async def _enqueue_receipt(
    session: AsyncSession, panellist: Panellist, panel: Panel, rnd: Round, submitted: datetime
) -> None:
    """Put the receipt e-mail in the outbox, in this transaction, in the panellist's language (the panel's own
    texts translated, :func:`delphi.panels.translations.wording_for`); nothing when the address was erased."""
    if not panellist.email:
        return
    texts = await wording_for(session, panel, panellist.language)  # the panel's texts in their language
    await enqueue_mail(
        session,
        kinds.receipt,
        kinds.receipt(kinds.in_language(panel, texts), rnd, panellist, submitted_at=submitted),
        to_address=panellist.email,
        dedupe_key=kinds.receipt.key(round_id=rnd.id, panellist_id=panellist.id),
        language=panellist.language,
        panel_id=panel.id,
        round_id=rnd.id,
        panellist_id=panellist.id,
        texts=texts,
    )


async def load_receipt(session: AsyncSession, panellist: Panellist) -> Receipt | None:
    """The receipt of the current round, or None when the panellist has not submitted it."""
    facts = await load_facts(session, panellist)
    if facts.round is None:
        return None
    when = await submitted_at(session, facts.round.id, panellist.id)
    if when is None:
        return None
    return receipt(
        facts.panel,
        facts.round,
        when,
        await progress(session, facts.round.id, panellist.id),
        await submission_count(session, panellist.id),
        False,
    )
