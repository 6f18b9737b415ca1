"""ASGI entry point for servers: ``uvicorn --factory delphi.asgi:app_from_env``."""

from __future__ import annotations

import gc

from litestar import Litestar


def app_from_env() -> Litestar:
    """The app configured from ``DELPHI_*``, with start-up objects frozen out of the garbage collector.

    Everything alive once the app is built (modules, routes, templates, the app itself) lives as long as the
    process, yet every full collection would walk it again: about 90 ms per pass under load, the whole p99 of
    a save.  ``gc.freeze()`` moves it to a generation the collector never scans, so full passes only look at
    what requests allocate (about 7 ms; ``docs/benchmarks.md``).  Only the server entry point freezes: tests
    that build many apps in one process do not.
    """
    from delphi.app import create_app

    app = create_app()
    gc.collect()
    gc.freeze()
    return app
