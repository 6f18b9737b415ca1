"""Every route handler of the app, gathered in one list for ``create_app``."""

from __future__ import annotations

from typing import Any


def route_handlers(settings: Any = None) -> list[Any]:
    from delphi.web.account import AccountController
    from delphi.web.api.router import api_router
    from delphi.web.apitokens import ApiTokenController
    from delphi.web.auth import AuthController
    from delphi.web.baseline import BaselineController
    from delphi.web.cards import CardController
    from delphi.web.devmail import dev_mail_handlers
    from delphi.web.home import HomeController
    from delphi.web.honoraria import HonorariaController
    from delphi.web.ideas import IdeasReviewController
    from delphi.web.mail_pages import MailController
    from delphi.web.mail_texts import MailTextController
    from delphi.web.open_questions import OpenQuestionController
    from delphi.web.panellist.baseline import BaselinePagesController
    from delphi.web.panellist.exit import PanellistExitController
    from delphi.web.panellist.ideas import IdeasController
    from delphi.web.panellist.language import PanellistLanguageController
    from delphi.web.panellist.link import PanellistLinkController
    from delphi.web.panellist.ranking import PanellistRankingController
    from delphi.web.panellist.rating import RatingController
    from delphi.web.panellist.steps import PanellistPagesController
    from delphi.web.panels import PanelController
    from delphi.web.passwords import PasswordController
    from delphi.web.rankings import RankingController
    from delphi.web.results import ResultsController
    from delphi.web.roster import PanellistController
    from delphi.web.rounds import RoundController
    from delphi.web.statements import StatementController
    from delphi.web.team import InvitationController, TeamController
    from delphi.web.translation_files import TranslationFileController
    from delphi.web.translations import TranslationController

    return [
        HomeController,
        AuthController,
        PanelController,
        StatementController,
        RankingController,
        BaselineController,
        PanellistController,
        CardController,
        HonorariaController,
        RoundController,
        OpenQuestionController,
        IdeasReviewController,
        MailController,
        MailTextController,
        TranslationFileController,
        TranslationController,
        PanellistLinkController,
        PanellistPagesController,
        BaselinePagesController,
        RatingController,
        PanellistRankingController,
        IdeasController,
        PanellistExitController,
        PanellistLanguageController,
        ResultsController,
        ApiTokenController,
        TeamController,
        InvitationController,
        AccountController,
        PasswordController,
        api_router(),  # the JSON API under /api/v1
        *dev_mail_handlers(settings),  # /dev/mail, only when DELPHI_DEV_MAIL is on
    ]
