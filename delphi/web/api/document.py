"""What the app adds to the OpenAPI document Litestar builds from the handlers, so it says what the server does.

Three things the handlers' declarations do not carry, each added in one place for every operation:

- **Closed bodies.**  The API's request bodies are msgspec structs with ``forbid_unknown_fields=True``: a field
  the struct does not know is a 400 naming it (:mod:`delphi.web.api.bodies`), so a typo (``"closes"`` for
  ``"closes_at"``) is never silently ignored.  :class:`ClosedStructSchemaPlugin` writes
  ``additionalProperties: false`` into the schema of every such struct.
- **Idempotency answers.**  Every operation taking an ``Idempotency-Key`` (:mod:`delphi.web.api.idempotency`)
  may answer 422 (the key was used for another request) and 409 (a request with the key is still being
  handled); :func:`document_idempotency` documents both where the handler has not.
- **Patterns read alike everywhere.**  The server checks a pattern with Python's ``re`` (msgspec), where ``\\s``
  is Unicode whitespace including the separators U+001C to U+001F and U+0085; a JSON Schema pattern is read as
  ECMA-262, where ``\\s`` is not those but is U+FEFF.  :func:`explicit_whitespace` writes ``\\s`` out as the
  characters Python means, so a client's check of an e-mail address agrees with the server's.
- **Links** between operations (:mod:`delphi.web.api.links`).

:class:`DelphiOpenAPIConfig` is the app's ``openapi_config``; the passes run when the document is turned into
JSON, which serves ``/schema/openapi.json`` and the reference page alike.
"""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any

import msgspec
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import OpenAPI

from delphi.web.api.links import add_links

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.openapi.spec import Schema
    from litestar.typing import FieldDefinition

IDEMPOTENCY_HEADER = "idempotency-key"
#: The answers of the idempotency check (:mod:`delphi.accounts.idempotency`), by status.
IDEMPOTENCY_ANSWERS = {
    "409": "A request with this Idempotency-Key is still being handled: retry it in a moment.",
    "422": "This Idempotency-Key was used for a different request in the last 24 hours; `errors` says so.",
}


#: What ``\\s`` matches in a Python ``str`` pattern, as characters every regex dialect reads alike.
PYTHON_WHITESPACE = r"\t\n\x0b\x0c\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"


def explicit_whitespace(pattern: str) -> str:
    """``pattern`` with every ``\\s`` written out as :data:`PYTHON_WHITESPACE` (inside a character class, its
    characters; outside, a class of them) and every ``\\S`` outside a class as the negated class.  Other escapes
    are kept as they are; ``\\S`` inside a class is kept (no dialect-neutral form)."""
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if nxt == "s":
                out.append(PYTHON_WHITESPACE if in_class else f"[{PYTHON_WHITESPACE}]")
            elif nxt == "S" and not in_class:
                out.append(f"[^{PYTHON_WHITESPACE}]")
            else:
                out.append(c + nxt)
            i += 2
            continue
        if c == "[" and not in_class:
            in_class = True
            out.append(c)
            if pattern[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
            if pattern[i + 1 : i + 2] == "]":  # a "]" first in a class is a character
                out.append("]")
                i += 1
        elif c == "]" and in_class:
            in_class = False
            out.append(c)
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _rewrite_patterns(node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                node[key] = explicit_whitespace(value)
            else:
                _rewrite_patterns(value)
    elif isinstance(node, list):
        for value in node:
            _rewrite_patterns(value)


def patterns_read_alike(document: dict[str, Any]) -> dict[str, Any]:
    """Every ``pattern`` of ``document`` (changed in place and returned) through :func:`explicit_whitespace`."""
    _rewrite_patterns(document)
    return document


#: msgspec's constraints of a list's items, and the JSON Schema keyword each is written as.
_ITEM_BOUNDS = {
    "ge": "minimum",
    "le": "maximum",
    "gt": "exclusive_minimum",
    "lt": "exclusive_maximum",
    "min_length": "min_length",
    "max_length": "max_length",
    "pattern": "pattern",
}


def _bound_items(prop: Any, kind: Any) -> None:
    """Write the constraints of a list field's items (``kind``, as :func:`msgspec.inspect.type_info` gives it,
    possibly ``list | None``) into its property schema ``prop``, where Litestar leaves the items bare."""

    def bare(t: Any) -> Any:
        return bare(t.type) if isinstance(t, msgspec.inspect.Metadata) else t

    lists = [bare(t) for t in getattr(bare(kind), "types", (kind,))]
    lists = [t for t in lists if isinstance(t, msgspec.inspect.ListType)]
    arrays = [prop, *(getattr(prop, "one_of", None) or [])]
    for array in arrays:
        items = getattr(array, "items", None)
        if not lists or items is None or not hasattr(items, "type"):
            continue
        for bound, keyword in _ITEM_BOUNDS.items():
            value = getattr(bare(lists[0].item_type), bound, None)
            if value is not None:
                setattr(items, keyword, value)


class ClosedStructSchemaPlugin(StructSchemaPlugin):
    """Litestar's schema of a msgspec struct, closed (``additionalProperties: false``) when the struct forbids
    unknown fields, with the constraints of list items (``list[Annotated[int, Meta(ge=1)]]``) that Litestar
    drops; passed in the app's ``plugins`` so that it comes before Litestar's own."""

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info = msgspec.inspect.type_info(field_definition.type_)
        if isinstance(info, msgspec.inspect.StructType):
            if info.forbid_unknown_fields:
                schema.additional_properties = False
            for f in info.fields:
                prop = (schema.properties or {}).get(f.encode_name)
                if prop is not None:
                    _bound_items(prop, f.type)
        return schema


def _takes_idempotency_key(operation: dict[str, Any]) -> bool:
    return any(
        p.get("in") == "header" and str(p.get("name", "")).lower() == IDEMPOTENCY_HEADER
        for p in operation.get("parameters", [])
    )


def document_idempotency(document: dict[str, Any]) -> dict[str, Any]:
    """Add the 409 and 422 of :data:`IDEMPOTENCY_ANSWERS` to every operation of ``document`` (a dict, changed in
    place and returned) that takes an ``Idempotency-Key`` and does not document them: problem bodies shaped as
    its 404 (every API operation documents one, :data:`delphi.web.api.problems.PROBLEMS`)."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or not _takes_idempotency_key(operation):
                continue
            responses = operation.setdefault("responses", {})
            template = responses.get("404", {})
            for status, description in IDEMPOTENCY_ANSWERS.items():
                if status not in responses:
                    responses[status] = {**template, "description": description}
    return document


class DelphiOpenAPI(OpenAPI):
    """The OpenAPI document, finished (patterns, idempotency answers, links) when it is turned into JSON."""

    def to_schema(self) -> dict[str, Any]:
        return add_links(document_idempotency(patterns_read_alike(super().to_schema())))


class DelphiOpenAPIConfig(OpenAPIConfig):
    """Litestar's OpenAPI configuration, building a :class:`DelphiOpenAPI` document."""

    def to_openapi_schema(self) -> OpenAPI:
        base = super().to_openapi_schema()
        return DelphiOpenAPI(**{f.name: getattr(base, f.name) for f in fields(base)})
