"""The HTTP API (`/api/v1/`): the studio's services and selectors over HTTP, with the same
rules as the pages (studio.roles), for programs: CI, orchestrators, dashboards.

django-ninja makes the endpoints (a function each, as the views are), checks the bodies and
parameters against their pydantic schemas and writes the OpenAPI 3.1 document
(`/api/v1/schema/`) and its reference page (`/api/v1/docs/`, Swagger UI from ninja's wheel:
no network). Every error is an RFC 9457 problem document (studio.api.problems).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from replication.dagster.location import KeyConflict
from replication.lineage.graph import SelectionError
from studio.api import auth
from studio.api.http import VersionRequired
from studio.api.problems import CONFLICT, INVALID, MEDIA_TYPE, REFUSED, VERSION_REQUIRED, errors_of, problem
from studio.errors import Conflict, NotFound, Refused

logger = logging.getLogger("django.request")


class StudioAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> Any:
        """Ninja's document, with the problem answers in their media type and the ways to
        authenticate described."""
        schema = super().get_openapi_schema(**kwargs)
        for path in schema["paths"].values():
            for operation in path.values():
                for status, answer in operation.get("responses", {}).items():
                    content = answer.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        answer["content"] = {MEDIA_TYPE: content.pop("application/json")}
        schemes = schema.get("components", {}).get("securitySchemes", {})
        if "TokenAuth" in schemes:
            schemes["TokenAuth"]["description"] = "A personal API token, from the tokens page: sst_..."
        return schema


def _docs_access(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The document and its page: for the signed-in, by session or token."""

    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated:
            return view(request, *args, **kwargs)
        if request.headers.get("Authorization"):
            try:
                if auth.READ[0](request) is not None:
                    return view(request, *args, **kwargs)
            except auth.LockedOut:
                return auth.lockout(request)
            return problem(request, 401, "The token is unknown, expired or revoked.")
        if request.path.endswith("/docs/"):
            return redirect_to_login(request.get_full_path())
        return problem(request, 401, "Sign in, or send a token: Authorization: Bearer TOKEN.")

    return wrapped


api = StudioAPI(
    title="Sling Studio API",
    version="1",
    description=(
        "Replications, streams, connections, runs, schedules, alerts and lineage, with the rules of "
        "the studio's pages. Authenticate with a personal token (`Authorization: Bearer TOKEN`, "
        "from the tokens page) or, in the browser, the session (with its CSRF token). Every change "
        "names the version it edits (`If-Match` with the ETag read, or `version`). Errors are RFC "
        "9457 problem documents."
    ),
    urls_namespace="api",
    auth=auth.READ,
    openapi_url="/schema/",
    docs_url="/docs/",
    docs_decorator=_docs_access,
)


def _refused(request: HttpRequest, exc: Refused) -> HttpResponse:
    errors = [e for name, found in exc.by_name.items() for e in errors_of(found, f"{name}.yaml")]
    errors = errors or errors_of(exc.problems)
    detail = "; ".join(e.get("where") or e["field"] or "" for e in errors if e["severity"] == "error")
    return problem(
        request,
        422,
        exc.problems[0].message if len(exc.problems) == 1 else f"Refused: problems at {detail}",
        type=REFUSED,
        title="Refused: nothing was saved",
        errors=errors,
    )


def _conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    header = getattr(request, "version_in_header", False)
    return problem(
        request,
        412 if header else 409,
        f"{exc}; the change was made on version {exc.base_version}. Read it again and redo the change.",
        type=CONFLICT,
        title="Changed by someone else: nothing was saved",
        version=exc.version,
        base_version=exc.base_version,
        changes=exc.diff,
    )


def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = []
    for error in exc.errors:
        place = ".".join(str(part) for part in error.get("loc", ()))
        errors.append({"severity": "error", "message": error.get("msg", "invalid"), "field": place or None})
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "the request does not fit the API"
    return problem(request, 422, detail, type=INVALID, title="Invalid request", errors=errors)


def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc, AuthenticationError):
        return problem(
            request,
            401,
            "Send a valid token (Authorization: Bearer TOKEN): it is missing, unknown, expired or revoked.",
            headers={"WWW-Authenticate": 'Bearer realm="sling-studio"'},
        )
    return problem(request, exc.status_code, str(exc))


def _server_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    # Logged with its traceback, as Django logs an uncaught error; the answer says no more.
    logger.error("Internal Server Error: %s", request.path, exc_info=exc)
    return problem(request, 500, "The studio failed to answer this request. It was logged; try again.")


for exception, handler in [
    (Refused, _refused),
    (Conflict, _conflict),
    (ValidationError, _invalid),
    (HttpError, _http_error),
    (NotFound, lambda request, exc: problem(request, 404, str(exc))),
    (Http404, lambda request, exc: problem(request, 404, str(exc) or "Nothing here.")),
    (auth.Forbidden, lambda request, exc: problem(request, 403, str(exc))),
    (VersionRequired, lambda request, exc: problem(request, 428, str(exc), type=VERSION_REQUIRED)),
    (auth.LockedOut, lambda request, exc: auth.lockout(request)),
    (KeyConflict, lambda request, exc: problem(request, 422, str(exc), type=REFUSED)),
    (SelectionError, lambda request, exc: problem(request, 422, str(exc), type=INVALID)),
    (Exception, _server_error),
]:
    api.add_exception_handler(exception, handler)


# `\u0000` in JSON, unless its backslash is itself escaped (`\\u0000` is text).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _holds_nul(request: HttpRequest) -> bool:
    """A NUL in the address, the query or a JSON body: the pages' forms refuse it (Django's
    ProhibitNullCharactersValidator) and PostgreSQL cannot store it, so the API refuses it too,
    before any endpoint sees it."""
    if "\x00" in request.path or any(
        "\x00" in text for key, values in request.GET.lists() for text in [key, *values]
    ):
        return True
    body = request.body if request.method in ("POST", "PUT", "PATCH") else b""
    return b"\x00" in body or _JSON_NUL.search(body) is not None


def _answered(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """An endpoint as Django serves it: open to LoginRequiredMiddleware (the API answers 401
    itself), and a method it lacks answered 405 as a problem document (ninja's is bare)."""

    @login_not_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if _holds_nul(request):
            return problem(
                request, 422, "NUL characters (\\u0000) cannot be stored: remove them.", type=INVALID
            )
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and response.get("Content-Type") != MEDIA_TYPE:
            allow = response.get("Allow", "")
            return problem(
                request, 405, f"{request.method} is not allowed here: use {allow}.", headers={"Allow": allow}
            )
        return response

    wrapped.csrf_exempt = getattr(view, "csrf_exempt", False)  # type: ignore[attr-defined]
    return wrapped


def urlpatterns() -> tuple[list[URLPattern], str, str]:
    """The API's URL patterns, for `include()` under `api/v1/`."""
    from studio.api import (  # noqa: F401
        audit,
        columns,
        connections,
        lineage,
        replications,
        runs,
        schedules,
        streams,
    )

    patterns, app, namespace = api.urls
    for pattern in patterns:
        pattern.callback = _answered(pattern.callback)
    return patterns, app, namespace
