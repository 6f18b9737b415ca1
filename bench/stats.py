"""Benchmark: a full round analysis against bare numpy.percentile (the floor) and a pandas groupby.

10,000 panellists x 500 statements in 3 groups, seeded random ratings 1-9 with 5% "unable" and 5% no answer.
Timed (best of several runs, after one warm-up):

* ``delphi``: :func:`delphi.stats.analyse_round` -- pooled, per-group and group-balanced statistics, the
  rule's verdicts, the sensitivity analysis and the between-group tests;
* ``floor``: ``numpy.percentile(ratings, [25, 50, 75], axis=1)`` over the same matrix, which handles neither
  missing values nor groups -- the least any quartile computation costs;
* ``pandas``: the long-format groupby a researcher would write for the same medians, quartiles and agreement
  shares, pooled and per group.

Goal: ``ratio_vs_numpy`` <= 3 and ``speedup_vs_pandas`` >= 10. The last line printed is a JSON object.
The ratio is usually below 1: ratings are whole numbers, so the analysis counts them per scale point in one
cache-friendly pass instead of partitioning floats as ``numpy.percentile`` must. Both timings move with the
machine's load; compare figures from the same run only.
Run: ``.venv/bin/python bench/stats.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pandas is a test dependency, imported only when the bench runs
    import pandas as pd


def make_round(
    n_statements: int, n_panellists: int, n_groups: int, seed: int = 20240501
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded ratings (S, P) with 5% unable and 5% no answer, and group labels (P,)."""
    rng = np.random.default_rng(seed)
    ratings = rng.integers(1, 10, size=(n_statements, n_panellists)).astype(np.float64)
    draw = rng.random((n_statements, n_panellists))
    unable = draw < 0.05
    ratings[(draw >= 0.05) & (draw < 0.10)] = np.nan
    ratings[unable] = np.nan
    groups = rng.integers(0, n_groups, size=n_panellists)
    return ratings, unable, groups


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Fastest of ``repeat`` timed calls, after one untimed warm-up."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def pandas_analysis(long: pd.DataFrame) -> list[tuple]:
    """What a researcher would write: quartiles and agreement shares by statement, and by statement x group."""
    rated = long[long["rating"].notna()]
    rated = rated.assign(agree=rated["rating"] >= 7, disagree=rated["rating"] <= 3)
    out = []
    for keys in (["statement"], ["statement", "group"]):
        grouped = rated.groupby(keys)
        quartiles = grouped["rating"].quantile([0.25, 0.5, 0.75]).unstack()
        shares = grouped[["agree", "disagree"]].mean() * 100
        n = grouped.size()
        n_unable = long[long["unable"]].groupby(keys).size()
        out.append((quartiles, shares, n, n_unable))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=500)
    parser.add_argument("--panellists", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=7, help="timed runs of the numpy-based analyses")
    parser.add_argument("--pandas-repeat", type=int, default=2, help="timed runs of the pandas groupby")
    args = parser.parse_args(argv)

    from delphi.stats import AnalysisSettings, analyse_round, rule_by_name

    ratings, unable, groups = make_round(args.statements, args.panellists, args.groups)
    rule = rule_by_name("comet")
    settings = AnalysisSettings()
    print(
        f"round: {args.statements} statements x {args.panellists} panellists in {args.groups} groups "
        f"({int(unable.sum())} unable, {int(np.isnan(ratings).sum() - unable.sum())} no answer)"
    )

    t_delphi = best_of(
        lambda: analyse_round(ratings, unable, groups, args.groups, rule, settings), args.repeat
    )
    t_floor = best_of(lambda: np.percentile(ratings, [25, 50, 75], axis=1), args.repeat)
    print(
        f"delphi analyse_round (pooled + {args.groups} groups + balanced, rule, sensitivity, tests): "
        f"{t_delphi * 1e3:8.1f} ms"
    )
    print(
        f"floor  numpy.percentile(q1, median, q3), pooled only, no NaN handling:            {t_floor * 1e3:8.1f} ms"
    )

    import pandas as pd

    s_idx, p_idx = np.indices(ratings.shape)
    long = pd.DataFrame(
        {
            "statement": s_idx.ravel(),
            "panellist": p_idx.ravel(),
            "group": groups[p_idx.ravel()],
            "rating": ratings.ravel(),
            "unable": unable.ravel(),
        }
    )
    t_pandas = best_of(lambda: pandas_analysis(long), args.pandas_repeat)
    print(
        f"pandas long-format groupby (quartiles + shares, pooled and per group):           {t_pandas * 1e3:8.1f} ms"
    )

    # the pandas answer agrees with ours (medians and shares, pooled), so the comparison is like for like
    result = analyse_round(ratings, unable, groups, args.groups, rule, settings)
    quartiles, shares, _, _ = pandas_analysis(long)[0]
    if not (
        np.allclose(quartiles[0.5].to_numpy(), result.pooled.median)
        and np.allclose(quartiles[0.25].to_numpy(), result.pooled.q1)
        and np.allclose(shares["agree"].to_numpy(), result.pooled.pct_agree)
    ):
        print("pandas and delphi disagree", file=sys.stderr)
        return 1

    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {
        "ratio_vs_numpy": round(t_delphi / t_floor, 3),
        "speedup_vs_pandas": round(t_pandas / t_delphi, 1),
        "peak_rss_mb": round(peak_rss_mb, 1),
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
