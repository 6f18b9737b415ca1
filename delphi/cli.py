"""The ``delphi`` command.

``delphi run`` serves the app (uvicorn), ``delphi demo`` migrates, seeds and serves a demo, ``delphi database``
manages migrations, ``delphi accounts`` manages logins, ``delphi worker`` delivers mail and runs scheduled jobs,
``delphi analyse`` computes consensus statistics from a CSV.  Settings come from ``DELPHI_*`` variables; a bad one
stops the command with a message naming it (exit status 2).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

import click

from delphi.errors import DelphiError

if TYPE_CHECKING:
    from delphi.settings import Settings


def _friendly(func: Callable[..., Any]) -> Callable[..., Any]:
    """Print a DelphiError's message and exit 2 instead of a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DelphiError as exc:
            click.echo(f"Error: {exc.message}", err=True)
            for action in getattr(exc, "actions", []):
                click.echo(f"  - {action}", err=True)
            sys.exit(2)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="delphi-engine", prog_name="delphi")
def main() -> None:
    """Delphi consensus engine."""


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's options for ``X-Forwarded-For`` and ``X-Forwarded-Proto``: believed only from
    ``DELPHI_TRUSTED_PROXIES`` (uvicorn takes the nearest address that is not a trusted proxy), else ignored, so
    no client can choose the address its rate limits count against."""
    if not settings.trusted_proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": list(settings.trusted_proxies)}


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers", default=1, show_default=True, type=int, help="Web processes (use PostgreSQL for > 1)."
)
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@_friendly
def run(host: str, port: int, workers: int, reload: bool) -> None:
    """Serve the web app with uvicorn."""
    import uvicorn

    from delphi.settings import load_settings, refuse_dev_mail_exposed

    settings = load_settings()  # fail early with a clear message
    refuse_dev_mail_exposed(settings, host)
    if workers > 1 and settings.database.is_sqlite:
        raise DelphiError(
            "Several web processes need PostgreSQL: set DELPHI_DATABASE_URL, or use --workers 1."
        )
    uvicorn.run(
        "delphi.asgi:app_from_env",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        reload=reload,
        log_level=settings.log_level.lower(),
        **proxy_options(settings),
    )


@main.group()
def database() -> None:
    """Apply and inspect database migrations."""


@database.command("upgrade")
@click.argument("revision", default="head")
@_friendly
def database_upgrade(revision: str) -> None:
    """Migrate the database up to REVISION (default: head)."""
    from delphi.db.migrations import upgrade
    from delphi.settings import load_settings

    upgrade(load_settings(require_secret=False).database, revision)
    click.echo(f"Database at {revision}.")


@database.command("downgrade")
@click.argument("revision")
@_friendly
def database_downgrade(revision: str) -> None:
    """Migrate the database down to REVISION (e.g. base)."""
    from delphi.db.migrations import downgrade
    from delphi.settings import load_settings

    downgrade(load_settings(require_secret=False).database, revision)
    click.echo(f"Database at {revision}.")


@database.command("current")
@_friendly
def database_current() -> None:
    """Print the database's migration revision."""
    from delphi.db.migrations import current_revision
    from delphi.settings import load_settings

    click.echo(
        asyncio.run(current_revision(load_settings(require_secret=False).database)) or "(empty database)"
    )


@database.command("check")
@_friendly
def database_check() -> None:
    """Exit 1 when the migrated database differs from the models."""
    from delphi.db.migrations import model_drift
    from delphi.settings import load_settings

    drift = asyncio.run(model_drift(load_settings(require_secret=False).database))
    for item in drift:
        click.echo(str(item))
    if drift:
        sys.exit(1)
    click.echo("The database matches the models.")


@main.group()
def accounts() -> None:
    """Manage facilitator, researcher and admin accounts."""


@accounts.command("create")
@click.option("--email", required=True)
@click.option(
    "--role",
    type=click.Choice(["admin", "facilitator", "researcher"]),
    default="facilitator",
    show_default=True,
)
@click.option("--name", default="")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@_friendly
def accounts_create(email: str, role: str, name: str, password_stdin: bool) -> None:
    """Create an account; the password is asked for (or read from stdin)."""
    from delphi.accounts import create_account

    password = _read_password(password_stdin, "Password")

    async def work(session: Any) -> None:
        await create_account(session, email=email, password=password, role=role, name=name)

    _in_transaction(work)
    click.echo(f"Created {role} account {email.strip().lower()}.")


