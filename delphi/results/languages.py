"""The report's "Languages" section: the panel's languages, who translated them, and how many panellists
answered in each language per round, with small counts hidden.

**Languages.** The primary language (``Panel.language``: results and exports are in it) and each further
language (:class:`~delphi.db.models.PanelLanguage`) with its ``translated_by`` credit as the facilitator
entered it ("" when not given).

**Counts per round.** For every round that has opened, the panellists the round's results count under the
panel's analysis population, by the language they answered in:

* ``submitted``: the panellists who sent the round, by the language they sent it in (``Submission.language``);
* ``all``: every panellist with a saved answer in the round (a rating, a ranking or an open-round answer), by the
  language of their latest saved answer there (``updated_at``; a panellist who switched counts once, in the
  language they answered in last).

A language not recorded (answers saved before languages were) counts as ``None`` ("Not recorded").

**Disclosure control.** Each round's counts partition its counted panellists, whose number the report prints,
so a reader can subtract the languages shown from it.  :func:`language_table` therefore applies
:func:`delphi.stats.disclosure.decide` to each round as the one-dimensional table "total = sum of languages"
(the rule the report's participant table applies along each of its lines, :mod:`delphi.stats.suppression`): a
language with 1 to k - 1 panellists is hidden, and while the hidden ones together cover 1 to k - 1 panellists the
smallest language still shown is hidden too; a round with fewer than k counted hides every language.  Rounds
share no printed margin (one person counts in several rounds), so each is decided on its own.  A hidden count is
None, printed alike whether it is small or hidden to protect a small one.

The section is shown only when the panel is offered in more than one language or has answers in more than one
(:attr:`Languages.shown`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import IdeaAnswer, RankAnswer, Rating, Round, Submission
from delphi.domain import AnalysisPopulation, RoundStatus
from delphi.locale import language_name, language_tag
from delphi.panels.translations import further_languages
from delphi.results.frame import Frame
from delphi.stats.disclosure import ScopeCounts, decide

__all__ = [
    "LanguageCredit",
    "LanguageRound",
    "Languages",
    "language_table",
    "latest_languages",
    "load_languages",
]


@dataclass(frozen=True, slots=True)
class LanguageCredit:
    """One language of the panel: its tag ("cy"), its English name ("Welsh"), whether it is the primary one, and
    who translated it ("" when not given; always "" for the primary language)."""

    tag: str
    name: str
    primary: bool
    translated_by: str = ""


@dataclass(frozen=True, slots=True)
class LanguageRound:
    """One round's counted panellists (``total``) and, per column of :attr:`Languages.columns`, how many answered
    in that language (None where hidden)."""

    number: int
    status: str
    total: int
    counts: tuple[int | None, ...]


@dataclass(frozen=True, slots=True)
class Languages:
    """The section: the panel's ``languages`` (primary first), the table's ``columns`` (language tags, None for
    "not recorded"; the panel's languages first, then any other language answers were given in), one
    :class:`LanguageRound` per opened round, the threshold ``k`` and the analysis ``population``."""

    languages: tuple[LanguageCredit, ...]
    columns: tuple[str | None, ...]
    rounds: tuple[LanguageRound, ...]
    k: int
    population: str

    @property
    def shown(self) -> bool:
        """Whether the report shows the section: more than one language offered, or answers in more than one."""
        recorded = {c for c in self.columns if c is not None}
        return len({lang.tag for lang in self.languages} | recorded) > 1

    @property
    def column_names(self) -> tuple[str, ...]:
        """The columns' headings: "Welsh (cy)", and "Not recorded" for None."""
        return tuple("Not recorded" if c is None else f"{language_name(c)} ({c})" for c in self.columns)


def language_columns(offered: Sequence[str], counted: Iterable[str | None]) -> tuple[str | None, ...]:
    """The table's columns (pure): the ``offered`` tags in order, then other recorded languages alphabetically,
    then None ("not recorded") when some count has no language."""
    seen = set(counted)
    extra = sorted(c for c in seen if c is not None and c not in offered)
    return (*offered, *extra, *((None,) if None in seen else ()))


def language_table(
    per_round: Mapping[int, Mapping[str | None, int]], columns: Sequence[str | None], k: int
) -> dict[int, tuple[int | None, ...]]:
    """Each round's counts per column with disclosure control applied (pure; see the module docstring).

    ``per_round``: ``{round number: {language or None: panellists}}``.  Returns ``{round number: counts}`` in the
    order of ``columns``, None for a hidden count; a language nobody answered in shows 0 (no one to protect).
    """
    out: dict[int, tuple[int | None, ...]] = {}
    for number, counts in per_round.items():
        values = [int(counts.get(c, 0)) for c in columns]
        release = decide(ScopeCounts(sum(values)), [ScopeCounts(v) for v in values], k)
        out[number] = tuple(
            v if v == 0 or shown else None for v, shown in zip(values, release.groups, strict=True)
        )
    return out


def latest_languages(rows: Iterable[tuple[int, int, str | None, object]]) -> dict[int, dict[str | None, int]]:
    """``{round number: {language: panellists}}`` from ``(round number, panellist id, language, saved at)`` rows,
    each panellist counted once per round, in the language of their latest row (pure; ties: a recorded language
    before None, then the first tag alphabetically)."""
    latest: dict[tuple[int, int], tuple[object, str | None]] = {}
    for number, panellist_id, language, saved in rows:
        key = (int(number), int(panellist_id))
        tag = language_tag(language) if language else None
        current = latest.get(key)
        if current is None or _later((saved, tag), current):
            latest[key] = (saved, tag)
    out: dict[int, dict[str | None, int]] = {}
    for (number, _), (_, tag) in latest.items():
        out.setdefault(number, {})
        out[number][tag] = out[number].get(tag, 0) + 1
    return out


def _later(new: tuple[object, str | None], old: tuple[object, str | None]) -> bool:
    if new[0] != old[0]:
        return bool(new[0] > old[0])  # type: ignore[operator]
    if (new[1] is None) != (old[1] is None):
        return old[1] is None
    return (new[1] or "") < (old[1] or "")


async def _counts(session: AsyncSession, frame: Frame) -> dict[int, dict[str | None, int]]:
    """Counted panellists per opened round by language (one query; see the module docstring)."""
    panel_id = frame.panel.id
    opened = Round.status != RoundStatus.DRAFT
    if AnalysisPopulation(frame.panel.analysis_population) == AnalysisPopulation.SUBMITTED:
        rows = await session.execute(
            select(Round.number, Submission.panellist_id, Submission.language, Submission.submitted_at)
            .join(Round, Round.id == Submission.round_id)
            .where(Round.panel_id == panel_id, opened)
        )
        return latest_languages(rows.all())
    parts = [
        select(
            table.round_id.label("round_id"),
            table.panellist_id.label("panellist_id"),
            table.language.label("language"),
            func.max(table.updated_at).label("saved_at"),
        ).group_by(table.round_id, table.panellist_id, table.language)
        for table in (Rating, RankAnswer, IdeaAnswer)
    ]
    answers = union_all(*parts).subquery()
    rows = await session.execute(
        select(Round.number, answers.c.panellist_id, answers.c.language, answers.c.saved_at)
        .join(Round, Round.id == answers.c.round_id)
        .where(Round.panel_id == panel_id, opened)
    )
    return latest_languages(rows.all())


async def load_languages(session: AsyncSession, frame: Frame) -> Languages:
    """The section for ``frame``'s panel (two queries)."""
    panel = frame.panel
    primary = language_tag(panel.language)
    credits = [LanguageCredit(primary, language_name(primary), True)]
    for row in await further_languages(session, panel.id):
        tag = language_tag(row.language)
        credits.append(LanguageCredit(tag, language_name(tag), False, (row.translated_by or "").strip()))
    per_round = await _counts(session, frame)
    columns = language_columns(
        [c.tag for c in credits], (lang for counts in per_round.values() for lang in counts)
    )
    k = max(1, int(panel.k_min))
    opened = [r for r in frame.rounds if r.status != RoundStatus.DRAFT]
    counts = language_table({r.number: per_round.get(r.number, {}) for r in opened}, columns, k)
    return Languages(
        languages=tuple(credits),
        columns=columns,
        rounds=tuple(
            LanguageRound(r.number, r.status, sum(per_round.get(r.number, {}).values()), counts[r.number])
            for r in opened
        ),
        k=k,
        population=panel.analysis_population,
    )
