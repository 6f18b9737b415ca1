"""A consensus rule must fit the panel's scale: checked where it is set, before a round opens and before it closes.

The trust review found a panel that could never close: RAND/UCLA on a 1-5 scale was accepted by the settings,
round 1 opened and mailed everyone, and every close then failed (the RAND/UCLA method, Fitch et al. 2001, is
calibrated on the 1-9 scale only: IPRAS = 2.35 + 1.5 x |5 - (P30 + P70) / 2|). These tests pin down that
such a rule is refused with the reason, that a panel locked with one before the check existed gets actions
instead of a failure, and that every preset and combination the settings accept closes.
"""

from __future__ import annotations

import itertools
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import AuditEvent, Panel, Round, RoundResult
from delphi.domain import SYSTEM
from delphi.errors import Conflict, InvalidInput, PreconditionsUnmet
from delphi.panels.settings import PanelInput, create_panel, update_panel
from delphi.rounds import lifecycle, lookup, schedule, scheduler, transitions
from delphi.settings import Settings
from delphi.stats import (
    RULE_NAMES,
    SCOPES,
    AllOf,
    AnalysisSettings,
    AnyOf,
    ConsensusRule,
    MedianIQR,
    PercentAgreement,
    RandUcla,
    analyse_round,
    rule_by_name,
    rule_problems,
    stability,
)
from tests.factories import ACTOR, NOW, build_draft_panel, rate_everyone

RAND_1_5 = rule_by_name("rand_ucla", agree=(4, 5), disagree=(1, 2), scale_points=5)
RAND_REASON = "The RAND/UCLA method is defined on the 1–9 scale only, not on 1–5"
#: Scales a facilitator can choose (0-20 is the widest the settings accept).
SCALES = [(1, 5), (1, 7), (1, 9), (0, 10), (0, 20)]


