"""``DELPHI_DEV_MAIL`` (the capture server and its ``/dev/mail`` page, which lists every personal link to anyone
who opens it) refuses to start where others could reach it: an https base URL, or a non-loopback address."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from delphi.cli import main
from delphi.errors import SettingsError
from delphi.settings import is_loopback_host, load_settings, refuse_dev_mail_exposed

SECRET = {"DELPHI_SECRET_KEY": "s" * 40}


def test_dev_mail_with_an_https_base_url_is_refused_saying_why() -> None:
    with pytest.raises(SettingsError) as err:
        load_settings({**SECRET, "DELPHI_DEV_MAIL": "on", "DELPHI_BASE_URL": "https://delphi.example.org"})
    assert "/dev/mail" in err.value.message and "https" in err.value.message


def test_dev_mail_on_a_loopback_http_site_starts() -> None:
    settings = load_settings({**SECRET, "DELPHI_DEV_MAIL": "on"})
    assert settings.mail.dev_capture
    refuse_dev_mail_exposed(settings, "127.0.0.1")
    refuse_dev_mail_exposed(settings, "::1")


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "::", "delphi.example.org"])
def test_dev_mail_on_a_reachable_address_is_refused(host: str) -> None:
    settings = load_settings({**SECRET, "DELPHI_DEV_MAIL": "on"})
    with pytest.raises(SettingsError) as err:
        refuse_dev_mail_exposed(settings, host)
    assert host in err.value.message and "127.0.0.1" in err.value.message


def test_without_dev_mail_any_address_is_fine() -> None:
    refuse_dev_mail_exposed(load_settings(SECRET), "0.0.0.0")


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.1.2.3", True), ("localhost", True), ("::1", True), ("[::1]", True),
     ("0.0.0.0", False), ("10.0.0.1", False), ("example.org", False)],
)  # fmt: skip
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_delphi_run_refuses_dev_mail_on_every_interface(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DELPHI_SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DELPHI_DEV_MAIL", "on")
    monkeypatch.delenv("DELPHI_BASE_URL", raising=False)
    result = CliRunner().invoke(main, ["run", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "/dev/mail" in result.output and "0.0.0.0" in result.output


def test_the_demo_refuses_to_listen_beyond_this_computer(monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(main, ["demo", "--host", "0.0.0.0", "--no-serve"])
    assert result.exit_code == 2 and "/dev/mail" in result.output and "0.0.0.0" in result.output
