"""Background parts of the web process: the dev mail capture server, the worker loop and the save queue."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from litestar import Litestar

log = logging.getLogger("delphi.web")


@contextlib.asynccontextmanager
async def background(app: Litestar) -> AsyncIterator[None]:
    """Start the capture server (when DELPHI_DEV_MAIL is on) and the in-process worker (unless turned off).

    On shutdown, also stop the save queue's writers (they start with the first background save) and close the
    engine's pooled connections.
    """
    settings = app.state.settings
    stack = contextlib.AsyncExitStack()
    async with stack:
        if settings.mail.dev_capture:
            from delphi.mail.capture import start_capture_server

            app.state.mail_capture = stack.enter_context(start_capture_server(settings))
        task = None
        if settings.worker_in_process:
            from delphi.worker import run_forever

            task = asyncio.create_task(run_forever(settings, app.state.engine), name="delphi-worker")
        try:
            yield
        finally:
            await app.state.save_queue.aclose()
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await app.state.engine.dispose()  # close pooled connections now, not when collected
