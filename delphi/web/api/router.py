"""The ``/api/v1`` router: every API handler, with the API's ``account`` and ``panel_access`` dependencies."""

from __future__ import annotations

from litestar import Router
from litestar.di import Provide

from delphi.web.api import (
    baseline,
    groups,
    honoraria,
    ideas,
    mail,
    mail_texts,
    moderation,
    open_questions,
    panellists,
    panels,
    ranking_questions,
    results,
    rounds,
    statements,
    team,
    translations,
)
from delphi.web.api.auth import provide_api_account
from delphi.web.api.bodies import ApiRequest, known_query_parameters
from delphi.web.guards import provide_checked_panel_access


def api_router() -> Router:
    """The ``/api/v1`` router; its ``account`` accepts a bearer token or the session cookie, its
    ``panel_access`` validates ``panel_id`` (400) before checking the role (404/403)."""
    return Router(
        path="/api/v1",
        route_handlers=[
            *panels.HANDLERS,
            *groups.HANDLERS,
            *rounds.HANDLERS,
            *moderation.HANDLERS,
            *results.HANDLERS,
            *team.HANDLERS,
            *statements.HANDLERS,
            *ranking_questions.HANDLERS,
            *open_questions.HANDLERS,
            *ideas.HANDLERS,
            *panellists.HANDLERS,
            *mail_texts.HANDLERS,
            *baseline.HANDLERS,
            *honoraria.HANDLERS,
            *mail.HANDLERS,
            *translations.HANDLERS,
        ],
        dependencies={
            "account": Provide(provide_api_account),
            "panel_access": Provide(provide_checked_panel_access),
        },
        guards=[known_query_parameters],
        request_class=ApiRequest,
        tags=["API v1"],
    )
