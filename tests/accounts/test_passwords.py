"""Password change, reset by e-mail and an admin's new password, as use cases on the database (both backends).

The reset mail goes through a real SMTP server (tests/smtp.py): the outbox keeps only the link placeholder, and
the link in the delivered mail is the one that works.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.accounts import LOCKOUT, MAX_FAILED_LOGINS, LoginFailed, authenticate, passwords, sessions
from delphi.accounts.admin import account_by_email, deactivate_account, list_accounts
from delphi.accounts.links import ONE_TIME_LINK_PLACEHOLDER
from delphi.db.engine import make_sessionmaker
from delphi.db.models import Account, AccountSession, AuditEvent, OneTimeLink, OutboxMessage
from delphi.errors import InvalidInput, NotFound
from delphi.mail.delivery import deliver_due
from delphi.security import one_time_token, token_digest, verify_password
from delphi.settings import Settings
from tests.factories import PASSWORD
from tests.helpers import make_account
from tests.smtp import SmtpSink

EMAIL = "fac@example.org"
NEW = "a brand new passphrase"
T0 = datetime(2030, 1, 15, 9, 0, tzinfo=UTC)
RESET_LINK = re.compile(r"http://testserver\.local/password/reset/([A-Za-z0-9_-]{43})")


@pytest.fixture
def sink_settings(settings: Settings, smtp_sink: SmtpSink) -> Settings:
    return smtp_sink.settings_for(settings, pool_size=1, batch_size=10, max_attempts=3)


async def start_sessions(engine: AsyncEngine, count: int, email: str = EMAIL) -> list[int]:
    """Start ``count`` sessions of the account (as ``count`` browsers signing in); their ids."""
    async with make_sessionmaker(engine)() as session, session.begin():
        account = await account_by_email(session, email)
        return [(await sessions.start_session(session, account, user_agent="")).id for _ in range(count)]


async def live_ids(engine: AsyncEngine) -> set[int]:
    async with make_sessionmaker(engine)() as session:
        rows = await session.scalars(select(AccountSession.id).where(AccountSession.revoked_at.is_(None)))
        return set(rows.all())


async def account(engine: AsyncEngine, email: str = EMAIL) -> Account:
    async with make_sessionmaker(engine)() as session:
        return await account_by_email(session, email)


async def actions(engine: AsyncEngine) -> list[str]:
    async with make_sessionmaker(engine)() as session:
        return list((await session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all())


async def request(settings: Settings, engine: AsyncEngine, email: str = EMAIL, now: datetime = T0) -> None:
    async with make_sessionmaker(engine)() as session, session.begin():
        assert await passwords.request_reset(session, settings, email, now=now) is None


async def reset_links(engine: AsyncEngine) -> list[OneTimeLink]:
    async with make_sessionmaker(engine)() as session:
        return list((await session.scalars(select(OneTimeLink).order_by(OneTimeLink.id))).all())


async def outbox(engine: AsyncEngine) -> list[OutboxMessage]:
    async with make_sessionmaker(engine)() as session:
        return list((await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all())


def token_of(settings: Settings, link: OneTimeLink) -> str:
    """The link's token, derived as delivery derives it for the mail."""
    return one_time_token(settings.secret_key, link.id, link.nonce)


async def reset(engine: AsyncEngine, token: str, new: str = NEW, now: datetime = T0) -> Account:
    async with make_sessionmaker(engine)() as session, session.begin():
        return await passwords.reset_password(session, token, new, repeat=new, now=now)


async def test_a_change_ends_the_other_sessions_and_keeps_this_one(engine: AsyncEngine) -> None:
    await make_account(engine, EMAIL)
    this, *others = await start_sessions(engine, 3)
    async with make_sessionmaker(engine)() as session, session.begin():
        me = await account_by_email(session, EMAIL)
        ended = await passwords.change_password(session, me, PASSWORD, NEW, repeat=NEW, keep_session=this)
    assert ended == len(others) == 2
    assert await live_ids(engine) == {this}
    assert verify_password((await account(engine)).password_hash, NEW)
    assert "account.password_changed" in await actions(engine)


