"""Every route handler of the app, gathered in one list for ``create_app``."""

from __future__ import annotations

from typing import Any


def route_handlers(settings: Any = None) -> list[Any]:
    from delphi.web.api import api_router
    from delphi.web.apitokens import ApiTokenController
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
    from delphi.web.results import ResultsController

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
        ResultsController,
        ApiTokenController,
        api_router(),  # the JSON API under /api/v1
        *dev_mail_handlers(settings),  # /dev/mail, only when DELPHI_DEV_MAIL is on
    ]
