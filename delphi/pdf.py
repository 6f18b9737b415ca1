"""HTML to PDF with WeasyPrint, reading nothing but files under the page's own base directory.

WeasyPrint needs the Pango libraries (Debian: ``libpango-1.0-0 libpangoft2-1.0-0``, installed by the README's
commands); without them importing it fails, which :func:`html_to_pdf` turns into
:class:`delphi.errors.ActionFailed` (a 503 problem answer naming what to install), never a 500.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from delphi.errors import ActionFailed

__all__ = ["html_to_pdf"]

log = logging.getLogger(__name__)

NO_PANGO = "PDF files cannot be made on this server: the Pango text library WeasyPrint needs is missing."
INSTALL = [
    "Install Pango (Debian or Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0) and restart the service.",
    "Meanwhile open the HTML page and use the browser's Print command to save it as PDF.",
]


def _fetcher(base: Path) -> Any:
    """A WeasyPrint URL fetcher that serves files under ``base`` and refuses every other address (no network:
    the page holds panellists' words, and nothing in it should make the server fetch anything)."""
    from weasyprint import urls

    root = base.resolve()

    def local(url: str) -> str | None:
        """The file URL to read for ``url``, or None to refuse it. A site-absolute link such as
        ``/static/app.css`` (resolved to ``file:///static/app.css``) is read from the base directory's parent,
        as the web server would serve it, when that lands under the base directory."""
        parts = urlparse(url)
        if parts.scheme != "file":
            return None
        path = Path(unquote(parts.path)).resolve()
        if path.is_relative_to(root):
            return url
        served = (root.parent / str(path).lstrip("/")).resolve()
        return served.as_uri() if served.is_relative_to(root) and served.is_file() else None

    if hasattr(urls, "URLFetcher"):  # WeasyPrint 68 and later

        class FilesUnder(urls.URLFetcher):  # type: ignore[misc,name-defined]
            def fetch(self, url: str, headers: Any = None) -> Any:
                target = local(url)
                if target is None:
                    raise ValueError(f"not fetched for a PDF: {url}")
                return super().fetch(target, headers)

        return FilesUnder(allowed_protocols={"file"})

    def fetch(url: str, *args: Any, **kwargs: Any) -> Any:  # older WeasyPrint: a plain function
        target = local(url)
        if target is None:
            raise ValueError(f"not fetched for a PDF: {url}")
        return urls.default_url_fetcher(target, *args, **kwargs)

    return fetch


def html_to_pdf(html: str, base_url: str) -> bytes:
    """The PDF of ``html`` (a whole document, str), its relative links resolved against ``base_url`` (a
    ``file://`` URL of a directory, ending in ``/``; only files under it are read, site-absolute links like
    ``/static/app.css`` from its parent; other links are skipped, with WeasyPrint's warning).

    Returns the PDF's bytes (they start with ``%PDF``). Raises ActionFailed when WeasyPrint cannot load
    (Pango missing).
    """
    try:
        import weasyprint
    except (ImportError, OSError) as exc:
        log.error("WeasyPrint cannot load: %s", exc)
        raise ActionFailed(NO_PANGO, INSTALL) from exc
    base = Path(unquote(urlparse(base_url).path))
    document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=_fetcher(base))
    return bytes(document.write_pdf())
