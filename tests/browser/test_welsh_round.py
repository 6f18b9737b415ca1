"""The demo's Welsh panellist's whole round in real Chromium, with axe-core on every page.

The database is seeded by the demo's own code (:func:`delphi.demo.seed_demo`, :func:`delphi.demo.simulate_demo_rounds`:
round 1 closed, round 2 open, offered in Welsh with the Welsh of :mod:`delphi.demo_cymraeg`).  A facilitator adds
one more Welsh reader as a late joiner; their personal link comes out of the invitation a real SMTP server
received.  They consent, rate with round 1's feedback, rank, check and send their answers; the receipt comes by
mail; the facilitator closes round 2 and finishes the panel, and the final results come by mail and on the page.
Every page and mail is checked for Welsh text taken from the sources (the demo's Welsh, the Welsh catalog), and
for the absence of the demo's English statements.
"""

from __future__ import annotations

import asyncio
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from delphi import demo
from delphi.db.engine import make_engine, make_sessionmaker
from delphi.db.models import (
    Account,
    Base,
    Panel,
    Panellist,
    Round,
    RoundRanking,
    RoundStatement,
    StakeholderGroup,
    Submission,
    utcnow,
)
from delphi.demo_cymraeg import WELSH
from delphi.domain import Actor
from delphi.formatting import format_datetime, format_number
from delphi.locale import catalog
from delphi.panels.panellists import add_panellist
from delphi.participation.checks import RatingInput
from delphi.participation.ranking import RankingInput, save_ranking
from delphi.participation.saving import save_rating
from delphi.participation.submit import submit
from delphi.rounds import lookup, mailing, transitions
from delphi.security import panellist_token
from delphi.settings import MailSettings, Settings
from delphi.worker import tick
from tests.browser.conftest import free_port, missing_requirements
from tests.browser.serving import live_settings, serving
from tests.browser.test_panellist_journey import PHONE, all_saved, check, new_page, no_horizontal_scroll
from tests.conftest import TEST_SECRET
from tests.smtp import Received, SmtpSink

pytestmark = pytest.mark.browser

CY = catalog("cy")
LATE_JOINER = "newydd@demo.example"
#: Every English statement of the demo: none may show on a Welsh page or in a Welsh mail.
ENGLISH_STATEMENTS = [text for _, text in demo.DEMO_STATEMENTS]


def _(msgid: str, **values: object) -> str:
    """The Welsh catalog's text for ``msgid`` (checked to be translated), its placeholders filled."""
    assert CY._catalog.get(msgid), f"the Welsh catalog has no translation of {msgid!r}"
    text = CY.gettext(msgid)
    return text % values if values else text


def _n(singular: str, plural: str, n: int, **values: object) -> str:
    """The Welsh catalog's form of ``singular``/``plural`` for ``n`` (checked to be translated), ``num`` = n."""
    assert CY._catalog.get((singular, 0)), f"the Welsh catalog has no translation of {singular!r}"
    return CY.ngettext(singular, plural, n) % {"num": n, **values}


@dataclass
class Demo:
    base_url: str
    settings: Settings
    sink: SmtpSink
    panel_id: int
    account_id: int

    def engine(self) -> Any:
        return make_engine(self.settings.database, null_pool=True)


@pytest.fixture(scope="module")
def welsh_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    if missing_requirements() is not None:
        pytest.skip("browser requirements missing")
    from delphi.app import create_app

    tmp = tmp_path_factory.mktemp("welsh")
    db_url = f"sqlite+aiosqlite:///{tmp / 'welsh.db'}"
    sink = SmtpSink()
    sink.start()
    port = free_port()
    settings = live_settings(
        db_url,
        port,
        tmp / "var",
        MailSettings(host=sink.host, port=sink.port, sender="Demo team <demo@test.example>"),
    )

    async def prepare() -> tuple[int, int]:
        engine = make_engine(settings.database, null_pool=True)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
            async with make_sessionmaker(engine)() as session, session.begin():
                account, panel = await demo.seed_demo(session, password="a long enough password")
                await demo.simulate_demo_rounds(session, panel, account, settings, utcnow())
                ids = (panel.id, account.id)
            await tick(settings, engine)  # round 2's mail to the simulated panel
            return ids
        finally:
            await engine.dispose()

    panel_id, account_id = asyncio.run(prepare())
    try:
        with serving(create_app(settings), port, "uvicorn-welsh"):
            yield Demo(settings.base_url, settings, sink, panel_id, account_id)
    finally:
        sink.stop()


