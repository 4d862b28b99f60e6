"""Prometheus Alertmanager drives component status.

The config's `alertmanager:` section maps alert labels to a component and a
status; `POST /api/v1/alertmanager` hands each webhook notification
(version 4) to `apply_notification`. Firing alerts are kept by fingerprint
in `alertmanager_alerts`; a component's status is the worst of its firing
alerts, set as an override by `alertmanager` and released when the last one
resolves. A person's override is never replaced or released here (REL-08).
Notifications repeat and overlap (groups, repeat_interval): applying one
twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from statuspage.checks.base import StrictModel
from statuspage.domain import ComponentStatus
from statuspage.overrides_service import release_status, set_status
from statuspage.store import Store
from statuspage.store.alertmanager_alerts import (
    FiringAlert,
    component_of,
    firing_for,
    forget,
    note_firing,
)

SET_BY = "alertmanager"
MAX_ALERTS = 1000
MAX_LABELS = 200
REASON_MAX_CHARS = 500
NAME_MAX_CHARS = 200
# Alertmanager sends endsAt as Go's zero time for an alert with no end yet.
NO_END_BEFORE = datetime(1970, 1, 2, tzinfo=UTC)

# --- config ------------------------------------------------------------------


class AlertRule(StrictModel):
    """`match` labels (all must be equal) -> a component and a status. The
    component is named (`component: api`) or read from a label of the alert
    (`component_label: service`)."""

    match: dict[str, str] = Field(default_factory=dict)
    component: str | None = Field(default=None, min_length=1, max_length=64)
    component_label: str | None = Field(default=None, min_length=1)
    status: ComponentStatus

    @field_validator("status")
    @classmethod
    def _settable(cls, status: ComponentStatus) -> ComponentStatus:
        if status is ComponentStatus.UNKNOWN:
            raise ValueError("an alert cannot set `unknown`")
        return status

    @model_validator(mode="after")
    def _one_component(self) -> AlertRule:
        if (self.component is None) == (self.component_label is None):
            raise ValueError("give either `component` or `component_label`")
        return self


class AlertmanagerSettings(StrictModel):
    """The `alertmanager:` section: rules tried in order, the first whose
    `match` labels all equal the alert's wins."""

    rules: list[AlertRule] = Field(default_factory=list)

    def route(self, labels: dict[str, str]) -> tuple[str, ComponentStatus] | str:
        """The component and status for an alert, or why there is none."""
        for index, rule in enumerate(self.rules):
            if all(labels.get(k) == v for k, v in rule.match.items()):
                if rule.component is not None:
                    return rule.component, rule.status
                assert rule.component_label is not None
                component = labels.get(rule.component_label)
                if not component:
                    return f"rules[{index}] matches but the alert has no label {rule.component_label!r}"
                return component, rule.status
        return "no rule matches its labels"


# --- the webhook payload -------------------------------------------------------


class _Payload(BaseModel):
    # Alertmanager may add fields in a later version: tolerated, not used.
    model_config = ConfigDict(extra="ignore", strict=True, populate_by_name=True)


class Alert(_Payload):
    status: Literal["firing", "resolved"]
    labels: dict[str, str] = Field(max_length=MAX_LABELS)
    annotations: dict[str, str] = Field(default_factory=dict)
    starts_at: AwareDatetime = Field(alias="startsAt")
    ends_at: AwareDatetime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL")
    fingerprint: str = Field(min_length=1, max_length=64)


class Notification(_Payload):
    """Alertmanager's webhook body, version 4."""

    version: Literal["4"]
    group_key: str = Field(default="", alias="groupKey")
    truncated_alerts: int = Field(default=0, ge=0, alias="truncatedAlerts")
    status: Literal["firing", "resolved"]
    receiver: str = ""
    group_labels: dict[str, str] = Field(default_factory=dict, alias="groupLabels")
    common_labels: dict[str, str] = Field(default_factory=dict, alias="commonLabels")
    common_annotations: dict[str, str] = Field(default_factory=dict, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL")
    alerts: list[Alert] = Field(max_length=MAX_ALERTS)


# --- applying a notification ---------------------------------------------------


@dataclass
class Outcome:
    """What a notification did: each component it concerns with its
    Alertmanager status now (None: no alert firing), the ones whose
    override changed, and the alerts it did not map, with why."""

    components: dict[str, ComponentStatus | None] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)
    ignored: list[dict[str, str]] = field(default_factory=list)


def apply_notification(
    store: Store,
    settings: AlertmanagerSettings,
    notification: Notification,
    *,
    actor: str,
    now: datetime,
    tz: ZoneInfo,
) -> Outcome:
    """Record the notification's alerts and re-derive the status of every
    component they touch, in one transaction."""
    outcome = Outcome()
    known = {c.id for c in store.components()}
    touched: set[str] = set()
    with store.transaction() as conn:
        for alert in notification.alerts:
            name = alert.labels.get("alertname", "")[:NAME_MAX_CHARS]
            # By fingerprint, so an alert the rules now send elsewhere (or
            # nowhere) still leaves the component it was firing for.
            was = component_of(conn, alert.fingerprint)
            if was is not None:
                touched.add(was)
            if alert.status == "resolved":
                forget(conn, alert.fingerprint)
            routed = settings.route(alert.labels)
            if isinstance(routed, str) or routed[0] not in known:
                why = routed if isinstance(routed, str) else f"unknown component {routed[0]!r}"
                outcome.ignored.append(
                    {"fingerprint": alert.fingerprint, "alertname": name, "reason": why}
                )
                continue
            component, status = routed
            touched.add(component)
            if alert.status == "firing":
                ends = alert.ends_at if alert.ends_at and alert.ends_at > NO_END_BEFORE else None
                firing = FiringAlert(
                    alert.fingerprint, component, status, name, alert.starts_at.astimezone(UTC),
                    ends.astimezone(UTC) if ends else None,
                )  # fmt: skip
                note_firing(conn, firing, now)
        for component in sorted(touched):
            alerts = firing_for(conn, component)
            if alerts:
                worst = max(alerts, key=lambda a: a.status.severity).status
                changed = set_status(
                    store, conn, component, worst,
                    reason=firing_reason(alerts, worst), set_by=SET_BY, actor=actor,
                    now=now, tz=tz, only_over=SET_BY,
                )  # fmt: skip
            else:
                worst = None
                changed = release_status(
                    store, conn, component, actor=actor, now=now, tz=tz, only_set_by=SET_BY
                )
            outcome.components[component] = worst
            if changed:
                outcome.changed.append(component)
    return outcome


def firing_reason(alerts: list[FiringAlert], worst: ComponentStatus) -> str:
    """The override's reason, from the alerts alone (so a repeat is equal)."""
    names = sorted({a.name or a.fingerprint for a in alerts if a.status is worst})
    count = len(alerts)
    text = f"Alertmanager: {', '.join(names)} ({count} alert{'s' if count > 1 else ''} firing)"
    return text[:REASON_MAX_CHARS]
