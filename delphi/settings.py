"""Settings read from ``DELPHI_*`` environment variables into frozen dataclasses.

Nothing here runs at import: :func:`load_settings` is called by ``create_app`` and by CLI commands.  Each malformed
or missing value raises :class:`~delphi.errors.SettingsError` naming the variable and what it expects.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from delphi.errors import SettingsError

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./var/delphi.db"
DEFAULT_QUICK_EXIT_URL = "https://www.bbc.co.uk/weather"
TLS_MODES = ("none", "starttls", "tls")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+$")


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    #: SQLAlchemy async URL: ``sqlite+aiosqlite:///path`` or ``postgresql+asyncpg://user:pw@host/db``.
    url: str = DEFAULT_DATABASE_URL
    echo: bool = False
    pool_size: int = 10

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")


@dataclass(frozen=True, slots=True)
class MailSettings:
    host: str = "localhost"
    port: int = 25
    user: str | None = None
    password: str | None = None
    #: ``none`` (plain), ``starttls`` (upgrade after connect) or ``tls`` (implicit TLS, usually port 465).
    tls: str = "none"
    sender: str = "Delphi panel <delphi@localhost>"
    #: Open SMTP connections kept by one delivery worker.
    pool_size: int = 4
    #: Messages claimed per delivery batch.
    batch_size: int = 200
    #: Attempts before a message is dead-lettered.
    max_attempts: int = 8
    #: Run the embedded capture server and the ``/dev/mail`` page (development and demo only).
    dev_capture: bool = False
    dev_capture_port: int = 8025


@dataclass(frozen=True, slots=True)
class SessionSettings:
    """How long a signed-in session lasts without a request (``*_idle``) and at most (``*_max``).

    Facilitators, researchers and admins: 12 hours idle, 7 days in all.  Panellists, who may share a computer
    at a service: 30 minutes idle, 12 hours in all; their personal link signs them in again.
    """

    facilitator_idle: timedelta = timedelta(hours=12)
    facilitator_max: timedelta = timedelta(days=7)
    panellist_idle: timedelta = timedelta(minutes=30)
    panellist_max: timedelta = timedelta(hours=12)

    @property
    def cookie_max_age(self) -> int:
        """Seconds the browser keeps the session cookie: the longest lifetime (the server decides the rest)."""
        return int(max(self.facilitator_max, self.panellist_max).total_seconds())


@dataclass(frozen=True, slots=True)
class Settings:
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    #: Public base URL used in e-mailed links, without a trailing slash.
    base_url: str = "http://127.0.0.1:8000"
    #: Signs session cookies; at least 32 characters.
    secret_key: str = ""
    #: Run the outbox delivery and scheduler loop inside the web process.
    worker_in_process: bool = True
    #: Seconds between worker ticks.
    worker_interval: float = 2.0
    log_level: str = "INFO"
    #: Folder for the SQLite file and other local state.
    var_dir: Path = Path("var")
    sessions: SessionSettings = field(default_factory=SessionSettings)
    #: Proxies whose ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed, as networks in CIDR notation
    #: (``"10.0.0.5/32"``); none by default, so a client cannot choose the address its rate limit counts against.
    trusted_proxies: tuple[str, ...] = ()
    #: Where a panellist's "Quick exit" leaves to at once: a neutral http(s) page.
    quick_exit_url: str = DEFAULT_QUICK_EXIT_URL

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise SettingsError(f"{name} must be true or false (1/0, yes/no, on/off), not {raw!r}.")


_N = TypeVar("_N", int, float)
_NUMBER_WORDS = {int: "a whole number", float: "a number of seconds"}


def _number(env: Mapping[str, str], name: str, default: _N, lo: _N, hi: _N, parse: type[_N]) -> _N:
    """``env[name]`` read with ``parse`` (int or float) and checked to lie in ``lo``..``hi``; ``default`` when
    unset or blank.  The error names the value as :data:`_NUMBER_WORDS` says (floats are intervals in seconds)."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    words = _NUMBER_WORDS[parse]
    try:
        value = parse(raw.strip())
    except ValueError:
        raise SettingsError(f"{name} must be {words} from {lo} to {hi}, not {raw!r}.") from None
    if not lo <= value <= hi:
        raise SettingsError(f"{name} must be {words} from {lo} to {hi}, not {value}.")
    return value


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (``127.0.0.0/8``, ``::1``, in brackets or not)."""
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_dev_mail_exposed(settings: Settings, bind_host: str | None = None) -> None:
    """Raise :class:`SettingsError` when ``DELPHI_DEV_MAIL`` is on for a site others can reach: a ``https`` base
    URL, or a server bound to ``bind_host`` that is not a loopback address.  ``/dev/mail`` shows every mail
    captured, personal links included, to anyone who opens it, without signing in."""
    if not settings.mail.dev_capture:
        return
    why = (
        "DELPHI_DEV_MAIL shows every captured mail, panellists' personal links included, at /dev/mail to anyone "
        "who opens it, without signing in; it is for a demo on this computer only."
    )
    if settings.secure_cookies:
        raise SettingsError(
            f"{why} The base URL {settings.base_url} is https, so this looks like a real site: turn "
            "DELPHI_DEV_MAIL off and set DELPHI_SMTP_HOST to your mail server."
        )
    if bind_host is not None and not is_loopback_host(bind_host):
        raise SettingsError(
            f"{why} The server would listen on {bind_host}, which other computers can reach: listen on "
            "127.0.0.1, or turn DELPHI_DEV_MAIL off."
        )


def _sessions(env: Mapping[str, str]) -> SessionSettings:
    """The four session lifetimes of :class:`SessionSettings`, each in the unit its variable names."""
    return SessionSettings(
        facilitator_idle=timedelta(hours=_number(env, "DELPHI_SESSION_IDLE_HOURS", 12, 1, 24 * 30, int)),
        facilitator_max=timedelta(days=_number(env, "DELPHI_SESSION_MAX_DAYS", 7, 1, 90, int)),
        panellist_idle=timedelta(
            minutes=_number(env, "DELPHI_PANELLIST_SESSION_IDLE_MINUTES", 30, 5, 60 * 24, int)
        ),
        panellist_max=timedelta(
            hours=_number(env, "DELPHI_PANELLIST_SESSION_MAX_HOURS", 12, 1, 24 * 30, int)
        ),
    )


def _trusted_proxies(env: Mapping[str, str]) -> tuple[str, ...]:
    """``DELPHI_TRUSTED_PROXIES``: comma-separated addresses or networks (``10.0.0.5, 10.1.0.0/16, ::1``), each
    returned in CIDR notation (``"10.0.0.5/32"``)."""
    raw = env.get("DELPHI_TRUSTED_PROXIES", "")
    found = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        try:
            found.append(str(ip_network(part, strict=False)))
        except ValueError:
            raise SettingsError(
                "DELPHI_TRUSTED_PROXIES must be IP addresses or networks separated by commas "
                f"(such as 10.0.0.5, 10.1.0.0/16), not {part!r}."
            ) from None
    return tuple(found)


def asyncpg_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` URLs as ``postgresql+asyncpg://``; any other URL unchanged."""
    if url.startswith(("postgres://", "postgresql://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


def _database_url(env: Mapping[str, str]) -> str:
    url = asyncpg_url(env.get("DELPHI_DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL)
    if not (url.startswith("sqlite+aiosqlite://") or url.startswith("postgresql+asyncpg://")):
        raise SettingsError(
            "DELPHI_DATABASE_URL must be a SQLite URL (sqlite+aiosqlite:///path/to/file.db) or a PostgreSQL URL "
            f"(postgresql+asyncpg://user:password@host:5432/dbname), not {url!r}."
        )
    return url


def _base_url(env: Mapping[str, str]) -> str:
    raw = env.get("DELPHI_BASE_URL", "").strip() or "http://127.0.0.1:8000"
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise SettingsError(
            f"DELPHI_BASE_URL must be the public http(s) address of the site, such as https://delphi.example.org, "
            f"not {raw!r}."
        )
    return raw.rstrip("/")


def _quick_exit_url(env: Mapping[str, str]) -> str:
    """``DELPHI_QUICK_EXIT_URL``: an absolute http(s) address (default: the BBC weather page)."""
    raw = env.get("DELPHI_QUICK_EXIT_URL", "").strip() or DEFAULT_QUICK_EXIT_URL
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in raw):
        raise SettingsError(
            "DELPHI_QUICK_EXIT_URL must be the full http(s) address of a neutral page, such as "
            f"https://www.bbc.co.uk/weather, not {raw!r}."
        )
    return raw


def load_settings(env: Mapping[str, str] | None = None, *, require_secret: bool = True) -> Settings:
    """Read every setting from ``env`` (default: ``os.environ``).

    Parameters
    ----------
    env
        Mapping of environment variables; only ``DELPHI_*`` keys are read.
    require_secret
        When true a missing ``DELPHI_SECRET_KEY`` is an error; commands that never sign cookies pass false.

    Raises
    ------
    SettingsError
        Naming the first variable that is missing or malformed, or when ``DELPHI_DEV_MAIL`` is on with an https
        base URL (:func:`refuse_dev_mail_exposed`).
    """
    env = os.environ if env is None else env
    tls = env.get("DELPHI_SMTP_TLS", "none").strip().lower() or "none"
    if tls not in TLS_MODES:
        raise SettingsError(f"DELPHI_SMTP_TLS must be one of {', '.join(TLS_MODES)}, not {tls!r}.")
    dev_capture = _bool(env, "DELPHI_DEV_MAIL", False)
    dev_port = _number(env, "DELPHI_DEV_MAIL_PORT", 8025, 1, 65535, int)
    sender = env.get("DELPHI_MAIL_FROM", "").strip() or "Delphi panel <delphi@localhost>"
    address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
    if not _EMAIL.match(address):
        raise SettingsError(
            f"DELPHI_MAIL_FROM must be an e-mail address, optionally with a name "
            f"('Panel team <panel@example.org>'), not {sender!r}."
        )
    mail = MailSettings(
        host=env.get("DELPHI_SMTP_HOST", "").strip() or ("127.0.0.1" if dev_capture else "localhost"),
        port=_number(env, "DELPHI_SMTP_PORT", dev_port if dev_capture else 25, 1, 65535, int),
        user=env.get("DELPHI_SMTP_USER") or None,
        password=env.get("DELPHI_SMTP_PASSWORD") or None,
        tls=tls,
        sender=sender,
        pool_size=_number(env, "DELPHI_SMTP_POOL_SIZE", 4, 1, 64, int),
        batch_size=_number(env, "DELPHI_MAIL_BATCH_SIZE", 200, 1, 10_000, int),
        max_attempts=_number(env, "DELPHI_MAIL_MAX_ATTEMPTS", 8, 1, 100, int),
        dev_capture=dev_capture,
        dev_capture_port=dev_port,
    )
    if (mail.user is None) != (mail.password is None):
        raise SettingsError("DELPHI_SMTP_USER and DELPHI_SMTP_PASSWORD must be set together, or neither.")
    secret = env.get("DELPHI_SECRET_KEY", "")
    if require_secret and len(secret) < 32:
        raise SettingsError(
            "DELPHI_SECRET_KEY must be set to at least 32 random characters "
            "(for example the output of: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    level = env.get("DELPHI_LOG_LEVEL", "INFO").strip().upper() or "INFO"
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise SettingsError(f"DELPHI_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {level!r}.")
    settings = Settings(
        database=DatabaseSettings(
            url=_database_url(env),
            echo=_bool(env, "DELPHI_DATABASE_ECHO", False),
            pool_size=_number(env, "DELPHI_DATABASE_POOL_SIZE", 10, 1, 200, int),
        ),
        mail=mail,
        base_url=_base_url(env),
        secret_key=secret,
        worker_in_process=_bool(env, "DELPHI_WORKER_IN_PROCESS", True),
        worker_interval=_number(env, "DELPHI_WORKER_INTERVAL", 2.0, 0.05, 3600.0, float),
        log_level=level,
        var_dir=Path(env.get("DELPHI_VAR_DIR", "").strip() or "var"),
        sessions=_sessions(env),
        trusted_proxies=_trusted_proxies(env),
        quick_exit_url=_quick_exit_url(env),
    )
    refuse_dev_mail_exposed(settings)
    return settings
