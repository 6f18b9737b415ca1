"""The invitation-card pages (confirm, then the cards shown once) and the honoraria page, through the app."""

from __future__ import annotations

import re

from litestar.testing import AsyncTestClient
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panel, PanelAccess, Payment, utcnow
from delphi.settings import Settings
from tests.results.helpers import FACILITATOR, OWNER, World, build_world, login, post_form, read_csv

TITLE_WORDS = ("Involving", "treatment")
PEOPLE = "@people.example"


def card_url(world: World) -> str:
    return f"/panels/{world.pid}/panellists/{world.study.panellists[0].id}/card"


async def test_the_card_button_asks_first_and_changes_nothing(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    await login(client, OWNER)
    page = await post_form(client, card_url(world))
    assert page.status_code == 200
    assert "The old link stops working at once" in page.text and "e-mailed" in page.text
    assert (await client.get(f"/p/{world.study.tokens[0]}", follow_redirects=False)).status_code == 303


async def test_a_printed_card_has_a_new_working_link_and_the_old_one_stops(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    panel = world.study.panel
    await login(client, OWNER)
    card = await post_form(client, card_url(world), {"confirm": "1", "format": "html"})
    assert card.status_code == 200
    assert card.headers["cache-control"] == "no-store"
    assert "<svg" in card.text and 'role="img"' in card.text
    for secret in (panel.title, panel.description, world.study.panellists[0].pseudonym, *TITLE_WORDS):
        assert secret not in card.text
    links = re.findall(r'<p class="card-link">[^<]*/p/([^<]+)</p>', card.text)
    assert len(links) == 1
    client.cookies.clear()
    assert (await client.get(f"/p/{world.study.tokens[0]}", follow_redirects=False)).status_code == 404
    assert (await client.get(f"/p/{links[0]}", follow_redirects=False)).status_code == 303


async def test_the_cards_come_as_a_pdf_by_choice(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    await login(client, OWNER)
    pdf = await post_form(
        client, f"/panels/{world.pid}/panellists/cards", {"who": "all", "confirm": "1", "format": "pdf"}
    )
    assert pdf.status_code == 200, pdf.text[:500]
    assert pdf.content.startswith(b"%PDF")
    assert pdf.headers["cache-control"] == "no-store"


async def test_cards_for_everyone_say_how_many_and_refuse_an_unknown_choice(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    await login(client, OWNER)
    url = f"/panels/{world.pid}/panellists/cards"
    confirm = await post_form(client, url, {"who": "all"})
    n = len(world.study.panellists)
    assert confirm.status_code == 200 and f"Each of the {n} cards has a new personal link" in confirm.text
    nobody = await post_form(client, url, {"who": "no_email"})
    assert nobody.status_code == 422 and "no card to print" in nobody.text
    odd = await post_form(client, url, {"who": "someone", "format": "tiff"})
    assert odd.status_code == 422
    assert "Choose who to print cards for" in odd.text and "Choose a printable page or a PDF" in odd.text


async def test_a_bad_payment_lists_every_problem_and_saves_nothing(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    await login(client, FACILITATOR)
    pid = world.study.panellists[0].id
    form = {"amount": "0", "paid_on": "2999-01-01", "method": "cheque", "reference": "r" * 201}
    page = await post_form(client, f"/panels/{world.pid}/honoraria/{pid}/payments", form)
    assert page.status_code == 422
    summary = page.text.split('class="error-summary"')[1].split("</div>")[0]
    assert summary.count("<li>") == 4
    assert (await session.scalars(select(Payment))).all() == []
    good = {"amount": "15", "paid_on": utcnow().date().isoformat(), "method": "cash", "reference": ""}
    saved = await post_form(client, f"/panels/{world.pid}/honoraria/{pid}/payments", good)
    assert saved.status_code == 303
    sheet = await client.get(f"/panels/{world.pid}/honoraria")
    assert sheet.status_code == 200 and "£15.00" in sheet.text


async def test_the_sheet_csv_hides_names_and_addresses_from_a_facilitator_without_the_grant(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    await login(client, FACILITATOR)
    hidden = await client.get(f"/panels/{world.pid}/honoraria/sheet.csv")
    assert hidden.status_code == 200 and PEOPLE not in hidden.text
    assert "email" not in read_csv(hidden.content)[0]
    page = await client.get(f"/panels/{world.pid}/honoraria")
    assert PEOPLE not in page.text
    await session.execute(
        update(PanelAccess)
        .where(PanelAccess.account_id == world.accounts[FACILITATOR].id, PanelAccess.panel_id == world.pid)
        .values(can_contact=True)
    )
    await session.commit()
    shown = await client.get(f"/panels/{world.pid}/honoraria/sheet.csv")
    header = read_csv(shown.content)[0]
    assert header[:4] == ["panellist", "group", "email", "name"]
    assert header[-4:] == ["amount_owed", "amount_paid", "amount_due", "currency"]
    assert PEOPLE in shown.text


async def test_a_panel_without_honorarium_says_so_and_still_takes_payments(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    await session.execute(update(Panel).where(Panel.id == world.pid).values(honorarium_minor=None))
    await session.commit()
    await login(client, OWNER)
    page = await client.get(f"/panels/{world.pid}/honoraria")
    assert "This panel pays no honorarium" in page.text and "Record a payment" in page.text
