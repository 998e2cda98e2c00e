"""RFC 9457 problem documents: every error of the API, and what the studio says of a request to
the API before it reaches it (an unknown address, a body too large, a lockout).

A document has a `type` (a URI naming the kind of problem: `about:blank` when the status says it
all), a `title`, the `status`, a `detail` for this occurrence and the `instance` (the path asked
for); a refusal lists `errors`, each naming its place: `field` (a form field, or a path into the
replication such as `streams["public.users"].mode`), `line` and `where` (`FILE:LINE` for a
document). Never a stack trace.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.http import HttpRequest, HttpResponse

from replication.problems import Problem

MEDIA_TYPE = "application/problem+json"
PREFIX = "/api/"
# The kinds of problem the studio names (clients compare `type`, not `title`).
REFUSED = "urn:sling-studio:problem:refused"
CONFLICT = "urn:sling-studio:problem:conflict"
VERSION_REQUIRED = "urn:sling-studio:problem:version-required"
INVALID = "urn:sling-studio:problem:invalid-request"
RUN_REFUSED = "urn:sling-studio:problem:run-refused"
LOCKED = "urn:sling-studio:problem:locked-out"

TITLES = {
    400: "Bad request",
    401: "Not signed in",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request too large",
    422: "Unprocessable content",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
}


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(PREFIX)


def errors_of(problems: Iterable[Problem], file: str | None = None) -> list[dict[str, Any]]:
    """Problems as the `errors` of a document: each with its place, its line when known and,
    for a document named `file`, `FILE:LINE`."""
    out = []
    for p in problems:
        error: dict[str, Any] = {"severity": p.severity, "message": p.message, "field": p.where or None}
        error["line"] = p.line
        if file is not None:
            error["file"] = file
            error["where"] = f"{file}:{p.line}" if p.line else file
        if p.code:
            error["code"] = p.code
        out.append(error)
    return out


def problem(
    request: HttpRequest | None,
    status: int,
    detail: str,
    *,
    type: str = "about:blank",
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **members: Any,
) -> HttpResponse:
    """The answer: a problem document with `members` as its extension members."""
    document = {
        "type": type,
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        **({"instance": request.path} if request is not None else {}),
        **members,
    }
    response = HttpResponse(json.dumps(document), status=status, content_type=MEDIA_TYPE, headers=headers)
    return response