async def deliver(demo_: Demo) -> None:
    engine = demo_.engine()
    try:
        await tick(demo_.settings, engine)
    finally:
        await engine.dispose()


async def mail_to(demo_: Demo, address: str, count: int) -> list[Received]:
    """The first ``count`` messages received for ``address`` (waits up to 10 s for them)."""
    async with asyncio.timeout(10):
        while True:
            found = [m for m in demo_.sink.messages() if address in m.rcpt_tos]
            if len(found) >= count:
                return found
            await asyncio.sleep(0.01)


def plain(message: Received) -> str:
    return message.message.get_body(("plain",)).get_content()


def html_text(message: Received) -> str:
    """The HTML part, its character references resolved (``&#39;`` is an apostrophe)."""
    return html.unescape(message.message.get_body(("html",)).get_content())


async def link_of(demo_: Demo, name: str) -> str:
    """The personal link of the demo panellist called ``name``."""
    engine = demo_.engine()
    try:
        async with make_sessionmaker(engine)() as session:
            p = await session.scalar(
                select(Panellist).where(Panellist.panel_id == demo_.panel_id, Panellist.name == name)
            )
            assert p is not None, name
            return f"{demo_.base_url}/p/{panellist_token(TEST_SECRET, p.id, p.session_version)}"
    finally:
        await engine.dispose()


async def welsh_page(page: Any, name: str, title: str) -> str:
    """Check the page is in Welsh (``<html lang="cy">``, its title starting with ``title``), run axe-core (zero
    violations) and check it fits the phone; return the text of its main part.  None of the demo's English
    statements may be anywhere in it, text alternatives and hidden text included."""
    assert await page.get_attribute("html", "lang") == "cy", page.url
    assert (await page.title()).startswith(title), (await page.title(), title)
    await check(page, f"welsh-{name}")
    await no_horizontal_scroll(page)
    source = html.unescape(await page.content())
    for english in ENGLISH_STATEMENTS:
        assert english not in source, f"English statement on the Welsh {name} page: {english!r}"
    return await page.inner_text("main")


async def test_the_language_switcher_goes_to_english_and_back_and_is_remembered(
    welsh_demo: Demo, browser: Any
) -> None:
    page = await new_page(browser, PHONE)
    await page.goto(await link_of(welsh_demo, "Experts 5"))
    await page.wait_for_url("**/panel")
    main = await welsh_page(page, "home", _("Your panel page"))
    assert WELSH[demo.DEMO_TITLE] in main
    await page.select_option("#language-choice", "en")
    async with page.expect_navigation():
        await page.get_by_role("button", name=_("Change language")).click()
    assert await page.get_attribute("html", "lang") == "en"
    assert demo.DEMO_TITLE in await page.inner_text("main")
    await page.reload()
    assert await page.get_attribute("html", "lang") == "en"
    assert "Change language" in await page.inner_text("header")
    await page.select_option("#language-choice", "cy")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Change language").click()
    await page.reload()
    main = await welsh_page(page, "home-again", _("Your panel page"))
    assert WELSH[demo.DEMO_TITLE] in main
    await page.context.close()


