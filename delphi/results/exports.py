"""The exports a panel offers, who may download each, and how one is produced.

===============  ===============  ===========  ===============================================
name             formats          who          what
===============  ===============  ===========  ===============================================
final-list       csv, xlsx, json  readers      the final consensus list
ratings          csv, xlsx        readers      every rating, tidy long form
round-summaries  csv, xlsx, json  readers      frozen statistics per round, statement, group
rankings         csv, xlsx, json  readers      every ranking, tidy long form
ranking-results  csv, xlsx, json  readers      frozen ranking figures per round, question, group, item
codebook         csv, xlsx, json  readers      every column and setting
comments         csv, xlsx, json  readers      every comment, any moderation status
suggestions      csv, xlsx, json  readers      every suggestion, original and final wording
reasons          csv, xlsx, json  readers      every reason for a rating outside the middle half
open-answers     csv, xlsx, json  readers      every answer to an open round 1, with its theme
provenance       csv, xlsx, json  readers      statements made from answers, version by version
baseline         csv, xlsx, json  readers      every answer to the baseline questions, pseudonymous
datapackage      zip              readers      the whole study as a Frictionless Data Package
pseudonym-key    csv              contacts     pseudonym to e-mail
honoraria        csv, xlsx        owner        rounds completed, amounts owed, paid and due
===============  ===============  ===========  ===============================================

Readers are the panel's owner, facilitators and researchers; contacts are those who see panellists' addresses
(:func:`delphi.panels.access.can_see_contacts`: the owner, and facilitators the owner lets contact panellists).

The comments and reasons exports hold texts a facilitator held back (pending, hidden) too, with their status:
researchers analysing them need them, and they carry pseudonyms only (:mod:`delphi.results.qualitative`).

Data exports need at least one closed round (:class:`NothingToExport` otherwise); the codebook does not.
The two exports that link pseudonyms to e-mail addresses re-identify every pseudonymous file: the pseudonym
key goes to those who see contacts anyway, the honoraria (which also say who is owed what) to the owner alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import utcnow
from delphi.domain import PanelRole
from delphi.errors import Conflict, Forbidden, InvalidInput, NotFound
from delphi.results import (
    baseline_export,
    codebook,
    datapackage,
    final_list,
    ideas,
    people,
    qualitative,
    ranking_tables,
    summaries,
    tidy,
)
from delphi.results.frame import Frame
from delphi.results.tables import Column, Table
from delphi.results.writers import MEDIA_TYPES, write

READERS = frozenset({PanelRole.OWNER, PanelRole.FACILITATOR, PanelRole.RESEARCHER})
OWNER_ONLY = frozenset({PanelRole.OWNER})
EDITORS = frozenset({PanelRole.OWNER, PanelRole.FACILITATOR})


class NothingToExport(Conflict):
    """The panel has no closed round yet, so there are no results to export."""


class UnknownFormat(InvalidInput):
    """A format the export does not come in; the message lists the formats it does."""

    status_code = 400


@dataclass(frozen=True, slots=True)
class ExportSpec:
    """One export: its file stem, title, description, formats, the panel roles that may download it,
    whether it needs a closed round, its columns (for the codebook), the coroutine that builds it and whether
    it names people (``names_people``: only for an account that sees panellists' contacts).

    A package of several files (the open data package) has ``package`` instead of ``build``: the coroutine that
    builds its bytes; ``parts`` lists the columns of the files only it holds, for the codebook."""

    name: str
    title: str
    description: str
    formats: tuple[str, ...]
    roles: frozenset[PanelRole]
    needs_results: bool
    columns: Callable[[Frame], tuple[Column, ...]]
    build: Callable[[AsyncSession, Frame], Awaitable[Table]] | None
    names_people: bool = False
    package: Callable[[AsyncSession, Frame], Awaitable[bytes]] | None = None
    parts: Callable[[Frame], tuple[tuple[str, tuple[Column, ...]], ...]] | None = None

    def documented(self, frame: Frame) -> tuple[tuple[str, tuple[Column, ...]], ...]:
        """``(name in the codebook, columns)`` of what the export holds: its own columns, then its parts'."""
        own = self.columns(frame)
        return (((self.name, own),) if own else ()) + (self.parts(frame) if self.parts else ())

    def allows(self, role: PanelRole, sees_contacts: bool | None = None) -> bool:
        """``role`` is among :attr:`roles`, and sees contacts when the export names people (``sees_contacts``
        None: as the role alone says, i.e. only the owner does)."""
        contacts = role == PanelRole.OWNER if sees_contacts is None else sees_contacts
        return role in self.roles and (contacts or not self.names_people)


async def _codebook(session: AsyncSession, frame: Frame) -> Table:
    specs = [part for s in CATALOG if s.name != codebook.NAME for part in s.documented(frame)]
    return codebook.codebook_table(frame, specs, utcnow())


CATALOG: tuple[ExportSpec, ...] = (
    ExportSpec(
        final_list.NAME,
        "Final consensus list",
        "Statements in, out and without consensus, with their final figures and the round consensus came.",
        ("csv", "xlsx", "json"),
        READERS,
        True,
        final_list.columns,
        final_list.final_table,
    ),
    ExportSpec(
        tidy.NAME,
        "Every rating (tidy long form)",
        "One row per panellist, round and statement: pseudonym, group, rating or 'unable', "
        "published comment. Reads into R, SPSS, Excel and `delphi analyse`.",
        ("csv", "xlsx"),
        READERS,
        True,
        tidy.columns,
        tidy.ratings_table,
    ),
    ExportSpec(
        summaries.NAME,
        "Round summaries",
        "The frozen statistics of every closed round per statement, pooled and per group, with verdicts, "
        "sensitivity, divergence and stability.",
        ("csv", "xlsx", "json"),
        READERS,
        True,
        summaries.columns,
        summaries.summaries_table,
    ),
    ExportSpec(
        ranking_tables.ANSWERS_NAME,
        "Every ranking (tidy long form)",
        "One row per panellist, round, ranking question and item: pseudonym, group, rank (1 = first), or one "
        "row marked 'unable', and whether the frozen figures counted it. Reads into R, Excel and `delphi analyse`.",
        ("csv", "xlsx", "json"),
        READERS,
        True,
        ranking_tables.answer_columns,
        ranking_tables.rankings_table,
    ),
    ExportSpec(
        ranking_tables.RESULTS_NAME,
        "Ranking results",
        "The frozen figures of every closed round per ranking question, pooled and per group: Kendall's W, "
        "chi-squared, p, the verdict under the ranking rule, and each item's place, mean and median rank.",
        ("csv", "xlsx", "json"),
        READERS,
        True,
        ranking_tables.result_columns,
        ranking_tables.ranking_results_table,
    ),
    ExportSpec(
        baseline_export.NAME,
        "Baseline answers",
        "Every panellist's answers to the questions about themselves (pseudonym and group, never a name or an "
        "address): the choices, the number or the text, or 'prefer not to say'. Not suppressed: keep it safe.",
        ("csv", "xlsx", "json"),
        READERS,
        False,
        baseline_export.columns,
        baseline_export.baseline_table,
    ),
    ExportSpec(
        codebook.NAME,
        "Codebook",
        "Every column of every export, the scale, the rule, the quantile method, the denominator choice "
        "and the software version.",
        ("csv", "xlsx", "json"),
        READERS,
        False,
        lambda frame: codebook.COLUMNS,
        _codebook,
    ),
    ExportSpec(
        qualitative.COMMENTS_NAME,
        "Comments",
        "Every comment with its round, statement and pseudonym, its moderation status (published, pending or "
        "hidden: held-back comments are included, marked) and whether a facilitator edited it.",
        ("csv", "xlsx", "json"),
        READERS,
        True,
        qualitative.comment_columns,
        qualitative.comments_table,
    ),
    ExportSpec(
        qualitative.SUGGESTIONS_NAME,
        "Suggestions",
        "Every suggestion for a new statement or a rewording: the panellist's original wording, the outcome, "
        "and the statement it became with its final wording.",
        ("csv", "xlsx", "json"),
        READERS,
        True,
        qualitative.suggestion_columns,
        qualitative.suggestions_table,
    ),
    ExportSpec(
        qualitative.REASONS_NAME,
        "Reasons",
        "Every reason given for a rating outside the middle half of the previous round, with the rating, its "
        "moderation status (held-back reasons included, marked) and whether a facilitator edited it.",
        ("csv", "xlsx", "json"),
        READERS,
        True,
        qualitative.reason_columns,
        qualitative.reasons_table,
    ),
    ExportSpec(
        ideas.OPEN_ANSWERS_NAME,
        "Open-round answers",
        "Every answer to the open round's questions: question, pseudonym, the answer as written, its theme, "
        "whether it counts, and the statements made from it.",
        ("csv", "xlsx", "json"),
        READERS,
        True,
        ideas.open_answer_columns,
        ideas.open_answers_table,
    ),
    ExportSpec(
        ideas.PROVENANCE_NAME,
        "Provenance of statements made from answers",
        "For each statement made from open-round answers, every version (draft, rewordings) with the answers "
        "it was made from.",
        ("csv", "xlsx", "json"),
        READERS,
        True,
        ideas.provenance_columns,
        ideas.provenance_table,
    ),
    ExportSpec(
        datapackage.NAME,
        "Open data package",
        "The whole study in one zip: settings, groups, statements with their lineage, rounds, ratings, "
        "results, the figures panellists were shown, comments, suggestions and reasons, as CSV files with a "
        "Frictionless Data Package descriptor (datapackage.json).",
        ("zip",),
        READERS,
        True,
        lambda frame: (),
        None,
        package=datapackage.build_package,
        parts=datapackage.own_columns,
    ),
    ExportSpec(
        people.KEY_NAME,
        "Pseudonym key",
        "Pseudonym to e-mail address. For the owner and facilitators who may contact panellists: keep it "
        "apart from the data.",
        ("csv",),
        EDITORS,
        True,
        people.key_columns,
        people.key_table,
        names_people=True,
    ),
    ExportSpec(
        people.HONORARIA_NAME,
        "Honoraria",
        "Pseudonym, e-mail, rounds completed and the amounts owed, paid and due (the honoraria page's sheet). "
        "Owner only (it links pseudonyms to people).",
        ("csv", "xlsx"),
        OWNER_ONLY,
        True,
        people.honoraria_columns,
        people.honoraria_table,
        names_people=True,
    ),
)
BY_NAME = {s.name: s for s in CATALOG}


def available(role: PanelRole, *, sees_contacts: bool | None = None) -> list[ExportSpec]:
    """The exports ``role`` (seeing panellists' contacts or not; None: only an owner does) may download, in
    catalog order."""
    return [s for s in CATALOG if s.allows(role, sees_contacts)]


def parse_filename(filename: str) -> tuple[ExportSpec, str]:
    """``"final-list.csv"`` -> (spec, "csv").

    Raises NotFound for an unknown export name and :class:`UnknownFormat` (400) for a format the export does
    not come in, naming the formats it does.
    """
    name, dot, fmt = filename.rpartition(".")
    if not dot:
        name, fmt = filename, ""
    spec = BY_NAME.get(name)
    if spec is None:
        known = ", ".join(s.name for s in CATALOG)
        raise NotFound(f"There is no export called {name!r}. The exports are: {known}.")
    fmt = fmt.lower()
    if fmt not in spec.formats:
        allowed = ", ".join(spec.formats)
        raise UnknownFormat(
            f"The {spec.name} export does not come as {fmt or 'a file without extension'!r}. "
            f"Formats allowed: {allowed}.",
            field="format",
        )
    return spec, fmt


def file_name(frame: Frame, spec: ExportSpec, fmt: str, now: datetime) -> str:
    """``panel-12-final-list-20260301.csv``: ASCII only, safe in a Content-Disposition header."""
    return f"panel-{frame.panel.id}-{spec.name}-{now:%Y%m%d}.{fmt}"


async def produce(session: AsyncSession, frame: Frame, spec: ExportSpec, fmt: str) -> tuple[bytes, str]:
    """The file's bytes and media type. Raises :class:`NothingToExport` when the export needs results and the
    panel has no closed round; :class:`~delphi.results.writers.TooLargeForFormat` when XLSX cannot hold it."""
    if spec.needs_results and frame.last_closed is None:
        raise NothingToExport(
            "There is nothing to export yet: no round of this panel has closed. "
            "Results, ratings and the final list can be exported once round 1 has closed."
        )
    if spec.package is not None:
        return await spec.package(session, frame), datapackage.MEDIA_TYPE
    assert spec.build is not None  # an export is a table or a package
    table = await spec.build(session, frame)
    return write(table, fmt), MEDIA_TYPES[fmt]


@dataclass(frozen=True, slots=True)
class Download:
    """An export ready to send: its bytes, media type and file name (see :func:`file_name`)."""

    data: bytes
    media_type: str
    file_name: str


async def download(
    session: AsyncSession,
    frame: Frame,
    role: PanelRole,
    filename: str,
    now: datetime | None = None,
    *,
    sees_contacts: bool | None = None,
) -> Download:
    """The export ``filename`` (``"final-list.csv"``) for an account with ``role`` (and ``sees_contacts``, see
    :meth:`ExportSpec.allows`), named for ``now`` (default: the current time, UTC). Raises what
    :func:`parse_filename` and :func:`produce` raise, and Forbidden for an account the export is not for."""
    spec, fmt = parse_filename(filename)
    if not spec.allows(role, sees_contacts):
        who = (
            "the panel's owner and facilitators the owner lets contact panellists"
            if PanelRole.FACILITATOR in spec.roles
            else "the panel's owner"
        )
        raise Forbidden(f"Only {who} can download the {spec.title.lower()}.")
    data, media_type = await produce(session, frame, spec, fmt)
    return Download(data, media_type, file_name(frame, spec, fmt, now or utcnow()))
