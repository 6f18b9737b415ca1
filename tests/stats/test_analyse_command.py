"""`delphi analyse RATINGS.csv`: output layout, options, and bad files exiting 2 with the line named."""

import csv
import io
import json

import numpy as np
import pytest
from click.testing import CliRunner

from delphi.analyse.command import analyse
from delphi.analyse.ratings_file import RatingsFileError, parse_ratings_csv
from delphi.results.scope_row import FIRST_COLUMNS
from delphi.stats import AnalysisSettings

pytestmark = pytest.mark.filterwarnings("error")

COMET_IN = [9, 9, 8, 8, 8, 7, 7, 7, 6, 6, 5, 2, 3, 7, 8, 9, 9, 8, 7, 4]
WITH_UNABLE = ["7", "7", "8", "9", "9", "7", "8", "5", "unable", "UNABLE"]


def tidy(*statements, group=None, round_=None):
    """A CSV text: statements are (name, list of rating strings); panellist i rates position i."""
    header = ["panellist", "statement", "rating"]
    header += ["group"] if group else []
    header += ["round"] if round_ else []
    lines = [",".join(header)]
    for name, ratings in statements:
        for i, rating in enumerate(ratings):
            row = [f"P{i:02d}", name, str(rating)]
            row += [group(i)] if group else []
            row += [round_(name)] if round_ else []
            lines.append(",".join(row))
    return "\n".join(lines) + "\n"


def run(tmp_path, text, *args):
    path = tmp_path / "ratings.csv"
    path.write_text(text, encoding="utf-8")
    return CliRunner().invoke(analyse, [str(path), *args])


def rows_of(output):
    return list(csv.DictReader(io.StringIO(output)))


def test_output_starts_with_the_agreed_columns(tmp_path):
    result = run(tmp_path, tidy(("S1", COMET_IN)))
    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0].split(",")
    assert header[:12] == [c for c in FIRST_COLUMNS if c != "round"]
    assert header[-4:] == ["population", "quantile_method", "unable_policy", "rule"]
    (row,) = rows_of(result.stdout)
    assert (row["statement"], row["group"], row["n"], row["verdict"]) == ("S1", "all", "20", "in")
    assert (float(row["pct_agree"]), float(row["pct_disagree"]), float(row["pct_unable"])) == (
        70.0,
        10.0,
        0.0,
    )
    assert (float(row["median"]), float(row["q1"]), float(row["q3"]), float(row["iqr"])) == (
        7.0,
        6.0,
        8.0,
        2.0,
    )
    assert row["quantile_method"] == "linear"


def test_unable_policy_changes_the_agreement_denominator(tmp_path):
    excluded = rows_of(run(tmp_path, tidy(("S1", WITH_UNABLE))).stdout)[0]
    included = rows_of(run(tmp_path, tidy(("S1", WITH_UNABLE)), "--unable", "include").stdout)[0]
    assert (excluded["n"], excluded["n_unable"]) == ("8", "2")
    assert float(excluded["pct_agree"]) == 87.5
    assert float(included["pct_agree"]) == 70.0
    assert float(excluded["pct_unable"]) == float(included["pct_unable"]) == 20.0


