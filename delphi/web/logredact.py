"""Keep link tokens out of every log line: a ``/p/<token>`` path is logged as ``/p/<redacted>``, likewise a
``/password/reset/<token>`` and an ``/invitation/<token>``.

A panellist's link token is as good as their session, so it must not end up in log files (which are kept,
shipped and read by more people than the database).  uvicorn's access log prints every request path, and
``/p/{token}`` is a path; error handlers log paths too.  :func:`install` wraps the process's log-record factory,
so every record is cleaned when it is created, whichever logger or handler it goes to: the message, its
arguments (uvicorn's access log passes the path as one) and any exception text.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

#: ``/p/`` followed by a path segment: the personal link and its ``/leave`` variant; ``/password/reset/`` and a
#: segment: an e-mailed password-reset link (as good as the password until it is used); ``/invitation/`` and a
#: segment: a team invitation (it creates an account with access to a panel).
TOKEN_PATH = re.compile(r"(/p|/password/reset|/invitation)/[^/?#\s\"'<>]+")
REDACTED = "/p/<redacted>"
_PREFIXES = ("/p/", "/password/reset/", "/invitation/")
_installed = False
_formatter = logging.Formatter()


def redact(text: str) -> str:
    """``text`` with every ``/p/<token>`` replaced by ``/p/<redacted>`` (and ``/password/reset/<token>``,
    ``/invitation/<token>`` likewise)."""
    if not any(prefix in text for prefix in _PREFIXES):
        return text
    return TOKEN_PATH.sub(lambda found: f"{found.group(1)}/<redacted>", text)


def _clean(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


def clean_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact ``record``'s message, arguments and exception text in place; returns it."""
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_clean(a) for a in record.args)
    elif isinstance(record.args, Mapping):
        record.args = {k: _clean(v) for k, v in record.args.items()}
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(_formatter.formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


def install() -> None:
    """Clean every log record this process creates from now on (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return clean_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
