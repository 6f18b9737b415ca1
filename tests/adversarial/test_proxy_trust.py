"""``X-Forwarded-For`` is believed only from ``DELPHI_TRUSTED_PROXIES``, on the real server (``delphi run``).

Login attempts are limited per client address (20 in 5 minutes).  A client that sends each attempt with a
made-up ``X-Forwarded-For`` must still be counted as the one address it connects from, unless that address is a
proxy the operator named; then the forwarded address is the client's, as behind a real reverse proxy.
"""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest

from tests.adversarial.live import CSRF_INPUT, HOST, LiveServer

pytestmark = pytest.mark.slow

#: The login limiter's budget per address (delphi.app: SlidingWindowLimiter(limit=20, window_s=300)).
LOGIN_LIMIT = 20


class RunCommand(LiveServer):
    """The app served by ``delphi run`` (which sets uvicorn's proxy options) rather than bare uvicorn."""

    def __init__(self, db_url: str, workdir: Path, **env: str) -> None:
        super().__init__(db_url, workdir, **env)
        self.argv = [sys.executable, "-m", "delphi", "run", "--host", HOST, "--port", str(self.port)]


async def login_statuses(base_url: str, attempts: int) -> list[int]:
    """Answers to ``attempts`` wrong-password logins, each claiming another address in ``X-Forwarded-For``."""
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        page = await client.get("/login")
        token = CSRF_INPUT.search(page.text)
        assert token is not None, page.text[:500]
        statuses = []
        for n in range(attempts):
            answer = await client.post(
                "/login",
                data={"_csrf_token": token.group(1), "email": "nobody@example.org", "password": "wrong" * 3},
                headers={"X-Forwarded-For": f"203.0.113.{n + 1}"},
            )
            statuses.append(answer.status_code)
        return statuses


async def test_a_client_cannot_dodge_the_login_limit_by_forging_forwarded_addresses(
    live_db_url: str, tmp_path: Path
) -> None:
    server = RunCommand(live_db_url, tmp_path)
    server.start()
    try:
        statuses = await login_statuses(server.base_url, LOGIN_LIMIT + 1)
    finally:
        server.stop()
    assert statuses[:LOGIN_LIMIT] == [400] * LOGIN_LIMIT
    assert statuses[LOGIN_LIMIT] == 429


async def test_forwarded_addresses_from_a_trusted_proxy_are_the_clients(
    live_db_url: str, tmp_path: Path
) -> None:
    server = RunCommand(live_db_url, tmp_path, trusted_proxies="127.0.0.1")
    server.start()
    try:
        statuses = await login_statuses(server.base_url, LOGIN_LIMIT + 1)
    finally:
        server.stop()
    assert statuses == [400] * (LOGIN_LIMIT + 1)
    assert "203.0.113.21" in server.output()  # uvicorn's access log names the forwarded client
