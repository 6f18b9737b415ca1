"""The participant-characteristics table: counts of fewer than k hidden, and none recoverable by subtraction.

The suppression rules are those of Hundepool et al. (2012), *Statistical Disclosure Control*, Wiley, ch. 4:
the threshold rule, complementary cell suppression along every published margin, and an audit of each hidden
cell's protection interval by linear programming (delphi/stats/suppression.py)."""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from pathlib import Path

import frictionless
import numpy as np
import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import BaselineAnswer, BaselineQuestion
from delphi.results import exports
from delphi.results.characteristics import Answer, load_characteristics, tabulate_question
from delphi.results.frame import load_frame
from delphi.settings import Settings
from delphi.stats.suppression import protection_intervals, suppress_table
from tests.factories import build_panel
from tests.results.helpers import RESEARCHER, assert_xlsx_matches_csv, build_world, login
from tests.study import Study, build_study


def test_the_worked_example_hides_both_small_cells_and_their_complements() -> None:
    # Groups of 5 and 4, k = 3: "yes" 4 and 3, "no" 1 and 1 (the module docstring's example).
    release = suppress_table([[4, 3], [1, 1]], 3)
    assert release.primary == ((False, False), (True, True))
    assert release.cells == ((False, False), (False, False))
    assert release.totals == (False, False)


def test_a_lone_hidden_cell_in_a_line_gets_a_complement() -> None:
    release = suppress_table([[10, 10, 10], [5, 1, 6], [5, 6, 5]], 3)
    # the 1 is hidden; its row and its column each hide one more, so neither total gives it back
    hidden = [(i, j) for i in range(3) for j in range(3) if not release.cells[i][j]]
    assert (1, 1) in hidden
    for i in range(3):
        assert sum(1 for j in range(3) if not release.cells[i][j]) != 1
    for j in range(3):
        assert sum(1 for i in range(3) if not release.cells[i][j]) != 1


def test_a_table_without_small_counts_is_shown_whole() -> None:
    release = suppress_table([[10, 10], [5, 5], [0, 0]], 3)
    assert release.hidden_count == 0


def _exact_by_subtraction(table: list[list[int]], cells, totals) -> set[tuple[int, int]]:  # type: ignore[no-untyped-def]
    """Every hidden cell a reader gets exactly from one row or column total minus its visible cells."""
    found = set()
    t = np.array(table)
    for i, row in enumerate(cells):
        hidden = [j for j, shown in enumerate(row) if not shown]
        if totals[i] and len(hidden) == 1:
            found.add((i, hidden[0]))
    for j in range(t.shape[1]):
        hidden = [i for i in range(t.shape[0]) if not cells[i][j]]
        if len(hidden) == 1:
            found.add((hidden[0], j))
    return found


@pytest.mark.parametrize("seed", range(40))
def test_no_small_count_can_be_worked_out_from_the_margins_of_a_random_table(seed: int) -> None:
    """The subtraction attack: with group sizes, the grand total and the shown row totals, a reader solves for
    every hidden cell; none comes out exact, and none is pinned inside 1..k-1."""
    rng = np.random.default_rng(seed)
    table = rng.choice(
        [0, 1, 2, 3, 4, 6, 9], size=(int(rng.integers(2, 6)), int(rng.integers(1, 5)))
    ).tolist()
    k = 3
    release = suppress_table(table, k)
    for i, j in itertools.product(range(len(table)), range(len(table[0]))):
        if 0 < table[i][j] < k:
            assert not release.cells[i][j]
    assert _exact_by_subtraction(table, release.cells, release.totals) == set()
    hidden = ~np.array(release.cells, dtype=bool)
    lo, hi = protection_intervals(table, hidden, ~np.array(release.totals, dtype=bool))
    mask = ~np.isnan(lo)
    assert ((hi[mask] - lo[mask]) >= 0.5).all()
    assert ((lo[mask] < 0.5) | (hi[mask] >= k - 0.5)).all()


