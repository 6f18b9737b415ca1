"""`delphi analyse` on ranking data: detection by header, the item and correlation tables, bad files."""

import csv
import io
import json

import pytest
from click.testing import CliRunner

from delphi.analyse.command import analyse
from delphi.analyse.rankings_file import RankingsFileError, is_rankings_header, parse_rankings_csv

pytestmark = pytest.mark.filterwarnings("error")

# Siegel & Castellan (1988) section 9.4 style: W = 0.8125, chi2 = 13.0 on 4 df (see tests/stats/test_ranking.py).
RANKS = [[1, 2, 3, 4, 5], [2, 1, 3, 5, 4], [1, 3, 2, 4, 5], [1, 2, 4, 3, 5]]
ITEMS = ["a", "b", "c", "d", "e"]
EXPORT_HEADER = "round,question_id,question,panellist,group,item_id,item,rank,unable"


def tidy(ranks, items=ITEMS):
    lines = ["panellist,item,rank"]
    for p, row in enumerate(ranks):
        lines += [f"P{p},{item},{rank}" for item, rank in zip(items, row, strict=True)]
    return "\n".join(lines) + "\n"


def export(rounds, group=lambda p: "A" if p % 2 == 0 else "B", items=ITEMS):
    """The engine's rankings export layout; rounds maps a round number to rank rows (None = unable)."""
    lines = [EXPORT_HEADER]
    for r, ranks in rounds.items():
        for p, row in enumerate(ranks):
            if row is None:
                lines.append(f"{r},7,Priorities,P{p},{group(p)},,,,true")
                continue
            lines += [
                f"{r},7,Priorities,P{p},{group(p)},{10 + i},{item},{rank},false"
                for i, (item, rank) in enumerate(zip(items, row, strict=True))
            ]
    return "\n".join(lines) + "\n"


def run(tmp_path, text, *args):
    path = tmp_path / "rankings.csv"
    path.write_text(text, encoding="utf-8")
    return CliRunner().invoke(analyse, [str(path), *args])


def rows_of(output):
    return list(csv.DictReader(io.StringIO(output)))


def test_a_rank_header_is_read_as_ranking_data_with_w_chi2_and_mean_ranks(tmp_path):
    result = run(tmp_path, tidy(RANKS))
    assert result.exit_code == 0, result.output
    rows = rows_of(result.stdout)
    assert list(rows[0])[:4] == ["group", "item", "position", "mean_rank"]  # no question or round column
    assert [r["item"] for r in rows] == ITEMS
    assert [float(r["mean_rank"]) for r in rows] == [1.25, 2.0, 3.0, 4.0, 4.75]
    assert [float(r["median_rank"]) for r in rows] == [1.0, 2.0, 3.0, 4.0, 5.0]
    assert [r["position"] for r in rows] == ["1", "2", "3", "4", "5"]
    row = rows[0]
    assert (row["n_raters"], row["n_unable"], row["n_incomplete"], row["ties"]) == ("4", "0", "0", "false")
    assert float(row["w"]) == 0.8125
    assert float(row["chi2"]) == 13.0
    assert row["df"] == "4"
    assert float(row["pvalue"]) == pytest.approx(0.0112757939473, rel=1e-9)  # scipy.stats.chi2.sf(13, 4)
    assert row["verdict"] == "in"


def test_tied_ranks_give_the_tie_corrected_w(tmp_path):
    # 25/29, computed by hand in tests/stats/test_ranking.py and checked there with scipy's Friedman test.
    result = run(tmp_path, tidy([[1, 2, 3, 4], [1, 1, 3, 4], [1, 3, 2, 4]], items=ITEMS[:4]))
    row = rows_of(result.stdout)[0]
    assert float(row["w"]) == pytest.approx(25 / 29, rel=1e-11)
    assert row["ties"] == "true"


def test_the_w_threshold_and_the_fewest_rankings_set_the_verdict(tmp_path):
    text = tidy(RANKS)
    assert rows_of(run(tmp_path, text, "--w-min", "0.8125").stdout)[0]["verdict"] == "in"
    assert rows_of(run(tmp_path, text, "--w-min", "0.82").stdout)[0]["verdict"] == "none"
    assert rows_of(run(tmp_path, text, "--min-ratings", "5").stdout)[0]["verdict"] == "insufficient"
    assert rows_of(run(tmp_path, text, "--min-ratings", "4").stdout)[0]["w_min"] == "0.7"


