"""Delivery through a real SMTP server (aiosmtpd): headers, links, retries, bounces, dead letters, crashes."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.db.engine import make_sessionmaker
from delphi.db.models import AuditEvent, Panellist
from delphi.domain import Actor
from delphi.mail import kinds
from delphi.mail.claim import LEASE
from delphi.mail.delivery import deliver_due
from delphi.mail.outbox import LINK_PLACEHOLDER, WITHDRAW_PLACEHOLDER, enqueue_mail
from delphi.mail.smtp import SmtpPool
from delphi.mail.status import retry_dead
from delphi.security import panellist_token, token_digest
from delphi.settings import Settings
from tests.factories import World, build_panel
from tests.mail.conftest import LATER, MAIL_PANEL, T0, address, queue_invitations, rows
from tests.smtp import SmtpSink

LINK = re.compile(r"http://testserver\.local/p/([A-Za-z0-9_-]{43})")


def token_in(text: str) -> str:
    found = set(LINK.findall(text))
    assert len(found) == 1, found
    return found.pop()


async def queue(engine: AsyncEngine, world: World, ids: list[int] | None = None) -> None:
    async with make_sessionmaker(engine)() as session, session.begin():
        await queue_invitations(session, world, ids)


async def panellist(engine: AsyncEngine, pid: int) -> Panellist:
    async with make_sessionmaker(engine)() as session:
        found = await session.get(Panellist, pid)
        assert found is not None
        return found


async def test_delivery_sends_one_multipart_mail_per_panellist_with_headers_and_a_working_link(
    engine: AsyncEngine, world: World, sink_settings: Settings, smtp_sink: SmtpSink
) -> None:
    await queue(engine, world)
    report = await deliver_due(sink_settings, engine, now=T0)
    assert report.sent == 3 and report.claimed == 3
    received = sorted(smtp_sink.messages(), key=lambda r: r.to)
    assert [r.rcpt_tos for r in received] == [(address(i),) for i in range(3)]
    for i, got in enumerate(received):
        message, pid = got.message, world.panellist_ids[i]
        assert got.envelope_from == "panel@test.example"
        assert message["From"] == "Delphi test <panel@test.example>"
        assert message["To"] == address(i) and message["Cc"] is None and message["Bcc"] is None
        assert message["Subject"] == "You're invited to share your views"
        assert message["Message-ID"].endswith("@test.example>") and message["Date"] is not None
        assert message["Auto-Submitted"] == "auto-generated"
        assert message.get_content_type() == "multipart/alternative"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        token = token_in(text)
        assert token_digest(token) == (await panellist(engine, pid)).token_hash
        assert f'href="http://testserver.local/p/{token}"' in html
        leave = f"http://testserver.local/p/{token}/leave"
        assert message["List-Unsubscribe"] == f"<{leave}>" and leave in text and leave in html
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert LINK_PLACEHOLDER not in text + html and WITHDRAW_PLACEHOLDER not in text + html
        for other in range(3):
            if other != i:
                assert address(other) not in got.raw.decode()
    for row in await rows(engine):
        assert (row.status, row.attempts, row.sent_at, row.last_error) == ("sent", 1, T0, "")
    assert (await deliver_due(sink_settings, engine, now=T0 + LATER)).claimed == 0
    assert len(smtp_sink.messages()) == 3


async def test_reissued_link_means_the_queued_mail_carries_the_new_token(
    engine: AsyncEngine, world: World, sink_settings: Settings, smtp_sink: SmtpSink
) -> None:
    pid = world.panellist_ids[0]
    await queue(engine, world, [pid])
    old_hash = (await panellist(engine, pid)).token_hash
    new_hash = token_digest(panellist_token(sink_settings.secret_key, pid, 2))
    async with make_sessionmaker(engine)() as session, session.begin():
        await session.execute(
            update(Panellist).where(Panellist.id == pid).values(session_version=2, token_hash=new_hash)
        )
    await deliver_due(sink_settings, engine, now=T0)
    (got,) = smtp_sink.messages()
    digest = token_digest(token_in(got.message.get_body(("plain",)).get_content()))
    assert digest == new_hash and digest != old_hash


async def test_mail_to_a_withdrawn_or_erased_panellist_is_cancelled_not_sent(
    engine: AsyncEngine, world: World, sink_settings: Settings, smtp_sink: SmtpSink
) -> None:
    await queue(engine, world)
    withdrawn, erased, present = world.panellist_ids
    async with make_sessionmaker(engine)() as session, session.begin():
        await session.execute(update(Panellist).where(Panellist.id == withdrawn).values(status="withdrawn"))
        await session.execute(update(Panellist).where(Panellist.id == erased).values(email=None))
    report = await deliver_due(sink_settings, engine, now=T0)
    assert (report.sent, report.cancelled) == (1, 2)
    assert smtp_sink.to_addresses() == [address(2)]
    status = {r.panellist_id: r.status for r in await rows(engine)}
    assert status == {withdrawn: "cancelled", erased: "cancelled", present: "sent"}


async def test_temporary_failure_is_retried_with_backoff_then_sent_once_the_server_accepts(
    engine: AsyncEngine, world: World, sink_settings: Settings, smtp_sink: SmtpSink
) -> None:
    pid = world.panellist_ids[0]
    await queue(engine, world, [pid])
    smtp_sink.temporary.add(address(0))
    report = await deliver_due(sink_settings, engine, now=T0)
    assert (report.sent, report.retried) == (0, 1)
    (row,) = await rows(engine)
    assert (row.status, row.attempts) == ("queued", 1)
    assert row.next_attempt_at > T0 and "451" in row.last_error
    assert (await deliver_due(sink_settings, engine, now=T0)).claimed == 0  # not due yet: backing off
    smtp_sink.temporary.clear()
    assert (await deliver_due(sink_settings, engine, now=T0 + LATER)).sent == 1
    (row,) = await rows(engine)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, "")
    assert smtp_sink.to_addresses() == [address(0)]


async def test_backoff_grows_with_each_failed_attempt(
    engine: AsyncEngine, world: World, sink_settings: Settings, smtp_sink: SmtpSink
) -> None:
    settings = smtp_sink.settings_for(sink_settings, max_attempts=5)
    await queue(engine, world, world.panellist_ids[:1])
    smtp_sink.temporary.add(address(0))
    now, waits = T0, []
    for _ in range(3):
        await deliver_due(settings, engine, now=now)
        (row,) = await rows(engine)
        waits.append(row.next_attempt_at - now)
        now = row.next_attempt_at
    assert waits[0] < waits[1] < waits[2]


async def test_permanent_refusal_dead_letters_the_mail_bounces_the_panellist_and_tells_facilitators(
    engine: AsyncEngine, world: World, sink_settings: Settings, smtp_sink: SmtpSink
) -> None:
    pid = world.panellist_ids[1]
    await queue(engine, world)
    smtp_sink.permanent.add(address(1))
    report = await deliver_due(sink_settings, engine, now=T0)
    # Two invitations, then (in the same run) the notices to the owner and the facilitator, not the researcher.
    assert (report.sent, report.bounced) == (4, 1)
    dead = (await rows(engine, status="dead"))[0]
    assert dead.panellist_id == pid and "550" in dead.last_error
    person = await panellist(engine, pid)
    assert person.status == "bounced" and person.bounced_at == T0
    async with make_sessionmaker(engine)() as session:
        events = (await session.scalars(select(AuditEvent).where(AuditEvent.action == "mail.bounced"))).all()
    assert [(e.panel_id, e.detail["pseudonym"], e.detail["message_id"]) for e in events] == [
        (world.panel.id, "P-001", dead.id)
    ]
    notices = await rows(engine, kind=kinds.facilitator_notice.name)
    assert sorted(n.to_address for n in notices) == [
        world.accounts["facilitator"].email,
        world.accounts["owner"].email,
    ]
    for notice in notices:
        assert notice.status == "sent" and notice.panellist_id is None and notice.headers == {}
        assert "P-001" in notice.subject and address(1) not in notice.body_text + notice.body_html
    sent_notices = [
        r
        for r in smtp_sink.messages()
        if r.rcpt_tos[0] in (world.accounts["owner"].email, world.accounts["facilitator"].email)
    ]
    assert len(sent_notices) == 2
    for got in sent_notices:
        assert got.message["List-Unsubscribe"] is None
        assert (
            f"http://testserver.local/panels/{world.panel.id}/mail"
            in got.message.get_body(("plain",)).get_content()
        )
    # Another run: nothing new (the bounce is not notified twice).
    assert (await deliver_due(sink_settings, engine, now=T0 + LATER)).claimed == 0


async def test_mail_is_dead_after_max_attempts_and_facilitators_get_one_notice(
    engine: AsyncEngine, world: World, sink_settings: Settings, smtp_sink: SmtpSink
) -> None:
    await queue(engine, world, world.panellist_ids[:2])
    smtp_sink.temporary.update({address(0), address(1)})
    now = T0
    for attempt in range(1, sink_settings.mail.max_attempts + 1):
        await deliver_due(sink_settings, engine, now=now)
        invitations = await rows(engine, kind=kinds.invitation.name)
        assert {r.attempts for r in invitations} == {attempt}
        now += LATER
    assert {r.status for r in await rows(engine, kind=kinds.invitation.name)} == {"dead"}
    notices = await rows(engine, kind=kinds.facilitator_notice.name)
    assert len(notices) == 2  # one per facilitator for the day, not one per dead letter
    assert all("could not be delivered" in n.body_text for n in notices)
    assert (await panellist(engine, world.panellist_ids[0])).status == "invited"  # an outage is not a bounce


async def test_retry_dead_requeues_dead_letters_with_attempts_reset_and_audits_it(
    engine: AsyncEngine, world: World, sink_settings: Settings, smtp_sink: SmtpSink
) -> None:
    await queue(engine, world, world.panellist_ids[:2])
    smtp_sink.permanent.update({address(0), address(1)})
    await deliver_due(sink_settings, engine, now=T0)
    dead = await rows(engine, kind=kinds.invitation.name)
    assert [r.status for r in dead] == ["dead", "dead"]
    smtp_sink.permanent.clear()
    async with make_sessionmaker(engine)() as session, session.begin():
        retried = await retry_dead(
            session, world.panel.id, [dead[0].id], actor=Actor("account:owner@example.org"), now=T0
        )
    assert retried == 1
    (row,) = await rows(engine, id=dead[0].id)
    assert (row.status, row.attempts) == ("queued", 0)
    smtp_sink.received.clear()
    await deliver_due(sink_settings, engine, now=T0 + LATER)
    assert address(0) in smtp_sink.to_addresses() and address(1) not in smtp_sink.to_addresses()
    assert [r.status for r in await rows(engine, kind=kinds.invitation.name)] == ["sent", "dead"]
    async with make_sessionmaker(engine)() as session, session.begin():
        assert await retry_dead(session, world.panel.id) == 1  # all remaining dead letters
        assert await retry_dead(session, world.panel.id + 1) == 0  # another panel's: none
        event = await session.scalar(
            select(AuditEvent).where(AuditEvent.action == "mail.retried").order_by(AuditEvent.id)
        )
    assert event is not None and event.actor == "account:owner@example.org"
    assert event.detail["message_ids"] == [dead[0].id]


async def test_delivery_cancelled_mid_batch_resumes_after_the_lease_with_duplicates_bounded_by_the_batch(
    engine: AsyncEngine, settings: Settings, smtp_sink: SmtpSink
) -> None:
    async with make_sessionmaker(engine)() as session, session.begin():
        world = await build_panel(session, panellists=40, **MAIL_PANEL)
        await queue_invitations(session, world)
    batch = 10
    fast = smtp_sink.settings_for(settings, pool_size=2, batch_size=batch)
    smtp_sink.delay = 0.01
    task = asyncio.create_task(deliver_due(fast, engine, now=T0))
    await smtp_sink.wait_for(15)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    before = len(smtp_sink.messages())
    assert before < 40
    smtp_sink.delay = 0
    # A new worker (the old one is dead): nothing is due until the lease of the in-flight rows has expired.
    await deliver_due(fast, engine, now=T0 + LEASE + LATER)
    counts = Counter(smtp_sink.to_addresses())
    assert set(counts) == {address(i) for i in range(40)}
    assert sum(counts.values()) - 40 <= batch
    assert {r.status for r in await rows(engine)} == {"sent"}


async def test_smtp_server_down_then_back_delivers_everything(
    engine: AsyncEngine, world: World, sink_settings: Settings, smtp_sink: SmtpSink
) -> None:
    await queue(engine, world)
    smtp_sink.stop()
    report = await deliver_due(sink_settings, engine, now=T0)
    assert report.sent == 0 and report.unreachable
    queued = await rows(engine)
    assert {r.status for r in queued} == {"queued"} and all(r.next_attempt_at > T0 for r in queued)
    assert sum(r.attempts for r in queued) <= sink_settings.mail.pool_size  # untried mail is not counted
    smtp_sink.start()
    report = await deliver_due(sink_settings, engine, now=T0 + LATER)
    assert report.sent == 3
    assert sorted(smtp_sink.to_addresses()) == [address(i) for i in range(3)]


async def test_pooled_connection_dropped_by_the_server_is_reopened(
    engine: AsyncEngine, world: World, sink_settings: Settings, smtp_sink: SmtpSink
) -> None:
    pool = SmtpPool(sink_settings.mail)
    try:
        await queue(engine, world, world.panellist_ids[:1])
        assert (await deliver_due(sink_settings, engine, now=T0, pool=pool)).sent == 1
        smtp_sink.restart()  # closes the connections the pool keeps open
        await queue(engine, world, world.panellist_ids[1:])
        report = await deliver_due(sink_settings, engine, now=T0, pool=pool)
    finally:
        await pool.close()
    assert (report.sent, report.retried) == (2, 0)
    assert sorted(smtp_sink.to_addresses()) == [address(i) for i in range(3)]


async def test_two_workers_at_once_never_send_the_same_message(
    engine: AsyncEngine, settings: Settings, smtp_sink: SmtpSink
) -> None:
    async with make_sessionmaker(engine)() as session, session.begin():
        world = await build_panel(session, panellists=60, **MAIL_PANEL)
        await queue_invitations(session, world)
    fast = smtp_sink.settings_for(settings, pool_size=2, batch_size=7)
    reports = await asyncio.gather(
        deliver_due(fast, engine, now=T0, worker_id="a"), deliver_due(fast, engine, now=T0, worker_id="b")
    )
    assert sum(r.sent for r in reports) == 60
    counts = Counter(smtp_sink.to_addresses())
    assert len(counts) == 60 and set(counts.values()) == {1}


async def test_facilitator_mail_is_sent_as_rendered_without_panellist_headers(
    engine: AsyncEngine, world: World, sink_settings: Settings, smtp_sink: SmtpSink
) -> None:
    context = kinds.facilitator_notice(
        panel_title="A panel", panel_url="http://testserver.local/panels/1", notice="dead", count=2
    )
    async with make_sessionmaker(engine)() as session, session.begin():
        await enqueue_mail(
            session,
            kinds.facilitator_notice,
            context,
            to_address=world.accounts["owner"].email,
            dedupe_key="notice:test",
            panel_id=world.panel.id,
        )
    assert (await deliver_due(sink_settings, engine, now=T0)).sent == 1
    (got,) = smtp_sink.messages()
    assert got.message["List-Unsubscribe"] is None and got.rcpt_tos == (world.accounts["owner"].email,)
    assert "2 messages could not be delivered" in got.message.get_body(("plain",)).get_content()


async def test_stopping_a_run_finishes_the_batch_in_hand_and_gives_back_the_rest_untried(
    engine: AsyncEngine, settings: Settings, smtp_sink: SmtpSink
) -> None:
    async with make_sessionmaker(engine)() as session, session.begin():
        world = await build_panel(session, panellists=30, **MAIL_PANEL)
        await queue_invitations(session, world)
    batch = 10
    fast = smtp_sink.settings_for(settings, pool_size=2, batch_size=batch)
    smtp_sink.delay = 0.01
    stop = asyncio.Event()
    run = asyncio.create_task(deliver_due(fast, engine, now=T0, stop=stop))
    await smtp_sink.wait_for(1)
    stop.set()
    report = await run
    assert report.sent % batch == 0 and 0 < report.sent < 30  # whole batches only
    left = await rows(engine, status="queued")
    assert len(left) == 30 - report.sent
    assert all(r.attempts == 0 and r.next_attempt_at <= T0 for r in left)  # due at once for any worker
    smtp_sink.delay = 0
    await deliver_due(fast, engine, now=T0)
    assert sorted(Counter(smtp_sink.to_addresses()).values()) == [1] * 30


async def test_a_batch_slower_than_half_the_lease_gives_back_what_it_has_not_tried(
    engine: AsyncEngine, settings: Settings, smtp_sink: SmtpSink
) -> None:
    async with make_sessionmaker(engine)() as session, session.begin():
        world = await build_panel(session, panellists=12, **MAIL_PANEL)
        await queue_invitations(session, world)
    slow = smtp_sink.settings_for(settings, pool_size=2, batch_size=12)
    smtp_sink.delay = 0.05
    report = await deliver_due(slow, engine, now=T0, lease=timedelta(seconds=0.2))
    assert report.deferred > 0 and report.sent == 12
    assert sorted(Counter(smtp_sink.to_addresses()).values()) == [1] * 12  # never sent twice
    assert {(r.status, r.attempts) for r in await rows(engine)} == {("sent", 1)}