def test_one_row_per_statement_group_and_round(tmp_path):
    text = tidy(
        ("S1", COMET_IN),
        ("S2", [str(9 - v // 2) for v in COMET_IN]),
        group=lambda i: "users" if i % 3 == 0 else "professionals",
    )
    later = tidy(("S1", COMET_IN[::-1]), group=lambda i: "users" if i % 3 == 0 else "professionals")
    text = text.replace("\n", ",1\n").replace("group,1", "group,round", 1)
    text += "".join(line + ",10\n" for line in later.splitlines()[1:])
    result = run(tmp_path, text)
    assert result.exit_code == 0, result.output
    rows = rows_of(result.stdout)
    keys = [(r["round"], r["statement"], r["group"]) for r in rows]
    assert keys == [
        ("1", "S1", "all"),
        ("1", "S1", "users"),
        ("1", "S1", "professionals"),
        ("1", "S2", "all"),
        ("1", "S2", "users"),
        ("1", "S2", "professionals"),
        ("10", "S1", "all"),  # S2 was not asked in round 10: no rows; rounds sort as numbers
        ("10", "S1", "users"),
        ("10", "S1", "professionals"),
    ]
    assert list(rows[0])[:13] == list(FIRST_COLUMNS)
    assert rows[0]["divergence_test"] == "mann_whitney" and rows[1]["divergence_test"] == ""
    assert rows[6]["n_paired"] == "20" and rows[0]["n_paired"] == ""
    assert int(rows[1]["n"]) + int(rows[2]["n"]) == int(rows[0]["n"])


def test_json_output_and_output_file(tmp_path):
    out = tmp_path / "out.json"
    result = run(tmp_path, tidy(("S1", WITH_UNABLE)), "--format", "json", "-o", str(out), "--rule", "agree80")
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["rule"]["name"] == "agree80"
    assert document["settings"]["quantile_method"] == "linear"
    (row,) = document["rows"]
    assert row["pct_agree"] == 87.5 and row["verdict"] == "in" and row["sd"] is not None
    assert list(row)[:12] == document["columns"][:12]


def test_quantile_option_is_applied_and_recorded(tmp_path):
    text = tidy(("S1", [3, 5, 6, 7, 7, 8, 8, 8, 9]))
    row = rows_of(run(tmp_path, text, "--quantile", "weibull").stdout)[0]
    assert float(row["iqr"]) == 2.5 and row["quantile_method"] == "weibull"
    row = rows_of(run(tmp_path, tidy(("S1", range(1, 9))), "--quantile", "hinges").stdout)[0]
    assert float(row["iqr"]) == 4.0


def test_other_scales_and_bands(tmp_path):
    text = tidy(("S1", [4, 5, 5, 4, 3, 5]))
    result = run(tmp_path, text, "--scale", "1-5", "--agree", "4-5", "--disagree", "1-2")
    assert result.exit_code == 0, result.output
    row = rows_of(result.stdout)[0]
    assert row["verdict"] == "in" and "count_5" in row and "count_6" not in row
    assert "verdict_rand_ucla" not in row


def test_no_answer_is_empty_or_na(tmp_path):
    row = rows_of(run(tmp_path, tidy(("S1", ["9", "", "NA", "8"]))).stdout)[0]
    assert (row["n"], row["n_unable"]) == ("2", "0")


@pytest.mark.parametrize(
    ("text", "line", "problem"),
    [
        ("", 1, "the file is empty"),
        ("panellist,statement,score\nP1,S1,7\n", 1, "missing column 'rating'"),
        ("panellist,statement,rating\nP1,S1,7\nP2,S1,12\n", 3, "rating '12' is off the scale 1-9"),
        ("panellist,statement,rating\nP1,S1,seven\n", 2, "rating 'seven' is not a number"),
        ("panellist,statement,rating\nP1,S1,7.5\n", 2, "rating '7.5' is not a whole number"),
        (
            "panellist,statement,rating\nP1,S1,7\nP2,S1,8\nP1,S1,9\n",
            4,
            "'P1' already rated statement 'S1' on line 2",
        ),
        ("panellist,statement,rating\n,S1,7\n", 2, "panellist is empty"),
        (
            "panellist,statement,rating,group\nP1,S1,7,a\nP1,S2,7,b\n",
            3,
            "in group 'b' here but 'a' on line 2",
        ),
        ("panellist,statement,rating,round\nP1,S1,7,1\nP1,S1,8,2\nP1,S1,9,1\n", 4, "in round '1' on line 2"),
        ("panellist,statement,rating\nP1,S1\n", 2, "expected 3 fields, found 2"),
    ],
)
def test_bad_files_exit_2_naming_the_line_and_the_problem(tmp_path, text, line, problem):
    result = run(tmp_path, text)
    assert result.exit_code == 2
    assert f"line {line}: " in result.stderr
    assert problem in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["--scale", "9"],
        ["--agree", "9-7"],
        ["--agree", "8-10"],
        ["--scale", "1-5", "--agree", "4-5", "--disagree", "1-2", "--rule", "rand_ucla"],
        ["--rule", "unknown"],
        ["--format", "xlsx"],
    ],
)
def test_bad_options_exit_2(tmp_path, args):
    assert run(tmp_path, tidy(("S1", COMET_IN)), *args).exit_code == 2


def test_missing_file_exits_2(tmp_path):
    result = CliRunner().invoke(analyse, [str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr


def test_parse_ratings_csv_returns_arrays_for_reuse():
    text = "panellist,statement,rating,group,extra\nP1,S1,7,a,x\nP2,S1,unable,b,y\nP2,S2,,b,z\n"
    table = parse_ratings_csv(io.StringIO(text), AnalysisSettings())
    assert table.statements == ("S1", "S2") and table.panellists == ("P1", "P2")
    assert table.groups == ("a", "b") and table.panellist_group.tolist() == [0, 1]
    assert table.rounds is None and table.ratings.shape == (1, 2, 2)
    np.testing.assert_array_equal(table.ratings[0], [[7, np.nan], [np.nan, np.nan]])
    np.testing.assert_array_equal(table.unable[0], [[False, True], [False, False]])
    assert table.asked.tolist() == [[True, True]]


def test_parse_error_is_a_value_error_with_the_line():
    with pytest.raises(RatingsFileError) as info:
        parse_ratings_csv(["panellist,statement,rating", "P1,S1,0"])
    assert isinstance(info.value, ValueError) and info.value.line == 2


def test_a_byte_order_mark_and_header_case_are_tolerated(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeffPanellist,Statement,Rating\r\nP1,S1,8\r\nP2,S1,9\r\n".encode())
    result = CliRunner().invoke(analyse, [str(path)])
    assert result.exit_code == 0, result.output
    assert rows_of(result.stdout)[0]["n"] == "2"


def with_submitted(flags):
    """COMET_IN with a ``submitted`` column: panellist i sent the round when ``flags[i]``."""
    lines = ["panellist,statement,rating,submitted"]
    lines += [f"P{i:02d},S1,{r},{flag}" for i, (r, flag) in enumerate(zip(COMET_IN, flags, strict=True))]
    return "\n".join(lines) + "\n"


def test_the_submitted_population_keeps_only_rows_of_panellists_who_sent_the_round(tmp_path):
    # The two low ratings (2 and 3) are unsent drafts: without them 14 of 18 rate 7-9 (77.8%), none 1-3.
    flags = ["0" if r in (2, 3) else "1" for r in COMET_IN]
    text = with_submitted(flags)
    (every,) = rows_of(run(tmp_path, text).stdout)
    (sent,) = rows_of(run(tmp_path, text, "--population", "submitted").stdout)
    assert (every["n"], every["population"], float(every["pct_disagree"])) == ("20", "all", 10.0)
    assert (sent["n"], sent["population"], float(sent["pct_disagree"])) == ("18", "submitted", 0.0)
    assert float(sent["pct_agree"]) == pytest.approx(100 * 14 / 18, abs=1e-9)


def test_the_submitted_population_needs_the_submitted_column(tmp_path):
    result = run(tmp_path, tidy(("S1", COMET_IN)), "--population", "submitted")
    assert result.exit_code == 2
    assert "line 1: missing column 'submitted'" in result.output


def test_a_submitted_value_that_is_not_yes_or_no_names_the_line(tmp_path):
    flags = ["1"] * len(COMET_IN)
    flags[4] = "maybe"
    result = run(tmp_path, with_submitted(flags), "--population", "submitted")
    assert result.exit_code == 2
    assert "line 6: submitted 'maybe' is not 1 or 0" in result.output
