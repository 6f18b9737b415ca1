"""Moving a row one place in an ordered list (statements, open and baseline questions)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from delphi.panels.ordering import move_one_place


@dataclass
class Row:
    id: int
    position: int


def rows() -> list[Row]:
    return [Row(10, 0), Row(20, 5), Row(30, 9)]


def test_moving_down_swaps_with_the_next_row_and_renumbers_every_position() -> None:
    order = rows()
    assert move_one_place(order, 10, down=True)
    assert [(r.id, r.position) for r in order] == [(20, 0), (10, 1), (30, 2)]


def test_moving_up_swaps_with_the_row_above() -> None:
    order = rows()
    assert move_one_place(order, 30, down=False)
    assert [r.id for r in order] == [10, 30, 20]


def test_at_either_end_nothing_changes() -> None:
    order = rows()
    assert not move_one_place(order, 10, down=False)
    assert not move_one_place(order, 30, down=True)
    assert [(r.id, r.position) for r in order] == [(10, 0), (20, 5), (30, 9)]


def test_an_unknown_row_is_an_error() -> None:
    with pytest.raises(ValueError, match="no row 99"):
        move_one_place(rows(), 99, down=True)
