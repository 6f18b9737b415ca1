"""Statement numbers: originals in creation order, rewordings keep their original's number with a version."""

from __future__ import annotations

from delphi.panels.numbering import label, statement_labels


def test_originals_are_numbered_in_the_order_they_were_created() -> None:
    assert statement_labels([(30, None, 1), (10, None, 1), (20, None, 1)]) == {10: "S1", 20: "S2", 30: "S3"}


def test_a_rewording_keeps_the_number_of_the_statement_it_descends_from() -> None:
    rows = [(1, None, 1), (2, None, 1), (5, 2, 2), (9, 5, 3), (7, None, 1)]
    assert statement_labels(rows) == {1: "S1", 2: "S2", 5: "S2.2", 9: "S2.3", 7: "S3"}


def test_a_statement_whose_parent_is_missing_or_loops_is_numbered_as_an_original() -> None:
    assert statement_labels([(4, 99, 2)]) == {4: "S1.2"}
    assert set(statement_labels([(1, 2, 1), (2, 1, 2)]).values()) <= {"S1", "S1.2", "S2", "S2.2"}


def test_no_statements_give_no_labels_and_a_first_version_has_no_suffix() -> None:
    assert statement_labels([]) == {}
    assert label(3) == "S3" and label(3, 2) == "S3.2"
