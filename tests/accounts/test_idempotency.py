"""A retried API request's first answer: claimed with the change, replayed, refused for another request."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.accounts import idempotency
from delphi.accounts.idempotency import KeyReused, Stored, claim, complete, fingerprint
from delphi.db.models import IdempotencyKey, utcnow
from tests.factories import make_account


async def test_the_first_request_claims_its_key_and_a_retry_gets_the_stored_answer(
    session: AsyncSession,
) -> None:
    account = await make_account(session, "script@facilitators.example")
    await session.commit()
    print_ = fingerprint("POST", "/api/v1/panels/1/rounds/1/open", b"{}")
    row = await claim(session, account.id, "key-1", print_)
    assert isinstance(row, IdempotencyKey)
    complete(row, 200, '{"number": 1}')
    await session.commit()
    again = await claim(session, account.id, "key-1", print_)
    assert again == Stored(200, '{"number": 1}')
    await session.rollback()


async def test_a_refused_request_leaves_no_key_so_its_retry_runs_afresh(session: AsyncSession) -> None:
    account = await make_account(session, "script@facilitators.example")
    await session.commit()
    account_id = account.id
    print_ = fingerprint("POST", "/api/v1/panels/1/rounds/1/open", b"")
    assert isinstance(await claim(session, account_id, "k", print_), IdempotencyKey)
    await session.rollback()  # the use case refused: the whole transaction goes
    assert isinstance(await claim(session, account_id, "k", print_), IdempotencyKey)


async def test_the_same_key_for_another_request_is_refused_naming_the_header(session: AsyncSession) -> None:
    account = await make_account(session, "script@facilitators.example")
    await session.commit()
    row = await claim(session, account.id, "k", fingerprint("POST", "/api/v1/panels/1/rounds/1/open", b""))
    assert isinstance(row, IdempotencyKey)
    complete(row, 200, "{}")
    await session.commit()
    with pytest.raises(KeyReused) as refused:
        await claim(session, account.id, "k", fingerprint("POST", "/api/v1/panels/1/rounds/1/close", b""))
    assert refused.value.status_code == 422 and refused.value.errors[0][0] == "Idempotency-Key"


async def test_keys_belong_to_one_account_and_expire_after_a_day(session: AsyncSession) -> None:
    one = (await make_account(session, "one@facilitators.example")).id
    two = (await make_account(session, "two@facilitators.example")).id
    await session.commit()
    print_ = fingerprint("POST", "/x", b"")
    for account in (one, two):
        row = await claim(session, account, "shared", print_)
        assert isinstance(row, IdempotencyKey)  # another account's key is not this one's
        complete(row, 201, "{}")
    await session.commit()
    await session.execute(
        update(IdempotencyKey)
        .where(IdempotencyKey.account_id == one)
        .values(created_at=utcnow() - idempotency.KEEP - timedelta(minutes=1))
    )
    await session.commit()
    assert isinstance(await claim(session, one, "shared", print_), IdempotencyKey)  # expired: runs again
    assert await session.scalar(select(func.count()).select_from(IdempotencyKey)) == 2


def test_the_fingerprint_tells_apart_method_path_and_body_even_where_their_bytes_run_together() -> None:
    base = fingerprint("POST", "/a", b"b")
    assert base == fingerprint("post", "/a", b"b")
    assert base != fingerprint("POST", "/ab", b"")
    assert base != fingerprint("PUT", "/a", b"b")
    assert base != fingerprint("POST", "/a", b"c")