async def test_a_wrong_current_password_is_refused_with_every_problem_at_once_and_nothing_saved(
    engine: AsyncEngine,
) -> None:
    await make_account(engine, EMAIL)
    this, other = await start_sessions(engine, 2)
    async with make_sessionmaker(engine)() as session, session.begin():
        me = await account_by_email(session, EMAIL)
        with pytest.raises(InvalidInput) as refused:
            await passwords.change_password(
                session, me, "not my password", "short", repeat="other", keep_session=this
            )
    assert [field for field, _ in refused.value.errors] == ["current", "new", "repeat"]
    assert "current password is not right" in refused.value.errors[0][1]
    assert "at least 10 characters" in refused.value.errors[1][1]
    assert await live_ids(engine) == {this, other}
    assert verify_password((await account(engine)).password_hash, PASSWORD)
    assert "account.password_changed" not in await actions(engine)


async def test_an_empty_current_password_is_asked_for(engine: AsyncEngine) -> None:
    await make_account(engine, EMAIL)
    async with make_sessionmaker(engine)() as session:
        me = await account_by_email(session, EMAIL)
        with pytest.raises(InvalidInput) as refused:
            await passwords.change_password(session, me, "", NEW, keep_session=None)
    assert refused.value.errors == [("current", "Enter your current password.")]


async def test_a_reset_link_works_once(engine: AsyncEngine, settings: Settings) -> None:
    await make_account(engine, EMAIL)
    await request(settings, engine)
    (link,) = await reset_links(engine)
    token = token_of(settings, link)
    assert link.token_hash == token_digest(token) and link.expires_at == T0 + passwords.RESET_LIFETIME
    assert (await reset(engine, token)).email == EMAIL
    assert verify_password((await account(engine)).password_hash, NEW)
    with pytest.raises(passwords.LinkUnusable):
        await reset(engine, token, "yet another passphrase")
    assert verify_password((await account(engine)).password_hash, NEW)


async def test_a_reset_link_stops_working_after_an_hour(engine: AsyncEngine, settings: Settings) -> None:
    await make_account(engine, EMAIL)
    await request(settings, engine)
    token = token_of(settings, (await reset_links(engine))[0])
    async with make_sessionmaker(engine)() as session:
        await passwords.check_reset_link(session, token, now=T0 + timedelta(minutes=59))
    with pytest.raises(passwords.LinkUnusable):
        await reset(engine, token, now=T0 + timedelta(hours=1))
    assert verify_password((await account(engine)).password_hash, PASSWORD)


async def test_a_newer_request_spends_the_older_link(engine: AsyncEngine, settings: Settings) -> None:
    await make_account(engine, EMAIL)
    await request(settings, engine, now=T0)
    await request(settings, engine, now=T0 + passwords.RESET_MAIL_INTERVAL + timedelta(seconds=1))
    older, newer = await reset_links(engine)
    assert older.used_at is not None and newer.used_at is None
    assert len(await outbox(engine)) == 2
    later = T0 + timedelta(minutes=10)
    with pytest.raises(passwords.LinkUnusable):
        await reset(engine, token_of(settings, older), now=later)
    await reset(engine, token_of(settings, newer), now=later)


async def test_a_second_request_within_a_few_minutes_sends_nothing_more(
    engine: AsyncEngine, settings: Settings
) -> None:
    await make_account(engine, EMAIL)
    await request(settings, engine, now=T0)
    await request(settings, engine, now=T0 + passwords.RESET_MAIL_INTERVAL - timedelta(seconds=1))
    (link,) = await reset_links(engine)
    assert link.used_at is None  # the first mail's link still works
    assert len(await outbox(engine)) == 1


