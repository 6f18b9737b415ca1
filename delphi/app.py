"""``create_app(settings)``: the Litestar application. Nothing runs at import."""

from __future__ import annotations

import logging

from advanced_alchemy.extensions.litestar import AsyncSessionConfig, SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig

from delphi import __version__
from delphi.db.engine import make_engine
from delphi.participation.save_queue import SaveQueue
from delphi.resources import STATIC_DIR
from delphi.security import derive_key
from delphi.settings import Settings, load_settings
from delphi.web.api.document import ClosedStructSchemaPlugin, DelphiOpenAPIConfig
from delphi.web.apireference import ApiReferencePage
from delphi.web.compression import compression_config
from delphi.web.deps import provide_account, provide_settings
from delphi.web.errors import EXCEPTION_HANDLERS
from delphi.web.guards import provide_panel_access
from delphi.web.headers import add_security_headers
from delphi.web.ids import reject_impossible_ids
from delphi.web.lifespan import background
from delphi.web.logredact import install as redact_link_tokens_in_logs
from delphi.web.ratelimit import SlidingWindowLimiter
from delphi.web.routes import route_handlers
from delphi.web.sessioncookie import SessionCookieConfig
from delphi.web.templating import make_environment

SESSION_COOKIE = "delphi_session"
#: Static files (CSS, JS) are kept by browsers for a day, then fetched again: their URLs carry no fingerprint,
#: so a day bounds how long a changed file can be served stale.
STATIC_CACHE = CacheControlHeader(public=True, max_age=86400)
CSRF_COOKIE = "delphi_csrf"


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the application for ``settings`` (default: read from the environment now).

    The returned app owns one database engine (``app.state.engine``), signs its cookies with a key derived
    from ``settings.secret_key`` and, unless turned off, runs the delivery/scheduler loop in its lifespan.
    """
    settings = settings or load_settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redact_link_tokens_in_logs()  # uvicorn's access log would otherwise print every /p/<token> path
    engine = make_engine(settings.database)
    db_config = SQLAlchemyAsyncConfig(
        engine_instance=engine,
        session_config=AsyncSessionConfig(expire_on_commit=False),
        before_send_handler="autocommit_include_redirects",
        create_all=False,
        set_default_exception_handler=False,
    )
    env = make_environment()
    session_config, csrf = _cookies(settings)
    state = State(
        {
            "settings": settings,
            "engine": engine,
            "save_queue": SaveQueue(engine),
            "login_limiter": SlidingWindowLimiter(limit=20, window_s=300),
            "link_limiter": SlidingWindowLimiter(limit=60, window_s=300),
        }
    )
    return Litestar(
        route_handlers=[
            *route_handlers(settings),
            create_static_files_router(
                path="/static",
                directories=[STATIC_DIR],
                name="static",
                include_in_schema=False,
                cache_control=STATIC_CACHE,
            ),
        ],
        plugins=[SQLAlchemyPlugin(config=db_config), ClosedStructSchemaPlugin()],
        template_config=TemplateConfig(instance=JinjaTemplateEngine.from_environment(env)),
        middleware=[session_config.middleware],
        before_send=[add_security_headers],
        compression_config=compression_config(),
        before_request=reject_impossible_ids,
        csrf_config=csrf,
        dependencies={
            "settings": Provide(provide_settings, sync_to_thread=False),
            "account": Provide(provide_account),
            "panel_access": Provide(provide_panel_access),
        },
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[background],
        state=state,
        openapi_config=_openapi(),
        request_max_body_size=5 * 1024 * 1024,
        debug=False,
    )


def _cookies(settings: Settings) -> tuple[SessionCookieConfig, CSRFConfig]:
    """The signed session cookie (kept by the browser for ``settings.sessions.cookie_max_age``; the server-side
    session decides how long a sign-in lasts) and the CSRF cookie (not for ``/api/``, which takes bearer tokens),
    each signed with its own key derived from ``settings.secret_key``."""
    session_config = SessionCookieConfig(
        secret=derive_key(settings.secret_key, "session-cookie"),
        key=SESSION_COOKIE,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        max_age=settings.sessions.cookie_max_age,
    )
    csrf = CSRFConfig(
        secret=derive_key(settings.secret_key, "csrf").hex(),
        cookie_name=CSRF_COOKIE,
        cookie_secure=settings.secure_cookies,
        cookie_httponly=True,
        cookie_samesite="lax",
        header_name="x-csrftoken",
        exclude=["/api/", "/healthz", "/static/"],  # static files: GET only, and cacheable without a cookie
    )
    return session_config, csrf


def _openapi() -> DelphiOpenAPIConfig:
    """The OpenAPI document at ``/schema``: bearer tokens made on ``/account/tokens``; finished by
    :mod:`delphi.web.api.document` (with ``ClosedStructSchemaPlugin`` in the app's plugins)."""
    return DelphiOpenAPIConfig(
        title="Delphi engine API",
        version=__version__,
        path="/schema",
        render_plugins=[ApiReferencePage()],
        components=Components(
            security_schemes={
                "bearer": SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="A per-account API token made on /account/tokens.",
                )
            }
        ),
        security=[{"bearer": []}],
    )
