"""API of a panel's own e-mail texts: the panellist mails it may word itself, each as the panel sends it now; save
one; restore the shipped wording.  For the panel's editors only, reading included, as the e-mail texts pages.

The same use cases as the pages (:mod:`delphi.mail.panel_texts`), so the same rules, messages and audit events
(``mail_text.saved``, ``mail_text.restored``): a subject of at most :data:`~delphi.mail.texts.MAX_SUBJECT`
characters on one line, a body of at most :data:`~delphi.mail.texts.MAX_BODY` with ``{link}`` in it, only the
kind's placeholders (none naming the panel, its topic or a link in the subject), braces that close; every problem
at once (422), nothing saved then.  A kind that cannot be worded is a 404.  Texts are saved trimmed, in the
panel's primary language; their translations are entered on the translation sheet
(:mod:`delphi.web.api.translations`, keys ``mail.<kind>.subject`` and ``mail.<kind>.body``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import delete, get, put
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.domain import Actor
from delphi.mail import panel_texts
from delphi.mail.texts import DEFAULTS, DESCRIPTIONS, EDITABLE_KINDS, MAX_BODY, MAX_SUBJECT, placeholders
from delphi.web.api.problems import PROBLEMS, problem_spec
from delphi.web.guards import EDITORS_ONLY, PanelAccess

INVALID = {422: problem_spec("The subject or the text is not acceptable; `errors` lists every problem.")}

#: Longest subject and body read from a request, as the page reads its form (longer ones are a 400, unread; up
#: to this length the checks answer, a 422 beyond :data:`MAX_SUBJECT` or :data:`MAX_BODY` characters).
READ_LIMIT = 20_000

MailKind = Annotated[
    str,
    Parameter(
        description="The kind of panellist mail; another name is a 404.",
        schema_extra={"enum": list(EDITABLE_KINDS)},
    ),
]


class Placeholder(msgspec.Struct):
    """A ``{name}`` field the kind's subject and body may use, and what it stands for."""

    name: str
    description: str


class MailTextTranslation(msgspec.Struct):
    """The state of the panel's own text in one further language (``language`` a tag, ``name`` its English
    name): ``translated``; ``outdated`` (made from an earlier wording, still sent); ``missing`` or ``invalid``
    (the primary wording is sent); ``description`` says so in the page's words."""

    language: str
    name: str
    state: Literal["translated", "outdated", "missing", "invalid"]
    description: str


class PanelMailText(msgspec.Struct):
    """One kind of panellist mail as the panel words it: ``customised`` when the panel has its own text
    (``subject`` and ``body`` then, saved at ``updated_at``); otherwise the shipped text is sent, translated into
    each panellist's language, and ``subject`` and ``body`` are its English wording in placeholder form, the
    starting point of an edit (``updated_at`` null).  ``translations``: the panel's own text in each further
    language (empty without its own text or further languages)."""

    kind: str
    label: str
    customised: bool
    subject: str
    body: str
    updated_at: datetime | None
    placeholders: list[Placeholder]
    translations: list[MailTextTranslation]


def _clean(text: str) -> str:
    """The text as the page's form reads it: without NUL characters."""
    return text.replace("\x00", "")


class MailTextChange(msgspec.Struct, forbid_unknown_fields=True):
    """The panel's own subject and body of one kind, replacing any before."""

    subject: Annotated[
        str,
        msgspec.Meta(
            max_length=READ_LIMIT,
            description=f"The subject: one line, 1 to {MAX_SUBJECT} characters once trimmed (a 422 otherwise), "
            "with the kind's placeholders in braces, e.g. `Round {round_number} is open`; none naming the panel, "
            "its topic or a link, since subjects show on lock screens.",
        ),
    ]
    body: Annotated[
        str,
        msgspec.Meta(
            max_length=READ_LIMIT,
            description=f"The plain text above the shipped footer, 1 to {MAX_BODY:,} characters once trimmed "
            "(a 422 otherwise), with `{link}` (the panellist's personal link) and any of the kind's "
            "placeholders; `{{` and `}}` for literal braces.",
        ),
    ]


def _schema(
    text: panel_texts.PanelText, states: dict[str, list[panel_texts.TextTranslation]]
) -> PanelMailText:
    wording = text.wording or DEFAULTS[text.kind]
    return PanelMailText(
        kind=text.kind,
        label=text.label,
        customised=text.wording is not None,
        subject=wording.subject,
        body=wording.body,
        updated_at=text.updated_at,
        placeholders=[Placeholder(name, DESCRIPTIONS.get(name, "")) for name in placeholders(text.kind)],
        translations=[
            MailTextTranslation(t.language, t.name, t.state, t.description)  # type: ignore[arg-type]
            for t in states.get(text.kind, [])
        ],
    )


async def _one(db_session: AsyncSession, access: PanelAccess, kind: str) -> PanelMailText:
    """``kind`` as the panel has it now; 404 for a kind that cannot be worded."""
    text = await panel_texts.panel_text(db_session, access.panel.id, kind)
    return _schema(text, await panel_texts.translation_states(db_session, access.panel))


@get(
    "/panels/{panel_id:int}/mail-texts",
    opt=EDITORS_ONLY,
    responses=PROBLEMS,
    summary="The panel's e-mail texts: every panellist mail it may word (facilitators)",
)
async def list_mail_texts(panel_access: PanelAccess, db_session: AsyncSession) -> list[PanelMailText]:
    """Every kind in the page's order (invitation, round open, reminder, receipt, final results)."""
    states = await panel_texts.translation_states(db_session, panel_access.panel)
    return [_schema(t, states) for t in await panel_texts.panel_texts(db_session, panel_access.panel.id)]


@get(
    "/panels/{panel_id:int}/mail-texts/{kind:str}",
    opt=EDITORS_ONLY,
    responses=PROBLEMS,
    summary="One e-mail text of the panel (facilitators)",
)
async def get_mail_text(panel_access: PanelAccess, kind: MailKind, db_session: AsyncSession) -> PanelMailText:
    return await _one(db_session, panel_access, kind)


@put(
    "/panels/{panel_id:int}/mail-texts/{kind:str}",
    responses={**PROBLEMS, **INVALID},
    summary="Word an e-mail of the panel's own (facilitators)",
)
async def save_mail_text(
    panel_access: PanelAccess,
    kind: MailKind,
    data: MailTextChange,
    db_session: AsyncSession,
    account: Account,
) -> PanelMailText:
    """Saved as the page saves it (trimmed), checked with the page's checks, every problem at once in a 422's
    ``errors`` (``field`` ``subject`` or ``body``); mails queued from now on use it."""
    await panel_texts.save_text(
        db_session,
        panel_access.panel,
        kind,
        _clean(data.subject),
        _clean(data.body),
        actor=Actor.account(account),
    )
    return await _one(db_session, panel_access, kind)


@delete(
    "/panels/{panel_id:int}/mail-texts/{kind:str}",
    responses=PROBLEMS,
    summary="Restore the shipped wording of an e-mail (facilitators)",
)
async def restore_mail_text(
    panel_access: PanelAccess, kind: MailKind, db_session: AsyncSession, account: Account
) -> None:
    """The panel's own text of ``kind`` is deleted and the shipped one is sent again; a kind with no text of the
    panel's own is left as it is (still 204, nothing recorded)."""
    await panel_texts.restore_text(db_session, panel_access.panel, kind, actor=Actor.account(account))
    await db_session.flush()


HANDLERS: list[Any] = [list_mail_texts, get_mail_text, save_mail_text, restore_mail_text]
