"""What every resource of the API does alike: the version an edit names (`If-Match`, or a
`version` field), an answer's ETag, and a page of a list."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse

from studio.services.versions import VERSION_MISSING

T = TypeVar("T")
PER_PAGE = 50
PER_PAGE_MAX = 500
_ETAG = re.compile(r'\s*(?:W/)?"(\d{1,9})"\s*')


class VersionRequired(Exception):
    """An edit that names no version: answered 428, nothing saved."""


def edited_version(request: HttpRequest, version: int | None) -> int:
    """The version an edit was made on: `If-Match` (an ETag as the API gives them, `"12"`), else
    the body's `version`. A stale one is refused by the service with `Conflict`: 412 when it
    came in `If-Match`, 409 otherwise (studio.api.api)."""
    header = request.headers.get("If-Match")
    if header is None:
        if version is None:
            raise VersionRequired(f"{VERSION_MISSING}: send If-Match with the ETag you read, or `version`")
        return version
    matched = _ETAG.fullmatch(header)
    if matched is None:
        raise VersionRequired(
            f'If-Match must be one ETag as the API gives them, e.g. "12", not {header[:40]!r}'
        )
    request.version_in_header = True  # type: ignore[attr-defined]
    return int(matched[1])


def with_etag(response: HttpResponse, version: int) -> HttpResponse:
    response["ETag"] = f'"{version}"'
    return response


def paged(
    items: Sequence[T] | Any, page: int, per_page: int, out: Callable[[T], Any] = lambda item: item
) -> dict[str, Any]:
    """One page of `items` (a list or a query), each given by `out`: {count, page, pages, items}."""
    pages = Paginator(items, max(1, min(per_page, PER_PAGE_MAX)))
    current = pages.get_page(page)
    return {
        "count": pages.count,
        "page": current.number,
        "pages": pages.num_pages,
        "items": [out(item) for item in current.object_list],
    }
