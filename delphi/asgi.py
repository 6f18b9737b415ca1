"""ASGI entry point for servers: ``uvicorn --factory delphi.asgi:app_from_env``."""

from __future__ import annotations

from litestar import Litestar


def app_from_env() -> Litestar:
    from delphi.app import create_app

    return create_app()
