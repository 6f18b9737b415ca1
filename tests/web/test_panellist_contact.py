"""The panel contact on every panellist page, what a page without a known panel says instead, and discreet mode on
panellist pages."""

from __future__ import annotations

import re

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import build_panel
from tests.panellist.conftest import enter, form_token

CONTACT = {
    "contact_name": "Sam Patel",
    "contact_email": "sam.patel@university.example",
    "contact_phone": "0113 496 0000",
}
TITLE = "Heroin treatment in Leeds"


def footer(page: str) -> str:
    return page.split('<footer class="site-footer">')[1]


def title_and_brand(page: str) -> str:
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    brand = re.search(r'<a class="brand"[^>]*>(.*?)</a>', page, re.S)
    assert title and brand
    return title.group(1) + " | " + brand.group(1)


@pytest.mark.parametrize("path", ["/panel/consent", "/panel", "/panel/rate", "/panel/leave"])
async def test_every_panellist_page_shows_the_panel_contact(
    session: AsyncSession, client: AsyncTestClient, path: str
) -> None:
    world = await build_panel(session, consented=path != "/panel/consent", panel_kw=CONTACT)
    await session.commit()
    await enter(client, world.token)
    page = await client.get(path, follow_redirects=True)
    assert page.status_code == 200
    end = footer(page.text)
    assert "Questions? Contact Sam Patel:" in end
    assert '<a href="mailto:sam.patel@university.example">sam.patel@university.example</a>' in end
    assert '<a href="tel:01134960000">0113 496 0000</a>' in end
    assert "address in your invitation e-mail" not in page.text


async def test_the_page_after_leaving_names_the_contact_to_write_to(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    world = await build_panel(session, consented=True, panel_kw=CONTACT)
    await session.commit()
    await enter(client, world.token)
    token = await form_token(client, "/panel/leave")
    left = await client.post("/panel/leave", data={"_csrf_token": token})
    assert left.status_code == 200
    assert "write to Sam Patel at sam.patel@university.example." in left.text


async def test_a_link_that_does_not_work_names_no_panel_and_points_to_the_contact_in_the_mails(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    await build_panel(session, panel_kw={**CONTACT, "title": TITLE})
    await session.commit()
    page = await client.get("/p/not-anyones-token")
    assert page.status_code == 404
    assert "write to the panel contact named at the end of the e-mail that brought you here" in page.text
    assert "sam.patel" not in page.text and TITLE not in page.text


async def test_in_discreet_mode_panellist_pages_title_and_header_use_the_neutral_name(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    world = await build_panel(
        session,
        consented=True,
        panel_kw={**CONTACT, "title": TITLE, "discreet": True, "discreet_name": "Service feedback study"},
    )
    await session.commit()
    await enter(client, world.token)
    for path in ("/panel", "/panel/leave"):
        page = await client.get(path)
        head = title_and_brand(page.text)
        assert "Service feedback study" in head and TITLE not in head
    plain = await build_panel(
        session, consented=True, panel_kw={"title": "Plain panel"}, email="x{n}@example.org"
    )
    await session.commit()
    await enter(client, plain.token)  # the same browser, now as a panellist of a panel not in discreet mode
    assert "Plain panel" in title_and_brand((await client.get("/panel")).text)


async def test_in_discreet_mode_the_rating_page_title_does_not_name_the_section(
    session: AsyncSession, client: AsyncTestClient
) -> None:
    """A browser tab or history entry shows the <title>: a section such as "Opioid substitution" names the topic."""
    section = "Opioid substitution"
    discreet = await build_panel(
        session,
        consented=True,
        sections=((section, 3),),
        panel_kw={**CONTACT, "discreet": True, "discreet_name": "Service feedback study"},
    )
    await session.commit()
    await enter(client, discreet.token)
    page = await client.get("/panel/rate")
    title = re.search(r"<title>(.*?)</title>", page.text, re.S)
    assert page.status_code == 200 and title and section not in title.group(1)
    assert section in page.text  # the page itself still heads the statements with their section
    plain = await build_panel(session, consented=True, sections=((section, 3),), email="y{n}@example.org")
    await session.commit()
    await enter(client, plain.token)
    title = re.search(r"<title>(.*?)</title>", (await client.get("/panel/rate")).text, re.S)
    assert title and section in title.group(1)
