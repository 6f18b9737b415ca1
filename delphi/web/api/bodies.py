"""Every invalid field of an API request's JSON body at once, where decoding stops at the first; and no query
parameter the operation does not take.

Litestar decodes a handler's ``data`` with msgspec, which stops at the first field that does not fit its type
and constraints.  When that happens under ``/api/``, :func:`validation_problem` checks the body again field by
field against the same struct, so the 400 problem body lists every field that is wrong, every required field
that is missing and every field the struct does not know, in the struct's field order.  Each entry is
``{"field": <name>, "message": <reason>}``, the shape of every other problem body's ``errors``.

A NUL character (``\u0000`` in JSON) is dropped from every string of an API body before it is read
(:class:`ApiRequest`, the API router's request class), as the pages' forms drop it: no database stores it alike
(PostgreSQL refuses it in text) and no person means it.

A query parameter the operation does not declare (``?pgae=2`` for ``?page=2``) is refused the same way
(:func:`known_query_parameters`, a guard of the API router) rather than ignored, as an unknown body field is.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import ValidationException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import ParameterKwarg
from litestar.utils.scope.state import ScopeState

#: A JSON ``\u0000`` escape: not preceded by an odd number of backslashes (then it is a literal "\u0000").
_NUL_ESCAPE = re.compile(rb"(?<!\\)((?:\\\\)*)\\u0000")


def without_nul(raw: bytes) -> bytes:
    """``raw`` (a JSON text) with every NUL escape of its strings removed; anything else as it was."""
    return _NUL_ESCAPE.sub(rb"\1", raw) if b"\\u0000" in raw else raw


class ApiRequest(Request):
    """The API's request: its body as sent, less any NUL character (:func:`without_nul`)."""

    async def body(self) -> bytes:
        raw = await super().body()
        cleaned = without_nul(raw)
        if cleaned is not raw:
            self._body = self._connection_state.body = cleaned
        return cleaned


#: Handler arguments Litestar fills from the connection itself, never from the query string.
_RESERVED = frozenset({"request", "socket", "state", "scope", "headers", "cookies", "query", "body", "data"})


def field_problems(struct_type: type[msgspec.Struct], raw: bytes) -> list[tuple[str, str]]:
    """Every problem of ``raw`` (a JSON body) as ``struct_type``: ``(field, message)`` pairs, in field order,
    then unknown fields; ``("", ...)`` when it is no JSON object at all; ``[]`` when it decodes."""
    try:
        value = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return [("", "The body is not valid JSON.")]
    if not isinstance(value, dict):
        return [("", "The body must be a JSON object.")]
    problems: list[tuple[str, str]] = []
    fields = msgspec.structs.fields(struct_type)
    for f in fields:
        if f.encode_name not in value:
            if f.required:
                problems.append((f.encode_name, "Required, and missing."))
            continue
        try:
            msgspec.convert(value[f.encode_name], f.type)
        except msgspec.ValidationError as exc:
            problems.append((f.encode_name, str(exc).replace(" - at `$`", "")))
    if struct_type.__struct_config__.forbid_unknown_fields:
        known = {f.encode_name for f in fields}
        problems.extend((name, "Not a field of this request.") for name in value if name not in known)
    if not problems:  # fine field by field: a constraint across fields (a struct's __post_init__)
        try:
            msgspec.json.decode(raw, type=struct_type)
        except msgspec.ValidationError as exc:
            problems.append(("", str(exc)))
    return problems


def _data_struct(request: Request) -> type[msgspec.Struct] | None:
    """The msgspec struct the request's handler decodes its body into, if it has one."""
    handler = request.scope.get("route_handler")
    field = getattr(handler, "parsed_data_field", None)
    annotation: Any = getattr(field, "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return annotation
    return None


def body_problems(request: Request, exc: ValidationException) -> list[tuple[str, str]] | None:
    """The problems of a body that failed to decode into its handler's struct, field by field; None when the
    failure was not the body's (a path or query parameter), the handler takes no struct, or the body was not
    kept.  Exception handlers are synchronous, so the body is the one Litestar read and kept on the scope
    (its ``ScopeState``; ``litestar`` is pinned, and ``tests/api`` pins this behaviour)."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    if not any(isinstance(e, dict) and e.get("source") == "body" for e in extra):
        return None
    struct_type = _data_struct(request)
    raw = ScopeState.from_scope(request.scope).body
    if struct_type is None or not isinstance(raw, bytes):
        return None
    return field_problems(struct_type, raw) or None


@lru_cache(maxsize=512)
def query_names(handler: BaseRouteHandler) -> frozenset[str]:
    """The query parameters ``handler`` declares: its arguments that are no path parameter, dependency,
    reserved name, header or cookie, by their query name."""
    path = {name for p in handler.paths for name in re.findall(r"\{(\w+)", p)}
    dependencies = set(handler.resolve_dependencies())
    names = set()
    for name, field in handler.parsed_fn_signature.parameters.items():
        if name in path or name in dependencies or name in _RESERVED:
            continue
        kwarg = field.kwarg_definition
        if isinstance(kwarg, ParameterKwarg):
            if kwarg.header or kwarg.cookie:
                continue
            names.add(kwarg.query or name)
        elif kwarg is None:
            names.add(name)
    return frozenset(names)


def known_query_parameters(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Refuse (400, every one listed) the query parameters the operation does not take."""
    allowed = query_names(handler)
    unknown = [name for name in connection.query_params if name not in allowed]
    if unknown:
        raise ValidationException(
            "The request has query parameters this operation does not take.",
            extra=[
                {"key": n, "message": "Not a query parameter of this operation.", "source": "query"}
                for n in unknown
            ],
        )
