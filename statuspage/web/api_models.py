"""Typed JSON bodies of the /api/v1 write API, and how a validation error
becomes `{"error": "...", "field": "..."}` (400 for a body that is not
JSON, 422 for JSON of the wrong shape)."""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

COMPONENT_ID_MAX_CHARS = 64
VERSION_MAX_CHARS = 200
WHO_MAX_CHARS = 200
LINK_MAX_CHARS = 2000


class DeploymentIn(BaseModel):
    """`POST /api/v1/deployments`."""

    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)

    component: str = Field(min_length=1, max_length=COMPONENT_ID_MAX_CHARS)
    version: str = Field(min_length=1, max_length=VERSION_MAX_CHARS)
    who: str = Field(default="", max_length=WHO_MAX_CHARS)
    link: str | None = Field(default=None, max_length=LINK_MAX_CHARS)
    at: AwareDatetime | None = None

    @field_validator("link")
    @classmethod
    def http_link(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.lower().startswith(("http://", "https://")) or any(
            ch.isspace() for ch in value
        ):
            raise ValueError("must be an http:// or https:// URL")
        return value


def first_error(exc: ValidationError) -> tuple[int, dict[str, Any]]:
    """The status and body answering a body that failed validation."""
    errors = exc.errors(include_url=False, include_input=False)
    if not errors:
        return 400, {"error": "the request body is not valid"}
    error = errors[0]
    if error["type"] == "json_invalid":
        return 400, {"error": "the request body is not valid JSON"}
    field = ".".join(str(part) for part in error["loc"])
    if error["type"] == "extra_forbidden":
        message = "unknown field"
    elif error["type"] == "model_type":
        return 422, {"error": "send a JSON object", "field": ""}
    else:
        message = str(error["msg"])
    return 422, {"error": f"{field}: {message}" if field else message, "field": field}
