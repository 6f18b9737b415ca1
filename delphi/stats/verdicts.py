"""Verdict codes shared by the rules, the round analysis and the exports."""

from __future__ import annotations

from enum import IntEnum

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["VERDICT_LABELS", "Verdict", "verdict_labels"]


class Verdict(IntEnum):
    """Outcome of a consensus rule for one statement, stored as int8 in verdict arrays.

    ``IN``: consensus to include (RAND/UCLA "appropriate"); ``OUT``: consensus to exclude ("inappropriate");
    ``NONE``: no consensus ("uncertain"); ``INSUFFICIENT``: too few ratings for a verdict.
    """

    NONE = 0
    IN = 1
    OUT = 2
    INSUFFICIENT = 3

    @property
    def label(self) -> str:
        """Lower-case label used in exports: ``none``, ``in``, ``out`` or ``insufficient``."""
        return VERDICT_LABELS[self.value]


#: Label of each code, indexed by the code.
VERDICT_LABELS: tuple[str, ...] = ("none", "in", "out", "insufficient")


def verdict_labels(codes: ArrayLike) -> list[str]:
    """Labels for an array of verdict codes, e.g. ``[1, 3] -> ["in", "insufficient"]``."""
    return [VERDICT_LABELS[int(c)] for c in np.asarray(codes).ravel()]
