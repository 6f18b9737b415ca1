"""Moving one row of an ordered list one place, for statements, open questions and baseline questions alike."""

from __future__ import annotations

from collections.abc import MutableSequence
from typing import Any


def move_one_place(rows: MutableSequence[Any], row_id: int, down: bool) -> bool:
    """Swap the row whose ``id`` is ``row_id`` with its neighbour above (``down`` False) or below, then renumber
    every row's ``position`` 0..n-1 in the new order.

    ``rows`` are in display order and are changed in place.  Returns False, changing nothing, when the row is
    first (moving up) or last (moving down); raises ValueError when no row has ``row_id``.
    """
    at = next((i for i, row in enumerate(rows) if row.id == row_id), None)
    if at is None:
        raise ValueError(f"no row {row_id} to move")
    to = at + 1 if down else at - 1
    if not 0 <= to < len(rows):
        return False
    rows[at], rows[to] = rows[to], rows[at]
    for position, row in enumerate(rows):
        row.position = position
    return True
