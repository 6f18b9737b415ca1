"""Pure assembly of monitoring, results, attrition, report and export names: no database."""

from __future__ import annotations

import pytest

from delphi.db.models import Round, RoundStatement, StakeholderGroup, Statement
from delphi.domain import PanelRole
from delphi.errors import NotFound
from delphi.results import attrition, exports, monitoring, round_results
from delphi.results.frame import Frame
from delphi.results.report import statement_changes
from delphi.stats import AnalysisSettings

GROUPS = [
    StakeholderGroup(id=1, name="Service users", is_lived_experience=True, position=0),
    StakeholderGroup(id=2, name="Practitioners", is_lived_experience=False, position=1),
    StakeholderGroup(id=3, name="Nobody yet", is_lived_experience=False, position=2),
]


def progress(pid: int, group: int, status: str = "active", *, opened=False, started=False, submitted=False):
    return monitoring.Progress(
        pid,
        f"P-{pid:03d}",
        group,
        status,
        opened or started,
        started,
        submitted,
        3 if started else 0,
        None,
        f"p{pid}@x.example",
        "",
    )


def test_monitoring_counts_each_stage_per_group_and_in_total() -> None:
    rows = [
        progress(1, 1, opened=True, started=True, submitted=True),
        progress(2, 1, opened=True),
        progress(3, 1, "bounced"),
        progress(4, 2, opened=True, started=True),
        progress(5, 2, "withdrawn", opened=True, started=True, submitted=True),
    ]
    users, practitioners, nobody, total = monitoring.summarise(rows, GROUPS)
    assert (users.invited, users.opened, users.started, users.submitted, users.bounced) == (3, 2, 1, 1, 1)
    assert users.response_rate == pytest.approx(100 / 3)
    assert (practitioners.started, practitioners.submitted, practitioners.withdrawn) == (2, 1, 1)
    assert (nobody.invited, nobody.response_rate) == (0, None)
    assert (total.name, total.invited, total.submitted, total.not_submitted) == ("All groups", 5, 2, 3)


def test_awaiting_lists_who_can_still_submit_those_who_started_first() -> None:
    rows = [
        progress(1, 1),
        progress(2, 1, opened=True),
        progress(3, 1, started=True),
        progress(4, 1, submitted=True, started=True),
        progress(5, 1, "withdrawn"),
        progress(6, 1, "bounced"),
    ]
    assert [p.pseudonym for p in monitoring.awaiting(rows)] == ["P-003", "P-002", "P-001"]


def figures(group: StakeholderGroup | None, verdict: str, n: int = 5) -> round_results.ScopeFigures:
    return round_results.ScopeFigures(
        scope="all" if group is None else f"group:{group.id}",
        group_id=None if group is None else group.id,
        name="All" if group is None else group.name,
        lived_experience=bool(group and group.is_lived_experience),
        n=n,
        n_unable=0,
        median=7.0,
        q1=6.0,
        q3=8.0,
        iqr=2.0,
        pct_agree=70.0,
        pct_disagree=0.0,
        verdict=verdict,
        counts=(0,) * 9,
        suppressed=group is not None and n < 3,
    )


def test_lived_experience_split_needs_the_lived_group_on_another_side() -> None:
    users, practitioners, other = GROUPS
    assert round_results.lived_experience_split([figures(users, "in"), figures(practitioners, "none")])
    assert not round_results.lived_experience_split([figures(users, "in"), figures(practitioners, "in")])
    assert not round_results.lived_experience_split([figures(users, "insufficient"), figures(other, "none")])
    assert not round_results.lived_experience_split([figures(practitioners, "in"), figures(other, "none")])


def result(sid: int, verdict: str, section: str, flags: set[str]) -> round_results.StatementResult:
    return round_results.StatementResult(
        sid, 1, None, section, f"S{sid}", sid, verdict, None, (), {}, "", None, None, frozenset(flags), False
    )


