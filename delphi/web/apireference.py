"""``/schema``: the API reference, rendered on the server from the app's own OpenAPI document.

Litestar's bundled viewers load their script and styles from a CDN, which our Content-Security-Policy blocks
(and which would tell a third party who reads our API docs).  This page needs neither: it lists every
operation with its parameters, request body, responses and authentication, in our own page style.  The
machine-readable document stays at ``/schema/openapi.json``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request
from litestar.openapi.plugins import OpenAPIRenderPlugin

METHODS = ("get", "put", "post", "patch", "delete")


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    where: str
    required: bool
    type: str
    description: str


@dataclass(frozen=True, slots=True)
class Operation:
    method: str
    path: str
    summary: str
    description: str
    params: list[Param]
    body: list[str]  # media types
    responses: list[tuple[str, str]]  # (status, description)
    anchor: str


def type_of(schema: dict[str, Any]) -> str:
    """A short, readable type: ``integer (1 to 2147483647)``, ``one of: a, b``, ``string``."""
    if "enum" in schema:
        return "one of: " + ", ".join(str(v) for v in schema["enum"])
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return " or ".join(type_of(s) for s in schema[key])
    kind = str(schema.get("type", "object"))
    lo, hi = schema.get("minimum"), schema.get("maximum")
    if lo is not None and hi is not None:
        return f"{kind} ({lo} to {hi})"
    return kind


def operations(document: dict[str, Any]) -> list[Operation]:
    """Every operation of an OpenAPI 3 ``document`` (a dict), in path order, methods in HTTP order."""
    found = []
    for path in sorted(document.get("paths", {})):
        item = document["paths"][path]
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            params = [
                Param(
                    p["name"],
                    p.get("in", ""),
                    bool(p.get("required")),
                    type_of(p.get("schema", {})),
                    p.get("description", ""),
                )
                for p in op.get("parameters", [])
            ]
            body = sorted((op.get("requestBody") or {}).get("content", {}))
            responses = [
                (code, (r or {}).get("description", ""))
                for code, r in sorted(op.get("responses", {}).items())
            ]
            found.append(
                Operation(
                    method.upper(),
                    path,
                    op.get("summary", ""),
                    op.get("description", ""),
                    params,
                    body,
                    responses,
                    f"{method}-{path}".replace("/", "-").replace("{", "").replace("}", ""),
                )
            )
    return found


class ApiReferencePage(OpenAPIRenderPlugin):
    """Renders ``templates/api/reference.html`` at ``/schema`` (and ``/schema/reference``)."""

    def __init__(self) -> None:
        super().__init__(path=["/reference"])

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        template = request.app.template_engine.engine.get_template("api/reference.html")
        return template.render(
            title=f"{openapi_schema['info']['title']}: reference",
            info=openapi_schema["info"],
            operations=operations(openapi_schema),
            schemes=openapi_schema.get("components", {}).get("securitySchemes", {}),
            json_url=f"{request.scope.get('root_path', '')}/schema/openapi.json",
        ).encode()
