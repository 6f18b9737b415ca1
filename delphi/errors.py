"""One family of errors with messages a person can act on.

Every error the engine raises on purpose derives from :class:`DelphiError`.  The web layer maps the family to HTTP
answers (a re-shown form or a JSON problem body); the CLI prints the message and exits with status 2.
"""

from __future__ import annotations


class DelphiError(Exception):
    """Base of all expected errors.

    ``message`` is a complete sentence for the person in front of the screen; ``status_code`` is the HTTP status the
    web layer answers with.
    """

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class SettingsError(DelphiError):
    """A ``DELPHI_*`` environment variable is missing or malformed; the message names it."""


class InvalidInput(DelphiError):
    """Input that cannot be accepted as given (a form field, a CSV row, a JSON body)."""

    status_code = 422

    def __init__(
        self, message: str, *, field: str | None = None, errors: list[tuple[str, str]] | None = None
    ):
        super().__init__(message, field=field)
        #: Every problem found, as ``(field or line, message)`` pairs, for an error summary.
        self.errors = errors or [(field or "", message)]


class NotFound(DelphiError):
    status_code = 404


class Forbidden(DelphiError):
    status_code = 403


class Conflict(DelphiError):
    """The request clashes with the current state (a locked rule, a closed round, a duplicate e-mail)."""

    status_code = 409


class PreconditionsUnmet(Conflict):
    """A transition was refused; ``actions`` lists what a person can do so that it succeeds."""

    def __init__(self, message: str, actions: list[str]) -> None:
        super().__init__(message)
        self.actions = actions


class ActionFailed(DelphiError):
    """An action failed on the server's side for a reason the person cannot fix (the cause is logged); the
    transaction was rolled back, so nothing changed.  ``actions`` says what a person can do instead."""

    status_code = 503

    def __init__(self, message: str, actions: list[str]) -> None:
        super().__init__(message)
        self.actions = actions
