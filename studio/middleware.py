from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.core.signals import got_request_exception
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from replication.yamlio import MAX_BYTES
from studio.api.problems import is_api
from studio.services import audit
from studio.views.errors import error_page, logger

MAX_MB = MAX_BYTES // 2**20

# Scripts and styles only from the studio itself (htmx and the graph library are
# vendored); inline styles stay allowed for htmx's indicator styles.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


class ErrorPagesMiddleware:
    """The studio's own 400, 404 and 500 pages, with its navigation, whatever DEBUG says (Django
    shows its debug pages instead while DEBUG is on). A body larger than the studio takes is
    refused here, before CSRF's check reads it and answers a bare "Bad Request (400)"."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = request.META.get("CONTENT_LENGTH") or "0"
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if not length.isdigit() or int(length) > limit:
            message = f"The request is larger than the studio takes: the document is larger than {MAX_MB} MB."
            return error_page(request, 400, message)
        try:
            resolve(request.path_info)
        except Resolver404:
            # CommonMiddleware turns it into a redirect when the address lacks only its final /.
            return error_page(request, 404)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404):
            return error_page(request, 404)
        if isinstance(exception, PermissionDenied):
            return None  # Django's 403
        if isinstance(exception, BadRequest | SuspiciousOperation):
            return error_page(request, 400)
        # Logged as Django logs an uncaught error, and signalled (the test client re-raises it).
        logger.error("Internal Server Error: %s", request.path, exc_info=exception)
        got_request_exception.send(sender=None, request=request)
        return error_page(request, 500)


def client_ip(request: HttpRequest) -> str | None:
    """The client's address for sign-in throttling: REMOTE_ADDR, or behind one of
    STUDIO_TRUSTED_PROXIES the right-most X-Forwarded-For entry (the one that proxy added)."""
    remote = request.META.get("REMOTE_ADDR")
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if remote in settings.STUDIO_TRUSTED_PROXIES and forwarded:
        return forwarded.split(",")[-1].strip()
    return remote


class NulCharactersMiddleware:
    """A NUL character in the address or the query is refused with a 400 before any view reads
    it: no column stores one (PostgreSQL refuses it in text, which answered 500 on the pages
    whose parameters reach a query). A form's fields are the forms' to refuse, naming the field
    (Django's fields refuse a NUL); the API refuses it itself, as a problem document."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_api(request) and _has_nul(request):
            return error_page(
                request, 400, "The request holds a NUL character (\\0), which cannot be stored."
            )
        return self.get_response(request)


def _has_nul(request: HttpRequest) -> bool:
    query = request.GET.lists()
    return "\x00" in request.path or any("\x00" in text for key, values in query for text in [key, *values])


class AuditActorMiddleware:
    """What a request changes is recorded in the audit trail as done by its user, or by the API
    token it carried (known only once the API's authentication ran: hence a function)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with audit.acting(lambda: audit.request_actor(request)):
            return self.get_response(request)
