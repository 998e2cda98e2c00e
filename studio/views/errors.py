"""The studio's error pages (400, 404, 500, and a sign-in lockout's 429): its navigation and a
sentence, whatever DEBUG says.

`ErrorPagesMiddleware` (studio/middleware.py) answers with them before Django's debug pages
could; the `handler*` views in studio/urls.py serve what reaches Django's own handling.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.html import escape
from django_htmx.http import reswap, retarget

from studio.api.problems import is_api, problem

logger = logging.getLogger("django.request")

TITLES = {400: "Bad request", 404: "Not found", 500: "Something went wrong"}
MESSAGES = {
    400: "The studio could not read this request.",
    404: "There is nothing at this address: it may have been renamed or deleted.",
    500: "The studio failed to answer this request. It was logged; try again, or tell an admin.",
}


def error_page(request: HttpRequest, status: int, message: str | None = None) -> HttpResponse:
    """The page for `status`; for htmx, the sentence in the page's notices; for the API, a
    problem document."""
    if is_api(request):
        return problem(request, status, message or MESSAGES[status])
    context = {"status": status, "title": TITLES[status], "message": message or MESSAGES[status]}
    htmx = request.headers.get("HX-Request") == "true"
    template = "studio/_error.html" if htmx else "studio/error.html"
    try:
        content = render_to_string(template, context, request)
    except Exception:  # the page needs the database for the user's name: without it, plain text
        logger.exception("error page %s could not be rendered", status)
        content = f"<!doctype html><title>{context['title']}</title><h1>{context['title']}</h1>"
        content += f"<p>{escape(context['message'])}</p><p><a href='/'>Sling Studio</a></p>"
    response = HttpResponse(content, status=status)
    return reswap(retarget(response, "#notices"), "innerHTML") if htmx else response


def locked_out(request: HttpRequest, original_response: Any = None, credentials: Any = None) -> HttpResponse:
    """django-axes' answer to a sign-in during a lockout (AXES_LOCKOUT_CALLABLE); the API's
    token lockout answers itself (studio.api.auth)."""
    if is_api(request):
        from studio.api.auth import lockout  # the API's modules load after the views'

        return lockout(request)
    username = (credentials or {}).get("username") or request.POST.get("username", "")
    context = {
        "username": str(username)[:150],
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    }
    return render(request, "studio/locked.html", context, status=429)


def bad_request(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return error_page(request, 400)


def not_found(request: HttpRequest, exception: Any = None) -> HttpResponse:
    return error_page(request, 404)


def server_error(request: HttpRequest) -> HttpResponse:
    return error_page(request, 500)
