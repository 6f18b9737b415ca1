"""OpenAPI links of ``/api/v1``: which answer gives the ids the next request needs, declared in one table.

A research team's script creates a panel, then adds groups to it, then panellists to a group; the OpenAPI
document says so with links (OpenAPI 3.1, "Link Object"): on an operation's answer, the operations that can
follow it and where each of their parameters comes from (``$response.body#/id``: the ``id`` of the answer's
body; ``$request.path.panel_id``: the panel of the request just made).  Client generators and Schemathesis'
stateful mode follow them.  Litestar does not emit links, so :data:`LINKS` declares them and
:func:`add_links` writes them into the document when it is built (:mod:`delphi.web.api.document`: the JSON at
``/schema/openapi.json`` and the reference page alike).

Operations are named by method and path (``"POST /api/v1/panels"``), as the API reference shows them, and
resolved to the document's ``operationId`` when it is built.  A link whose source, answer or target the
document does not have is left out (see :func:`missing_links`, which a test keeps empty).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PANEL = "/api/v1/panels/{panel_id}"
THIS_PANEL = "$request.path.panel_id"


@dataclass(frozen=True, slots=True)
class Link:
    """One link: from an answer (``status``) of ``source`` to ``target``, both ``"METHOD /path"``.

    ``parameters`` maps the target's parameter names to runtime expressions; ``body`` maps request body
    fields to runtime expressions (merged into a body the client fills in, e.g. the ``group_id`` of a new
    panellist).  ``name`` is the link's key in the document (unique per answer).
    """

    name: str
    source: str
    status: str
    target: str
    parameters: dict[str, str]
    body: dict[str, str] = field(default_factory=dict)
    description: str = ""


def _from_new_panel(name: str, target: str, description: str) -> Link:
    return Link(
        name, "POST /api/v1/panels", "201", target, {"panel_id": "$response.body#/id"}, {}, description
    )


def _on_panel(
    name: str, source: str, status: str, target: str, parameters: dict[str, str], **kw: Any
) -> Link:
    """A link between two operations of the same panel: the target's ``panel_id`` is the request's."""
    return Link(name, source, status, target, {"panel_id": THIS_PANEL, **parameters}, **kw)


LINKS: tuple[Link, ...] = (
    # A new panel: read it, change it, and set it up.
    _from_new_panel("GetPanel", f"GET {PANEL}", "The panel just created."),
    _from_new_panel("ChangePanel", f"PATCH {PANEL}", "Change the new panel's settings."),
    _from_new_panel("AddGroup", f"POST {PANEL}/groups", "Add a stakeholder group to the new panel."),
    _from_new_panel("AddStatement", f"POST {PANEL}/statements", "Add a statement to the new panel."),
    _from_new_panel("ImportStatements", f"POST {PANEL}/statements/import", "Import statements from CSV."),
    _from_new_panel("ImportPanellists", f"POST {PANEL}/panellists/import", "Import panellists from CSV."),
    _from_new_panel("ListRounds", f"GET {PANEL}/rounds", "The new panel's rounds (round 1, drafted)."),
    # Panels listed: read one.
    Link(
        "GetPanel",
        "GET /api/v1/panels",
        "200",
        f"GET {PANEL}",
        {"panel_id": "$response.body#/*/id"},
        description="One of the panels listed.",
    ),
    # A new group: read, rename or delete it, add a panellist to it.
    *(
        _on_panel(name, f"POST {PANEL}/groups", "201", target, {"group_id": "$response.body#/id"})
        for name, target in (
            ("GetGroup", f"GET {PANEL}/groups/{{group_id}}"),
            ("ChangeGroup", f"PATCH {PANEL}/groups/{{group_id}}"),
            ("DeleteGroup", f"DELETE {PANEL}/groups/{{group_id}}"),
        )
    ),
    _on_panel(
        "AddPanellist",
        f"POST {PANEL}/groups",
        "201",
        f"POST {PANEL}/panellists",
        {},
        body={"group_id": "$response.body#/id"},
        description="Add a panellist to the new group.",
    ),
    # A new statement: read, change or delete it.
    *(
        _on_panel(name, f"POST {PANEL}/statements", "201", target, {"statement_id": "$response.body#/id"})
        for name, target in (
            ("GetStatement", f"GET {PANEL}/statements/{{statement_id}}"),
            ("ChangeStatement", f"PATCH {PANEL}/statements/{{statement_id}}"),
            ("DeleteStatement", f"DELETE {PANEL}/statements/{{statement_id}}"),
        )
    ),
    # A new panellist: read them, mail them a new personal link.
    *(
        _on_panel(name, f"POST {PANEL}/panellists", "201", target, {"panellist_id": "$response.body#/id"})
        for name, target in (
            ("GetPanellist", f"GET {PANEL}/panellists/{{panellist_id}}"),
            ("ReissueLink", f"POST {PANEL}/panellists/{{panellist_id}}/reissue"),
        )
    ),
    # The rounds listed: read, schedule, open, close or remind one of them.
    *(
        _on_panel(name, f"GET {PANEL}/rounds", "200", target, {"number": "$response.body#/*/number"})
        for name, target in (
            ("GetRound", f"GET {PANEL}/rounds/{{number}}"),
            ("ScheduleRound", f"PUT {PANEL}/rounds/{{number}}/schedule"),
            ("OpenRound", f"POST {PANEL}/rounds/{{number}}/open"),
            ("CloseRound", f"POST {PANEL}/rounds/{{number}}/close"),
            ("RemindRound", f"POST {PANEL}/rounds/{{number}}/remind"),
        )
    ),
    # A round opened: close it; a round closed: its results.
    _on_panel(
        "CloseRound",
        f"POST {PANEL}/rounds/{{number}}/open",
        "200",
        f"POST {PANEL}/rounds/{{number}}/close",
        {"number": "$response.body#/number"},
    ),
    _on_panel(
        "GetResults",
        f"POST {PANEL}/rounds/{{number}}/close",
        "200",
        f"GET {PANEL}/rounds/{{number}}/results",
        {"number": "$response.body#/number"},
    ),
)


def _operation(document: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The operation object of ``"METHOD /path"`` in ``document``, or None."""
    method, _, path = name.partition(" ")
    item = document.get("paths", {}).get(path)
    return item.get(method.lower()) if isinstance(item, dict) else None


def _link_object(document: dict[str, Any], link: Link) -> dict[str, Any] | None:
    """The Link Object of ``link`` for ``document``, or None when its source answer or target is missing."""
    source, target = _operation(document, link.source), _operation(document, link.target)
    if source is None or target is None or "operationId" not in target:
        return None
    if link.status not in source.get("responses", {}):
        return None
    obj: dict[str, Any] = {"operationId": target["operationId"], "parameters": dict(link.parameters)}
    if link.body:
        obj["requestBody"] = dict(link.body)
    if link.description:
        obj["description"] = link.description
    return obj


def add_links(document: dict[str, Any], links: tuple[Link, ...] = LINKS) -> dict[str, Any]:
    """Write ``links`` into ``document`` (an OpenAPI 3 document as a dict, changed in place and returned):
    each under its source operation's answer, ``responses[status]["links"][name]``."""
    for link in links:
        obj = _link_object(document, link)
        if obj is not None:
            answer = _operation(document, link.source)["responses"][link.status]  # type: ignore[index]
            answer.setdefault("links", {})[link.name] = obj
    return document


def missing_links(document: dict[str, Any], links: tuple[Link, ...] = LINKS) -> list[Link]:
    """The declared links ``document`` cannot carry (an operation or answer it does not have)."""
    return [link for link in links if _link_object(document, link) is None]
