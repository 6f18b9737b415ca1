"""The worked example of ``docs/api.md`` runs, as printed there, against a real server and does what it says.

The test takes the one ``python`` block under "## A worked example" from the page, serves the app under uvicorn
on a free loopback port (:func:`tests.browser.serving.serving`) on the test's database, and runs the block with
``DELPHI_URL`` and ``DELPHI_TOKEN`` set (a token of a facilitator that may read and change), in a folder of its
own.  It then checks what the script printed, the file it saved and what the database holds: the panel with its
groups, statements and panellists, round 1 opened (an invitation queued per panellist) and closed.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.accounts import create_api_token
from delphi.app import create_app
from delphi.db.models import AuditEvent, OutboxMessage, Panel, Panellist, Round, StakeholderGroup, Statement
from tests.browser.serving import live_settings, serving
from tests.factories import make_account
from tests.smtp import free_port

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"
FACILITATOR = "example-script@university.example"


def worked_example(page: str) -> str:
    """The first ```python block after the heading "## A worked example" of ``page``."""
    _, heading, rest = page.partition("\n## A worked example\n")
    assert heading, "docs/api.md has a section '## A worked example'"
    match = re.search(r"^```python\n(.*?)^```$", rest, flags=re.S | re.M)
    assert match, "the worked example is a ```python block"
    return match.group(1)


def test_the_worked_example_is_one_python_block_that_compiles() -> None:
    code = worked_example(DOC.read_text(encoding="utf-8"))
    compile(code, "docs/api.md", "exec")
    assert "DELPHI_TOKEN" in code and "DELPHI_URL" in code


@pytest.fixture
async def token(session: AsyncSession) -> str:
    """An API token of a facilitator (who may create panels) that may read and change."""
    account = await make_account(session, FACILITATOR)
    _, raw = await create_api_token(session, account, "worked example", "read write")
    await session.commit()
    return raw


async def test_the_worked_example_sets_up_runs_and_downloads_a_panel(
    db_url: str,
    token: str,
    session: AsyncSession,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code = worked_example(DOC.read_text(encoding="utf-8"))
    port = free_port()
    printed: list[str] = []

    def run() -> None:
        scope: dict[str, Any] = {
            "__name__": "__main__",
            "print": lambda *args: printed.append(" ".join(str(a) for a in args)),
        }
        exec(compile(code, "docs/api.md", "exec"), scope)

    monkeypatch.setenv("DELPHI_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("DELPHI_TOKEN", token)
    monkeypatch.chdir(tmp_path)
    with serving(create_app(live_settings(db_url, port, tmp_path / "var")), port, "uvicorn-api-example"):
        try:
            await asyncio.to_thread(run)
        except SystemExit as exc:  # the example's own report of a refused request
            pytest.fail(f"the worked example stopped: {exc}\nprinted: {printed}")

    lines = {line.split(" ", 1)[0]: line for line in printed}
    panel_id = int(lines["panel"].split()[1])
    assert "At least 70% rate 7–9" in lines["panel"], lines["panel"]
    assert [line for line in printed if line.startswith("group")][1].endswith("Clinicians")
    assert lines["statements"] == "statements 4"
    assert lines["panellists"] == "panellists 4"
    assert "round 1 open 4 statements" in printed
    assert "round 1 closed" in printed
    assert len([line for line in printed if line.startswith("result ")]) == 4
    saved = (tmp_path / "final-list.csv").read_bytes()
    assert lines["saved"] == f"saved final-list.csv {len(saved)} bytes"
    rows = list(csv.reader(io.StringIO(saved.decode("utf-8-sig"))))
    assert len(rows) > 4 and any("evening and at weekends" in cell for row in rows for cell in row)

    session.expire_all()
    panel = await session.get(Panel, panel_id)
    assert panel is not None and panel.title == "Priorities for community mental health services"

    async def count(model: Any, *where: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    assert await count(StakeholderGroup, StakeholderGroup.panel_id == panel_id) == 2
    assert await count(Statement, Statement.panel_id == panel_id) == 4
    assert await count(Panellist, Panellist.panel_id == panel_id) == 4
    round_1 = await session.scalar(select(Round).where(Round.panel_id == panel_id, Round.number == 1))
    assert round_1 is not None and round_1.status == "closed"
    assert (
        await count(OutboxMessage, OutboxMessage.panel_id == panel_id, OutboxMessage.kind == "invitation")
        == 4
    )
    actions = set(await session.scalars(select(AuditEvent.action).where(AuditEvent.panel_id == panel_id)))
    assert {"panel.created", "round.opened", "round.closed"} <= actions
