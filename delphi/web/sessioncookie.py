"""The signed, encrypted session cookie, re-sent only when it has something new to say.

Litestar's client-side session backend encrypts and re-sends the whole cookie on every response.  Ours
re-sends it when the session changed (sign-in, sign-out, a flash message) or on a ``GET`` (a page view, which
keeps the cookie's expiry sliding).  Other requests that leave the session as it was, above all the rating
page's background saves, send no ``Set-Cookie``; the browser keeps the cookie it has.  A cookie that is not
one of ours (bad base64, a broken or missing expiry, a failed decryption) is no session, never an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import SerializationException
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.types import Message, ScopeSession

_LOADED = "delphi.session_loaded"


class ChangedOnlyCookieBackend(ClientSideSessionBackend):
    """:class:`ClientSideSessionBackend` that skips re-sending an unchanged session outside ``GET``."""

    async def load_from_connection(self, connection: ASGIConnection) -> dict[str, Any]:
        """The session of the request's cookie; ``{}`` when there is none or it is malformed.

        Litestar ignores bad base64 and a failed decryption itself, but raises on a cookie whose expiry part
        is not JSON (:class:`SerializationException`), not an object with ``expires_at`` (``KeyError``,
        ``TypeError``) or whose ``expires_at`` is not a number (``TypeError``).
        """
        try:
            data = await super().load_from_connection(connection)
        except (SerializationException, LookupError, TypeError, ValueError):
            data = {}
        connection.scope[_LOADED] = dict(data)  # type: ignore[literal-required]
        return data

    async def store_in_message(
        self, scope_session: ScopeSession, message: Message, connection: ASGIConnection
    ) -> None:
        scope = connection.scope
        loaded = scope.get(_LOADED)
        if loaded and scope_session == loaded and scope["method"] != "GET":  # type: ignore[typeddict-item]
            return
        await super().store_in_message(scope_session, message, connection)


@dataclass
class SessionCookieConfig(CookieBackendConfig):
    """:class:`CookieBackendConfig` with :class:`ChangedOnlyCookieBackend`."""

    _backend_class = ChangedOnlyCookieBackend  # type: ignore[assignment]