def test_the_engine_export_gives_rows_per_round_question_scope_and_item(tmp_path):
    round1 = [*RANKS, None]
    round2 = [[1, 2, 3, 4, 5]] * 4 + [None]
    result = run(tmp_path, export({1: round1, 2: round2}))
    assert result.exit_code == 0, result.output
    rows = rows_of(result.stdout)
    assert list(rows[0])[:3] == ["question", "round", "group"]
    assert len(rows) == 2 * 3 * 5  # rounds x (all, A, B) x items
    first = {(r["round"], r["group"]): r for r in rows if r["item"] == "a"}
    assert (first["1", "all"]["n_raters"], first["1", "all"]["n_unable"]) == ("4", "1")
    assert float(first["1", "all"]["w"]) == 0.8125
    assert first["1", "all"]["w_change"] == first["1", "all"]["previous_round"] == ""
    assert float(first["2", "all"]["w"]) == 1.0
    assert first["2", "all"]["previous_round"] == "1"
    assert float(first["2", "all"]["w_change"]) == pytest.approx(0.1875)
    # Group A: panellists 0, 2 and 4 (4 unable); B: 1 and 3.
    assert (first["1", "A"]["n_raters"], first["1", "A"]["n_unable"]) == ("2", "1")
    assert (first["1", "B"]["n_raters"], first["1", "B"]["n_unable"]) == ("2", "0")
    # Group B in round 1 ranked [2,1,3,5,4] and [1,2,4,3,5]: rank sums 3, 3, 7, 8, 9 (mean 6), S = 32,
    # W = 12 S / (m^2 (n^3 - n)) = 384 / 480 = 0.8.
    assert float(first["1", "B"]["w"]) == pytest.approx(0.8)
    assert first["1", "B"]["verdict"] == "in"


def test_the_correlation_table_gives_spearman_rho_per_panellist_with_the_previous_round(tmp_path):
    # Each panellist moves to [1,2,3,4,5]: rho with their round-1 ranking by 1 - 6 sum d^2 / (n^3 - n)
    # (Siegel & Castellan 1988, 9.5): 1, 0.8 (sum d^2 = 4), 0.9 (2), 0.9 (2); the unable panellist has none.
    text = export({1: [*RANKS, None], 2: [[1, 2, 3, 4, 5]] * 5})
    result = run(tmp_path, text, "--rank-table", "correlations")
    assert result.exit_code == 0, result.output
    rows = rows_of(result.stdout)
    assert list(rows[0]) == ["question", "round", "previous_round", "panellist", "group", "n_items", "rho"]
    assert [r["panellist"] for r in rows] == ["P0", "P1", "P2", "P3", "P4"]
    assert [float(r["rho"]) for r in rows[:4]] == pytest.approx([1.0, 0.8, 0.9, 0.9])
    assert rows[4]["rho"] == ""
    assert (rows[1]["round"], rows[1]["previous_round"], rows[1]["group"]) == ("2", "1", "B")


def test_rho_uses_the_items_both_rounds_asked(tmp_path):
    rounds = {1: [[1, 2, 3, 4, 5], [5, 4, 3, 2, 1]], 2: [[3, 2, 1], [1, 2, 3]]}
    lines = [EXPORT_HEADER]
    for r, ranks in rounds.items():
        items = ITEMS if r == 1 else ["c", "b", "a"]
        for p, row in enumerate(ranks):
            lines += [f"{r},7,Q,P{p},A,,{item},{rank},false" for item, rank in zip(items, row, strict=True)]
    result = run(tmp_path, "\n".join(lines) + "\n", "--rank-table", "correlations")
    rows = rows_of(result.stdout)
    # Round 2 orders a, b, c as 1, 2, 3 for P0 (as in round 1) and 3, 2, 1 for P1 (as in round 1).
    assert [(r["n_items"], float(r["rho"])) for r in rows] == [("3", 1.0), ("3", 1.0)]


def test_an_incomplete_ranking_is_counted_and_left_out(tmp_path):
    text = tidy(RANKS) + "P9,a,1\nP9,b,2\n"
    row = rows_of(run(tmp_path, text).stdout)[0]
    assert (row["n_raters"], row["n_incomplete"]) == ("4", "1")
    assert float(row["w"]) == 0.8125


def test_json_holds_both_tables_and_the_settings(tmp_path):
    text = export({1: RANKS, 2: RANKS})
    result = run(tmp_path, text, "--format", "json", "--w-min", "0.75")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["settings"] == {"w_min": 0.75, "k_min": 2}
    assert len(doc["rows"]) == 2 * 3 * 5
    assert doc["rows"][0]["w"] == 0.8125
    assert doc["rows"][0]["w_previous"] is None
    assert doc["rows"][15]["w_change"] == 0.0
    assert [r["rho"] for r in doc["correlations"]] == [1.0] * 4
    assert doc["correlation_columns"][-1] == "rho"


def test_a_bad_file_lists_every_problem_with_its_line(tmp_path):
    text = (
        "panellist,item,rank,group,unable\n"
        "P1,a,1,A,false\n"
        "P1,a,2,A,false\n"  # line 3: duplicate item
        "P2,a,0,B,false\n"  # line 4: not positive
        "P2,b,x,B,false\n"  # line 5: not a number
        "P2,c,,B,false\n"  # line 6: no rank, not a problem (item left unranked)
        "P1,b,2,B,false\n"  # line 7: second group
        "P3,,,A,maybe\n"  # line 8: bad unable flag and no item
    )
    result = run(tmp_path, text)
    assert result.exit_code == 2
    err = result.stderr
    assert "6 problems" in err
    for expected in (
        "line 3: panellist 'P1' already ranked item 'a' on line 2",
        "line 4: rank '0' is not a positive number",
        "line 5: rank 'x' is not a positive number",
        "line 7: panellist 'P1' is in group 'B' here but 'A' on line 2",
        "line 8: unable 'maybe' is not true or false",
        "line 8: item is empty",
    ):
        assert expected in err
    assert "Traceback" not in result.output


