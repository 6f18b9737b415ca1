"""What the facilitator sees of a panel's mail: counts, dead letters, and the history of who got what."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.db.engine import make_sessionmaker
from delphi.db.models import Panellist
from delphi.mail import kinds, status
from delphi.mail.delivery import deliver_due
from delphi.settings import Settings
from tests.factories import World
from tests.mail.conftest import T0, address, queue_invitations
from tests.smtp import SmtpSink


async def test_counts_history_and_dead_letters_describe_the_panels_mail(
    engine: AsyncEngine, world: World, sink_settings: Settings, smtp_sink: SmtpSink
) -> None:
    sent_to, bounced, withdrawn = world.panellist_ids
    sessions = make_sessionmaker(engine)
    async with sessions() as session, session.begin():
        await queue_invitations(session, world)
        await session.execute(update(Panellist).where(Panellist.id == withdrawn).values(status="withdrawn"))
    smtp_sink.permanent.add(address(1))
    await deliver_due(sink_settings, engine, now=T0)

    async with sessions() as session:
        counts = await status.counts(session, world.panel.id)
        history = await status.history(session, world.panel.id)
        dead = await status.dead_letters(session, world.panel.id)
        one_person = await status.history(session, world.panel.id, panellist_id=sent_to)

    invitations = next(c for c in counts if c.kind == kinds.invitation.name)
    assert (invitations.round_id, invitations.sent, invitations.dead, invitations.cancelled) == (
        world.round.id,
        1,
        1,
        1,
    )
    assert invitations.queued == invitations.sending == 0 and invitations.total == 3
    notices = next(c for c in counts if c.kind == kinds.facilitator_notice.name)
    assert (notices.round_id, notices.sent) == (None, 2)

    by_person = {h.pseudonym: h for h in history if h.kind == kinds.invitation.name}
    assert {p: (h.status, h.to_address) for p, h in by_person.items()} == {
        "P-000": ("sent", address(0)),
        "P-001": ("dead", address(1)),
        "P-002": ("cancelled", address(2)),
    }
    assert by_person["P-000"].sent_at == T0 and by_person["P-000"].attempts == 1
    assert [h.id for h in history] == sorted((h.id for h in history), reverse=True)  # newest first
    assert [(d.pseudonym, d.panellist_id) for d in dead] == [("P-001", bounced)] and "550" in dead[
        0
    ].last_error
    assert [h.pseudonym for h in one_person] == ["P-000"]


async def test_a_panel_without_mail_has_empty_views(engine: AsyncEngine, world: World) -> None:
    async with make_sessionmaker(engine)() as session:
        assert await status.counts(session, world.panel.id) == []
        assert await status.history(session, world.panel.id) == []
        assert await status.dead_letters(session, world.panel.id) == []
        assert await status.retry_dead(session, world.panel.id, []) == 0
