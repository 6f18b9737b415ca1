"""A large panellist import is written in bounded transactions (:func:`import_panellists_in_chunks`), on SQLite
and PostgreSQL: saves land between its chunks, an interrupted import run again imports the rest and counts the
rows already there, a bad file imports nothing, concurrent imports keep pseudonyms and e-mails unique, and late
joiners of an open round are invited once each."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.engine import make_sessionmaker
from delphi.db.locks import begin_write
from delphi.db.models import AuditEvent, OutboxMessage, Panel, Panellist, Rating
from delphi.errors import InvalidInput
from delphi.panels import imports
from delphi.panels.panellists import (
    ImportOutcome,
    import_panellists_in_chunks,
    preview_panellist_import,
)
from delphi.participation.checks import RatingInput
from delphi.participation.saving import save_rating
from delphi.rounds import mailing
from delphi.settings import Settings
from tests.factories import ACTOR, World, build_panel


@pytest.fixture
async def world(engine: AsyncEngine) -> World:
    """Round 1 open (imported panellists are late joiners), one consented panellist who can save."""
    async with make_sessionmaker(engine)() as session, session.begin():
        return await build_panel(session, consented=True, panel_kw={"analysis_population": "all"})


def people(n: int, start: int = 0, group: str = "Service users") -> str:
    """A panellist CSV of ``n`` rows, ``new<i>@example.org`` from ``start``."""
    rows = [f"new{i}@example.org,{group},Person {i},en" for i in range(start, start + n)]
    return "\n".join(["email,group,name,language", *rows]) + "\n"


async def run_import(
    engine: AsyncEngine, world: World, settings: Settings, text: str, **kw: Any
) -> ImportOutcome:
    """The web's import: preview the file, then import it in chunks in the same session."""
    async with make_sessionmaker(engine)() as session:
        panel = await session.get(Panel, world.panel.id)
        assert panel is not None
        parsed = await preview_panellist_import(session, panel, text)
        try:
            return await import_panellists_in_chunks(
                session, panel, parsed, secret_key=settings.secret_key, actor=ACTOR, **kw
            )
        finally:
            await session.rollback()  # what the request does when the import raised


async def count(engine: AsyncEngine, *where: Any, of: Any = Panellist) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(of).where(*where)) or 0)


def invite(panel: Panel) -> Any:
    return lambda session, created: mailing.invite_late_joiners(session, panel, created)


async def test_a_1200_row_import_commits_in_several_transactions_and_a_save_lands_between_them(
    engine: AsyncEngine, world: World, settings: Settings
) -> None:
    first_chunk = asyncio.Event()
    seen_between: list[int] = []  # panellists committed when each chunk started, seen from another connection
    save_done_during_import: list[bool] = []
    importing = True

    async def on_chunk(session: AsyncSession, created: list[Panellist]) -> None:
        seen_between.append(await count(engine, Panellist.email.like("new%")))
        first_chunk.set()

    async def save_while_importing() -> None:
        await first_chunk.wait()  # chunk 1 holds the write lock now (SQLite)
        async with make_sessionmaker(engine)() as session, session.begin():
            await begin_write(session)
            person = await session.get(Panellist, world.panellist.id)
            assert person is not None
            await save_rating(session, person, RatingInput(world.statements[0].id, 7))
        save_done_during_import.append(importing)

    async with make_sessionmaker(engine)() as session:
        commits: list[int] = []
        event.listen(session.sync_session, "after_commit", lambda _s: commits.append(1))
        panel = await session.get(Panel, world.panel.id)
        assert panel is not None
        parsed = await preview_panellist_import(session, panel, people(1200))
        saver = asyncio.create_task(save_while_importing())
        outcome = await import_panellists_in_chunks(
            session,
            panel,
            parsed,
            secret_key=settings.secret_key,
            actor=ACTOR,
            chunk_rows=100,
            on_chunk=on_chunk,
        )
        importing = False
        await saver

    assert outcome == ImportOutcome(imported=1200, skipped=0, chunks=12)
    assert len(commits) == 12
    assert seen_between == [100 * n for n in range(12)]  # each chunk's rows were visible before the next
    assert save_done_during_import == [True]  # the save did not wait for the whole import
    assert await count(engine, Rating.panellist_id == world.panellist.id, of=Rating) == 1
    assert await count(engine, Panellist.email.like("new%")) == 1200
    async with engine.connect() as conn:
        details = (
            await conn.scalars(
                select(AuditEvent.detail)
                .where(AuditEvent.action == "panellist.imported")
                .order_by(AuditEvent.id)
            )
        ).all()
    assert [d["chunk"] for d in details] == list(range(1, 13))
    assert {d["chunks"] for d in details} == {12} and sum(d["count"] for d in details) == 1200
    assert len({d["import"] for d in details}) == 1