def test_duplicates_are_per_round_and_question(tmp_path):
    text = "panellist,item,rank,round,question\nP1,a,1,1,Q\nP1,a,1,2,Q\nP1,a,1,1,R\nP1,a,2,1,Q\n"
    result = run(tmp_path, text)
    assert result.exit_code == 2
    assert "1 problem:" in result.stderr
    assert (
        "line 5: panellist 'P1' already ranked item 'a' of question 'Q' in round '1' on line 2"
        in result.stderr
    )


def test_ranking_and_answering_unable_in_one_question_is_a_problem(tmp_path):
    text = "panellist,item,rank,unable\nP1,a,1,false\nP1,,,true\nP2,,,true\nP2,,,true\n"
    result = run(tmp_path, text)
    assert result.exit_code == 2
    assert "line 3: panellist 'P1' answered 'unable' but ranked items on line 2" in result.stderr
    assert "line 5" not in result.stderr  # repeated unable rows are one answer


def test_missing_columns_are_all_named(tmp_path):
    with pytest.raises(RankingsFileError) as info:
        parse_rankings_csv(["rank,round\n", "1,1\n"])
    assert [line for line, _ in info.value.problems] == [1, 1]
    assert "missing column 'panellist'" in str(info.value)
    assert "missing column 'item'" in str(info.value)


def test_a_header_without_rows_is_a_problem(tmp_path):
    result = run(tmp_path, "panellist,item,rank\n")
    assert result.exit_code == 2
    assert "no rankings" in result.stderr


def test_the_submitted_population_keeps_only_rows_the_export_counted(tmp_path):
    text = export({1: RANKS}).replace(EXPORT_HEADER, EXPORT_HEADER + ",counted")
    lines = text.splitlines()
    lines = [lines[0]] + [line + (",0" if line.split(",")[3] == "P1" else ",1") for line in lines[1:]]
    counted = "\n".join(lines) + "\n"
    assert rows_of(run(tmp_path, counted).stdout)[0]["n_raters"] == "4"
    row = rows_of(run(tmp_path, counted, "--population", "submitted").stdout)[0]
    # Without P1's [2,1,3,5,4]: rank sums 3, 7, 9, 11, 15 (mean 9), S = 36 + 4 + 0 + 4 + 36 = 80,
    # W = 12 * 80 / (9 * 120) = 0.8889.
    assert row["n_raters"] == "3"
    assert float(row["w"]) == pytest.approx(8 / 9)


def test_the_submitted_population_needs_a_counted_or_submitted_column(tmp_path):
    result = run(tmp_path, tidy(RANKS), "--population", "submitted")
    assert result.exit_code == 2
    assert "line 1: missing column 'counted' or 'submitted'" in result.stderr


def test_an_empty_rank_is_an_item_left_unranked_and_makes_the_ranking_incomplete(tmp_path):
    text = tidy(RANKS) + "P9,a,1\nP9,b,\nP9,c,NA\nP9,d,2\nP9,e,3\n"
    row = rows_of(run(tmp_path, text).stdout)[0]
    assert (row["n_raters"], row["n_incomplete"]) == ("4", "1")
    assert float(row["w"]) == 0.8125


def test_an_empty_group_puts_the_panellist_in_the_pooled_scope_only(tmp_path):
    text = export({1: RANKS, 2: RANKS}, group=lambda p: "" if p == 0 else "B")
    result = run(tmp_path, text)
    assert result.exit_code == 0, result.output
    first = {(r["round"], r["group"]): r for r in rows_of(result.stdout) if r["item"] == "a"}
    assert set(first) == {("1", "all"), ("1", "B"), ("2", "all"), ("2", "B")}
    assert (first["1", "all"]["n_raters"], first["1", "B"]["n_raters"]) == ("4", "3")
    rho = rows_of(run(tmp_path, text, "--rank-table", "correlations").stdout)
    assert [r["group"] for r in rho] == ["", "B", "B", "B"]


def test_detection_needs_rank_and_no_rating_column():
    assert is_rankings_header(["\ufeffPanellist", "Item", " Rank "])
    assert not is_rankings_header(["panellist", "statement", "rating", "rank"])
    assert not is_rankings_header(None)


def test_parse_rankings_csv_returns_blocks_for_reuse():
    table = parse_rankings_csv(io.StringIO(export({2: RANKS, 1: [*RANKS[:3], None]})))
    assert table.rounds == ("1", "2")  # numeric order
    assert table.questions == ("Priorities",) and table.items == (tuple(ITEMS),)
    assert table.groups == ("A", "B")
    first, second = table.blocks
    assert (first.round, second.round) == (0, 1)
    assert first.unable.tolist() == [False, False, False, True]
    assert second.ranks.tolist() == [[float(v) for v in row] for row in RANKS]
