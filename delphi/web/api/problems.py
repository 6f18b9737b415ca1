"""The error answers every API operation documents: RFC 9457 problem details (:mod:`delphi.web.errors`)."""

from __future__ import annotations

import msgspec
from litestar.openapi.datastructures import ResponseSpec


class Problem(msgspec.Struct):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str


def problem_spec(description: str) -> ResponseSpec:
    """An ``application/problem+json`` answer described as ``description``."""
    return ResponseSpec(Problem, description=description, media_type="application/problem+json")


PROBLEMS = {
    400: problem_spec("A path parameter, query parameter or the body is not valid; `errors` says which."),
    401: problem_spec("Not signed in, or the API token is wrong or revoked."),
    403: problem_spec("Your role on this panel does not allow this, or the CSRF header is missing."),
    404: problem_spec("No such panel (or no access to it), round or item."),
}
CONFLICT = {409: problem_spec("Not available in the current state, e.g. a round that has not closed.")}
