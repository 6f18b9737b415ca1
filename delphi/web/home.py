"""The home page (panels the account may see) and the health checks."""

from __future__ import annotations

from litestar import Controller, MediaType, Request, Response, get
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.engine import database_error
from delphi.panels.access import visible_panels
from delphi.web.deps import optional_account


class HomeController(Controller):
    path = "/"
    include_in_schema = False

    @get("/", name="home")
    async def home(self, request: Request, db_session: AsyncSession) -> Template:
        account = await optional_account(request, db_session)
        if account is None:
            return Template("landing.html", media_type=MediaType.HTML)
        panels = await visible_panels(db_session, account)
        return Template(
            "home.html", context={"account": account, "panels": panels}, media_type=MediaType.HTML
        )

    @get("/healthz", name="health", include_in_schema=False)
    async def health(self, db_session: AsyncSession) -> Response:
        """``{"status": "ok", "database": "ok"}``, or 503 with ``"database": "unreachable"``."""
        error = await database_error(db_session)
        if error is not None:
            return Response(
                {"status": "degraded", "database": "unreachable", "error": error}, status_code=503
            )
        return Response({"status": "ok", "database": "ok"})

    @get("/healthz/live", name="health_live", include_in_schema=False)
    async def live(self) -> Response:
        """``{"status": "ok"}`` without touching the database: the process answers (liveness probe).

        Also the bare floor of ``bench/saves.py``: the cheapest JSON route the app serves.
        """
        return Response({"status": "ok"})
