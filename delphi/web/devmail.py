"""The development mailbox: ``/dev/mail`` lists what the capture server received, with clickable links.

Registered only when ``DELPHI_DEV_MAIL`` is on (see :func:`delphi.web.routes.route_handlers`).  The plain-text
part is shown escaped with its URLs turned into links; the HTML part is served on its own address under a CSP
``sandbox`` that forbids scripts and remote content, never inlined into our pages.
"""

from __future__ import annotations

import re

from litestar import Controller, MediaType, Request, Response, get
from litestar.response import Template
from markupsafe import Markup, escape

from delphi.errors import NotFound
from delphi.mail.capture import CapturedMail, MailStore

_URL = re.compile(r"https?://[^\s<>\"'()\[\]]+")
_TRAILING = ".,;:!?"
#: The captured HTML part may style itself, but never run scripts, load anything or be framed.
HTML_PART_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; "
    "form-action 'none'; base-uri 'none'"
)


def linkify(text: str) -> Markup:
    """``text`` HTML-escaped, with each http(s) URL wrapped in an ``<a>`` (trailing punctuation outside)."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        url = match.group(0).rstrip(_TRAILING)
        end = match.start() + len(url)
        out.append(str(escape(text[last : match.start()])))
        out.append(f'<a href="{escape(url)}" rel="noreferrer">{escape(url)}</a>')
        last = end
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


def _store(request: Request) -> MailStore | None:
    return getattr(request.app.state, "mail_capture", None)


def _mail(request: Request, mail_id: int) -> CapturedMail:
    store = _store(request)
    mail = store.get(mail_id) if store is not None else None
    if mail is None:
        raise NotFound("There is no captured mail with this number (the mailbox keeps the newest 500).")
    return mail


class DevMailController(Controller):
    path = "/dev/mail"
    include_in_schema = False

    @get("/", name="dev_mail")
    async def index(self, request: Request) -> Template:
        store = _store(request)
        return Template(
            "dev/mail.html",
            context={"mails": store.list() if store is not None else [], "running": store is not None},
            media_type=MediaType.HTML,
        )

    @get("/{mail_id:int}", name="dev_mail_message")
    async def message(self, request: Request, mail_id: int) -> Template:
        mail = _mail(request, mail_id)
        return Template(
            "dev/mail_message.html",
            context={"mail": mail, "text_html": linkify(mail.text)},
            media_type=MediaType.HTML,
        )

    @get("/{mail_id:int}/html", name="dev_mail_html")
    async def html_part(self, request: Request, mail_id: int) -> Response:
        mail = _mail(request, mail_id)
        return Response(
            mail.html,
            media_type=MediaType.HTML,
            headers={"Content-Security-Policy": HTML_PART_CSP, "Cache-Control": "no-store"},
        )


def dev_mail_handlers(settings: object | None) -> list[type[Controller]]:
    """``[DevMailController]`` when ``settings.mail.dev_capture`` is on, else ``[]`` (for
    ``route_handlers``)."""
    mail = getattr(settings, "mail", None)
    return [DevMailController] if mail is not None and mail.dev_capture else []