def test_a_bridge_between_two_blocks_of_hidden_cells_is_caught_by_the_audit() -> None:
    """Each line hides two cells, yet summing rows and columns would pin the cell joining the two blocks; the
    audit hides more until every hidden cell has a real range."""
    table = [[1, 1, 9, 9], [1, 1, 9, 9], [9, 9, 1, 1], [9, 9, 1, 1]]
    release = suppress_table(table, 3)
    hidden = ~np.array(release.cells, dtype=bool)
    lo, hi = protection_intervals(table, hidden, ~np.array(release.totals, dtype=bool))
    mask = ~np.isnan(lo)
    assert ((hi[mask] - lo[mask]) >= 0.5).all()


def test_a_multiple_choice_made_by_all_but_one_answerer_is_hidden() -> None:
    q = BaselineQuestion(id=1, kind="multiple", text="Services", choices=["Opioid", "Alcohol"], unit="")
    people = (
        [(1, Answer(("Opioid", "Alcohol")))] * 5
        + [(1, Answer(("Alcohol",)))]
        + [(2, Answer(("Opioid",)))] * 6
    )
    table = tabulate_question(q, people, [1, 2], 3)
    rows = {r.label: r for r in table.rows}
    assert rows["Opioid"].cells[0] is None  # 5 of 6 chose it: the one who did not would be disclosed
    assert rows["Alcohol"].cells == (6, 0)


def test_a_number_question_gives_median_and_iqr_only_for_groups_of_k_or_more() -> None:
    q = BaselineQuestion(id=2, kind="number", text="Age", choices=[], unit="years")
    people = [(1, Answer(number=70.0))] * 4 + [(2, Answer(number=float(a))) for a in (30, 40, 50, 60)]
    people += [(3, Answer(number=20.0))]
    # R: quantile(c(30, 40, 50, 60), c(.25, .5, .75), type = 7) -> 37.5 45 52.5
    g1, g2, everyone = tabulate_question(q, people[:8], [1, 2], 3).numbers
    assert (g2.n, g2.q1, g2.median, g2.q3) == (4, 37.5, 45.0, 52.5)
    assert (g1.n, everyone.n) == (4, 8)
    table = tabulate_question(q, people, [1, 2, 3], 3)
    g1, g2, g3, everyone = table.numbers
    assert g3.n is None and g3.median is None  # one person
    # the first group of four is hidden too (delphi.stats.disclosure.decide: smallest, then display order),
    # or everyone minus group 2 would give group 3's n
    assert g1.n is None
    # n is the "Answered" count, which the partition hides in every group here (the lone person's count follows
    # from the group sizes otherwise): an n beside a median would undo that, so none is shown
    assert table.rows[0].cells == (None, None, None) and (g2.n, everyone.n) == (None, None)


async def test_the_loader_counts_consented_panellists_by_group(session: AsyncSession) -> None:
    w = await build_panel(session, panellists=[4, 4], consented=True, panel_kw={"k_min": 3})
    q = BaselineQuestion(panel_id=w.panel.id, kind="single", text="Years", choices=["Under 5", "5 or more"])
    session.add(q)
    await session.flush()
    for p, _t in w.people:
        session.add(
            BaselineAnswer(
                panellist_id=p.id,
                question_id=q.id,
                chosen=["Under 5" if p.group_id == w.groups[0].id else "5 or more"],
            )
        )
    await session.flush()
    ch = await load_characteristics(session, w.panel, w.groups)
    assert ch is not None and ch.total_n == 8 and ch.group_n == (4, 4)
    rows = {r.label: r for r in ch.questions[0].rows}
    assert rows["Under 5"].cells == (4, 0) and rows["5 or more"].cells == (0, 4)
    assert rows["Not answered"].total == 0