async def test_an_unknown_or_deactivated_address_sends_nothing_but_answers_the_same(
    engine: AsyncEngine, settings: Settings
) -> None:
    await make_account(engine, EMAIL)
    await make_account(engine, "gone@example.org")
    async with make_sessionmaker(engine)() as session, session.begin():
        await deactivate_account(session, await account_by_email(session, "gone@example.org"))
    for address in ("nobody@example.org", "gone@example.org", "  GONE@example.org "):
        await request(settings, engine, address)  # returns None and raises nothing, like a known address
    assert await reset_links(engine) == [] and await outbox(engine) == []
    await request(settings, engine, " FAC@Example.org")
    assert len(await outbox(engine)) == 1
    with pytest.raises(InvalidInput):  # a malformed address is refused, the same for everyone
        await request(settings, engine, "not an address")


async def test_the_outbox_holds_only_the_placeholder_and_the_delivered_mail_holds_a_link_that_works(
    engine: AsyncEngine, sink_settings: Settings, smtp_sink: SmtpSink
) -> None:
    await make_account(engine, EMAIL)
    await request(sink_settings, engine)
    (row,) = await outbox(engine)
    (link,) = await reset_links(engine)
    token = token_of(sink_settings, link)
    assert row.kind == "password_reset" and row.link_id == link.id and row.to_address == EMAIL
    for stored in (row.body_text, row.body_html, row.subject):
        assert token not in stored
    assert ONE_TIME_LINK_PLACEHOLDER in row.body_text and ONE_TIME_LINK_PLACEHOLDER in row.body_html
    report = await deliver_due(sink_settings, engine, now=T0 + timedelta(minutes=1))
    assert report.sent == 1
    (got,) = smtp_sink.messages()
    assert got.rcpt_tos == (EMAIL,)
    assert got.message["Subject"] == "Choose a new password"
    text = got.message.get_body(("plain",)).get_content()
    html = got.message.get_body(("html",)).get_content()
    assert ONE_TIME_LINK_PLACEHOLDER not in text + html
    assert "works once, for one hour" in text and "ignore this e-mail" in text
    (mailed,) = set(RESET_LINK.findall(text))
    assert mailed == token and f'href="http://testserver.local/password/reset/{mailed}"' in html
    await reset(engine, mailed, now=T0 + timedelta(minutes=2))
    assert verify_password((await account(engine)).password_hash, NEW)


async def test_a_mail_whose_link_was_spent_before_delivery_is_cancelled(
    engine: AsyncEngine, sink_settings: Settings, smtp_sink: SmtpSink
) -> None:
    await make_account(engine, EMAIL)
    await request(sink_settings, engine)
    async with make_sessionmaker(engine)() as session, session.begin():  # an admin sets a password meanwhile
        await passwords.set_password(session, await account_by_email(session, EMAIL), NEW, now=T0)
    report = await deliver_due(sink_settings, engine, now=T0 + timedelta(minutes=1))
    assert report.sent == 0 and smtp_sink.messages() == []
    assert [r.status for r in await outbox(engine)] == ["cancelled"]


async def test_a_reset_ends_every_session_and_clears_the_lockout(
    engine: AsyncEngine, settings: Settings
) -> None:
    await make_account(engine, EMAIL)
    await start_sessions(engine, 2)
    now = datetime.now(UTC)
    for _ in range(MAX_FAILED_LOGINS):
        async with make_sessionmaker(engine)() as session:
            with pytest.raises(LoginFailed):
                await authenticate(session, EMAIL, "wrong password!", now=now)
            await session.commit()
    assert (await account(engine)).locked_until == now + LOCKOUT
    await request(settings, engine, now=now)
    await reset(engine, token_of(settings, (await reset_links(engine))[0]), now=now)
    locked = await account(engine)
    assert locked.locked_until is None and locked.failed_logins == 0
    assert await live_ids(engine) == set()
    async with make_sessionmaker(engine)() as session, session.begin():
        assert (await authenticate(session, EMAIL, NEW, now=now)).email == EMAIL
    assert {"account.password_reset", "sessions.revoked"} <= set(await actions(engine))