async def test_a_welsh_late_joiner_does_the_whole_round_in_welsh(welsh_demo: Demo, browser: Any) -> None:
    # the facilitator adds a Welsh reader while round 2 is open: the round's invitation goes at once
    engine = welsh_demo.engine()
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            panel = await session.get(Panel, welsh_demo.panel_id)
            group_id = await session.scalar(
                select(StakeholderGroup.id)
                .where(StakeholderGroup.panel_id == panel.id)
                .order_by(StakeholderGroup.position)
            )
            actor = Actor.account(await session.get(Account, welsh_demo.account_id))
            joiner = await add_panellist(
                session,
                panel,
                email=LATE_JOINER,
                group_id=group_id,
                name="Siân",
                language="cy",
                secret_key=TEST_SECRET,
                actor=actor,
            )
            await mailing.invite_late_joiner(session, panel, joiner)
            closes_at = (await lookup.get_round(session, panel, 2)).closes_at
    finally:
        await engine.dispose()
    await deliver(welsh_demo)

    # 1. the invitation (round 2's, for a late joiner) is in Welsh, and carries the personal link
    (invitation,) = await mail_to(welsh_demo, LATE_JOINER, 1)
    assert str(invitation.message["Subject"]) == _(
        "Round %(number)s is open: see how the group answered", number=2
    )
    body = plain(invitation)
    assert _("Hello %(name)s,", name="Siân") in body
    assert _("Panel: %(title)s", title=WELSH[demo.DEMO_TITLE]) in body
    assert _("Thank you for taking part so far. Round %(number)s is now open.", number=2) in body
    assert _("Go to round %(number)s:", number=2) in body
    assert WELSH[demo.DEMO_TITLE] in html_text(invitation)
    assert demo.DEMO_TITLE not in body + html_text(invitation)
    link = re.search(r"https?://\S+/p/[\w-]+(?=\s)", body)
    assert link is not None, body

    page = await new_page(browser, PHONE)
    await page.goto(link.group(0))
    await page.wait_for_url("**/panel/consent")
    main = await welsh_page(page, "consent", _("About this panel"))
    assert WELSH[demo.DEMO_TITLE] in main
    for paragraph in demo.DEMO_CONSENT.split("\n\n"):
        assert WELSH[paragraph.strip()] in main
    assert _("Information and consent") in main
    assert _("I have read the information above and I agree to take part") in main
    assert _("Agree and continue") in main
    # agreeing without ticking the box: the error, in Welsh
    await click(page, _("Agree and continue"))
    main = await welsh_page(page, "consent-error", _("About this panel"))
    assert _("Tick the box to say you agree to take part.") in main
    await page.check("#consent")
    await click(page, _("Agree and continue"))

    # 2. the about-you questions, in Welsh
    assert page.url.endswith("/panel/about-you")
    main = await welsh_page(page, "about-you", _("About you"))
    years, choices = demo.DEMO_BASELINE_YEARS
    for english in (years, *choices, demo.DEMO_BASELINE_AGE[0]):
        assert WELSH[english] in main
    assert _("Prefer not to say") in main
    await page.get_by_label(WELSH[choices[1]]).check()
    await click(page, _("Save and continue"))
    main = await welsh_page(page, "home", _("Your panel page"))
    assert _("Your answers about yourself are saved. Thank you.") in main
    assert _("Round %(n)s is open until %(date)s.", n=2, date=format_datetime(closes_at, "cy")) in main
    async with page.expect_navigation():
        await page.get_by_role("link", name=_("Start rating")).click()

    # the rating pages: Welsh sections, statements and scale, round 1's feedback from the catalog
    welsh_sections = {WELSH[section] for section, _text in demo.DEMO_STATEMENTS}
    welsh_statements = {WELSH[text] for _section, text in demo.DEMO_STATEMENTS}
    rated: list[str] = []
    step = 0
    while "/panel/rate" in page.url:
        step += 1
        for details in await page.query_selector_all("details"):
            await details.evaluate("d => d.open = true")
        heading = (await page.inner_text("h1")).strip()
        section = next((name for name in welsh_sections if heading.startswith(name)), None)
        assert section is not None, heading
        main = await welsh_page(page, f"rate-{step}", f"{section} – {_('Round %(n)s', n=2)}")
        assert _("What the panel said in round %(n)s", n=1) in main
        assert _("You did not rate this in round %(n)s.", n=1) in main
        for english in ("Strongly disagree", "Neither agree nor disagree", "Strongly agree"):
            assert WELSH[english] in main
        assert WELSH[demo.DEMO_UNABLE_LABEL] in main
        # the feedback by group names each group in Welsh, in its heading and in its chart's title
        for group in demo.DEMO_GROUPS:
            assert f"\n{WELSH[group]}\n" in f"\n{main}\n" and f"\n{group}\n" not in f"\n{main}\n"
        assert _("How %(group)s rated this in round %(n)s", group=WELSH[demo.DEMO_GROUPS[0]], n=1) in (
            await page.content()
        )
        statements = await page.eval_on_selector_all(
            "section.statement",
            """els => els.map(e => ({
                id: e.id.slice(3),
                text: e.querySelector('.statement-text').textContent.trim(),
                q1: e.querySelector('fieldset.rating').dataset.q1,
                q3: e.querySelector('fieldset.rating').dataset.q3,
            }))""",
        )
        assert statements
        for st in statements:
            assert st["text"] in welsh_statements, st["text"]
            rated.append(st["text"])
            # the middle half of round 1's ratings, its numbers written the Welsh way
            q1, q3 = (format_number(float(st[q]), "cy") for q in ("q1", "q3"))
            middle = (
                _("The middle half of the ratings were all %(q)s.", q=q1)
                if q1 == q3
                else _("The middle half of the ratings lay between %(q1)s and %(q3)s.", q1=q1, q3=q3)
            )
            assert middle in main, middle
            # the chart's text alternative
            title = await page.text_content(f"#fb-{st['id']}-all-title")
            desc = await page.text_content(f"#fb-{st['id']}-all-desc")
            assert title == _("How the whole panel rated this in round %(n)s", n=1)
            assert desc.startswith(_("Ratings from %(lo)s to %(hi)s.", lo=1, hi=9))
            await page.click(f"label[for='s{st['id']}-8']")
        await all_saved(page)
        async with page.expect_navigation():
            await page.locator("button[value=next], button[value=review]").first.click()
    assert len(rated) == len(set(rated)) >= 3

    # the ranking question, with round 1's order
    assert "/panel/rank/" in page.url
    main = await welsh_page(page, "rank", f"{_('Put these in order')} – {_('Round %(n)s', n=2)}")
    question, items = demo.DEMO_RANKING
    assert WELSH[question] in main
    assert _("The panel's order, by average rank (1 = first)") in main
    for item in items:
        assert WELSH[item] in main
    for rank, item in enumerate(items, start=1):
        await page.get_by_label(WELSH[item], exact=True).select_option(str(rank))
    async with page.expect_navigation():
        await page.locator("button[value=next], button[value=review]").first.click()

    # the review page, then send
    assert page.url.endswith("/panel/review")
    main = await welsh_page(page, "review", _("Check your answers"))
    assert _("Check your answers") in main
    assert _("You have answered every statement. Check your answers, then send them.") in main
    for text in rated:
        assert text in main
    assert f"8 – {WELSH['Strongly agree']}" not in main  # 8 has no label: the number alone
    await click(page, _("Send my answers"))
    assert page.url.endswith("/panel/done")
    main = await welsh_page(page, "done", _("Thank you – your answers are in"))
    assert _("Thank you – your answers are in") in main
    assert _("%(answered)s of %(total)s", answered=len(rated), total=len(rated)) in main
    sent = format_datetime(await submitted_at(welsh_demo, LATE_JOINER), "cy")
    assert _("We received your answers for round %(n)s on %(date)s.", n=2, date=sent) in main

    # 3. the receipt, in Welsh
    await deliver(welsh_demo)
    receipt = (await mail_to(welsh_demo, LATE_JOINER, 2))[1]
    assert str(receipt.message["Subject"]) == _("Thank you: we have your answers")
    body = plain(receipt)
    assert _("Hello %(name)s,", name="Siân") in body
    assert (
        _("Thank you. We received your answers for round %(number)s on %(date)s.", number=2, date=sent)
        in body
    )
    assert _("Panel: %(title)s", title=WELSH[demo.DEMO_TITLE]) in body
    assert _("We will e-mail you when there is news.") in body

    # 4. the rest of the panel answers round 2; the facilitator closes it and the panel finishes
    await answer_round_2(welsh_demo, but=LATE_JOINER)
    engine = welsh_demo.engine()
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            panel = await session.get(Panel, welsh_demo.panel_id)
            actor = Actor.account(await session.get(Account, welsh_demo.account_id))
            round2 = await lookup.get_round(session, panel, 2)
            outcome = await transitions.close_round(
                session, panel, round2, settings=welsh_demo.settings, actor=actor
            )
            if not outcome.finished:
                await transitions.finish_panel(session, panel, settings=welsh_demo.settings, actor=actor)
    finally:
        await engine.dispose()
    await deliver(welsh_demo)
    final = (await mail_to(welsh_demo, LATE_JOINER, 3))[2]
    assert str(final.message["Subject"]) == _("The panel has finished: see what came of your answers")
    body = plain(final)
    assert _("The panel has finished. Thank you for giving your time and your views.") in body
    assert (
        _n("The panel agreed on %(num)s recommendation:", "The panel agreed on %(num)s recommendations:", 10)
        in body
    )
    agreed = [line[2:] for line in body.splitlines() if line.startswith("- ")]
    assert sorted(agreed) == sorted(welsh_statements)  # every statement reached consensus, in round 1 or 2
    for english in [*ENGLISH_STATEMENTS, demo.DEMO_TITLE]:
        assert english not in body and english not in html_text(final)

    await page.goto(f"{welsh_demo.base_url}/panel")
    assert page.url.endswith("/panel/results")
    main = await welsh_page(page, "results", _("The panel's results"))
    assert _("The panel's results") in main
    assert _n("The panel took %(num)s round.", "The panel took %(num)s rounds.", 2) in main
    assert (
        _n("The panel agreed to keep %(num)s statement.", "The panel agreed to keep %(num)s statements.", 10)
        in main
    )
    for text in agreed:
        assert text in main
    assert _("Agreed in round %(n)s.", n=2) in main
    titles = await page.eval_on_selector_all("svg.chart title", "els => els.map(e => e.textContent)")
    assert _("How the panel rated this in round %(n)s", n=2) in titles
    await page.context.close()


