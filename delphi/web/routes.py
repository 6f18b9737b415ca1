"""Every route handler of the app, gathered in one list for ``create_app``."""

from __future__ import annotations

from typing import Any


def route_handlers(settings: Any = None) -> list[Any]:
    from delphi.web.auth import AuthController
    from delphi.web.devmail import dev_mail_handlers
    from delphi.web.facilitator import (
        MailController,
        PanelController,
        PanellistController,
        RoundController,
        StatementController,
    )
    from delphi.web.home import HomeController
    from delphi.web.panellist import PanellistLinkController, PanellistPagesController
    from delphi.web.results import results_route_handlers

    return [
        HomeController,
        AuthController,
        PanelController,
        StatementController,
        PanellistController,
        RoundController,
        MailController,
        PanellistLinkController,
        PanellistPagesController,
        *results_route_handlers(),  # results pages, API tokens page, JSON API under /api/v1
        *dev_mail_handlers(settings),  # /dev/mail, only when DELPHI_DEV_MAIL is on
    ]
