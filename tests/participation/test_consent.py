"""New panels start with a consent text that states the disclosure promise (docs/statistics.md, "Disclosure
control"); the demo panel uses the same text."""

from __future__ import annotations

from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncEngine

from delphi.demo import DEMO_CONSENT
from delphi.panels.consent_text import DEFAULT_CONSENT_TEXT, default_consent_text
from tests.helpers import login, make_account


def test_the_default_consent_text_promises_figures_only_for_groups_of_at_least_k() -> None:
    text = default_consent_text(3)
    assert "Figures are shown only for groups of at least three people" in text
    assert "never anything from which the answers of fewer than three people could be worked out" in text
    assert "If fewer than three people answer a statement, no figures are shown for it at all." in text
    assert "at least five people" in default_consent_text(5)
    assert "at least 12 people" in default_consent_text(12)
    assert text.count("\n\n") == 3  # paragraphs, as the consent page splits them
    assert DEFAULT_CONSENT_TEXT == text


def test_the_demo_makes_the_same_promise() -> None:
    assert DEMO_CONSENT == DEFAULT_CONSENT_TEXT


async def test_the_new_panel_form_starts_with_the_default_consent_text(
    client: AsyncTestClient, engine: AsyncEngine
) -> None:
    await make_account(engine, "fac@example.org")
    await login(client, "fac@example.org")
    page = await client.get("/panels/new")
    assert page.status_code == 200
    assert "Figures are shown only for groups of at least three people" in page.text
