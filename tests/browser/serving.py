"""The app served by uvicorn in a thread of the test process, for the browser tests and bench/pages.py.

:func:`live_settings` gives the settings such a server runs with (a SQLite file, the in-process mail worker off,
mail to ``mail`` or to a closed port); :func:`serving` starts uvicorn on ``127.0.0.1:port``, waits until it
answers (at most 30 s, else RuntimeError) and stops it on leaving.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from delphi.settings import DatabaseSettings, MailSettings, Settings
from tests.conftest import TEST_SECRET

#: Mail settings for a server whose tests read no mail: port 1 refuses every connection.
NO_MAIL = MailSettings(host="127.0.0.1", port=1, sender="Delphi test <panel@test.example>")


def live_settings(db_url: str, port: int, var_dir: Path, mail: MailSettings = NO_MAIL) -> Settings:
    """Settings of a test server on ``127.0.0.1:port`` with the database ``db_url``; the worker does not run in
    the server (a test delivers mail itself with :func:`delphi.worker.tick`)."""
    return Settings(
        database=DatabaseSettings(url=db_url, pool_size=5),
        mail=mail,
        base_url=f"http://127.0.0.1:{port}",
        secret_key=TEST_SECRET,
        worker_in_process=False,
        var_dir=var_dir,
        log_level="WARNING",
    )


@contextmanager
def serving(app: Any, port: int, name: str = "uvicorn-tests") -> Iterator[None]:
    """Serve ``app`` on ``127.0.0.1:port`` in a daemon thread called ``name`` for the ``with`` block."""
    import uvicorn

    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", access_log=False)
    )
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
