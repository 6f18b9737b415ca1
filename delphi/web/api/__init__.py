"""The JSON API under ``/api/v1``: panels, groups, statements, panellists, rounds, results and exports.

Authentication (:mod:`.auth`): the session cookie of a signed-in account, or ``Authorization: Bearer <token>``
with a per-account API token (created and revoked on ``/account/tokens``). A wrong or revoked token is a 401 even
when a session cookie is present too. The CSRF middleware skips ``/api/``, so a state-changing request
authenticated by the session cookie must carry the CSRF cookie's token in ``x-csrftoken`` (403 otherwise); token
requests need none.

Authorization is the pages': the ``panel_access`` dependency (:mod:`delphi.web.guards`), READERS for reading and
EDITORS for moderating; e-mail addresses appear for the panel's owner only. Every error is an
``application/problem+json`` body (:mod:`delphi.web.errors`, documented by :mod:`.problems`).

One module per aggregate (:mod:`.panels`, :mod:`.rounds`, :mod:`.moderation`, :mod:`.results`) and the router
that gathers them (:mod:`.router`).
"""
