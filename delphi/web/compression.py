"""Compressed text responses: brotli when the client takes it and the ``brotli`` package is installed, else gzip.

Only text is compressed (``text/*``, JSON, JavaScript, SVG, XML and their ``+json``/``+xml`` kinds: HTML pages,
CSS, JS, CSV and JSON exports, the API's answers).  PDFs, XLSX and ZIP files are already compressed and pass
through byte for byte, as does any response that already has a ``Content-Encoding``.  Bodies under
:data:`MINIMUM_SIZE` bytes (a background save's JSON answer, a redirect) are sent as they are: they fit in one
packet either way and compressing them costs time for nothing.  A streamed body (``more_body``) is compressed
chunk by chunk, each chunk flushed, so streaming still streams; no compressor is set up for a small body.  A compressed response's strong ``ETag`` is
made weak (``W/"…"``), since its bytes differ from the plain one's; ``Vary: Accept-Encoding`` is added.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Literal

from litestar.config.compression import CompressionConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import CompressionEncoding
from litestar.middleware.compression import CompressionMiddleware

if TYPE_CHECKING:
    from litestar.types import Message, Scope, Send

#: Bytes below which a body is sent uncompressed (about one TCP segment's payload).
MINIMUM_SIZE = 1024
#: Media types (without parameters) compressed besides every ``text/*`` and ``*+json``/``*+xml`` type.
COMPRESSIBLE_TYPES = frozenset(
    {
        "application/json",
        "application/javascript",
        "application/x-javascript",
        "application/xml",
        "application/x-ndjson",
        "image/svg+xml",
    }
)


def is_compressible(content_type: str) -> bool:
    """Whether a ``Content-Type`` header value names text worth compressing (case and parameters ignored).

    >>> is_compressible("text/html; charset=utf-8"), is_compressible("application/pdf")
    (True, False)
    """
    media_type = content_type.split(";", 1)[0].strip().lower()
    return (
        media_type.startswith("text/")
        or media_type in COMPRESSIBLE_TYPES
        or media_type.endswith(("+json", "+xml"))
    )


class TextCompressionMiddleware(CompressionMiddleware):
    """Litestar's compression, limited to text responses not encoded yet, with a weakened ETag when compressed."""

    def create_compression_send_wrapper(
        self,
        send: Send,
        compression_encoding: Literal[CompressionEncoding.BROTLI, CompressionEncoding.GZIP] | str,
        scope: Scope,
    ) -> Send:
        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders(message)
                etag = headers.get("etag")
                if "content-encoding" in headers and etag and not etag.startswith("W/"):
                    headers["etag"] = f"W/{etag}"
            await send(message)

        make_compressing = super().create_compression_send_wrapper
        compressing: Send | None = None
        start: Message | None = None
        passthrough = False

        async def send_wrapper(message: Message) -> None:
            nonlocal compressing, start, passthrough
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders(message)
                passthrough = "content-encoding" in headers or not is_compressible(
                    headers.get("content-type", "")
                )
                if not passthrough:
                    start = message
                    return
            if passthrough:
                await send(message)
                return
            if compressing is None:
                # A whole body under the minimum goes out as it is, before any compressor is made (a brotli
                # or gzip compressor costs tens of microseconds to set up: most of a small answer's overhead).
                if (
                    start is not None
                    and message["type"] == "http.response.body"
                    and not message.get("more_body", False)
                    and len(message.get("body", b"")) < self.config.minimum_size
                ):
                    passthrough = True
                    await send(start)
                    await send(message)
                    return
                compressing = make_compressing(send_marked, compression_encoding, scope)
                if start is not None:
                    await compressing(start)
            await compressing(message)

        return send_wrapper


def compression_config() -> CompressionConfig:
    """Brotli (quality 5, gzip for clients without it) when the ``brotli`` package is importable, else gzip
    (level 6: close to level 9's size at a fraction of its CPU); both skip bodies under :data:`MINIMUM_SIZE`."""
    backend = "brotli" if importlib.util.find_spec("brotli") is not None else "gzip"
    return CompressionConfig(
        backend=backend,
        minimum_size=MINIMUM_SIZE,
        gzip_compress_level=6,
        brotli_quality=5,
        middleware_class=TextCompressionMiddleware,
    )
