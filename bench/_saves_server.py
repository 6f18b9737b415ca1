"""The app ``bench/saves.py`` serves: the production app plus one bench-only route, the authenticated floor.

    uvicorn --factory bench._saves_server:app_with_floor        (configured through ``DELPHI_*`` as usual)

``POST /panel/bench-floor/{statement_id}`` does everything the background save
(``POST /panel/ratings/{statement_id}``, :meth:`delphi.web.panellist.rating.RatingController.save_one`) does
before it reaches the database, through the same middleware: the signed session cookie is decrypted and its
lifetimes checked (:func:`~delphi.web.panellist.session.live_session`), the CSRF header is checked against the
CSRF cookie (the app's CSRF middleware, as for every unsafe method outside ``/api/`` and ``/healthz``), the JSON
body is parsed into a :class:`~delphi.participation.checks.RatingInput`; then it answers a fixed result of the
save's shape, serialised by the save's own function.  The database is never touched.

Refusals follow the save's: a session that ran out is the save's 401 problem, a cookie without a panellist is the
save's "session ended" problem, a body that is not a JSON object its 400.  The route exists only in this module:
the production entry point (:func:`delphi.asgi.app_from_env`) never registers it.
"""

from __future__ import annotations

import gc
from datetime import UTC, datetime

from litestar import Controller, Litestar, Request, Response, post

from delphi.errors import InvalidInput
from delphi.participation import checks
from delphi.participation.facts import Progress
from delphi.participation.issues import N_, fail, session_ended
from delphi.participation.saving import SaveResult
from delphi.web.panellist.errors import EXCEPTION_HANDLERS
from delphi.web.panellist.rating import _json_body, _saved
from delphi.web.panellist.session import live_session

FLOOR_PREFIX = "/panel/bench-floor"
#: What the floor answers (its ``statement_id`` replaced by the request's).
FIXED_RESULT = SaveResult(
    statement_id=0,
    value=5,
    unable=False,
    outside_iqr=False,
    progress=Progress(answered=1, total=50),
    saved_at=datetime(2026, 1, 1, tzinfo=UTC),
)


class FloorController(Controller):
    """The save's controller settings (``/panel``, its exception handlers), with the floor route only."""

    path = "/panel"
    include_in_schema = False
    exception_handlers = EXCEPTION_HANDLERS  # type: ignore[assignment]

    @post("/bench-floor/{statement_id:int}", status_code=200)
    async def save_floor(self, request: Request, statement_id: int) -> Response:
        """The background save without the database: session cookie, CSRF header and JSON body, then a fixed
        ``{"statement_id", "value", "unable", "outside_iqr", "answered", "total", "saved_at"}``."""
        found = live_session(request)  # raises SessionExpired past the lifetimes
        body = await _json_body(request)
        item = (
            checks.RatingInput(statement_id, body.get("answer"), body.get("comment"), body.get("reason"))
            if isinstance(body, dict)
            else None
        )
        if not isinstance(found.panellist_id, int) or not isinstance(found.version, int):
            raise session_ended()
        if item is None:
            raise fail(InvalidInput, N_("Send the answer as a JSON object."))
        return _saved(
            SaveResult(
                statement_id=item.statement_id,
                value=FIXED_RESULT.value,
                unable=FIXED_RESULT.unable,
                outside_iqr=FIXED_RESULT.outside_iqr,
                progress=FIXED_RESULT.progress,
                saved_at=FIXED_RESULT.saved_at,
            )
        )


def with_floor(app: Litestar) -> Litestar:
    """``app`` with the floor route registered (for tests, which build their app from test settings)."""
    app.register(FloorController)
    return app


def app_with_floor() -> Litestar:
    """:func:`delphi.asgi.app_from_env` with the floor route: the app from ``DELPHI_*``, the route registered,
    then start-up objects frozen out of the garbage collector exactly as the production entry point does."""
    from delphi.app import create_app

    app = with_floor(create_app())
    gc.collect()
    gc.freeze()
    return app
