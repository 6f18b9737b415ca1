"""Settings come from DELPHI_* variables; a bad one names itself."""

from __future__ import annotations

from datetime import timedelta

import pytest

from delphi.errors import SettingsError
from delphi.settings import DEFAULT_DATABASE_URL, load_settings

SECRET = {"DELPHI_SECRET_KEY": "s" * 40}


def test_defaults_use_sqlite_under_var_and_loopback_base_url() -> None:
    s = load_settings(SECRET)
    assert s.database.url == DEFAULT_DATABASE_URL
    assert s.base_url == "http://127.0.0.1:8000"
    assert not s.secure_cookies
    assert s.mail.tls == "none"


def test_every_mail_setting_is_read() -> None:
    s = load_settings(
        {
            **SECRET,
            "DELPHI_SMTP_HOST": "smtp.example.org",
            "DELPHI_SMTP_PORT": "587",
            "DELPHI_SMTP_USER": "u",
            "DELPHI_SMTP_PASSWORD": "p",
            "DELPHI_SMTP_TLS": "starttls",
            "DELPHI_MAIL_FROM": "Panel <panel@example.org>",
            "DELPHI_BASE_URL": "https://d.example.org/",
        }
    )
    assert (s.mail.host, s.mail.port, s.mail.user, s.mail.password, s.mail.tls) == (
        "smtp.example.org",
        587,
        "u",
        "p",
        "starttls",
    )
    assert s.base_url == "https://d.example.org"
    assert s.secure_cookies


def test_no_proxy_is_trusted_unless_named() -> None:
    assert load_settings(SECRET).trusted_proxies == ()
    named = load_settings({**SECRET, "DELPHI_TRUSTED_PROXIES": "10.0.0.5, 10.1.0.0/16 ,::1"}).trusted_proxies
    assert named == ("10.0.0.5/32", "10.1.0.0/16", "::1/128")


def test_session_lifetimes_default_to_twelve_hours_idle_and_a_week_and_panellists_shorter() -> None:
    s = load_settings(SECRET).sessions
    assert (s.facilitator_idle, s.facilitator_max) == (timedelta(hours=12), timedelta(days=7))
    assert (s.panellist_idle, s.panellist_max) == (timedelta(minutes=30), timedelta(hours=12))
    assert s.cookie_max_age == 7 * 24 * 3600
    changed = load_settings(
        {
            **SECRET,
            "DELPHI_SESSION_IDLE_HOURS": "2",
            "DELPHI_SESSION_MAX_DAYS": "1",
            "DELPHI_PANELLIST_SESSION_IDLE_MINUTES": "15",
            "DELPHI_PANELLIST_SESSION_MAX_HOURS": "4",
        }
    ).sessions
    assert (changed.facilitator_idle, changed.facilitator_max) == (timedelta(hours=2), timedelta(days=1))
    assert (changed.panellist_idle, changed.panellist_max) == (timedelta(minutes=15), timedelta(hours=4))


def test_plain_postgres_url_gets_the_async_driver() -> None:
    s = load_settings({**SECRET, "DELPHI_DATABASE_URL": "postgresql://u:p@db/delphi"})
    assert s.database.url == "postgresql+asyncpg://u:p@db/delphi"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "DELPHI_SECRET_KEY"),
        ({**SECRET, "DELPHI_SMTP_PORT": "eighty"}, "DELPHI_SMTP_PORT"),
        ({**SECRET, "DELPHI_SMTP_PORT": "70000"}, "DELPHI_SMTP_PORT"),
        ({**SECRET, "DELPHI_SMTP_TLS": "ssl3"}, "DELPHI_SMTP_TLS"),
        ({**SECRET, "DELPHI_DATABASE_URL": "mysql://x"}, "DELPHI_DATABASE_URL"),
        ({**SECRET, "DELPHI_BASE_URL": "ftp://x"}, "DELPHI_BASE_URL"),
        ({**SECRET, "DELPHI_DEV_MAIL": "maybe"}, "DELPHI_DEV_MAIL"),
        ({**SECRET, "DELPHI_MAIL_FROM": "not an address"}, "DELPHI_MAIL_FROM"),
        ({**SECRET, "DELPHI_SMTP_USER": "u"}, "DELPHI_SMTP_USER"),
        ({**SECRET, "DELPHI_TRUSTED_PROXIES": "10.0.0.5, proxy.local"}, "DELPHI_TRUSTED_PROXIES"),
        ({**SECRET, "DELPHI_SESSION_IDLE_HOURS": "0"}, "DELPHI_SESSION_IDLE_HOURS"),
        ({**SECRET, "DELPHI_SESSION_MAX_DAYS": "a week"}, "DELPHI_SESSION_MAX_DAYS"),
        ({**SECRET, "DELPHI_PANELLIST_SESSION_IDLE_MINUTES": "1"}, "DELPHI_PANELLIST_SESSION_IDLE_MINUTES"),
        ({**SECRET, "DELPHI_PANELLIST_SESSION_MAX_HOURS": "-3"}, "DELPHI_PANELLIST_SESSION_MAX_HOURS"),
    ],
)
def test_bad_value_stops_start_up_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as err:
        load_settings(env)
    assert named in err.value.message


def test_cli_reports_a_bad_setting_without_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from delphi.cli import main

    monkeypatch.setenv("DELPHI_SMTP_PORT", "x")
    monkeypatch.setenv("DELPHI_SECRET_KEY", "s" * 40)
    result = CliRunner().invoke(main, ["run"])
    assert result.exit_code == 2
    assert "DELPHI_SMTP_PORT" in result.output
    assert "Traceback" not in result.output
