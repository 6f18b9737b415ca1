"""The JSON API under ``/api/v1``: panels, groups, statements, panellists, rounds, results and exports.

Authentication (:mod:`.auth`): ``Authorization: Bearer <token>`` with a per-account API token (created and
revoked on ``/account/tokens``, with the scope ``read`` or ``read write``), or, for reading only, the session
cookie of a signed-in account. A wrong or revoked token is a 401 even when a session cookie is present too. A
change needs a token with the ``write`` scope (403 otherwise, for the session cookie too), so the CSRF middleware
skips ``/api/`` and the API has no CSRF check of its own.  A POST that sends mail or moves a round takes an
``Idempotency-Key`` header (:mod:`.idempotency`): its retries get the first answer and do nothing again.

Authorization is the pages': the ``panel_access`` dependency (:mod:`delphi.web.guards`), READERS for reading and
EDITORS for moderating; e-mail addresses appear for the panel's owner only. Every error is an
``application/problem+json`` body (:mod:`delphi.web.errors`, documented by :mod:`.problems`).

One module per aggregate (:mod:`.panels`, :mod:`.rounds`, :mod:`.moderation`, :mod:`.results`) and the router
that gathers them (:mod:`.router`).
"""