def _read_password(from_stdin: bool, prompt: str) -> str:
    """The first line of standard input (``--password-stdin``), else asked for twice without echo."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt(prompt, hide_input=True, confirmation_prompt=True)


def _in_transaction(work: Callable[[Any], Any]) -> Any:
    """Run ``await work(session)`` in one transaction on the configured database (committed when it returns,
    rolled back when it raises); returns its result."""
    from delphi.db.engine import make_engine, make_sessionmaker
    from delphi.settings import load_settings

    settings = load_settings(require_secret=False)

    async def go() -> Any:
        engine = make_engine(settings.database, null_pool=True)
        try:
            async with make_sessionmaker(engine)() as session, session.begin():
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(go())


@accounts.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@_friendly
def accounts_set_password(email: str, password_stdin: bool) -> None:
    """Give the account EMAIL a new password; it is signed out everywhere (its lockout is cleared)."""
    from delphi.accounts.admin import account_by_email
    from delphi.accounts.passwords import set_password

    password = _read_password(password_stdin, "New password")

    async def work(session: Any) -> tuple[str, int]:
        account = await account_by_email(session, email)
        return account.email, await set_password(session, account, password)

    address, ended = _in_transaction(work)
    click.echo(f"New password set for {address}; {ended} signed-in session(s) ended.")


@accounts.command("deactivate")
@click.argument("email")
@_friendly
def accounts_deactivate(email: str) -> None:
    """Deactivate the account EMAIL: it cannot sign in, its sessions end and its API tokens stop working."""
    from delphi.accounts.admin import account_by_email, deactivate_account

    async def work(session: Any) -> tuple[str, bool, int]:
        account = await account_by_email(session, email)
        was_active = account.is_active
        return account.email, was_active, await deactivate_account(session, account)

    address, was_active, ended = _in_transaction(work)
    if not was_active:
        click.echo(f"The account {address} was deactivated already.")
        return
    click.echo(
        f"Deactivated {address}; {ended} signed-in session(s) ended. Its API tokens no longer work "
        "(they are refused for an inactive account)."
    )


@accounts.command("list")
@_friendly
def accounts_list() -> None:
    """List every account: e-mail, name, role, whether active, last sign-in (UTC)."""
    from delphi.accounts.admin import list_accounts

    lines = _in_transaction(list_accounts)
    if not lines:
        click.echo("There are no accounts yet. `delphi accounts create` makes one.")
        return
    rows = [("E-mail", "Name", "Role", "Active", "Last sign-in")] + [
        (
            line.email,
            line.name or "-",
            line.role,
            "yes" if line.is_active else "no",
            line.last_login_at.strftime("%Y-%m-%d %H:%M UTC") if line.last_login_at else "never",
        )
        for line in lines
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@main.command()
@click.option("--once", is_flag=True, help="Run one tick (deliver due mail, run due jobs) and exit.")
@_friendly
def worker(once: bool) -> None:
    """Deliver queued mail and run scheduled jobs (reminders, deadlines) until stopped."""
    from delphi.settings import load_settings
    from delphi.worker import run_cli

    asyncio.run(run_cli(load_settings(require_secret=False), once=once))


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--reset", is_flag=True, help="Delete the demo database first.")
@click.option("--no-serve", is_flag=True, help="Migrate and seed only.")
@_friendly
def demo(host: str, port: int, reset: bool, no_serve: bool) -> None:
    """Migrate a SQLite database, seed the two demo panels, capture mail locally and serve on HOST:PORT."""
    from delphi.demo import prepare_demo
    from delphi.settings import is_loopback_host

    if not is_loopback_host(host):
        raise DelphiError(
            f"The demo shows every mail it sends, personal links included, at /dev/mail to anyone who opens it, "
            f"so it listens on this computer only (127.0.0.1), not on {host}."
        )
    env = prepare_demo(reset=reset, base_url=f"http://{host}:{port}")
    if no_serve:
        return
    import uvicorn

    os.environ.update(env)
    uvicorn.run(
        "delphi.asgi:app_from_env", factory=True, host=host, port=port, log_level="info", proxy_headers=False
    )


def _register_analyse() -> None:
    from delphi.analyse.command import analyse

    main.add_command(analyse, "analyse")


_register_analyse()
