"""Render an e-mail from its template triple ``templates/email/<name>/{subject.txt, body.txt, body.html}``.

One Jinja2 environment per language: autoescape is on for ``.html`` templates only (text bodies and subjects
are never escaped), gettext comes from :func:`delphi.locale.catalog` (English text is the msgid, so a missing
catalog falls back to English), and every variable a template uses must be in the context (a missing one is an
error, not a blank).  Templates come from :data:`delphi.resources.TEMPLATE_DIR` unless a renderer is given
another folder.

The context of each kind of mail is built by its declared function in :mod:`delphi.mail.kinds`, which also
names the triple (:func:`~delphi.mail.kinds.template_names`); this module only renders.

A panel's own wording of a mail (:class:`~delphi.mail.texts.Wording`) replaces the subject and the body above the
footer: its fields are filled by :func:`delphi.mail.texts.fill` (never by Jinja: a facilitator's text runs no
template code; dates written in the mail's language), its HTML part is made from the text
(``email/_own_text.html``), and the footer stays the shipped one, in the mail's language.  Which wording (the
primary one or its translation) is the caller's choice (:func:`delphi.mail.texts.in_language`).  A stored wording that no longer fits its kind (:func:`delphi.mail.texts.problems`) is set aside for the
shipped text, with a warning in the log, rather than failing the mailing.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, TemplateNotFound, UndefinedError
from markupsafe import escape

from delphi import resources
from delphi.errors import DelphiError
from delphi.locale import catalog
from delphi.locale.filters import JINJA_FILTERS
from delphi.mail import texts
from delphi.mail.kinds import template_names
from delphi.mail.texts import Wording

log = logging.getLogger("delphi.mail")

#: Longest subject kept (the outbox column holds 500 characters).
MAX_SUBJECT = 300
_WHITESPACE = re.compile(r"\s+")


class MailTemplateError(DelphiError):
    """A mail template is missing or its context lacks a variable; the message names both."""

    status_code = 500


@dataclass(frozen=True, slots=True)
class RenderedMail:
    """A rendered mail: a one-line subject, a plain-text body and an HTML body (``str``, not yet encoded)."""

    subject: str
    text: str
    html: str


def one_line(value: str) -> str:
    """Collapse every run of whitespace (newlines included) to one space, so a subject cannot inject
    headers."""
    return _WHITESPACE.sub(" ", value).strip()[:MAX_SUBJECT]


def _autoescape(template_name: str | None) -> bool:
    return bool(template_name) and template_name.endswith((".html", ".htm"))  # type: ignore[union-attr]


class MailRenderer:
    """Renders template triples: one instance per template and locale folder, one environment per language.

    Parameters
    ----------
    template_dir
        Folder holding ``email/<name>/...`` (default: :data:`delphi.resources.TEMPLATE_DIR`).
    locale_dir
        Folder of gettext catalogs ``<lang>/LC_MESSAGES/delphi.mo`` (default:
        :data:`delphi.resources.LOCALE_DIR`).
    """

    def __init__(self, template_dir: Path | None = None, locale_dir: Path | None = None) -> None:
        self.template_dir = Path(template_dir or resources.TEMPLATE_DIR)
        self.locale_dir = Path(locale_dir or resources.LOCALE_DIR)
        self._environments: dict[str, Environment] = {}
        self._lock = threading.Lock()

    def environment(self, language: str = "en") -> Environment:
        """The Jinja2 environment for ``language`` (created once, then reused)."""
        env = self._environments.get(language)
        if env is not None:
            return env
        with self._lock:
            env = self._environments.get(language)
            if env is None:
                env = self._make_environment(language)
                self._environments[language] = env
        return env

    def _make_environment(self, language: str) -> Environment:
        env = Environment(
            loader=FileSystemLoader(str(self.template_dir)),
            autoescape=_autoescape,
            extensions=["jinja2.ext.i18n"],
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,
        )
        env.install_gettext_translations(catalog(language, str(self.locale_dir)), newstyle=True)  # type: ignore[attr-defined]
        env.filters.update(JINJA_FILTERS)
        return env

    def render(
        self, name: str, context: Mapping[str, Any], language: str = "en", wording: Wording | None = None
    ) -> RenderedMail:
        """Render the triple of the mail ``name`` (``email/<name>/``) with ``context`` in ``language``, or the
        panel's own ``wording`` of it (see the module docstring).

        The subject is collapsed to one line (at most :data:`MAX_SUBJECT` characters); the bodies keep their
        line breaks, without leading or trailing blank lines.  Templates also see ``language``.

        Raises
        ------
        MailTemplateError
            When a template of the triple is missing or uses a variable ``context`` does not have.
        """
        env = self.environment(language)
        ctx = {"language": language, **context}
        if wording is not None and name in texts.EDITABLE_KINDS:
            if not texts.problems(name, wording.subject, wording.body):
                return self._render_own(env, name, ctx, wording)
        if wording is not None:
            log.warning("the panel's own %s text no longer fits the mail; the shipped text is sent", name)
        try:
            subject, text, html = (env.get_template(t).render(ctx) for t in template_names(name))
        except TemplateNotFound as exc:
            raise MailTemplateError(f"The mail template {exc.name} does not exist.") from exc
        except UndefinedError as exc:
            raise MailTemplateError(f"The mail {name!r} cannot be rendered: {exc.message}.") from exc
        return RenderedMail(subject=one_line(subject), text=text.strip("\n") + "\n", html=html.strip() + "\n")

    def _render_own(
        self, env: Environment, name: str, ctx: Mapping[str, Any], wording: Wording
    ) -> RenderedMail:
        """``wording`` filled with ``ctx``: the text body above the shipped text footer, the HTML body made from
        the text inside the shipped layout (which adds the HTML footer)."""
        values = texts.field_values({k: v for k, v in ctx.items() if k != "language"}, ctx["language"])
        subject = one_line(texts.fill(wording.subject.strip(), values))
        body = texts.fill(wording.body.strip(), values)
        try:
            footer = env.get_template("email/_footer.txt").render(ctx)
            html = env.get_template("email/_own_text.html").render(
                {**ctx, "subject": subject, "blocks": texts.html_blocks(wording.body, values)}
            )
        except UndefinedError as exc:
            raise MailTemplateError(f"The mail {name!r} cannot be rendered: {exc.message}.") from exc
        text = (body.rstrip() + "\n" + footer).strip("\n") + "\n"
        return RenderedMail(subject=subject, text=text, html=html.strip() + "\n")

    def render_many(
        self, name: str, items: Sequence[tuple[Mapping[str, Any], str]], wording: Wording | None = None
    ) -> list[RenderedMail]:
        """Render ``email/<name>/`` (or the panel's own ``wording`` of it) for many ``(context, language)`` pairs,
        in order.

        A bulk mailing's contexts usually differ only in the person's ``name``: each group of contexts equal but
        for ``name`` is rendered once with a stand-in name, which is then replaced (HTML-escaped in the HTML
        body).  The first and last member of each group are also rendered in full and compared, and the group
        falls back to one rendering per context if they differ, so the result is always what :meth:`render`
        gives.  10,000 invitations take a fraction of a second instead of several.
        """
        out: list[RenderedMail | None] = [None] * len(items)
        groups: dict[tuple[str, str, str], list[int]] = {}
        for i, (context, language) in enumerate(items):
            if "name" not in context:
                out[i] = self.render(name, context, language, wording)
                continue
            person = context["name"]
            rest = sorted((k, v) for k, v in context.items() if k != "name")
            # Contexts without a name are identical within their group; named ones share a shape.
            groups.setdefault((language, repr(person) if not person else "*", repr(rest)), []).append(i)
        for (language, person, _), members in groups.items():
            if person != "*":
                same_mail = self.render(name, items[members[0]][0], language, wording)
                for i in members:
                    out[i] = same_mail
                continue
            if len(members) < 3:
                for i in members:
                    out[i] = self.render(name, items[i][0], language, wording)
                continue
            shape = self.render(name, {**items[members[0]][0], "name": _NAME_STANDIN}, language, wording)
            checks = {i: self.render(name, items[i][0], language, wording) for i in (members[0], members[-1])}
            same = all(_fill_name(shape, str(items[i][0]["name"])) == checks[i] for i in checks)
            for i in members:
                if i in checks:
                    out[i] = checks[i]
                elif same:
                    out[i] = _fill_name(shape, str(items[i][0]["name"]))
                else:
                    out[i] = self.render(name, items[i][0], language, wording)
        return [m for m in out if m is not None]


#: Stands in for a person's name while a bulk mailing is rendered once per group (no character HTML escapes).
_NAME_STANDIN = "[[delphi:name-7Hq2]]"


def _fill_name(shape: RenderedMail, name: str) -> RenderedMail:
    return RenderedMail(
        subject=one_line(shape.subject.replace(_NAME_STANDIN, name)),
        text=shape.text.replace(_NAME_STANDIN, name),
        html=shape.html.replace(_NAME_STANDIN, str(escape(name))),
    )


_default: MailRenderer | None = None


def default_renderer() -> MailRenderer:
    """The renderer for the project's own templates and catalogs (created on first use)."""
    global _default
    if _default is None:
        _default = MailRenderer()
    return _default


def render_mail(
    name: str, context: Mapping[str, Any], language: str = "en", wording: Wording | None = None
) -> RenderedMail:
    """Render ``email/<name>/`` (or a panel's own ``wording`` of it) with the default renderer; see
    :meth:`MailRenderer.render`."""
    return default_renderer().render(name, context, language, wording)
