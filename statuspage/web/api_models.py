"""Typed JSON bodies of the /api/v1 write API. The OpenAPI document is
generated from these models (`statuspage.web.openapi`), so the two cannot
drift apart.

Bodies are wrapped as Atlassian Statuspage's management API wraps them
(`{"incident": {...}}`), and fields carry its names. Every model refuses
unknown fields and takes JSON types as they are (strict: `"1"` is not a
number, `1` is not a string). A string has a length limit, may not hold a
NUL character (PostgreSQL refuses them), and a required one may not be
blank. A timestamp must carry its offset and lie between 1970 and 2200.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from statuspage.maintenance_form import MAX_DURATION
from statuspage.web.admin.incident_forms import BODY_MAX_CHARS, TITLE_MAX_CHARS

COMPONENT_ID_MAX_CHARS = 64
VERSION_MAX_CHARS = 200
WHO_MAX_CHARS = 200
LINK_MAX_CHARS = 2000
REASON_MAX_CHARS = 500
ZONE_MAX_CHARS = 64
MAX_COMPONENTS = 100
MAX_PAGE = 10_000
MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 25
# No NUL anywhere in a string; the rest is the field's business.
NO_NUL = r"^[^\x00]*$"
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _in_utc(value: datetime) -> datetime:
    try:
        at = value.astimezone(UTC)
    except OverflowError:  # year 1 at +01:00, year 9999 at -01:00
        raise ValueError("must be between 1970 and 2200") from None
    if not EARLIEST <= at < LATEST:
        raise ValueError("must be between 1970 and 2200")
    return at


def _http_link(value: str | None) -> str | None:
    if not value:
        return None
    if not value.lower().startswith(("http://", "https://")) or any(ch.isspace() for ch in value):
        raise ValueError("must be an http:// or https:// URL")
    return value


def _zone(name: str) -> str:
    try:
        return ZoneInfo(name).key
    except (KeyError, ValueError, OSError):  # unknown, path-like, a region folder
        raise ValueError("is not a known time zone, such as Europe/Berlin or UTC") from None


def _text(max_chars: int) -> Any:
    return Field(min_length=1, max_length=max_chars, pattern=NO_NUL)


# Lengths count the string as sent, before any trimming, as the schema says.
Title = Annotated[str, _text(TITLE_MAX_CHARS), AfterValidator(_not_blank)]
Body = Annotated[str, _text(BODY_MAX_CHARS), AfterValidator(_not_blank)]
OptionalBody = Annotated[str, Field(max_length=BODY_MAX_CHARS, pattern=NO_NUL)]
Reason = Annotated[str, _text(REASON_MAX_CHARS), AfterValidator(_not_blank)]
ComponentId = Annotated[str, Field(min_length=1, max_length=COMPONENT_ID_MAX_CHARS, pattern=NO_NUL)]
Timestamp = Annotated[AwareDatetime, AfterValidator(_in_utc)]
Zone = Annotated[
    str, Field(min_length=1, max_length=ZONE_MAX_CHARS, pattern=NO_NUL), AfterValidator(_zone)
]

# Spelled out (not built from the enums) so that the schema lists them;
# tests/test_api_write.py checks them against `statuspage.domain`.
ImpactName = Literal["none", "minor", "major", "critical"]
OpenStatusName = Literal["investigating", "identified", "monitoring"]
UpdateStatusName = Literal["investigating", "identified", "monitoring", "resolved"]
# What an incident may say of a component: `unknown` belongs to the checks,
# `under_maintenance` to maintenance windows.
IncidentComponentStatusName = Literal[
    "operational", "degraded_performance", "partial_outage", "major_outage"
]
# What a person may set by hand: anything but `unknown`, the absence of data.
SettableStatusName = Literal[
    "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance"
]
IncidentComponents = Annotated[
    dict[ComponentId, IncidentComponentStatusName], Field(max_length=MAX_COMPONENTS)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


# --- deploy markers and component status -------------------------------------


class DeploymentIn(_Strict):
    """`POST /api/v1/deployments`: `at` defaults to now."""

    component: ComponentId
    version: Annotated[str, _text(VERSION_MAX_CHARS), AfterValidator(_not_blank)]
    who: Annotated[str, Field(max_length=WHO_MAX_CHARS, pattern=NO_NUL)] = ""
    link: Annotated[
        str | None, Field(max_length=LINK_MAX_CHARS, pattern=NO_NUL), AfterValidator(_http_link)
    ] = None
    at: Timestamp | None = None


class ComponentStatusIn(_Strict):
    """`PUT /api/v1/components/<id>/status`: set until released."""

    status: SettableStatusName
    reason: Reason


class ComponentPatch(_Strict):
    status: SettableStatusName
    reason: Reason = "set through the API"


class ComponentPatchIn(_Strict):
    """`PATCH /api/v1/components/<id>`, as Statuspage takes it."""

    component: ComponentPatch


class DeploymentQuery(BaseModel):
    """`GET /api/v1/deployments?component=ID`."""

    model_config = ConfigDict(extra="forbid")

    component: ComponentId | None = None


class PageQuery(BaseModel):
    """`?page=N&per_page=M` of a list, as Statuspage pages its lists."""

    model_config = ConfigDict(extra="forbid")  # the query string is text: "2" is 2

    page: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 1
    per_page: Annotated[int, Field(ge=1, le=MAX_PER_PAGE)] = DEFAULT_PER_PAGE


# --- incidents -------------------------------------------------------------------


class IncidentCreate(_Strict):
    name: Title
    status: OpenStatusName = "investigating"
    impact: ImpactName = "minor"
    body: Body
    # Component id -> its status now; held until the incident is resolved.
    components: IncidentComponents = Field(default_factory=dict)
    deliver_notifications: bool = True


class IncidentCreateIn(_Strict):
    """`POST /api/v1/incidents`."""

    incident: IncidentCreate


class IncidentUpdate(_Strict):
    status: UpdateStatusName
    body: Body
    components: IncidentComponents = Field(default_factory=dict)
    deliver_notifications: bool = True
    # When it happened, if earlier than now (a late note).
    display_at: Timestamp | None = None


class IncidentUpdateIn(_Strict):
    """`POST /api/v1/incidents/<id>/updates`."""

    incident_update: IncidentUpdate


class IncidentPatch(_Strict):
    """Name and impact are edited in place; `status`, `body`,
    `components` or `display_at` post an update (`resolved` resolves)."""

    name: Title | None = None
    impact: ImpactName | None = None
    status: UpdateStatusName | None = None
    body: Body | None = None
    components: IncidentComponents | None = None
    deliver_notifications: bool = True
    display_at: Timestamp | None = None

    @property
    def posts_update(self) -> bool:
        fields = (self.status, self.body, self.components, self.display_at)
        return any(v is not None for v in fields)


class IncidentPatchIn(_Strict):
    """`PATCH /api/v1/incidents/<id>`."""

    incident: IncidentPatch


# --- scheduled maintenance --------------------------------------------------------


class MaintenanceCreate(_Strict):
    name: Title
    body: OptionalBody = ""
    scheduled_for: Timestamp
    scheduled_until: Timestamp
    component_ids: Annotated[list[ComponentId], Field(min_length=1, max_length=MAX_COMPONENTS)]
    deliver_notifications: bool = True
    # Ours: a repeating window keeps its local time in this zone (default:
    # the site's).
    timezone: Zone | None = None
    recurrence: Literal["daily", "weekly"] | None = None
    recurrence_until: Timestamp | None = None

    def problem(self) -> tuple[str, str] | None:
        """What is wrong with the window as a whole, as (field, message);
        rules across fields, which a JSON Schema cannot say."""
        if self.scheduled_until <= self.scheduled_for:
            return "scheduled_until", "must be after scheduled_for"
        if self.scheduled_until - self.scheduled_for > MAX_DURATION:
            return "scheduled_until", "a maintenance may last at most 7 days"
        if self.recurrence_until is not None:
            if self.recurrence is None:
                return "recurrence_until", "needs a recurrence"
            if self.recurrence_until < self.scheduled_for:
                return "recurrence_until", "must not be before scheduled_for"
        return None


class MaintenanceCreateIn(_Strict):
    """`POST /api/v1/maintenances`."""

    maintenance: MaintenanceCreate


class MaintenanceFinish(_Strict):
    body: OptionalBody = ""
    deliver_notifications: bool = True


class MaintenanceFinishIn(_Strict):
    """`POST /api/v1/maintenances/<id>/complete`: the work is done early."""

    maintenance: MaintenanceFinish = Field(default_factory=MaintenanceFinish)


# Every request body, for the OpenAPI document.
REQUEST_MODELS: tuple[type[BaseModel], ...] = (
    DeploymentIn,
    ComponentStatusIn,
    ComponentPatchIn,
    IncidentCreateIn,
    IncidentUpdateIn,
    IncidentPatchIn,
    MaintenanceCreateIn,
    MaintenanceFinishIn,
)
