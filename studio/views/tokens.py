"""Personal API tokens: the page of one's own (an admin's lists every token), making one (shown
once, on the answer to its form) and revoking one."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from studio.errors import NotFound, Refused
from studio.forms.tokens import TokenForm
from studio.roles import ADMIN, roles_of
from studio.selectors.tokens import tokens_visible
from studio.services import tokens as service
from studio.views.saving import refusal_into


@require_http_methods(["GET", "POST"])
def tokens(request: HttpRequest) -> HttpResponse:
    """Any signed-in user makes tokens: one acts with its user's role, never more."""
    form = TokenForm(request.POST if request.method == "POST" else None)
    made = None
    if form.is_bound and form.is_valid():
        try:
            made = service.token_create(user=request.user, **form.token_fields())
        except Refused as exc:
            refusal_into(form, exc)
        else:
            form = TokenForm()
    every = ADMIN in roles_of(request.user)  # an admin's list has every user's tokens
    context = {"form": form, "tokens": tokens_visible(request.user), "made": made, "every": every}
    response = render(request, "studio/tokens.html", context, status=422 if form.errors else 200)
    add_never_cache_headers(response)  # the answer may hold the token itself
    return response


@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        token = service.token_revoke(token_id=pk, by=request.user)
    except NotFound as exc:
        raise Http404(str(exc)) from None
    messages.success(request, f"Revoked the token {token}: it works no more.")
    return redirect("tokens")
