"""Settings come from DELPHI_* variables; a bad one names itself."""

from __future__ import annotations

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
            "DELPHI_DEV_MAIL": "on",
        }
    )
    assert (s.mail.host, s.mail.port, s.mail.user, s.mail.password, s.mail.tls) == (
        "smtp.example.org",
        587,
        "u",
        "p",
        "starttls",
    )
    assert s.mail.dev_capture
    assert s.base_url == "https://d.example.org"
    assert s.secure_cookies


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
