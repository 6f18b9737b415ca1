"""``bench/scale.py`` at a tiny size: it seeds, closes, opens and fetches the pages it says it does, and prints the
figures the issue asks for on its last line.  PostgreSQL only (the bench seeds with ``generate_series``); no
timing is asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
POSTGRES_URL = os.environ.get("DELPHI_TEST_POSTGRES_URL", "").strip()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not POSTGRES_URL, reason="bench/scale.py needs PostgreSQL (DELPHI_TEST_POSTGRES_URL)"),
]

PANELLISTS, STATEMENTS, GROUPS = 90, 6, 3


@pytest.fixture(scope="module")
def figures() -> dict[str, object]:
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "scale.py"),
            "--url",
            POSTGRES_URL,
            "--panellists",
            str(PANELLISTS),
            "--statements",
            str(STATEMENTS),
            "--repeat",
            "1",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_last_line_holds_the_goals_figures_and_their_floors(figures: dict[str, object]) -> None:
    for key in (
        "seconds_close_open",
        "peak_rss_mb",
        "seconds_enqueue",
        "max_page_ms",
        "floor_seconds_count",
        "floor_seconds_enqueue",
        "floor_page_ms",
        "ratio_close_open",
        "ratio_enqueue",
        "ratio_page",
        "seed_ratings_seconds",
        "results_ms",
        "monitor_ms",
        "panellists_ms",
        "mail_ms",
    ):
        assert isinstance(figures[key], int | float) and figures[key] >= 0, key
    assert (figures["panellists"], figures["statements"], figures["groups"]) == (
        PANELLISTS,
        STATEMENTS,
        GROUPS,
    )


def test_the_close_froze_each_statement_pooled_and_per_group(figures: dict[str, object]) -> None:
    assert figures["ratings"] == PANELLISTS * STATEMENTS
    assert figures["results_frozen"] == STATEMENTS * (1 + GROUPS)


def test_every_panellist_got_the_invitation_and_the_round_2_mail(figures: dict[str, object]) -> None:
    assert figures["invitations_queued"] == PANELLISTS
    assert figures["round_open_mails_queued"] == PANELLISTS
    assert figures["outbox_rows"] == 2 * PANELLISTS
    assert figures["rounds"] == 2
