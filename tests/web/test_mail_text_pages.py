"""The panel's e-mail texts pages: list, edit form with placeholders, preview, save, refusals and restore; the
panel contact and discreet mode in the settings form."""

from __future__ import annotations

import html

from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from delphi.db.engine import make_sessionmaker
from delphi.db.models import MailText, Panel
from tests.factories import build_draft_panel
from tests.helpers import login, post_form
from tests.web.test_facilitator_pages import PANEL_FORM


async def signed_in_panel(session: AsyncSession, client: AsyncTestClient) -> str:
    """A draft panel owned by fac@example.org, who is signed in; its base path."""
    panel = await build_draft_panel(session, per_group=1)
    await session.commit()
    await login(client, "fac@example.org")
    return f"/panels/{panel.id}"


async def saved_texts(engine: AsyncEngine) -> list[MailText]:
    async with make_sessionmaker(engine)() as s:
        return list((await s.scalars(select(MailText).order_by(MailText.id))).all())


async def test_the_mail_page_links_to_a_list_of_every_panellist_mail_in_the_shipped_wording(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    base = await signed_in_panel(session, client)
    assert f'href="{base}/mail/texts"' in (await client.get(f"{base}/mail")).text
    page = await client.get(f"{base}/mail/texts")
    assert page.status_code == 200
    for kind in ("invitation", "round_open", "reminder", "receipt", "final_results"):
        assert f'href="{base}/mail/texts/{kind}"' in page.text
    assert page.text.count("The shipped text") == 5


async def test_the_edit_form_starts_from_the_shipped_wording_lists_placeholders_and_previews_for_a_sample(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    base = await signed_in_panel(session, client)
    page = await client.get(f"{base}/mail/texts/reminder")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "This is a friendly reminder: round {round_number} is still open" in text  # the form's default
    for name in ("{name}", "{link}", "{closes_at}", "{contact_name}", "{contact_email}", "{rated}"):
        assert f"<code>{name}</code>" in text
    assert "Hello Sam," in text and "/p/EXAMPLE-LINK" in text  # the preview of what is sent now
    assert (await client.get(f"{base}/mail/texts/password_reset")).status_code == 404


async def test_preview_shows_a_posted_text_without_saving_it(
    session: AsyncSession, client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await signed_in_panel(session, client)
    form = {"subject": "Hi {name}", "body": "Dear {name}, ask {contact_name}.\n\n{link}", "action": "preview"}
    page = await post_form(
        client, f"{base}/mail/texts/reminder", form, token_page=f"{base}/mail/texts/reminder"
    )
    assert page.status_code == 200
    assert "Preview of the text above (not saved)" in page.text
    assert "Dear Sam, ask The research team." in page.text and "Subject:</strong> Hi Sam" in page.text
    assert await saved_texts(engine) == []


async def test_saving_a_text_then_restoring_the_shipped_one(
    session: AsyncSession, client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await signed_in_panel(session, client)
    edit = f"{base}/mail/texts/receipt"
    form = {"subject": "Thanks {name}", "body": "We have your answers.\n\n{link}", "action": "save"}
    saved = await post_form(client, edit, form, token_page=edit, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == f"{edit}?saved=1"
    [row] = await saved_texts(engine)
    assert (row.kind, row.subject, row.body) == (
        "receipt",
        "Thanks {name}",
        "We have your answers.\n\n{link}",
    )
    page = await client.get(f"{edit}?saved=1")
    assert (
        "Saved." in page.text
        and "We have your answers." in page.text
        and "Restore the shipped text" in page.text
    )
    restored = await post_form(client, f"{edit}/restore", {}, token_page=edit, follow_redirects=False)
    assert restored.status_code == 303
    assert await saved_texts(engine) == []
    assert "Restore the shipped text</button>" not in (await client.get(edit)).text


async def test_a_text_with_problems_is_shown_again_with_every_one_listed_and_nothing_saved(
    session: AsyncSession, client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await signed_in_panel(session, client)
    edit = f"{base}/mail/texts/invitation"
    form = {
        "subject": "From {panel_title}",
        "body": "Hi {nmae}, {{ config }} {link.__class__} {oops",
        "action": "save",
    }
    page = await post_form(client, edit, form, token_page=edit)
    assert page.status_code == 422
    summary = html.unescape(page.text.split('class="error-summary"')[1].split("</div>")[0])
    assert summary.count("<li>") == 5
    for words in (
        "The subject cannot use {panel_title}",
        "{link.__class__} on line 1 is not a placeholder",
        "A { on line 1 is not closed",
        "The text uses {nmae}, which this mail does not have.",
        "The text must contain {link}",
    ):
        assert words in summary
    assert "Hi {nmae}, {{ config }}" in html.unescape(page.text)  # the text as typed, to correct
    assert await saved_texts(engine) == []


async def test_the_settings_form_saves_the_contact_and_discreet_mode_and_refuses_bad_values_together(
    session: AsyncSession, client: AsyncTestClient, engine: AsyncEngine
) -> None:
    base = await signed_in_panel(session, client)
    settings = f"{base}/settings"
    bad = {
        **PANEL_FORM,
        "contact_name": "Sam",
        "contact_email": "sam-at-example",
        "contact_phone": "call me maybe",
        "discreet": "on",
        "discreet_name": "",
    }
    page = await post_form(client, settings, bad, token_page=settings)
    assert page.status_code == 422
    for words in ("e-mail address like", "phone number with digits", "neutral name for discreet mode"):
        assert words in page.text
    good = {
        **PANEL_FORM,
        "contact_name": "Sam Patel",
        "contact_email": "sam@university.example",
        "contact_phone": "+44 113 496 0000",
        "discreet": "on",
        "discreet_name": "Service feedback study",
    }
    saved = await post_form(client, settings, good, token_page=settings, follow_redirects=False)
    assert saved.status_code == 303
    async with make_sessionmaker(engine)() as s:
        panel = await s.scalar(select(Panel))
        assert panel is not None
        assert (panel.contact_name, panel.contact_email, panel.contact_phone) == (
            "Sam Patel",
            "sam@university.example",
            "+44 113 496 0000",
        )
        assert panel.discreet and panel.discreet_name == "Service feedback study"
        assert await s.scalar(select(func.count()).select_from(MailText)) == 0
    overview = await client.get(base)
    assert 'id="discreet-note"' in overview.text and "Service feedback study" in overview.text
    api = await client.get(f"/api/v1{base}")
    assert api.json()["contact_email"] == "sam@university.example" and api.json()["discreet"] is True
