"""What the API's answers and bodies hold, shared by several resources (pydantic, through
django-ninja: they make the OpenAPI document too)."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field


class ProblemError(Schema):
    severity: str = Field(description="error (refuses the change) or warning")
    message: str
    field: str | None = Field(
        None, description='a form field, or a place in the replication: streams["x"].mode'
    )
    line: int | None = Field(None, description="the line in the YAML document, when known")
    file: str | None = Field(None, description="the document, when several were sent")
    where: str | None = Field(None, description="FILE:LINE")
    code: str | None = None


class Problem(Schema):
    """An RFC 9457 problem document (application/problem+json)."""

    type: str = Field(description="names the kind of problem; about:blank when the status says it")
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[ProblemError] | None = Field(None, description="each refused place, for a refusal")
    version: int | None = Field(None, description="a conflict: the version stored now")
    base_version: int | None = Field(None, description="a conflict: the version the change was made on")
    changes: str | None = Field(None, description="a conflict: what the other change did (a unified diff)")
    run: int | None = Field(None, description="a refused run: its id (it is recorded, failed)")


# The problem answers of a read (any request may be malformed: 400, 422), a change, and a change
# of something versioned.
READ_ERRORS: dict[int, Any] = {400: Problem, 401: Problem, 404: Problem, 422: Problem, 429: Problem}
CHANGE_ERRORS: dict[int, Any] = {**READ_ERRORS, 403: Problem}
VERSIONED_ERRORS: dict[int, Any] = {**CHANGE_ERRORS, 409: Problem, 412: Problem, 428: Problem}
