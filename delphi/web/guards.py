"""Authorization per panel for the controllers: the ``panel_access`` dependency.

A handler under a ``{panel_id}`` path that declares ``panel_access: PanelAccess`` receives the panel and the
signed-in account's role on it, checked by :func:`delphi.panels.access.load_panel`:

* the roles required are the handler's ``opt["panel_roles"]`` (a frozenset of :class:`~delphi.domain.PanelRole`,
  set on the handler or on its controller; :data:`EDITORS_ONLY` and :data:`OWNERS_ONLY` are the ``opt`` values
  in use), else :data:`~delphi.panels.access.READERS` for GET and HEAD and
  :data:`~delphi.panels.access.EDITORS` for every other method;
* a panel that does not exist or that the account has no role on is a 404 (its existence is not revealed);
  a role too weak for the handler is a 403 with the reason.

The app provides it as :func:`provide_panel_access` (``panel_id`` an int of the path); the API router and the
results pages as :func:`provide_checked_panel_access`, whose ``panel_id`` is a :data:`~delphi.web.schemas.PanelId`
(1 to ``MAX_ID``, else a 400, and documented as such in the OpenAPI schema). Both depend on ``account``, so an
anonymous visitor is refused (login page or 401) before any panel is looked up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account, Panel
from delphi.domain import PanelRole
from delphi.panels.access import EDITORS, OWNERS, READERS, load_panel_grant
from delphi.web.schemas import PanelId

ROLES_OPT = "panel_roles"
#: ``opt`` of a handler (or controller) that needs a facilitator or the owner even to read.
EDITORS_ONLY: dict[str, Any] = {ROLES_OPT: EDITORS}
#: ``opt`` of a handler that only the panel's owner may use.
OWNERS_ONLY: dict[str, Any] = {ROLES_OPT: OWNERS}
_READ_METHODS = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class PanelAccess:
    """The panel a request is about, the account's role on it (admins act as owners) and whether it sees
    panellists' e-mail addresses, names and the pseudonym key (``sees_contacts``: the owner, and facilitators
    the owner granted "contact panellists"; see :func:`delphi.panels.access.can_see_contacts`)."""

    panel: Panel
    role: PanelRole
    sees_contacts: bool = False

    @property
    def can_edit(self) -> bool:
        return self.role in EDITORS

    @property
    def is_owner(self) -> bool:
        return self.role in OWNERS


def required_roles(request: Request) -> frozenset[PanelRole]:
    """The roles the request's handler needs: its ``opt["panel_roles"]``, else by method (see the module)."""
    roles = request.route_handler.opt.get(ROLES_OPT)
    if roles is not None:
        return roles
    return READERS if request.method in _READ_METHODS else EDITORS


async def provide_panel_access(
    request: Request, db_session: AsyncSession, account: Account, panel_id: int
) -> PanelAccess:
    """The ``panel_access`` of the pages: 404 or 403 as the module says."""
    panel, role, sees_contacts = await load_panel_grant(
        db_session, account, panel_id, required_roles(request)
    )
    return PanelAccess(panel, role, sees_contacts)


async def provide_checked_panel_access(
    request: Request, db_session: AsyncSession, account: Account, panel_id: PanelId
) -> PanelAccess:
    """The ``panel_access`` of the API and the results pages: ``panel_id`` validated (400) before the lookup."""
    return await provide_panel_access(request, db_session, account, panel_id)
