"""The panel's translations as a file: download them (CSV or XLSX, one column per language) and import a filled
file back (``/panels/{id}/translations/file.csv``, ``file.xlsx``, ``import``).

Controllers read the upload and call :mod:`delphi.panels.translation_file`; a file with any problem is shown
again with an error summary listing every line's problem (400, nothing saved, the transaction rolled back); a
good one redirects (303) to the translations page with how many texts were imported per language
(:func:`imported_notice` words it).  Downloads are for anyone on the panel (they hold the panel's texts, no
personal data); the import page for editors.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.db.models import Account
from delphi.domain import Actor
from delphi.errors import DelphiError, InvalidInput
from delphi.locale import language_name
from delphi.mail.texts import translation_problems
from delphi.panels import translation_file as tf
from delphi.panels.access import start_over
from delphi.panels.translations import panel_languages, translated_round
from delphi.web.forms import render_form
from delphi.web.guards import EDITORS_ONLY, PanelAccess
from delphi.web.panel_nav import panel_nav

TEMPLATE = "facilitator/translation_import.html"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def imported_notice(imported: str | None, changed: str | None = None) -> str | None:
    """The notice after an import, from the redirect's query: ``imported`` is ``"cy:12,es:3"``, ``changed``
    the number of lines whose primary text differed from the panel's.  None without ``imported``; malformed
    parts are left out.

    ``"cy:12,es:3"`` → "Imported 12 texts into Welsh (cy) and 3 texts into Spanish (es)."
    """
    if not imported:
        return None
    parts = []
    for chunk in imported.split(","):
        tag, _, n = chunk.partition(":")
        if tag.strip() and n.strip().isdigit():
            count = int(n)
            parts.append(f"{count} text{'s' if count != 1 else ''} into {language_name(tag)} ({tag})")
    if not parts:
        return None
    words = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    notice = f"Imported {words}."
    if changed and changed.isdigit() and int(changed):
        n = int(changed)
        notice += (
            f" {n} line{'s' if n != 1 else ''} of the file had a different primary text than the panel has now; "
            "those translations are marked out of date until you check them."
        )
    return notice


async def _ctx(session: AsyncSession, access: PanelAccess, account: Account) -> dict[str, Any]:
    ctx = await panel_nav(session, access, account)
    languages = await panel_languages(session, access.panel)
    round_ = await translated_round(session, access.panel.id)
    ctx.update(
        tab="languages",
        languages=[(tag, language_name(tag)) for tag in languages],
        primary=languages[0],
        further=languages[1:],
        round_number=round_.number if round_ is not None else None,
        preview=None,
        filename="",
    )
    return ctx


def _download(panel_id: int, body: bytes, extension: str, media_type: str) -> Response[bytes]:
    name = f"panel-{panel_id}-translations.{extension}"
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store",
        },
    )


class TranslationFileController(Controller):
    path = "/panels/{panel_id:int}/translations"
    include_in_schema = False

    @get("/file.csv", name="translations_csv")
    async def download_csv(self, panel_access: PanelAccess, db_session: AsyncSession) -> Response[bytes]:
        """Every text of the round being translated, one column per language (UTF-8 with a byte-order mark)."""
        header, rows = await tf.translation_table(db_session, panel_access.panel)
        return _download(panel_access.panel.id, tf.table_csv(header, rows), "csv", "text/csv; charset=utf-8")

    @get("/file.xlsx", name="translations_xlsx")
    async def download_xlsx(self, panel_access: PanelAccess, db_session: AsyncSession) -> Response[bytes]:
        """The same table as an Excel workbook."""
        header, rows = await tf.translation_table(db_session, panel_access.panel)
        return _download(panel_access.panel.id, tf.table_xlsx(header, rows), "xlsx", XLSX_TYPE)

    @get("/import", opt=EDITORS_ONLY, name="translations_import")
    async def import_form(
        self, panel_access: PanelAccess, db_session: AsyncSession, account: Account
    ) -> Template:
        return render_form(TEMPLATE, await _ctx(db_session, panel_access, account))

    @post("/import")
    async def import_file(
        self, panel_access: PanelAccess, request: Request, db_session: AsyncSession, account: Account
    ) -> Redirect | Template:
        """Import the uploaded file; ``check=1`` only checks it and shows what it would import."""
        panel = panel_access.panel
        form = await request.form()
        upload = form.get("file")
        data, filename = b"", ""
        if upload is not None and not isinstance(upload, str):
            data, filename = await upload.read(), upload.filename or ""
        ctx = await _ctx(db_session, panel_access, account)
        ctx["filename"] = filename
        if not data:
            errors = [
                ("file", "Choose the translation file to import: a CSV file or an Excel workbook (.xlsx).")
            ]
            return render_form(TEMPLATE, ctx, errors=errors, status_code=400)
        if form.get("check") == "1":
            parsed = await tf.preview_import(db_session, panel, data, filename, translation_problems)
            ctx["preview"] = parsed
            return render_form(
                TEMPLATE, ctx, errors=parsed.errors(), status_code=400 if parsed.problems else 200
            )
        try:
            result = await tf.import_translations(
                db_session, panel, data, filename, Actor.account(account), translation_problems
            )
        except DelphiError as exc:
            await start_over(db_session, panel, account)
            ctx = await _ctx(db_session, panel_access, account)
            ctx["filename"] = filename
            errors = list(exc.errors) if isinstance(exc, InvalidInput) else [("file", exc.message)]
            status = 400 if isinstance(exc, InvalidInput) else exc.status_code
            return render_form(TEMPLATE, ctx, errors=errors, status_code=status)
        imported = ",".join(f"{tag}:{n}" for tag, n in result.counts.items())
        query = f"imported={quote(imported, safe=':,')}&changed={len(result.changed_sources)}"
        return Redirect(f"/panels/{panel.id}/translations?{query}", status_code=303)