def bands(lo: int, hi: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The top and bottom third of the scale, as a facilitator would choose them."""
    third = max((hi - lo + 1) // 3, 1)
    return (hi - third + 1, hi), (lo, lo + third - 1)


def combinations() -> list[ConsensusRule]:
    """Every preset in every scope, and combinations of criteria, on the bands of each scale."""
    out = []
    for lo, hi in SCALES:
        agree, disagree = bands(lo, hi)
        for name, scope in itertools.product(RULE_NAMES, SCOPES):
            out.append(
                rule_by_name(name, agree=agree, disagree=disagree, scope=scope, scale_points=hi - lo + 1)
            )
        for criterion in (
            AllOf((PercentAgreement(75, True, None), MedianIQR(1.0))),
            AnyOf((RandUcla("classic"), PercentAgreement())),
            AllOf((AnyOf((RandUcla(), MedianIQR())), PercentAgreement(70, False, 20, True))),
        ):
            out.append(ConsensusRule(criterion, agree, disagree, "every_group", 3))
    return out


def panel_input(rule: ConsensusRule, lo: int, hi: int, **more: object) -> PanelInput:
    return PanelInput(title="Test panel", scale_min=lo, scale_max=hi, rule=rule.to_dict(), **more)


async def lock_with(session: AsyncSession, panel: Panel, rule: ConsensusRule, lo: int, hi: int) -> None:
    """Store ``rule`` and the scale as a panel saved before rules were checked against scales would hold them."""
    await session.execute(
        update(Panel).where(Panel.id == panel.id).values(rule=rule.to_dict(), scale_min=lo, scale_max=hi)
    )
    await session.refresh(panel)


PATTERNS_1_5 = {"Service users": [5, 1, 1, 3], "Practitioners": [4, 1, 5, 4], "Experts": [5, 1, 4, 2]}


# --- the one check ---------------------------------------------------------------------------------------------


def test_rule_problems_name_every_conflict_between_a_rule_and_its_scale() -> None:
    assert rule_problems(rule_by_name("comet"), 1, 9) == []
    assert rule_problems(RAND_1_5, 1, 5) == [
        "The RAND/UCLA method is defined on the 1–9 scale only, not on 1–5: choose another rule for this scale."
    ]
    assert rule_problems(rule_by_name("comet"), 1, 5) == ["The agree band 7–9 is not on the scale 1–5."]
    assert rule_problems(rule_by_name("rand_ucla"), 2, 6) == [
        "The agree band 7–9 is not on the scale 2–6.",
        "The disagree band 1–3 is not on the scale 2–6.",
        "The RAND/UCLA method is defined on the 1–9 scale only, not on 2–6: choose another rule for this scale.",
    ]
    nested = ConsensusRule(AllOf((PercentAgreement(), AnyOf((MedianIQR(), RandUcla())))), (6, 7), (1, 2))
    assert rule_problems(nested, 1, 7) == [
        "The RAND/UCLA method is defined on the 1–9 scale only, not on 1–7: choose another rule for this scale."
    ]


@pytest.mark.parametrize("rule", combinations(), ids=lambda r: f"{r.name}-{r.scope}-{r.agree}")
def test_every_rule_the_check_accepts_is_accepted_by_the_round_analysis_and_stability(
    rule: ConsensusRule,
) -> None:
    """``rule_problems`` empty ⇔ the analysis accepts the rule; then every statistic of the close computes."""
    rng = np.random.default_rng(7)
    for lo, hi in SCALES:
        settings = AnalysisSettings(lo, hi)
        ratings = rng.integers(lo, hi + 1, size=(3, 12)).astype(float)
        ratings[0, :3] = np.nan
        groups = np.repeat([0, 1, 2], 4)
        if rule_problems(rule, lo, hi):
            with pytest.raises(ValueError, match=r"not on the scale|1–9 scale only"):
                analyse_round(ratings, groups=groups, n_groups=3, rule=rule, settings=settings)
            continue
        result = analyse_round(ratings, groups=groups, n_groups=3, rule=rule, settings=settings)
        assert len(result.records()) == 3 * 4 and len(result.statement_records()) == 3
        later = np.clip(ratings + rng.integers(-1, 2, size=ratings.shape), lo, hi)
        assert stability(ratings, later, None, None, settings, rule).n_paired.shape == (3,)


# --- where a rule is set -------------------------------------------------------------------------------------


async def test_rand_ucla_on_a_five_point_scale_is_refused_with_the_reason(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await build_draft_panel(session)
    before = dict(rule=panel.rule, scale=(panel.scale_min, panel.scale_max), title=panel.title)
    with pytest.raises(InvalidInput) as err:
        await update_panel(session, panel, panel_input(RAND_1_5, 1, 5, max_rounds=40), ACTOR)
    messages = [m for _, m in err.value.errors]
    assert any(m.startswith(RAND_REASON) for m in messages)
    assert any("maximum number of rounds" in m for m in messages)  # every problem, at once
    assert dict(rule=panel.rule, scale=(panel.scale_min, panel.scale_max), title=panel.title) == before
    with pytest.raises(InvalidInput, match="RAND/UCLA method is defined on the 1–9 scale only"):
        await create_panel(session, panel_input(RAND_1_5, 1, 5), 1, ACTOR)
    assert await session.scalar(select(func.count()).select_from(Panel)) == 1


async def test_a_new_scale_is_checked_against_the_rule_the_panel_keeps(
    session: AsyncSession, settings: Settings
) -> None:
    """Input that leaves the rule as it is (``rule=None``) is checked against the rule already stored, and a new
    panel without a rule against the default COMET rule."""
    panel = await build_draft_panel(session)
    with pytest.raises(InvalidInput, match="agree band 7–9 is not on the scale 1–5"):
        await update_panel(session, panel, PanelInput(title="x", scale_min=1, scale_max=5), ACTOR)
    with pytest.raises(InvalidInput, match="agree band 7–9 is not on the scale 1–5"):
        await create_panel(session, PanelInput(title="x", scale_min=1, scale_max=5), 1, ACTOR)


# --- opening and closing ---------------------------------------------------------------------------------------


async def test_a_rule_that_does_not_fit_the_scale_blocks_opening_with_an_action(
    session: AsyncSession, settings: Settings
) -> None:
    panel = await build_draft_panel(session)
    await lock_with(session, panel, RAND_1_5, 1, 5)  # stored before the check existed; not locked yet
    round1 = await lookup.get_round(session, panel, 1)
    with pytest.raises(PreconditionsUnmet) as err:
        await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    assert err.value.actions == [
        "Change the consensus rule in the panel settings to one that fits the scale: "
        "The RAND/UCLA method is defined on the 1–9 scale only, not on 1–5: choose another rule for this scale."
    ]
    assert round1.status == "draft" and panel.rule_locked_at is None


async def open_locked_with_rand_on_five_points(
    session: AsyncSession, settings: Settings
) -> tuple[Panel, Round]:
    """Round 1 open and rated on 1-5 under a locked RAND/UCLA rule, as panels saved before the check can be."""
    panel = await build_draft_panel(session)
    round1 = await lookup.get_round(session, panel, 1)
    await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    await lock_with(session, panel, RAND_1_5, 1, 5)
    await rate_everyone(session, panel, round1, PATTERNS_1_5)
    return panel, round1


async def test_a_locked_rule_that_does_not_fit_refuses_to_close_with_what_to_do(
    session: AsyncSession, settings: Settings
) -> None:
    panel, round1 = await open_locked_with_rand_on_five_points(session, settings)
    with pytest.raises(PreconditionsUnmet) as err:
        await transitions.close_round(
            session, panel, round1, now=NOW + timedelta(days=1), settings=settings, actor=ACTOR
        )
    assert err.value.message == "Round 1 cannot close."
    assert err.value.actions[0].startswith(RAND_REASON)
    assert "Change the consensus rule in the panel settings" in err.value.actions[1]
    assert "recorded in the audit trail and flagged in every report" in err.value.actions[1]
    assert round1.status == "open" and round1.closed_at is None
    assert await session.scalar(select(func.count()).select_from(RoundResult)) == 0


async def test_a_locked_rule_that_does_not_fit_can_be_replaced_recorded_and_flagged(
    session: AsyncSession, settings: Settings
) -> None:
    panel, round1 = await open_locked_with_rand_on_five_points(session, settings)
    comet = rule_by_name("comet", agree=(4, 5), disagree=(1, 2), scale_points=5)
    with pytest.raises(InvalidInput, match="RAND/UCLA"):  # keeping the rule is no repair
        await update_panel(session, panel, panel_input(RAND_1_5, 1, 5), ACTOR)
    with pytest.raises(InvalidInput, match="agree band 7–9"):  # nor is another rule that does not fit
        await update_panel(session, panel, panel_input(rule_by_name("comet"), 1, 5), ACTOR)
    assert not panel.rule_changed_after_lock
    changed = await update_panel(session, panel, panel_input(comet, 1, 5), ACTOR)
    assert "rule" in changed and panel.rule == comet.to_dict() and panel.rule_changed_after_lock
    event = await session.scalar(select(AuditEvent).where(AuditEvent.action == "rule.changed"))
    assert event is not None and event.actor == ACTOR.label
    assert event.detail["before"] == RAND_1_5.to_dict() and event.detail["after"] == comet.to_dict()
    assert event.detail["reason"][0].startswith(RAND_REASON) and event.detail["after_lock"] is True
    outcome = await transitions.close_round(
        session, panel, round1, now=NOW + timedelta(days=1), settings=settings, actor=ACTOR
    )
    assert list(outcome.verdicts.values()) == ["in", "out", "none", "none"]
    # a rule that fits stays locked: the exception is for a rule that cannot be applied at all
    with pytest.raises(Conflict, match="locked when round 1 opened"):
        await update_panel(
            session, panel, panel_input(rule_by_name("agree80", agree=(4, 5), disagree=(1, 2)), 1, 5), ACTOR
        )


def test_close_blockers_list_the_rule_problems_then_the_way_out() -> None:
    assert lifecycle.close_blockers("open", 2) == []
    actions = lifecycle.close_blockers("open", 2, ["The agree band 7–9 is not on the scale 1–5."])
    assert actions[0] == "The agree band 7–9 is not on the scale 1–5."
    assert actions[1].startswith("Change the consensus rule in the panel settings to one that fits the scale")
    assert lifecycle.close_blockers("closed", 2, ["x"]) == ["Round 2 is closed already."]


@pytest.mark.parametrize("scale", [(1, 5), (1, 9), (0, 10)], ids=lambda s: f"{s[0]}-{s[1]}")
@pytest.mark.parametrize("name", RULE_NAMES)
async def test_every_preset_the_settings_accept_closes_cleanly_and_the_others_are_refused(
    session: AsyncSession, settings: Settings, name: str, scale: tuple[int, int]
) -> None:
    lo, hi = scale
    agree, disagree = bands(lo, hi)
    rule = rule_by_name(name, agree=agree, disagree=disagree, scope="every_group", scale_points=hi - lo + 1)
    panel = await build_draft_panel(session, per_group=3)
    if rule_problems(rule, lo, hi):
        with pytest.raises(InvalidInput, match="RAND/UCLA method is defined on the 1–9 scale only"):
            await update_panel(session, panel, panel_input(rule, lo, hi), ACTOR)
        return
    await update_panel(session, panel, panel_input(rule, lo, hi), ACTOR)
    round1 = await lookup.get_round(session, panel, 1)
    await transitions.open_round(session, panel, round1, now=NOW, settings=settings, actor=ACTOR)
    step = (hi - lo) / 8
    patterns = {
        g: [lo + round((v - 1) * step) for v in values]
        for g, values in {
            "Service users": [9, 1, 2, 5],
            "Practitioners": [8, 2, 9, 7],
            "Experts": [9, 1, 8, 3],
        }.items()
    }
    await rate_everyone(session, panel, round1, patterns)
    outcome = await transitions.close_round(
        session, panel, round1, now=NOW + timedelta(days=1), settings=settings, actor=ACTOR
    )
    assert len(outcome.verdicts) == 4
    assert await session.scalar(select(func.count()).select_from(RoundResult)) == 4 * 4
    if outcome.carried:  # round 2 adds stability against round 1
        round2 = await lookup.get_round(session, panel, 2)
        await schedule.set_schedule(
            session, panel, round2, opens_at=None, closes_at=NOW + timedelta(days=20), reminder_hours=[],
            now=NOW + timedelta(days=2), actor=ACTOR,
        )  # fmt: skip
        await transitions.open_round(
            session, panel, round2, now=NOW + timedelta(days=2), settings=settings, actor=ACTOR
        )
        await rate_everyone(session, panel, round2, patterns)
        await transitions.close_round(
            session, panel, round2, now=NOW + timedelta(days=3), settings=settings, actor=ACTOR
        )
        assert round2.status == "closed"


# --- the deadline close ----------------------------------------------------------------------------------------


async def test_a_deadline_close_that_is_refused_records_why_once_and_keeps_the_round_open(
    session: AsyncSession, settings: Settings
) -> None:
    _, round1 = await open_locked_with_rand_on_five_points(session, settings)
    later, round_id = round1.closes_at + timedelta(minutes=1), round1.id
    await session.commit()
    for tick in range(3):
        counts = await scheduler.tick(session, later + timedelta(seconds=tick), settings)
        assert counts["closed"] == 0
    events = (
        await session.scalars(select(AuditEvent).where(AuditEvent.action == "round.close_failed"))
    ).all()
    assert len(events) == 1  # not one per tick
    assert events[0].detail["round"] == 1 and events[0].detail["reason"] == "Round 1 cannot close."
    assert events[0].detail["actions"][0].startswith(RAND_REASON)
    status = await session.scalar(select(Round.status).where(Round.id == round_id))
    assert status == "open"
    assert await session.scalar(select(func.count()).select_from(RoundResult)) == 0
    assert events[0].actor == SYSTEM.label
