"""The study report (per group, handling of comments and suggestions, the stopping rule, PDF) and statement
numbers that agree between the statements page, the exports and the report; on the study of tests/study.py."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.settings import Settings
from tests.results.helpers import OWNER, RESEARCHER, build_world, login, read_csv


def text_of(html: str) -> str:
    body = re.sub(r"<(script|style|svg)\b.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", body).split())


async def test_a_reworded_statement_has_the_same_number_on_the_statements_page_exports_and_report(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    """S4 reworded in round 2 is S4.2 everywhere; its id is the ratings' statement column."""
    world = await build_world(session, settings, rounds=2)
    reworded = world.study.statements["S4b"] if "S4b" in world.study.statements else None
    await login(client, OWNER)
    report = text_of((await client.get(f"/panels/{world.pid}/report")).text)
    assert "S4.2 Take-home doses after four weeks of stable treatment." in report
    ratings = read_csv((await client.get(f"/panels/{world.pid}/exports/ratings.csv")).content)
    header = ratings[0]
    by_label = {r[header.index("statement")]: r[header.index("statement_label")] for r in ratings[1:]}
    summaries = read_csv((await client.get(f"/panels/{world.pid}/exports/round-summaries.csv")).content)
    sh = summaries[0]
    summary_labels = {r[sh.index("statement")]: r[sh.index("statement_label")] for r in summaries[1:]}
    final = read_csv((await client.get(f"/panels/{world.pid}/exports/final-list.csv")).content)
    fh = final[0]
    final_labels = {r[fh.index("statement")]: r[fh.index("statement_label")] for r in final[1:]}
    assert by_label == summary_labels
    assert set(final_labels.items()) <= set(by_label.items())
    assert "S4.2" in by_label.values() and "S1" in by_label.values()
    page = (await client.get(f"/panels/{world.pid}/statements")).text
    if reworded is not None:
        assert by_label[str(reworded.id)] == "S4.2"
    for sid, label in by_label.items():
        assert label in page, f"statement {sid} is {label} on the statements page too"
        assert label in report


async def test_report_shows_each_groups_figures_and_marks_groups_under_k(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    """Experts are 2 people, under k = 3: shown to researchers, marked "under k"."""
    world = await build_world(session, settings, rounds=2)
    await login(client, RESEARCHER)
    html = (await client.get(f"/panels/{world.pid}/report")).text
    page = text_of(html)
    assert "Round 1: results per group" in page and "Round 2: results per group" in page
    assert re.search(r"S1 Service users 6 [\d.]+ [\d.]+ \d+%", page)
    assert re.search(r"Practitioners 6 [\d.]+ [\d.]+ \d+%", page)
    assert re.search(r"Experts under k = 3 2 [\d.]+ [\d.]+ \d+%", page)
    assert 'class="small-cell"' in html


async def test_report_counts_how_comments_and_suggestions_were_handled(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    """Round 1 of the study: four comments (two published, one pending, one hidden), two suggestions (one
    accepted as the rewording S4.2, one rejected); round 2 has none."""
    world = await build_world(session, settings, rounds=2)
    await login(client, RESEARCHER)
    page = text_of((await client.get(f"/panels/{world.pid}/report")).text)
    # round, received, published, hidden, not moderated, edited, suggestions, accepted, merged, rejected, undecided
    assert "1 4 2 1 1 0 2 1 0 1 0" in page
    assert "2 0 0 0 0 0 0 0 0 0 0" in page
    assert "Round 1: a rewording accepted as S4.2 Take-home doses after four weeks" in page


async def test_report_states_the_stopping_rule_and_each_rounds_advice(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    """max_rounds = 2 and round 2 closed with statements still open: ended because the last round closed."""
    world = await build_world(session, settings, rounds=2)
    await login(client, RESEARCHER)
    page = text_of((await client.get(f"/panels/{world.pid}/report")).text)
    assert "At most 2 rounds" in page
    assert "It ended when round 2, the last round allowed, closed." in page
    assert "cannot be compared with a previous round yet" in page  # round 1
    assert re.search(r"2 \d+ \d+ \d+ \d+ (All \d+ statements without consensus are stable|\d+ of the)", page)


async def test_report_downloads_as_a_pdf_rendered_from_the_same_page(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=2)
    await login(client, RESEARCHER)
    response = await client.get(f"/panels/{world.pid}/report.pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert "attachment" in response.headers["content-disposition"]
    data = response.content
    assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF")
    assert len(data) > 20_000, "a report of several sections, not an empty page"
    html = (await client.get(f"/panels/{world.pid}/report")).text
    assert world.study.panel.title in html
    assert f"/panels/{world.pid}/report.pdf" in html


async def test_the_report_lays_out_on_several_a4_pages_with_its_stylesheets(
    session: AsyncSession, client: AsyncTestClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """The page's HTML through the same renderer and fetcher: every stylesheet is found, A4, several pages."""
    import weasyprint

    from delphi.pdf import _fetcher
    from delphi.resources import STATIC_DIR

    world = await build_world(session, settings, rounds=2)
    await login(client, RESEARCHER)
    html = (await client.get(f"/panels/{world.pid}/report")).text
    with caplog.at_level(logging.WARNING, logger="weasyprint"):
        document = weasyprint.HTML(
            string=html, base_url=STATIC_DIR.as_uri() + "/", url_fetcher=_fetcher(STATIC_DIR)
        ).render()
    assert not [r for r in caplog.records if "stylesheet" in r.getMessage()], "every stylesheet loads"
    assert len(document.pages) >= 3
    width_pt = document.pages[0].width * 72 / 96
    assert round(width_pt) == 595, "A4 is 595 points wide (print.css @page size: A4)"


def test_pdf_reads_no_file_outside_the_static_folder(tmp_path: Path) -> None:
    from delphi.pdf import _fetcher

    base = tmp_path / "static"
    base.mkdir()
    (base / "a.css").write_text("p { color: red }")
    (tmp_path / "secret.txt").write_text("no")
    fetch = _fetcher(base)
    assert fetch((base / "a.css").as_uri()) is not None
    assert fetch("file:///static/a.css") is not None, "a site-absolute /static/ link is read from the folder"
    for url in ((tmp_path / "secret.txt").as_uri(), "http://example.org/x.css", "file:///etc/passwd"):
        with pytest.raises(ValueError, match="not fetched"):
            fetch(url)


async def test_without_pango_the_pdf_is_a_clear_503_answer_not_a_500(
    session: AsyncSession, client: AsyncTestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``sys.modules["weasyprint"] = None`` makes the import fail, as a missing Pango does."""
    import sys

    world = await build_world(session, settings, rounds=1)
    await login(client, RESEARCHER)
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    response = await client.get(f"/panels/{world.pid}/report.pdf")
    assert response.status_code == 503
    assert "Pango" in response.text
