"""The panellist in the signed session cookie, how long that session lasts, and signing out.

The cookie's panellist part (it may hold a facilitator's login too; signing a panellist in or out keeps it):

* ``panellist_id`` and ``panellist_v``: who, and the ``session_version`` of the link they opened (re-issuing a
  link bumps the version, which ends the session);
* ``panellist_start``: when the personal link was opened, epoch seconds with sub-second precision (a float);
* ``panellist_seen``: when the session was last used, epoch seconds;
* ``panellist_lang``: the panellist's language, so that "you were signed out" speaks it without a query.

Lifetimes (``settings.sessions.panellist_idle``, default 30 minutes, and ``panellist_max``, 12 hours): a request
more than ``panellist_idle`` after ``panellist_seen`` or more than ``panellist_max`` after ``panellist_start`` is
refused with :class:`~delphi.participation.issues.SessionExpired` (401: a page saying that for their privacy they
were signed out and that their personal link signs them in again; a JSON problem for a background save).  The
check needs no query, so it runs before any.  ``panellist_seen`` is rewritten only when it is more than
:data:`TOUCH_AFTER` old: the cookie backend (:mod:`delphi.web.sessioncookie`) re-sends the cookie only when the
session changed (or on a ``GET``), so the rating page's background saves send a ``Set-Cookie`` about once a
minute, not on every answer.

Signing out ("Sign out", "Quick exit": :mod:`.exit`) must also make a *copy* of the cookie useless, on a
computer the next person at the service uses.  Bumping ``session_version`` would do it, but the e-mailed token
is derived from the version (:func:`delphi.security.panellist_token`), so the personal link would stop working
too.  Instead it stamps ``Panellist.sessions_ended_at`` (:func:`delphi.participation.links.end_sessions`) and
clears the cookie; a session whose ``panellist_start`` is not after that stamp is ended
(:func:`delphi.participation.checks.signed_out_since`, asked on every request, the background saves' grouped
path included).  Opening the personal link again starts a session with a later start stamp, which works.
Signing out ends the panellist's sessions on every browser, not only this one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Panellist
from delphi.participation import checks, language, links
from delphi.participation.issues import session_timed_out
from delphi.settings import Settings

PANELLIST_KEY = "panellist_id"
VERSION_KEY = "panellist_v"
STARTED_KEY = "panellist_start"
SEEN_KEY = "panellist_seen"
LANGUAGE_KEY = "panellist_lang"
_KEYS = (PANELLIST_KEY, VERSION_KEY, STARTED_KEY, SEEN_KEY, LANGUAGE_KEY)
#: Seconds after which a request rewrites ``panellist_seen`` (and so re-sends the cookie).
TOUCH_AFTER = 60


def epoch_now() -> float:
    """The time now in epoch seconds (a float); the one clock of this module, so tests can move it."""
    return time.time()


@dataclass(frozen=True, slots=True)
class CookieSession:
    """The cookie's panellist session, unchecked against the database: ``panellist_id`` and ``version`` as
    stored (either may be None or not an int), ``started`` its start stamp (epoch seconds, or None)."""

    panellist_id: object
    version: object
    started: object


def session_of(request: Request) -> dict[str, Any]:
    """A copy of the request's session cookie data; {} without one."""
    session = request.scope.get("session")
    return dict(session) if isinstance(session, dict) else {}


def login(request: Request, panellist: Panellist) -> None:
    """Store the panellist in the signed session cookie with fresh start and last-use stamps, keeping any
    facilitator login in the same cookie."""
    now = epoch_now()
    request.set_session(
        {
            **session_of(request),
            PANELLIST_KEY: panellist.id,
            VERSION_KEY: panellist.session_version,
            STARTED_KEY: now,
            SEEN_KEY: int(now),
            LANGUAGE_KEY: panellist.language,
        }
    )


def logout(request: Request) -> None:
    """Remove the panellist part of the cookie (clearing the cookie when nothing else is in it)."""
    rest = {k: v for k, v in session_of(request).items() if k not in _KEYS}
    if rest:
        request.set_session(rest)
    else:
        request.clear_session()


def remember_language(request: Request, panellist: Panellist) -> None:
    """Let a refusal later in the request speak the panellist's language (:mod:`.errors`)."""
    request.state.panellist_language = panellist.language


def store_language(request: Request, panellist: Panellist) -> None:
    """After the panellist changed language: the cookie's ``panellist_lang`` (so "you were signed out" speaks
    it) and the rest of this request follow the new one."""
    data = session_of(request)
    if data.get(PANELLIST_KEY) == panellist.id:
        request.set_session({**data, LANGUAGE_KEY: panellist.language})
    remember_language(request, panellist)


def live_session(request: Request) -> CookieSession:
    """The cookie's panellist session if it has not run out; refreshes its last-use stamp when that is more
    than :data:`TOUCH_AFTER` seconds old.

    Raises :class:`~delphi.participation.issues.SessionExpired` when the cookie names a panellist but is past
    ``settings.sessions.panellist_idle`` or ``panellist_max`` (or has no stamps).  A cookie without a panellist
    is returned as it is: the database check then refuses it (:func:`provide_panellist`).
    """
    data = session_of(request)
    found = CookieSession(data.get(PANELLIST_KEY), data.get(VERSION_KEY), data.get(STARTED_KEY))
    if found.panellist_id is None:
        return found
    settings: Settings = request.app.state.settings
    now = epoch_now()
    seen = data.get(SEEN_KEY)
    lifetimes = settings.sessions
    if checks.session_timed_out(found.started, seen, now, lifetimes.panellist_idle, lifetimes.panellist_max):
        if isinstance(data.get(LANGUAGE_KEY), str):
            request.state.panellist_language = data[LANGUAGE_KEY]
        raise session_timed_out()
    last_used = checks.epoch_stamp(seen)
    if last_used is not None and now - last_used > TOUCH_AFTER:
        request.set_session({**data, SEEN_KEY: int(now)})
    return found


async def provide_panellist(request: Request, db_session: AsyncSession) -> Panellist:
    """The panellist of the session cookie; :class:`SessionEnded` (a kind page) when there is no valid one, and
    :class:`SessionExpired` when it ran out or was signed out.  Opening a page (GET) while a round is open
    records the visit to it (:func:`delphi.participation.links.record_round_visit`); saves need not, since an
    answer saved in the round counts as opened.

    Also loads, once per request, the panel's texts in the panellist's language and the languages it is offered
    in (:func:`delphi.participation.language.page_language`, kept on ``request.state.page_language``), which
    :mod:`.rendering` gives every page."""
    found = live_session(request)
    panellist = await links.panellist_for_session(
        db_session, found.panellist_id, found.version, found.started
    )
    if request.method == "GET":
        await links.record_round_visit(db_session, panellist)
    remember_language(request, panellist)
    request.state.page_language = await language.page_language(db_session, panellist)
    return panellist
