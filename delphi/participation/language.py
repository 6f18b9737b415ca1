"""The language a panellist reads the panel in: the panel's own texts in it, and changing it on the page.

A panel is offered in its primary language and its further ones
(:func:`delphi.panels.translations.panel_languages`); ``Panellist.language`` (a BCP 47 tag, as
:func:`delphi.locale.language_tag` writes it) picks both the gettext catalog of the page text and the panel's
own texts (:class:`~delphi.panels.translations.Wording`, falling back to the primary text where a translation
is missing).  Pages read :func:`page_language` once per request; the switcher posts to :func:`change_language`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import Panel, Panellist
from delphi.errors import DelphiError
from delphi.locale import language_tag, same_language, tag_among
from delphi.panels.translations import Wording, panel_languages, wording_for
from delphi.participation.issues import N_, fail, session_ended
from delphi.participation.links import actor_of

__all__ = ["LanguageNotOffered", "PageLanguage", "change_language", "page_language"]


class LanguageNotOffered(DelphiError):
    """A language the panel is not offered in (400)."""

    status_code = 400


@dataclass(frozen=True, slots=True)
class PageLanguage:
    """What a panellist page needs of languages: the panel's texts in the panellist's language (``wording``)
    and every language the panel is offered in (``offered``, BCP 47 tags, the primary one first)."""

    wording: Wording
    offered: tuple[str, ...]

    @property
    def can_switch(self) -> bool:
        """Whether the page shows the language switcher: the panel is offered in more than one language."""
        return len(self.offered) > 1


async def _panel(session: AsyncSession, panellist: Panellist) -> Panel:
    panel = await session.get(Panel, panellist.panel_id)
    if panel is None:  # the panel was deleted under the session
        raise session_ended()
    return panel


async def page_language(session: AsyncSession, panellist: Panellist) -> PageLanguage:
    """The panellist's :class:`PageLanguage` (two small queries; none of the panel's own texts when the
    panellist reads the primary language).  Reads only."""
    panel = await _panel(session, panellist)
    offered = tuple(await panel_languages(session, panel))
    return PageLanguage(await wording_for(session, panel, panellist.language), offered)


async def change_language(session: AsyncSession, panellist: Panellist, language: object) -> bool:
    """Set the panellist's language to ``language`` (a posted tag); True when it changed.

    Raises :class:`LanguageNotOffered` (400, nothing changed) unless the panel is offered in it
    (:func:`delphi.locale.tag_among`).  A change is stored as the offered tag and audited (``panellist.language_changed``,
    with the pseudonym and both languages); choosing the language already set changes nothing.  Changes rows
    in the caller's session (the request commits).
    """
    panel = await _panel(session, panellist)
    tag = tag_among(await panel_languages(session, panel), language)
    if tag is None:
        raise fail(
            LanguageNotOffered,
            N_("This panel is not offered in that language. Choose one of the languages listed."),
            field="language",
        )
    if same_language(panellist.language, tag):
        return False
    before = language_tag(panellist.language)
    panellist.language = tag
    audit.record(
        session,
        actor=actor_of(panellist),
        action="panellist.language_changed",
        panel_id=panellist.panel_id,
        detail={"panellist": panellist.pseudonym, "previous": before, "language": tag},
    )
    await session.flush()
    return True
