"""Printed invitation cards: a personal link handed over on paper, for panellists without a working e-mail.

Two parts, both here:

* :func:`card_contents` (pure) builds what one card says from the panel, the panellists and their new links:
  a neutral heading (``Panel.discreet_name`` when set, else "Research study": never the panel's title or
  description, which may name a topic such as drug treatment), the link in full, the panellist's name only
  when the caller says it may be printed, the panel contact, and short steps, in the panellist's language.
  The pseudonym is never printed: it is the analysis id and must not be linkable to a person on paper.
* :func:`issue_cards` (use case) gives each chosen panellist a new personal link
  (:func:`delphi.panels.links.reissue_link`: the old link and its sessions stop working) and records one
  ``panellist.card_printed`` audit event with how many cards, never a token. It refuses withdrawn and erased
  panellists, and never commits: the caller's transaction holds every new link or none.

Only the SHA-256 of a link is stored, so a card can be shown once, as the answer to the request that issued it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi import audit
from delphi.db.models import Panel, Panellist
from delphi.domain import Actor, PanellistStatus
from delphi.errors import Conflict, InvalidInput, NotFound
from delphi.locale import catalog, normalise_language
from delphi.panels.links import reissue_link

__all__ = [
    "Card",
    "CardChoice",
    "card_contents",
    "card_heading",
    "chosen_panellists",
    "is_invitable",
    "issue_cards",
]


def N_(text: str) -> str:
    """Marks ``text`` for extraction; it is translated per card, in the panellist's language."""
    return text


DEFAULT_HEADING = N_("Research study")
INVITED = N_("You are invited to take part.")
STEPS = (
    N_("Scan the code with your phone's camera, or type the address into a web browser."),
    N_("The page tells you about the study. You choose whether to take part."),
    N_("Keep this card private: the address is only for you."),
)
CONTACT = N_("Questions? Contact")
QR_LABEL = N_("QR code of your personal address")


class CardChoice(StrEnum):
    """Which panellists the "print cards for everyone" form prints for."""

    #: No e-mail address, or mail to it bounced: the people a card is for.
    NO_EMAIL = "no_email"
    #: Everyone who can still take part (not withdrawn, not erased).
    ALL = "all"


@dataclass(frozen=True, slots=True)
class Card:
    """What one card says, already in the panellist's language (``lang``, e.g. ``"en"``, ``"pt-BR"``).

    ``name`` is "" unless names may be printed; ``contact`` is ``(name, e-mail, phone)`` of the panel contact
    (each "" when not set; None when all three are empty); ``steps`` are short sentences in reading order.
    ``panellist_id`` is for the caller only and never printed.
    """

    panellist_id: int
    lang: str
    heading: str
    invited: str
    name: str
    link: str
    qr_label: str
    steps: tuple[str, ...]
    contact_label: str
    contact: tuple[str, str, str] | None


def card_heading(panel: Panel) -> str:
    """The card's untranslated heading: the panel's discreet name when one is set, else "Research study"."""
    return (panel.discreet_name or "").strip() or DEFAULT_HEADING


def is_invitable(p: Panellist) -> bool:
    """A panellist a card may be printed for: not withdrawn and not erased."""
    return p.erased_at is None and p.withdrawn_at is None and p.status != PanellistStatus.WITHDRAWN


def _chosen(p: Panellist, choice: CardChoice) -> bool:
    if not is_invitable(p):
        return False
    return choice == CardChoice.ALL or not p.email or p.status == PanellistStatus.BOUNCED


async def chosen_panellists(session: AsyncSession, panel: Panel, choice: CardChoice) -> list[Panellist]:
    """The panellists ``choice`` picks on ``panel``, by pseudonym (one query); withdrawn and erased ones never."""
    rows = await session.scalars(
        select(Panellist).where(Panellist.panel_id == panel.id).order_by(Panellist.pseudonym)
    )
    return [p for p in rows.all() if _chosen(p, choice)]


def card_contents(
    panel: Panel,
    people: Sequence[tuple[Panellist, str]],
    base_url: str,
    *,
    print_names: bool = False,
) -> list[Card]:
    """One :class:`Card` per ``(panellist, token)``, in the order given; the link is ``{base_url}/p/{token}``.

    ``print_names`` prints each panellist's name (when they gave one); the caller passes True only for an
    account that sees contacts (:func:`delphi.panels.access.can_see_contacts`) and chose to print names.
    Nothing on a card comes from the panel's title or description, nor is the pseudonym on it.
    """
    base = base_url.rstrip("/")
    contact_parts = (panel.contact_name or "", panel.contact_email or "", panel.contact_phone or "")
    contact = contact_parts if any(contact_parts) else None
    cards = []
    for p, token in people:
        _ = catalog(p.language).gettext
        cards.append(
            Card(
                panellist_id=p.id,
                lang=normalise_language(p.language).replace("_", "-"),
                heading=_(card_heading(panel)),
                invited=_(INVITED),
                name=(p.name or "").strip() if print_names else "",
                link=f"{base}/p/{token}",
                qr_label=_(QR_LABEL),
                steps=tuple(_(s) for s in STEPS),
                contact_label=_(CONTACT),
                contact=contact,
            )
        )
    return cards


async def issue_cards(
    session: AsyncSession,
    panel: Panel,
    panellists: Sequence[Panellist],
    settings: Any,
    actor: Actor,
    *,
    choice: str,
) -> list[tuple[Panellist, str]]:
    """Give each of ``panellists`` (of ``panel``) a new personal link for a printed card.

    Returns ``(panellist, new token)`` in the order given; every old link stops working. ``choice`` names what
    was printed in the audit event (``"one"``, or a :class:`CardChoice` value). Raises InvalidInput when the
    list is empty, NotFound for a panellist of another panel, Conflict for a withdrawn or erased one; then
    nothing is changed by this call (the checks come first). Writes one ``panellist.card_printed`` event
    (``count``, ``choice`` and the pseudonyms; never a token). Never commits.
    """
    if not panellists:
        raise InvalidInput("There is no panellist to print a card for.", field="who")
    for p in panellists:
        if p.panel_id != panel.id:
            raise NotFound("There is no such panellist on this panel.")
        if not is_invitable(p):
            state = "erased" if p.erased_at is not None else "withdrawn"
            raise Conflict(f"{p.pseudonym} has {state}: no card can be printed for them.")
    issued = [(p, await reissue_link(session, p, settings, actor)) for p in panellists]
    audit.record(
        session,
        actor=actor,
        action="panellist.card_printed",
        panel_id=panel.id,
        detail={
            "count": len(issued),
            "choice": choice,
            "panellists": ", ".join(p.pseudonym for p in panellists),
        },
    )
    return issued