async def _study_with_baseline(session: AsyncSession, settings: Settings) -> Study:
    """The results tests' study (two closed rounds) with a single-choice, a number and a text question answered
    by every panellist but the last, whose e-mail and name must never reach the export."""
    study = await build_study(session, settings, rounds=2)
    qs = [
        BaselineQuestion(
            panel_id=study.panel.id, kind="single", text="Years", choices=["Under 5", "5 or more"]
        ),
        BaselineQuestion(panel_id=study.panel.id, kind="number", text="Age", unit="years", position=1),
        BaselineQuestion(panel_id=study.panel.id, kind="text", text="Anything else", position=2),
    ]
    session.add_all(qs)
    await session.flush()
    for i, p in enumerate(study.panellists[:-1]):
        p.name = f"Real Name {i}"
        session.add_all(
            [
                BaselineAnswer(
                    panellist_id=p.id, question_id=qs[0].id, chosen=["Under 5" if i % 2 else "5 or more"]
                ),
                BaselineAnswer(panellist_id=p.id, question_id=qs[1].id, number=30.0 + i),
                BaselineAnswer(panellist_id=p.id, question_id=qs[2].id, prefer_not=True),
            ]
        )
    await session.commit()
    return study


async def test_the_baseline_export_has_pseudonyms_and_answers_never_an_address_or_a_name(
    session: AsyncSession, settings: Settings
) -> None:
    study = await _study_with_baseline(session, settings)
    frame = await load_frame(session, study.panel)
    spec = exports.BY_NAME["baseline"]
    data, _ = await exports.produce(session, frame, spec, "csv")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert list(rows[0]) == [
        "panellist",
        "group",
        "question_id",
        "question",
        "kind",
        "answer",
        "number",
        "text",
        "prefer_not",
        "language",
    ]
    assert len(rows) == 3 * (len(study.panellists) - 1)
    text = data.decode("utf-8-sig")
    assert not any(p.email and p.email in text for p in study.panellists)
    assert "Real Name" not in text
    by_kind = {r["kind"]: r for r in rows if r["panellist"] == study.panellists[0].pseudonym}
    assert by_kind["single"]["answer"] == "5 or more" and float(by_kind["number"]["number"]) == 30.0
    assert by_kind["text"]["prefer_not"] == "1"
    xlsx, _ = await exports.produce(session, frame, spec, "xlsx")
    assert assert_xlsx_matches_csv(xlsx, data) == len(rows) + 1
    book, _ = await exports.produce(session, frame, exports.BY_NAME["codebook"], "csv")
    assert "prefer_not" in book.decode("utf-8-sig")


async def test_the_data_package_holds_the_baseline_answers_and_validates_with_frictionless(
    session: AsyncSession, settings: Settings, tmp_path: Path
) -> None:
    study = await _study_with_baseline(session, settings)
    frame = await load_frame(session, study.panel)
    data, _ = await exports.produce(session, frame, exports.BY_NAME["datapackage"], "zip")
    archive = zipfile.ZipFile(io.BytesIO(data))
    archive.extractall(tmp_path)
    report = frictionless.validate(str(tmp_path / "datapackage.json"))
    assert [(t.name, e.message) for t in report.tasks for e in t.errors] == [] and report.valid
    (task,) = [t for t in report.tasks if t.name == "baseline"]
    assert task.stats["rows"] == 3 * (len(study.panellists) - 1)


async def test_the_report_shows_the_characteristics_table_with_small_counts_hidden(
    session: AsyncSession, client: AsyncTestClient, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=2)
    q = BaselineQuestion(
        panel_id=world.pid, kind="single", text="Years in drug services", choices=["Under 5", "5 or more"]
    )
    session.add(q)
    await session.flush()
    people = world.study.panellists
    session.add_all(
        [BaselineAnswer(panellist_id=p.id, question_id=q.id, chosen=["Under 5"]) for p in people[:-1]]
        + [BaselineAnswer(panellist_id=people[-1].id, question_id=q.id, chosen=["5 or more"])]
    )
    await session.commit()
    await login(client, RESEARCHER)
    response = await client.get(f"/panels/{world.pid}/report")
    assert response.status_code == 200
    html = response.text
    assert "Participant characteristics" in html and "Years in drug services" in html
    start = html.index('id="characteristics"')
    table = html[start : html.index("</table>", start)]
    five_or_more = table[table.index('<th scope="row">5 or more</th>') :].split("</tr>")[0]
    assert ">1<" not in five_or_more  # the one person is hidden, in their group and in the total
    assert "–" in five_or_more