RESULTS = [
    result(1, "in", "Access", {"sensitive"}),
    result(2, "none", "Access", {"divergent", "suppressed"}),
    result(3, "out", "Care", set()),
    result(4, "none", "", {"divergent"}),
]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [1, 2, 3, 4]),
        ({"verdict": "none"}, [2, 4]),
        ({"section": "Access"}, [1, 2]),
        ({"section": ""}, [1, 2, 3, 4]),
        ({"flag": "divergent"}, [2, 4]),
        ({"verdict": "none", "section": "Access", "flag": "suppressed"}, [2]),
        ({"verdict": "in", "flag": "divergent"}, []),
    ],
)
def test_results_filter_by_verdict_section_and_flag(filters: dict, expected: list[int]) -> None:
    assert [r.statement_id for r in round_results.filter_results(RESULTS, **filters)] == expected


def test_tally_counts_every_verdict_and_flag_with_zeros() -> None:
    counts = round_results.tally(RESULTS)
    assert counts == {
        "in": 1,
        "out": 1,
        "none": 2,
        "insufficient": 0,
        "divergent": 2,
        "suppressed": 1,
        "sensitive": 1,
    }
    assert round_results.sections(RESULTS) == ["Access", "Care", ""]


def rounds(*statuses: str) -> list[Round]:
    return [Round(id=i + 1, number=i + 1, status=s) for i, s in enumerate(statuses)]


def test_participant_flow_counts_responders_and_those_retained_in_every_round() -> None:
    members = [(1, 1), (2, 1), (3, 1), (4, 2)]
    submissions = [(1, 1), (1, 2), (2, 1), (3, 2), (4, 1), (4, 2), (4, 3)]
    flow = attrition.participant_flow(
        members, submissions, rounds("closed", "closed", "open", "draft"), GROUPS
    )
    assert flow.rounds == (1, 2, 3)
    assert flow.open_rounds == frozenset({3})
    users, practitioners, nobody, total = flow.rows
    assert (users.invited, users.responded, users.retained) == (3, (2, 2, 0), (2, 1, 0))
    assert (practitioners.responded, practitioners.retained) == ((1, 1, 1), (1, 1, 1))
    assert (nobody.invited, nobody.responded) == (0, (0, 0, 0))
    assert (total.invited, total.responded, total.retained) == (4, (3, 3, 1), (3, 2, 1))


def test_cohorts_put_each_person_at_the_last_closed_round_they_submitted() -> None:
    submissions = [(1, 1), (2, 1), (2, 2), (3, 1), (3, 2), (3, 3), (4, 3), (5, 4)]
    dropouts, completers = attrition.cohorts(submissions, last_closed=3)
    assert dropouts == {1: 1, 2: 1}
    assert completers == 2  # 3 and 4; round 4 is not closed, so 5 counts nowhere


def test_attrition_bias_compares_dropouts_with_completers_statement_by_statement() -> None:
    # Round 1, statement 10: dropouts rated 2, 3, 9; completers 8, 8, 9, unable. Statement 11: only completers.
    counts = [
        (1, 10, 0, 2, False, 1),
        (1, 10, 0, 3, False, 1),
        (1, 10, 0, 9, False, 1),
        (1, 10, 1, 8, False, 2),
        (1, 10, 1, 9, False, 1),
        (1, 10, 1, None, True, 1),
        (1, 11, 1, 7, False, 3),
    ]
    rows = attrition.attrition_bias(counts, {1: [10, 11, 12]}, AnalysisSettings(), (7, 9), (1, 3))
    assert [(r.round, r.statement_id) for r in rows] == [(1, 10), (1, 11), (1, 12)]
    s10, s11, s12 = rows
    assert (s10.n_dropouts, s10.n_completers) == (3, 3)
    assert s10.pct_agree_dropouts == pytest.approx(100 / 3)
    assert s10.pct_agree_completers == pytest.approx(100.0)  # unable is left out of the denominator
    assert s10.difference == pytest.approx(100 / 3 - 100)
    assert (s10.median_dropouts, s10.median_completers) == (3.0, 8.0)
    assert s10.p_value is not None and 0 < s10.p_value < 1
    assert (s11.n_dropouts, s11.pct_agree_dropouts, s11.difference, s11.p_value) == (0, None, None, None)
    assert (s12.n_completers, s12.median_completers) == (0, None)
    summary = attrition.summarise_bias(rows, {1: 3}, 3)
    assert len(summary) == 1
    assert summary[0].mean_abs_difference == pytest.approx(200 / 3)
    assert (summary[0].dropouts, summary[0].completers, summary[0].n_significant) == (3, 3, 0)