async def test_an_interrupted_import_run_again_imports_the_rest_and_reports_the_skipped_rows(
    engine: AsyncEngine, world: World, settings: Settings
) -> None:
    text = people(1200)

    async def dies_in_chunk_3(session: AsyncSession, created: list[Panellist]) -> None:
        await mailing.invite_late_joiners(session, world.panel, created)
        if await count(engine, Panellist.email.like("new%")) == 1000:
            raise RuntimeError("the process was killed")

    with pytest.raises(RuntimeError):
        await run_import(engine, world, settings, text, chunk_rows=500, on_chunk=dies_in_chunk_3)
    # Two whole chunks landed, each with its invitations and its audit event; the third left nothing.
    assert await count(engine, Panellist.email.like("new%")) == 1000
    assert await count(engine, OutboxMessage.kind == "invitation", of=OutboxMessage) == 1000
    assert await count(engine, AuditEvent.action == "panellist.imported", of=AuditEvent) == 2

    async with make_sessionmaker(engine)() as session:
        panel = await session.get(Panel, world.panel.id)
        assert panel is not None
        preview = await preview_panellist_import(session, panel, text)
    assert preview.ok and len(preview.rows) == 200 and len(preview.skipped) == 1000
    assert [r.line for r in preview.rows] == list(range(1002, 1202))

    again = await run_import(engine, world, settings, text, on_chunk=invite(world.panel))
    assert again == ImportOutcome(imported=200, skipped=1000, chunks=1)
    assert await count(engine, Panellist.email.like("new%")) == 1200
    async with engine.connect() as conn:
        per_person = (
            await conn.execute(
                select(OutboxMessage.panellist_id, func.count())
                .where(OutboxMessage.kind == "invitation")
                .group_by(OutboxMessage.panellist_id)
            )
        ).all()
        pseudonyms = (await conn.scalars(select(Panellist.pseudonym))).all()
    assert len(per_person) == 1200 and {n for _, n in per_person} == {1}
    assert len(pseudonyms) == len(set(pseudonyms))

    with pytest.raises(InvalidInput, match="all 1200 row"):
        await run_import(engine, world, settings, text)


async def test_a_file_with_one_bad_row_among_1200_imports_nothing(
    engine: AsyncEngine, world: World, settings: Settings
) -> None:
    text = people(1200).replace("new700@example.org", "not-an-address")
    with pytest.raises(InvalidInput) as refused:
        await run_import(engine, world, settings, text, chunk_rows=100, on_chunk=invite(world.panel))
    assert [where for where, _ in refused.value.errors] == ["line 702"]
    assert await count(engine, Panellist.email.like("new%")) == 0
    assert await count(engine, of=OutboxMessage) == 0
    assert await count(engine, AuditEvent.action == "panellist.imported", of=AuditEvent) == 0


async def test_late_joiners_of_an_open_round_get_one_invitation_each(
    engine: AsyncEngine, world: World, settings: Settings
) -> None:
    outcome = await run_import(
        engine, world, settings, people(250), chunk_rows=100, on_chunk=invite(world.panel)
    )
    assert outcome.chunks == 3
    async with make_sessionmaker(engine)() as session, session.begin():
        panel = await session.get(Panel, world.panel.id)
        joiners = (await session.scalars(select(Panellist).where(Panellist.email.like("new%")))).all()
        assert panel is not None
        await mailing.invite_late_joiners(session, panel, joiners)  # again: the dedupe keys hold
    async with engine.connect() as conn:
        to = (
            await conn.scalars(select(OutboxMessage.to_address).where(OutboxMessage.kind == "invitation"))
        ).all()
    assert sorted(to) == sorted(f"new{i}@example.org" for i in range(250))


async def test_concurrent_imports_keep_pseudonyms_and_emails_unique(
    engine: AsyncEngine, world: World, settings: Settings
) -> None:
    same = people(300)
    outcomes = await asyncio.gather(
        run_import(engine, world, settings, same, chunk_rows=50),
        run_import(engine, world, settings, same, chunk_rows=50),
        run_import(engine, world, settings, people(300, start=300), chunk_rows=50),
    )
    assert outcomes[0].imported + outcomes[1].imported == 300
    assert outcomes[0].skipped + outcomes[1].skipped == 300  # each row landed once, the other run skipped it
    assert outcomes[2].imported == 300
    async with engine.connect() as conn:
        pseudonyms = (await conn.scalars(select(Panellist.pseudonym))).all()
    assert len(pseudonyms) == 601 and len(set(pseudonyms)) == 601


def test_a_row_on_the_panel_already_as_written_is_skipped_and_one_with_other_details_is_a_problem() -> None:
    text = "email,group,name,language\nana@example.org,experts,Ana,en\nbo@example.org,Experts,Bo,en\nnew@example.org,Experts,,en\n"
    on_panel = {"ana@example.org": ("Experts", "Ana", "en"), "bo@example.org": ("Experts", "Bob", "en")}
    parsed = imports.parse_panellists(text, ["Experts"], on_panel=on_panel)
    assert [r.email for r in parsed.skipped] == ["ana@example.org"]
    assert [r.email for r in parsed.rows] == ["new@example.org"]
    assert parsed.problems == [
        (3, "Bo@example.org is on this panel already, with another group, name or language.")
    ]
    assert not parsed.ok
    only_skipped = imports.parse_panellists(text.split("\nbo@")[0] + "\n", ["Experts"], on_panel=on_panel)
    assert (
        only_skipped.skipped and not only_skipped.rows and not only_skipped.problems and not only_skipped.ok
    )
