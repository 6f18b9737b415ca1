"""Every route handler of the app, gathered in one list for ``create_app``."""

from __future__ import annotations

from typing import Any


def route_handlers() -> list[Any]:
    from delphi.web.auth import AuthController
    from delphi.web.facilitator import (
        PanelController,
        PanellistController,
        RoundController,
        StatementController,
    )
    from delphi.web.home import HomeController

    return [
        HomeController,
        AuthController,
        PanelController,
        StatementController,
        PanellistController,
        RoundController,
    ]
