"""The built wheel works on its own: templates, migrations, static files and catalogs travel inside the package.

The wheel is built from this checkout (``pip wheel``; the build backend comes from PyPI or pip's cache),
unpacked into a temporary folder and used from a subprocess whose ``PYTHONPATH`` starts with that folder and
whose working directory is outside the repository, so nothing can be read from the checkout by accident.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Run inside the unpacked wheel: argv[1] is the unpacked folder, argv[2] a scratch folder for the database.
CHECK = textwrap.dedent(
    """
    import sqlite3
    import sys
    from pathlib import Path

    import delphi
    from delphi import resources

    site, scratch = Path(sys.argv[1]), Path(sys.argv[2])
    package = site / "delphi"
    assert Path(delphi.__file__).parent == package, delphi.__file__
    assert resources.TEMPLATE_DIR == package / "templates", resources.TEMPLATE_DIR
    assert resources.ALEMBIC_DIR == package / "alembic", resources.ALEMBIC_DIR
    assert (resources.STATIC_DIR / "panellist.css").is_file()
    assert (resources.LOCALE_DIR / "delphi.pot").is_file()

    from delphi.demo import prepare_demo

    env = prepare_demo(reset=True, base_url="http://testserver.local", var_dir=scratch)

    from litestar.testing import TestClient

    from delphi.app import create_app
    from delphi.mail import kinds
    from delphi.mail.render import default_renderer, render_mail
    from delphi.security import panellist_token
    from delphi.settings import load_settings

    settings = load_settings({**env, "DELPHI_DEV_MAIL": "0", "DELPHI_WORKER_IN_PROCESS": "0"})
    with sqlite3.connect(scratch / "demo.db") as db:
        pid, version = db.execute("SELECT id, session_version FROM panellists ORDER BY id LIMIT 1").fetchone()
        kind, subject = db.execute(
            "SELECT kind, subject FROM outbox_messages WHERE status = 'queued' ORDER BY id LIMIT 1"
        ).fetchone()
    assert kind == kinds.round_open.name and subject, (kind, subject)

    with TestClient(app=create_app(settings), base_url="http://testserver.local") as client:
        entered = client.get(f"/p/{panellist_token(settings.secret_key, pid, version)}", follow_redirects=False)
        assert entered.status_code == 303, entered.text
        page = client.get("/panel")
        assert page.status_code == 200 and '<html lang="en">' in page.text, page.text[:500]
        assert client.get("/static/panellist.css").status_code == 200

    assert default_renderer().template_dir == package / "templates"
    mail = render_mail(
        kinds.facilitator_notice.name,
        kinds.facilitator_notice(panel_title="A panel", panel_url="http://x/panels/1", notice="dead", count=2),
    )
    assert mail.subject and "2 messages could not be delivered" in mail.text, mail
    print("wheel ok")
    """
)


@pytest.mark.slow
def test_the_wheel_runs_migrations_the_demo_pages_and_mail_from_its_own_files(tmp_path: Path) -> None:
    dist, site, scratch = tmp_path / "dist", tmp_path / "site", tmp_path / "scratch"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(ROOT)],
        check=True,
        timeout=180,
    )
    (wheel,) = dist.glob("delphi_engine-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(site)
    for name in (
        "delphi/templates/base.html",
        "delphi/templates/email/invitation/subject.txt",
        "delphi/alembic/env.py",
        "delphi/web/static/panellist.css",
        "delphi/locale/delphi.pot",
    ):
        assert name in names
    assert not any(n.startswith(("templates/", "alembic/", "tests/")) for n in names)

    env = {k: v for k, v in os.environ.items() if not k.startswith("DELPHI_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), *filter(None, [os.environ.get("PYTHONPATH")])])
    scratch.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", CHECK, str(site), str(scratch)],
        cwd=scratch,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("wheel ok")
