"""A panellist's way in: their personal link, the session cookie it gives, signing out, and their audit actor.

The link's token is looked up by its SHA-256 (:func:`delphi.security.token_digest`) in one place,
:func:`panellist_for_token`; every refusal is the same :class:`~delphi.participation.issues.LinkNotValid` (or
:class:`~delphi.participation.issues.SessionEnded` for a cookie), so an answer reveals nothing about whether
anybody is on a panel.

Signing out (:func:`end_sessions`) does not bump ``session_version``: the e-mailed token is derived from it
(:func:`delphi.security.panellist_token`), so that would kill the personal link too.  It stamps
``Panellist.sessions_ended_at`` instead, and a session whose start stamp is not after it is ended.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.dialect import dialect_name, insert_for
from delphi.db.models import Panellist, Round, RoundVisit, utcnow
from delphi.domain import Actor, PanellistStatus, RoundStatus
from delphi.participation.checks import link_usable, session_valid, signed_out_since
from delphi.participation.issues import link_not_valid, session_ended, session_signed_out
from delphi.security import token_digest

#: Longest token looked up, in characters; a longer one is refused without a query.
MAX_TOKEN = 200


def actor_of(panellist: Panellist) -> Actor:
    """Audit actor of a panellist: their pseudonym only, never an address."""
    return Actor.panellist(panellist.pseudonym)


async def panellist_for_token(session: AsyncSession, token: str) -> Panellist:
    """The panellist whose current link ``token`` is, whatever their status (the one-click withdrawal asks
    this; :func:`exchange_link` builds on it).

    Raises :class:`LinkNotValid` for an empty, overlong, unknown or re-issued token and for erased data.
    """
    if not token or len(token) > MAX_TOKEN:
        raise link_not_valid()
    panellist = await session.scalar(select(Panellist).where(Panellist.token_hash == token_digest(token)))
    if panellist is None or panellist.erased_at is not None:
        raise link_not_valid()
    return panellist


async def exchange_link(session: AsyncSession, token: str, now: datetime | None = None) -> Panellist:
    """The panellist whose current link ``token`` is; records the first visit (invited → active) and the visit
    to the open round (:func:`record_round_visit`).

    Raises :class:`LinkNotValid` (the same for an unknown, re-issued or withdrawn link, and for erased data).
    """
    now = now or utcnow()
    panellist = await panellist_for_token(session, token)
    if not link_usable(panellist.status, panellist.erased_at is not None):
        raise link_not_valid()
    if panellist.first_visit_at is None:
        panellist.first_visit_at = now
    if panellist.status == PanellistStatus.INVITED:
        panellist.status = PanellistStatus.ACTIVE
    await record_round_visit(session, panellist, now)
    return panellist


async def record_round_visit(
    session: AsyncSession, panellist: Panellist, now: datetime | None = None
) -> bool:
    """Record that ``panellist`` opened the panel's open round (a :class:`RoundVisit`, "opened" on the monitor)
    at ``now`` (default: the current time, UTC); nothing when no round is open or the visit is recorded already.

    Race-safe: it checks first (so a visit already recorded costs one read, not a write) and inserts with
    ``ON CONFLICT DO NOTHING``, so two requests at once record one visit and neither fails.  Returns whether
    this call inserted the row.
    """
    round_id = await session.scalar(
        select(Round.id).where(Round.panel_id == panellist.panel_id, Round.status == RoundStatus.OPEN)
    )
    if round_id is None:
        return False
    seen = await session.scalar(
        select(RoundVisit.id).where(RoundVisit.round_id == round_id, RoundVisit.panellist_id == panellist.id)
    )
    if seen is not None:
        return False
    stmt = (
        insert_for(dialect_name(session), RoundVisit)
        .values(round_id=round_id, panellist_id=panellist.id, opened_at=now or utcnow())
        .on_conflict_do_nothing(index_elements=["round_id", "panellist_id"])
    )
    result = await session.execute(stmt)
    return bool(result.rowcount)


async def panellist_for_session(
    session: AsyncSession, panellist_id: object, version: object, started: object
) -> Panellist:
    """The panellist a session cookie names, if the session is still valid.

    A session is valid while its ``version`` equals the panellist's ``session_version`` (re-issuing a link
    bumps it), the panellist has neither withdrawn nor been erased, and they have not signed out since the
    session ``started`` (epoch seconds; :func:`checks.session_valid
    <delphi.participation.checks.session_valid>`).  Raises :class:`SessionEnded` for the first two and
    :class:`SessionExpired` (401, "you were signed out") for the last.  How long a session lasts is the web
    layer's check, made before this one (:mod:`delphi.web.panellist.session`).  It reads one row and writes
    nothing: every background save comes through here.
    """
    if not isinstance(panellist_id, int) or not isinstance(version, int):
        raise session_ended()
    panellist = await session.get(Panellist, panellist_id)
    if panellist is None or not session_valid(
        panellist.status,
        panellist.erased_at is not None,
        panellist.session_version,
        version,
        ended_at=None,  # signing out is told apart below: it has an answer of its own
        started=started,
    ):
        raise session_ended()
    if signed_out_since(started, panellist.sessions_ended_at):
        raise session_signed_out()
    return panellist


def end_sessions(session: AsyncSession, panellist: Panellist, how: str, now: datetime | None = None) -> None:
    """Sign the panellist out everywhere: every session started up to ``now`` stops working, a copy of the cookie
    included (``Panellist.sessions_ended_at``); their personal link still works and starts a new session.

    ``how``: ``"sign-out"`` or ``"quick-exit"``, recorded in a ``panellist.signed_out`` audit event.  The caller
    commits (and clears the cookie).
    """
    panellist.sessions_ended_at = now or utcnow()
    audit.record(
        session,
        actor=actor_of(panellist),
        action="panellist.signed_out",
        panel_id=panellist.panel_id,
        detail={"panellist": panellist.pseudonym, "how": how},
    )
