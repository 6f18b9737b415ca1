"""The `delphi` command: migrations, accounts, and the demo seed, run as a user would."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from delphi.cli import main
from delphi.db.engine import make_engine, make_sessionmaker
from delphi.db.models import Account, OutboxMessage, Panel, Panellist, Round, RoundResult, RoundStatement
from delphi.security import verify_password
from delphi.settings import DatabaseSettings


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
    panels = asyncio.run(query(url, select(Panel.title, Panel.status)))
    assert len(panels) == 1 and panels[0].status == "running"
    rounds = asyncio.run(query(url, select(Round.number, Round.status).order_by(Round.number)))
    assert [tuple(r) for r in rounds] == [(1, "closed"), (2, "open")]
    ((n_people,),) = asyncio.run(query(url, select(func.count()).select_from(Panellist)))
    assert n_people == 30
    ((n_results,),) = asyncio.run(query(url, select(func.count()).select_from(RoundResult)))
    assert n_results == 10 * 4
    # 27 of the 30 sent round 1; the other three left drafts, which the default population leaves out
    pooled_n = asyncio.run(
        query(url, select(RoundResult.n, RoundResult.n_unable).where(RoundResult.scope == "all"))
    )
    assert {n + n_unable for n, n_unable in pooled_n} == {27}
    ((population,),) = asyncio.run(query(url, select(Panel.analysis_population)))
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
    assert len(asyncio.run(query(url, select(Panel.id)))) == 1
