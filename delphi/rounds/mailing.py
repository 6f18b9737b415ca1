"""Which mail a round event sends to whom, with what context; :mod:`delphi.mail` renders and queues it.

Contexts never carry a link token: the outbox stores placeholders that delivery replaces at send time.

Each panellist's mail is in their language (``Panellist.language``): the panel's texts in each language the
recipients read are loaded once per mailing (:func:`delphi.panels.translations.wording_for`), and each context is
built from them: the panel's title or neutral name and description (:func:`delphi.mail.kinds.in_language`), the
agreed statements of the final mail, and the summary lines of a new round (gettext, :func:`summary_lines`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panel, Panellist, Rating, Round, RoundStatement
from delphi.db.queries import ANSWERED
from delphi.domain import RoundStatus
from delphi.locale import language_tag
from delphi.mail import kinds
from delphi.mail.outbox import Recipient, enqueue_mail_many
from delphi.panels.translations import Wording as PanelTexts
from delphi.panels.translations import wording_for
from delphi.rounds.final_shown import WITHHELD, shown_final_list
from delphi.rounds.released import load_released, rule_scope


def summary_lines(
    round_number: int, verdicts: Sequence[str | None], n_now: int, language: str | None = "en"
) -> list[str]:
    """The "round N is open" mail's sentences on the last round (pure), in ``language`` (gettext, English when it
    has no catalog): see :func:`delphi.mail.kinds.round_summary`.

    ``verdicts``: one per statement of round ``round_number``, already through disclosure control
    (:data:`~delphi.rounds.final_shown.WITHHELD` where panellists may not see it); ``n_now``: statements asked
    in the new round.  Withheld verdicts are counted apart, without saying what they were.
    """
    shown = [v for v in verdicts if v != WITHHELD]
    agreed = sum(v == "in" for v in shown)
    withheld = len(verdicts) - len(shown)
    return kinds.round_summary(round_number, agreed, len(shown), withheld, n_now, language)


async def texts_by_language(
    session: AsyncSession, panel: Panel, recipients: Sequence[Panellist]
) -> dict[str, PanelTexts]:
    """The panel's texts in each language ``recipients`` read, keyed by language tag: one query per language
    other than the primary one, whatever the number of recipients."""
    out: dict[str, PanelTexts] = {}
    for p in recipients:
        tag = language_tag(p.language)
        if tag not in out:
            out[tag] = await wording_for(session, panel, tag)
    return out


def _recipients(
    panel: Panel,
    recipients: Sequence[Panellist],
    texts: dict[str, PanelTexts],
    key: Callable[[Panellist], str],
    context: Callable[[Any, Panellist, str], dict[str, Any]],
) -> list[Recipient]:
    """One :class:`Recipient` per panellist, its context ``context(panel in the panellist's language (
    :func:`delphi.mail.kinds.in_language`), panellist, their language tag)``; ``texts`` from
    :func:`texts_by_language`."""
    views = {tag: _plain(kinds.in_language(panel, t)) for tag, t in texts.items()}
    tags: dict[str | None, str] = {}  # Panellist.language -> its tag, worked out once per distinct value
    items = []
    for p in recipients:
        tag = tags.get(p.language)
        if tag is None:
            tag = tags[p.language] = language_tag(p.language)
        items.append(Recipient(p.email or "", key(p), context(views[tag], p, tag), p.language, p.id))
    return items


def _plain(view: Any) -> kinds.PanelInLanguage:
    """A plain copy of a panel's mail attributes (``view`` from :func:`delphi.mail.kinds.in_language`), so that
    building a context per recipient of a national mailing reads no mapped attribute."""
    if isinstance(view, kinds.PanelInLanguage):
        return view
    return kinds.PanelInLanguage(
        title=view.title,
        description=view.description,
        honorarium_minor=view.honorarium_minor,
        currency=view.currency,
        contact_name=view.contact_name,
        contact_email=view.contact_email,
        contact_phone=view.contact_phone,
        discreet=view.discreet,
        discreet_name=view.discreet_name,
    )


async def _previous_summary(
    session: AsyncSession, panel: Panel, round_: Round
) -> tuple[int, list[str | None], int] | None:
    """What the "round N is open" mail says of the last round, as :func:`summary_lines`' arguments
    ``(round number, verdicts, statements asked now)``; None when there is no closed round before.

    A verdict counts only where panellists may see it (:mod:`delphi.rounds.released`), as on the pages.
    """
    prev = await session.scalar(
        select(Round).where(
            Round.panel_id == panel.id, Round.number == round_.number - 1, Round.status == RoundStatus.CLOSED
        )
    )
    if prev is None:
        return None
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
    return prev.number, verdicts, int(n_now or 0)


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
    texts = await texts_by_language(session, panel, recipients)
    if round_.number == 1:
        items = _recipients(
            panel,
            recipients,
            texts,
            lambda p: kinds.invitation.key(tag, round_id=round_.id, panellist_id=p.id),
            lambda view, p, _lang: kinds.invitation(view, round_, p),
        )
        kind = kinds.invitation
    else:
        last = await _previous_summary(session, panel, round_)
        summaries = {lang: summary_lines(*last, language=lang) if last is not None else [] for lang in texts}
        items = _recipients(
            panel,
            recipients,
            texts,
            lambda p: kinds.round_open.key(tag, round_id=round_.id, panellist_id=p.id),
            lambda view, p, lang: kinds.round_open(view, round_, p, summary=summaries[lang]),
        )
        kind = kinds.round_open
    return await enqueue_mail_many(session, kind, items, panel_id=panel.id, round_id=round_.id, texts=texts)


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
    texts = await texts_by_language(session, panel, recipients)
    items = _recipients(
        panel,
        recipients,
        texts,
        lambda p: kinds.reminder.key(tag, round_id=round_.id, panellist_id=p.id),
        lambda view, p, _lang: kinds.reminder(view, round_, p, rated=rated.get(p.id, 0), total=total),
    )
    return await enqueue_mail_many(
        session, kinds.reminder, items, panel_id=panel.id, round_id=round_.id, texts=texts
    )


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
    # the same list as the results page, after disclosure control, in each reader's language
    agreed = (await shown_final_list(session, panel)).consensus_in
    texts = await texts_by_language(session, panel, recipients)
    agreed_in = {lang: [t.statement(s.statement_id, s.text) for s in agreed] for lang, t in texts.items()}
    items = _recipients(
        panel,
        recipients,
        texts,
        lambda p: kinds.final_results.key(panel_id=panel.id, panellist_id=p.id),
        lambda view, p, lang: kinds.final_results(view, p, agreed=agreed_in[lang], n_rounds=n_rounds),
    )
    return await enqueue_mail_many(session, kinds.final_results, items, panel_id=panel.id, texts=texts)


async def invite_late_joiners(session: AsyncSession, panel: Panel, joiners: Sequence[Panellist]) -> int:
    """:func:`invite_late_joiner` for many new panellists at once (a chunk of an import): one look-up of the
    open round, one batch of mails (each with its usual dedupe key, so once each).  Returns mails queued."""
    open_round = await session.scalar(
        select(Round).where(Round.panel_id == panel.id, Round.status == RoundStatus.OPEN)
    )
    with_email = [p for p in joiners if p.email]
    if open_round is None or not with_email:
        return 0
    return await round_opened(session, panel, open_round, with_email)


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