async def test_a_refused_new_password_leaves_the_link_usable(engine: AsyncEngine, settings: Settings) -> None:
    await make_account(engine, EMAIL)
    await request(settings, engine)
    token = token_of(settings, (await reset_links(engine))[0])
    async with make_sessionmaker(engine)() as session, session.begin():
        with pytest.raises(InvalidInput) as refused:
            await passwords.reset_password(session, token, "short", repeat="shorter", now=T0)
    assert [field for field, _ in refused.value.errors] == ["new", "repeat"]
    await reset(engine, token)


async def test_an_unknown_or_malformed_token_is_the_one_neutral_refusal(engine: AsyncEngine) -> None:
    for token in ("", "not-anyones-token", "x" * 5000):
        with pytest.raises(passwords.LinkUnusable) as refused:
            await reset(engine, token)
        assert refused.value.message == passwords.LINK_UNUSABLE and refused.value.status_code == 404


async def test_a_link_of_an_account_deactivated_since_does_not_work(
    engine: AsyncEngine, settings: Settings
) -> None:
    await make_account(engine, EMAIL)
    await request(settings, engine)
    token = token_of(settings, (await reset_links(engine))[0])
    async with make_sessionmaker(engine)() as session, session.begin():
        await deactivate_account(session, await account_by_email(session, EMAIL))
    with pytest.raises(passwords.LinkUnusable):
        await reset(engine, token)


async def test_deactivating_ends_the_sessions_and_refuses_sign_in_and_tokens(engine: AsyncEngine) -> None:
    from delphi.accounts import account_for_token, create_api_token

    await make_account(engine, EMAIL)
    await start_sessions(engine, 2)
    async with make_sessionmaker(engine)() as session, session.begin():
        _, api_token = await create_api_token(session, await account_by_email(session, EMAIL), "script")
    async with make_sessionmaker(engine)() as session, session.begin():
        me = await account_by_email(session, EMAIL)
        assert await deactivate_account(session, me) == 2
        assert await deactivate_account(session, me) == 0  # again: nothing more to do
    assert await live_ids(engine) == set()
    assert (await actions(engine)).count("account.deactivated") == 1
    async with make_sessionmaker(engine)() as session:
        assert await account_for_token(session, api_token) is None
        with pytest.raises(LoginFailed):
            await authenticate(session, EMAIL, PASSWORD)


async def test_an_admin_sets_a_password_ending_every_session(engine: AsyncEngine) -> None:
    await make_account(engine, EMAIL)
    await start_sessions(engine, 2)
    async with make_sessionmaker(engine)() as session, session.begin():
        me = await account_by_email(session, EMAIL)
        with pytest.raises(InvalidInput, match="at least 10 characters"):
            await passwords.set_password(session, me, "short")
        assert await passwords.set_password(session, me, NEW) == 2
    assert verify_password((await account(engine)).password_hash, NEW)
    assert await live_ids(engine) == set()
    assert "account.password_set" in await actions(engine)


async def test_the_listing_holds_every_account_without_password_data(engine: AsyncEngine) -> None:
    await make_account(engine, "b@example.org", role="researcher")
    await make_account(engine, "a@example.org")
    async with make_sessionmaker(engine)() as session:
        lines = await list_accounts(session)
        count = await session.scalar(select(func.count()).select_from(Account))
        with pytest.raises(NotFound, match=r"no account for nobody@example\.org"):
            await account_by_email(session, "Nobody@example.org")
    assert len(lines) == count == 2
    assert [(line.email, line.role, line.is_active) for line in lines] == [
        ("a@example.org", "facilitator", True),
        ("b@example.org", "researcher", True),
    ]
    assert not any("password" in field for field in lines[0].__slots__)
