"""The consent text a new panel starts with, in plain words, for the panel's smallest group shown (k).

It states what panellists will see of others' answers.  The promise is the disclosure rule of
:mod:`delphi.stats.disclosure` (``docs/statistics.md``, "Disclosure control"): figures only for groups of at
least k people, and nothing from which fewer than k people's answers could be worked out.  The new-panel form
is filled in with it; the facilitator may change it.
"""

from __future__ import annotations

__all__ = ["DEFAULT_CONSENT_TEXT", "default_consent_text"]

_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine"}


def _number(k: int) -> str:
    return _WORDS.get(k, str(k))


def default_consent_text(k: int = 3) -> str:
    """The default consent text for a panel whose smallest group shown is ``k`` (``panel.k_min``).

    Paragraphs are separated by a blank line, as the consent page shows them.
    """
    k = max(1, int(k))
    n = _number(k)
    return "\n\n".join(
        (
            "Taking part is voluntary and you can leave at any time without giving a reason.",
            "Other panel members never see your name or e-mail address. Between rounds you will see how the "
            "panel answered: figures for the whole panel and for its groups. Figures are shown only for groups "
            f"of at least {n} people, and never anything from which the answers of fewer than {n} people could "
            "be worked out, for example by taking one group's figures away from the whole panel's. So a small "
            "group's figures are hidden, and so are another group's when they would give the small group away. "
            f"If fewer than {n} people answer a statement, no figures are shown for it at all.",
            "Your comments are shown to others only after a facilitator has checked that they do not identify "
            "anyone.",
            "If you leave, we keep the ratings you already gave under a code name unless you ask us to delete "
            "them.",
        )
    )


#: The default for the panels' default k of 3.
DEFAULT_CONSENT_TEXT = default_consent_text(3)
