"""Compressed text responses (delphi/web/compression.py): pages, CSS and JS come gzip- or brotli-encoded when the
client asks and decode to the very bytes of the plain answer; small JSON answers, PDFs and XLSX files pass as
they are; static files carry a day of caching and a weak ETag once compressed; on both backends."""

from __future__ import annotations

import gzip
import re
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar, get
from litestar.response import Stream
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession

from delphi.resources import STATIC_DIR
from delphi.settings import Settings
from delphi.web.compression import MINIMUM_SIZE, compression_config, is_compressible
from delphi.web.headers import CSP
from tests.factories import build_panel
from tests.helpers import csrf_from, csrf_token
from tests.panellist.conftest import enter
from tests.results.helpers import OWNER, RESEARCHER, build_world, login

GZIP = {"accept-encoding": "gzip"}
PLAIN = {"accept-encoding": "identity"}


async def raw_get(
    client: AsyncTestClient, path: str, headers: dict[str, str]
) -> tuple[dict[str, str], bytes]:
    """The response's headers and its body as sent (not decoded)."""
    async with client.stream("GET", path, headers=headers) as response:
        assert response.status_code == 200, path
        body = b"".join([chunk async for chunk in response.aiter_raw()])
        return dict(response.headers), body


def without_csrf(html: bytes) -> bytes:
    """The page with its CSRF token blanked (a fresh one may be drawn per page)."""
    return re.sub(rb'name="_csrf_token" value="[^"]+"', b'name="_csrf_token" value=""', html)


async def rating_page_client(client: AsyncTestClient, session: AsyncSession) -> None:
    world = await build_panel(session, consented=True)
    await session.commit()
    await enter(client, world.token)


async def test_a_rating_page_comes_gzipped_when_asked_and_decodes_to_the_plain_page(
    client: AsyncTestClient, session: AsyncSession
) -> None:
    await rating_page_client(client, session)
    packed_headers, packed = await raw_get(client, "/panel/rate", GZIP)
    plain_headers, plain = await raw_get(client, "/panel/rate", PLAIN)

    assert packed_headers["content-encoding"] == "gzip"
    assert "accept-encoding" in packed_headers["vary"].lower()
    assert int(packed_headers["content-length"]) == len(packed) < len(plain) / 2
    assert without_csrf(gzip.decompress(packed)) == without_csrf(plain)
    assert "content-encoding" not in plain_headers
    assert int(plain_headers["content-length"]) == len(plain) > MINIMUM_SIZE
    assert packed_headers["content-security-policy"] == plain_headers["content-security-policy"]
    for headers in (packed_headers, plain_headers):  # the security headers stay on both
        assert headers["content-security-policy"].startswith("default-src 'self'")
        assert headers["cache-control"] == "no-store"
        assert headers["x-content-type-options"] == "nosniff"


async def test_a_rating_page_comes_brotli_encoded_to_a_browser_that_takes_it(
    client: AsyncTestClient, session: AsyncSession
) -> None:
    import brotli

    await rating_page_client(client, session)
    headers, packed = await raw_get(client, "/panel/rate", {"accept-encoding": "gzip, deflate, br, zstd"})
    _, plain = await raw_get(client, "/panel/rate", PLAIN)
    assert headers["content-encoding"] == "br"
    assert without_csrf(brotli.decompress(packed)) == without_csrf(plain)


async def test_app_css_comes_gzipped_with_a_weak_etag_and_a_day_of_caching_and_no_cookie(
    client: AsyncTestClient,
) -> None:
    on_disk = (STATIC_DIR / "app.css").read_bytes()
    packed_headers, packed = await raw_get(client, "/static/app.css", GZIP)
    plain_headers, plain = await raw_get(client, "/static/app.css", PLAIN)

    assert packed_headers["content-encoding"] == "gzip"
    assert gzip.decompress(packed) == plain == on_disk
    assert int(plain_headers["content-length"]) == len(on_disk)
    strong = plain_headers["etag"]
    assert strong.startswith('"') and packed_headers["etag"] == f"W/{strong}"
    for headers in (packed_headers, plain_headers):
        assert headers["cache-control"] == "max-age=86400, public"
        assert headers["content-security-policy"] == CSP
        assert "set-cookie" not in headers


