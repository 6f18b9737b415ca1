"""Authorization per panel and role for the controllers: :mod:`delphi.panels.access`, where the checks live.

A panel the account has no access to is a 404 (its existence is not revealed); access with a role too weak for
the action is a 403 with the reason.
"""

from __future__ import annotations

from delphi.panels.access import EDITORS, OWNERS, READERS, load_panel, panel_role, visible_panels

__all__ = ["EDITORS", "OWNERS", "READERS", "load_panel", "panel_role", "visible_panels"]
