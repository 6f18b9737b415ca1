"""Panellist pages: the link, consent, rating, review, submit, receipt, suggestions, results, leaving.

No SQL here: every handler calls the use cases of :mod:`delphi.participation`.  The modules, by job:

* :mod:`.link` — ``/p/{token}`` (and ``/p/{token}/leave``): exchanges the e-mailed token for a signed session
  cookie and redirects to a URL without the token; rate-limited by ``app.state.link_limiter``.
  ``POST /p/{token}/leave`` with the body ``List-Unsubscribe=One-Click`` (RFC 8058) withdraws without a CSRF
  token: the token in the path is the proof.
* :mod:`.rating` — ``/panel/rate`` and ``POST /panel/ratings/{statement_id}``, the JSON endpoint of background
  saves (CSRF header ``x-csrftoken``).
* :mod:`.steps` — the other ``/panel/...`` pages: home, consent, review and submit, receipt, suggestions, final
  results, leaving.
* :mod:`.exit` — "Sign out" and "Quick exit" (in the header of every page) and the neutral signed-out page.
* :mod:`.language` — ``POST /panel/language``, the language switcher in the header of every page when the
  panel is offered in more than one language.
* :mod:`.session` — the panellist in the signed session cookie (``panellist_id`` and ``panellist_v``, the
  version checked against the row on every request, with start and last-use stamps: a session ends after
  ``settings.sessions.panellist_idle`` without use or ``panellist_max`` in all, and when the panellist signs
  out); :mod:`.rendering` and :mod:`.errors` — pages and kind error pages in the panellist's language.

Every page works without JavaScript; ``panellist.js`` only saves each answer as it is given.  Text goes
through the panellist's gettext catalog (``Panellist.language``), and every text the facilitator wrote through
the panel's translations into that language (``w`` in every page's context: :mod:`.rendering`).
"""