async def test_panellist_scripts_come_gzipped_when_asked(client: AsyncTestClient) -> None:
    for name in ("panellist.js", "panellist.css", "ideas.js"):
        headers, packed = await raw_get(client, f"/static/{name}", GZIP)
        assert headers["content-encoding"] == "gzip", name
        assert gzip.decompress(packed) == (STATIC_DIR / name).read_bytes()


async def test_a_background_save_answer_is_small_and_sent_uncompressed(
    client: AsyncTestClient, session: AsyncSession
) -> None:
    world = await build_panel(session, consented=True)
    await session.commit()
    await enter(client, world.token)
    token = csrf_from((await client.get("/panel/rate")).text)
    saved = await client.post(
        f"/panel/ratings/{world.statements[0].id}",
        json={"answer": 7},
        headers={"x-csrftoken": token, "accept": "application/json", **GZIP},
    )
    assert saved.status_code == 200, saved.text
    assert saved.headers["content-type"].startswith("application/json")
    assert "content-encoding" not in saved.headers
    assert int(saved.headers["content-length"]) == len(saved.content) < MINIMUM_SIZE


async def test_a_pdf_and_an_xlsx_download_are_not_compressed_again(
    client: AsyncTestClient, session: AsyncSession, settings: Settings
) -> None:
    world = await build_world(session, settings, rounds=1)
    await login(client, OWNER)
    form = {"who": "all", "confirm": "1", "format": "pdf", "_csrf_token": await csrf_token(client)}
    pdf = await client.post(f"/panels/{world.pid}/panellists/cards", data=form, headers=GZIP)
    assert pdf.status_code == 200, pdf.text[:300]
    assert "content-encoding" not in pdf.headers
    assert pdf.content.startswith(b"%PDF") and int(pdf.headers["content-length"]) == len(pdf.content)

    client.cookies.clear()
    await login(client, RESEARCHER)
    headers, xlsx = await raw_get(client, f"/panels/{world.pid}/exports/ratings.xlsx", GZIP)
    assert "content-encoding" not in headers
    assert xlsx.startswith(b"PK") and int(headers["content-length"]) == len(xlsx)
    csv_headers, csv = await raw_get(client, f"/panels/{world.pid}/exports/ratings.csv", GZIP)
    _, plain_csv = await raw_get(client, f"/panels/{world.pid}/exports/ratings.csv", PLAIN)
    assert csv_headers["content-type"].startswith("text/csv")
    if len(plain_csv) >= MINIMUM_SIZE:  # text: compressed like a page
        assert csv_headers["content-encoding"] == "gzip" and gzip.decompress(csv) == plain_csv
    else:
        assert "content-encoding" not in csv_headers and csv == plain_csv


async def test_a_streamed_text_body_is_compressed_chunk_by_chunk_and_decodes_whole() -> None:
    chunks = [f"row {i}," * 200 + "\n" for i in range(5)]

    @get("/stream", media_type="text/csv")
    async def stream() -> Stream:
        async def rows() -> AsyncIterator[str]:
            for chunk in chunks:
                yield chunk

        return Stream(rows())

    app = Litestar([stream], compression_config=compression_config())
    async with AsyncTestClient(app=app) as client:
        headers, packed = await raw_get(client, "/stream", GZIP)
    assert headers["content-encoding"] == "gzip" and "content-length" not in headers
    assert gzip.decompress(packed).decode() == "".join(chunks)


@pytest.mark.parametrize(
    ("content_type", "compressed"),
    [
        ("text/html; charset=utf-8", True),
        ("text/css", True),
        ("text/csv; charset=utf-8", True),
        ("application/javascript", True),
        ("application/json", True),
        ("application/problem+json", True),
        ("image/svg+xml", True),
        ("application/pdf", False),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", False),
        ("application/zip", False),
        ("image/png", False),
        ("", False),
    ],
)
def test_only_text_media_types_are_compressible(content_type: str, compressed: bool) -> None:
    assert is_compressible(content_type) is compressed
