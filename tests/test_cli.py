"""The `delphi` command: migrations, accounts, and the demo seed, run as a user would."""

from __future__ import annotations

import asyncio
import html
from pathlib import Path

import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.cli import main
from delphi.db.engine import make_engine, make_sessionmaker
from delphi.db.models import (
    Account,
    AccountSession,
    IdeaAnswer,
    OpenQuestion,
    OutboxMessage,
    Panel,
    PanelAccess,
    Panellist,
    Round,
    RoundResult,
    RoundStatement,
    utcnow,
)
from delphi.demo import (
    DEMO_TITLE,
    OPEN_DEMO_ANSWERED,
    OPEN_DEMO_QUESTIONS,
    OPEN_DEMO_TITLE,
    demo_links,
    seed_demo,
    seed_open_demo,
)
from delphi.security import verify_password
from delphi.settings import DatabaseSettings, Settings
from tests.helpers import csrf_from
from tests.panellist.conftest import enter


async def query(url: str, stmt):  # type: ignore[no-untyped-def]
    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    try:
        async with make_sessionmaker(engine)() as session:
            return (await session.execute(stmt)).all()
    finally:
        await engine.dispose()


def test_database_upgrade_then_check_reports_no_drift(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DELPHI_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    assert runner.invoke(main, ["database", "upgrade"]).exit_code == 0
    check = runner.invoke(main, ["database", "check"])
    assert check.exit_code == 0 and "matches the models" in check.output


def test_accounts_create_reads_the_password_from_stdin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DELPHI_DATABASE_URL", url)
    runner = CliRunner()
    runner.invoke(main, ["database", "upgrade"])
    result = runner.invoke(
        main,
        ["accounts", "create", "--email", "Admin@Example.org", "--role", "admin", "--password-stdin"],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    (row,) = asyncio.run(query(url, select(Account.email, Account.role, Account.password_hash)))
    assert row.email == "admin@example.org" and row.role == "admin"
    assert verify_password(row.password_hash, "a long enough password")
    again = runner.invoke(
        main,
        ["accounts", "create", "--email", "admin@example.org", "--password-stdin"],
        input="a long enough password\n",
    )
    assert again.exit_code == 2 and "exists already" in again.output


def test_a_short_password_is_refused_with_the_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELPHI_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    runner.invoke(main, ["database", "upgrade"])
    result = runner.invoke(
        main, ["accounts", "create", "--email", "a@example.org", "--password-stdin"], input="short\n"
    )
    assert result.exit_code == 2 and "at least 10 characters" in result.output


def test_demo_seeds_a_panel_part_way_through(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DELPHI_DATABASE_URL", "DELPHI_SECRET_KEY", "DELPHI_DEV_MAIL"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    assert "facilitator@demo.example" in result.output and "Password" in result.output
    url = f"sqlite+aiosqlite:///{tmp_path / 'var' / 'demo.db'}"
    panels = asyncio.run(query(url, select(Panel.id, Panel.status).where(Panel.title == DEMO_TITLE)))
    assert len(panels) == 1 and panels[0].status == "running"
    first = panels[0].id
    rounds = asyncio.run(
        query(url, select(Round.number, Round.status).where(Round.panel_id == first).order_by(Round.number))
    )
    assert [tuple(r) for r in rounds] == [(1, "closed"), (2, "open")]
    ((n_people,),) = asyncio.run(
        query(url, select(func.count()).select_from(Panellist).where(Panellist.panel_id == first))
    )
    assert n_people == 30
    ((n_results,),) = asyncio.run(query(url, select(func.count()).select_from(RoundResult)))
    assert n_results == 10 * 4
    # 27 of the 30 sent round 1; the other three left drafts, which the default population leaves out
    pooled_n = asyncio.run(
        query(url, select(RoundResult.n, RoundResult.n_unable).where(RoundResult.scope == "all"))
    )
    assert {n + n_unable for n, n_unable in pooled_n} == {27}
    ((population,),) = asyncio.run(query(url, select(Panel.analysis_population).where(Panel.id == first)))
    assert population == "submitted"
    ((queued,),) = asyncio.run(
        query(
            url,
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "round_open", OutboxMessage.status == "queued"),
        )
    )
    assert queued == 30
    outcomes = asyncio.run(
        query(
            url,
            select(RoundStatement.verdict, RoundStatement.outcome)
            .join(Round, Round.id == RoundStatement.round_id)
            .where(Round.number == 1),
        )
    )
    verdicts = {v for v, _ in outcomes}
    assert {"in", "none"} <= verdicts  # some statements reach consensus, some do not
    assert any(o["split"] and o["lived_experience_split"] for _, o in outcomes)  # service users diverge
    # running it again changes nothing
    assert CliRunner().invoke(main, ["demo", "--no-serve"]).exit_code == 0
    assert len(asyncio.run(query(url, select(Panel.id)))) == 2


def test_demo_seeds_a_second_panel_whose_open_first_round_has_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("DELPHI_DATABASE_URL", "DELPHI_SECRET_KEY", "DELPHI_DEV_MAIL", "DELPHI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    url = f"sqlite+aiosqlite:///{tmp_path / 'var' / 'demo.db'}"
    owners = dict(
        asyncio.run(
            query(
                url,
                select(Panel.title, Account.email)
                .join(PanelAccess, PanelAccess.panel_id == Panel.id)
                .join(Account, Account.id == PanelAccess.account_id)
                .where(PanelAccess.role == "owner"),
            )
        )
    )
    assert owners == {DEMO_TITLE: "facilitator@demo.example", OPEN_DEMO_TITLE: "facilitator@demo.example"}
    ((panel_id,),) = asyncio.run(query(url, select(Panel.id).where(Panel.title == OPEN_DEMO_TITLE)))
    rounds = asyncio.run(
        query(url, select(Round.number, Round.status, Round.kind).where(Round.panel_id == panel_id))
    )
    assert [tuple(r) for r in rounds] == [(1, "open", "open")]
    questions = asyncio.run(
        query(
            url,
            select(OpenQuestion.text)
            .where(OpenQuestion.panel_id == panel_id)
            .order_by(OpenQuestion.position),
        )
    )
    assert [q for (q,) in questions] == [q for q, _ in OPEN_DEMO_QUESTIONS]
    assert questions[0][0] == "What should drug services do to make it easier to stay in treatment?"
    answers = asyncio.run(
        query(
            url,
            select(IdeaAnswer.panellist_id, func.count())
            .join(Round, Round.id == IdeaAnswer.round_id)
            .where(Round.panel_id == panel_id)
            .group_by(IdeaAnswer.panellist_id),
        )
    )
    ((n_people,),) = asyncio.run(
        query(url, select(func.count()).select_from(Panellist).where(Panellist.panel_id == panel_id))
    )
    assert n_people == 12 and len(answers) == OPEN_DEMO_ANSWERED > n_people // 2  # most have answered
    assert all(n >= 2 for _, n in answers)  # one or two to each question
    # the terminal: one heading line per panel, each with two personal links, the first panel's with a Welsh
    # panellist's third, labelled so
    lines = result.output.splitlines()
    headings = [i for i, line in enumerate(lines) if line.lstrip().startswith("Panel ")]
    assert [lines[i].split(",")[0].strip() for i in headings] == ["Panel 1", "Panel 2"]
    assert "open questions" in lines[headings[1]]
    for i in headings:
        assert all("http://127.0.0.1:8000/p/" in line for line in lines[i + 1 : i + 3])
    welsh = lines[headings[0] + 3]
    assert welsh.split("http")[0].strip() == "Service 2 (Cymraeg)" and "http://127.0.0.1:8000/p/" in welsh
    assert headings[1] == headings[0] + 4  # the second panel's links stay two
    assert len(lines) <= 14
    # running it again adds nothing
    assert CliRunner().invoke(main, ["demo", "--no-serve"]).exit_code == 0
    assert len(asyncio.run(query(url, select(IdeaAnswer.id)))) == sum(n for _, n in answers)


async def test_the_second_demo_panels_home_page_asks_its_open_questions(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    account, _ = await seed_demo(session, password="a long enough password")
    panel = await seed_open_demo(session, account, settings, utcnow())
    await session.commit()
    (answered, _), (waiting, link) = await demo_links(session, panel, settings)
    assert answered == "Service 1" and waiting == "Experts 4"
    await enter(client, link.removeprefix(settings.base_url + "/p/"))
    # the last panellist has not consented yet: they agree first, as a new user does
    consent_page = await client.get("/panel")
    assert consent_page.status_code == 200 and "I agree to take part" in consent_page.text
    agreed = await client.post(
        "/panel/consent",
        data={"consent": "yes", "_csrf_token": csrf_from(consent_page.text)},
        follow_redirects=True,
    )
    assert agreed.status_code == 200, agreed.text
    home = await client.get("/panel")
    assert "Round 1 asks a few open questions" in home.text and 'href="/panel/ideas"' in home.text
    ideas_page = await client.get("/panel/ideas")
    assert ideas_page.status_code == 200
    for question, _ in OPEN_DEMO_QUESTIONS:
        assert html.escape(question) in ideas_page.text


def _migrated_with_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, CliRunner]:
    """A migrated SQLite database holding the account fac@example.org (password "a long enough password")."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DELPHI_DATABASE_URL", url)
    runner = CliRunner()
    assert runner.invoke(main, ["database", "upgrade"]).exit_code == 0
    created = runner.invoke(
        main,
        ["accounts", "create", "--email", "fac@example.org", "--name", "Fran Fac", "--password-stdin"],
        input="a long enough password\n",
    )
    assert created.exit_code == 0, created.output
    return url, runner


async def _sign_in_twice(url: str) -> None:
    """Two live sessions of fac@example.org, as two browsers signed in."""
    from delphi.accounts.sessions import start_session

    engine = make_engine(DatabaseSettings(url=url), null_pool=True)
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            account = await session.scalar(select(Account).where(Account.email == "fac@example.org"))
            for _ in range(2):
                await start_session(session, account, user_agent="")
    finally:
        await engine.dispose()


def _live_sessions(url: str) -> int:
    ((count,),) = asyncio.run(
        query(
            url, select(func.count()).select_from(AccountSession).where(AccountSession.revoked_at.is_(None))
        )
    )
    return count


def test_accounts_set_password_reads_stdin_and_ends_every_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, runner = _migrated_with_account(tmp_path, monkeypatch)
    asyncio.run(_sign_in_twice(url))
    result = runner.invoke(
        main,
        ["accounts", "set-password", "FAC@example.org", "--password-stdin"],
        input="another fine password\n",
    )
    assert result.exit_code == 0, result.output
    assert "New password set for fac@example.org; 2 signed-in session(s) ended." in result.output
    ((hashed,),) = asyncio.run(query(url, select(Account.password_hash)))
    assert verify_password(hashed, "another fine password")
    assert _live_sessions(url) == 0
    short = runner.invoke(
        main, ["accounts", "set-password", "fac@example.org", "--password-stdin"], input="short\n"
    )
    assert short.exit_code == 2 and "at least 10 characters" in short.output


def test_accounts_deactivate_ends_the_sessions_and_says_what_happens_to_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, runner = _migrated_with_account(tmp_path, monkeypatch)
    asyncio.run(_sign_in_twice(url))
    result = runner.invoke(main, ["accounts", "deactivate", "fac@example.org"])
    assert result.exit_code == 0, result.output
    assert "Deactivated fac@example.org; 2 signed-in session(s) ended" in result.output
    assert "API tokens no longer work" in result.output
    assert asyncio.run(query(url, select(Account.is_active))) == [(False,)]
    assert _live_sessions(url) == 0
    again = runner.invoke(main, ["accounts", "deactivate", "fac@example.org"])
    assert again.exit_code == 0 and "deactivated already" in again.output


def test_accounts_commands_name_an_unknown_address_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, runner = _migrated_with_account(tmp_path, monkeypatch)
    for args, stdin in (
        (["accounts", "deactivate", "nobody@example.org"], None),
        (["accounts", "set-password", "nobody@example.org", "--password-stdin"], "another fine password\n"),
    ):
        result = runner.invoke(main, args, input=stdin)
        assert result.exit_code == 2, result.output
        assert "There is no account for nobody@example.org" in result.output
        assert "Traceback" not in result.output
    malformed = runner.invoke(main, ["accounts", "deactivate", "not-an-address"])
    assert malformed.exit_code == 2 and "is not an e-mail address" in malformed.output


def test_accounts_list_shows_a_table_without_password_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, runner = _migrated_with_account(tmp_path, monkeypatch)
    runner.invoke(
        main,
        ["accounts", "create", "--email", "res@example.org", "--role", "researcher", "--password-stdin"],
        input="a long enough password\n",
    )
    runner.invoke(main, ["accounts", "deactivate", "res@example.org"])
    result = runner.invoke(main, ["accounts", "list"])
    assert result.exit_code == 0, result.output
    header, fac, res = result.output.splitlines()
    assert header.split() == ["E-mail", "Name", "Role", "Active", "Last", "sign-in"]
    assert fac.split() == ["fac@example.org", "Fran", "Fac", "facilitator", "yes", "never"]
    assert res.split() == ["res@example.org", "-", "researcher", "no", "never"]
    ((hashed,), _) = asyncio.run(query(url, select(Account.password_hash)))
    assert hashed not in result.output and "argon2" not in result.output


def test_accounts_list_on_an_empty_database_says_how_to_make_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DELPHI_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    runner = CliRunner()
    runner.invoke(main, ["database", "upgrade"])
    result = runner.invoke(main, ["accounts", "list"])
    assert result.exit_code == 0 and "no accounts yet" in result.output