def frame_with(statements: list[Statement], asked: dict[int, list[tuple[int, str | None]]]) -> Frame:
    rs = rounds(*(["closed"] * len(asked)))
    links = {
        n: tuple(RoundStatement(statement_id=sid, verdict=v, position=i) for i, (sid, v) in enumerate(items))
        for n, items in asked.items()
    }
    from delphi.db.models import Panel

    return Frame(Panel(id=1), tuple(GROUPS), tuple(rs), {s.id: s for s in statements}, links)


def test_statement_changes_tell_added_reworded_settled_and_dropped_apart() -> None:
    s = [
        Statement(id=1, text="one", version=1, origin="facilitator", position=0),
        Statement(id=2, text="two", version=1, origin="facilitator", position=1),
        Statement(id=3, text="three", version=1, origin="facilitator", position=2),
        Statement(id=4, text="four", version=1, origin="facilitator", position=3),
        Statement(id=5, text="three again", version=2, parent_id=3, origin="facilitator", position=2),
        Statement(id=6, text="six", version=1, origin="panellist", origin_round=1, position=5),
    ]
    frame = frame_with(
        s, {1: [(1, "in"), (2, "none"), (3, "none"), (4, "none")], 2: [(4, None), (5, None), (6, None)]}
    )
    changes = [(c.round, c.kind, c.statement_id) for c in statement_changes(frame, frame.rounds)]
    assert changes == [
        (1, "initial", 1),
        (1, "initial", 2),
        (1, "initial", 3),
        (1, "initial", 4),
        (2, "settled", 1),
        (2, "dropped", 2),
        (2, "reworded", 5),
        (2, "added", 6),
    ]
    details = {c.statement_id: c.detail for c in statement_changes(frame, frame.rounds)}
    assert details[1] == "consensus to include in round 1"
    assert details[5].startswith("rewording of statement 3")
    assert details[6] == "suggested by a panellist in round 1"


@pytest.mark.parametrize(
    ("filename", "name", "fmt"),
    [
        ("final-list.csv", "final-list", "csv"),
        ("ratings.XLSX", "ratings", "xlsx"),
        ("codebook.json", "codebook", "json"),
    ],
)
def test_export_filenames_name_the_export_and_its_format(filename: str, name: str, fmt: str) -> None:
    spec, got = exports.parse_filename(filename)
    assert (spec.name, got) == (name, fmt)


def test_an_unknown_format_is_a_400_naming_the_formats_allowed() -> None:
    with pytest.raises(exports.UnknownFormat) as caught:
        exports.parse_filename("ratings.json")
    assert caught.value.status_code == 400
    assert "Formats allowed: csv, xlsx." in caught.value.message


def test_an_unknown_export_is_not_found() -> None:
    with pytest.raises(NotFound, match="final-list"):
        exports.parse_filename("secrets.csv")


def test_only_the_owner_is_offered_the_exports_that_name_people() -> None:
    owner_only = {"pseudonym-key", "honoraria"}
    assert {s.name for s in exports.available(PanelRole.OWNER)} >= owner_only
    for role in (PanelRole.FACILITATOR, PanelRole.RESEARCHER):
        assert not owner_only & {s.name for s in exports.available(role)}


def test_a_facilitator_who_may_contact_panellists_is_offered_the_pseudonym_key_and_a_researcher_never() -> (
    None
):
    granted = {s.name for s in exports.available(PanelRole.FACILITATOR, sees_contacts=True)}
    assert "pseudonym-key" in granted and "honoraria" not in granted
    assert "pseudonym-key" not in {
        s.name for s in exports.available(PanelRole.FACILITATOR, sees_contacts=False)
    }
    assert "pseudonym-key" not in {
        s.name for s in exports.available(PanelRole.RESEARCHER, sees_contacts=True)
    }