async def submitted_at(demo_: Demo, email: str) -> Any:
    """When the panellist with ``email`` sent their answers to round 2."""
    engine = demo_.engine()
    try:
        async with make_sessionmaker(engine)() as session:
            return await session.scalar(
                select(Submission.submitted_at)
                .join(Panellist, Panellist.id == Submission.panellist_id)
                .join(Round, Round.id == Submission.round_id)
                .where(Panellist.email == email, Round.number == 2)
            )
    finally:
        await engine.dispose()


async def answer_round_2(demo_: Demo, *, but: str) -> None:
    """Every other panellist rates each statement of round 2 from 7 to 9, is unable to rank, and submits
    (through the participation use cases), so round 2 has results to show."""
    engine = demo_.engine()
    try:
        async with make_sessionmaker(engine)() as session, session.begin():
            people = (
                await session.scalars(
                    select(Panellist)
                    .where(Panellist.panel_id == demo_.panel_id, Panellist.email != but)
                    .order_by(Panellist.id)
                )
            ).all()
            panel = await session.get(Panel, demo_.panel_id)
            round2 = await lookup.get_round(session, panel, 2)
            statement_ids = (
                await session.scalars(
                    select(RoundStatement.statement_id).where(RoundStatement.round_id == round2.id)
                )
            ).all()
            question_ids = (
                await session.scalars(
                    select(RoundRanking.question_id).where(RoundRanking.round_id == round2.id)
                )
            ).all()
            for n, p in enumerate(people):
                for sid in statement_ids:
                    await save_rating(session, p, RatingInput(sid, 7 + (n + sid) % 3))
                for qid in question_ids:
                    await save_ranking(session, p, RankingInput(qid, unable=True))
                await submit(session, p, send_receipt=False)
    finally:
        await engine.dispose()


async def click(page: Any, name: str) -> None:
    """Press the button called ``name`` and wait for the page it leads to."""
    async with page.expect_navigation():
        await page.get_by_role("button", name=name, exact=True).click()
