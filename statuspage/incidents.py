"""Automatic incidents: component changes + policy + now -> actions. Pure.

The rules, in the words the page uses:

* A confirmed change for the worse (degraded, partial or major outage) of a
  component that no open incident covers opens an incident: published at
  once or as a draft, per `incidents.automatic`. `unknown` never opens one
  (no data is a monitoring problem, named in the banner), and neither does a
  component under maintenance or one whose status staff set by hand: the
  person's word wins until released.
* A component breaking within `join_window` of an open automatic incident's
  start joins it instead of opening another.
* A component getting worse inside an open automatic incident updates it
  (and raises its impact); during `monitoring` it sends the incident back
  to `investigating`.
* When every affected component has been operational for
  `monitoring_after`, and nothing was posted in that time, the incident
  moves to `monitoring`; `resolve_after` later it is resolved (when
  `auto_resolve`). A component without data or under maintenance has not
  recovered: silence is not health.
* Incidents staff opened are theirs: automation only avoids duplicating them.

The caller (the monitor) turns the actions into rows; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from statuspage.checks.base import StrictModel
from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.durations import Duration

OPERATIONAL = ComponentStatus.OPERATIONAL
DEGRADED = ComponentStatus.DEGRADED_PERFORMANCE
PARTIAL = ComponentStatus.PARTIAL_OUTAGE
MAJOR = ComponentStatus.MAJOR_OUTAGE
INVESTIGATING = IncidentStatus.INVESTIGATING
MONITORING = IncidentStatus.MONITORING
CLOSED = (IncidentStatus.RESOLVED, IncidentStatus.POSTMORTEM)
BAD = (DEGRADED, PARTIAL, MAJOR)
AUTHOR = "automation"

_IMPACT_ORDER = list(IncidentImpact)


# --- config ---------------------------------------------------------------


class IncidentTemplate(StrictModel):
    """A ready-made incident staff can pick in the admin and then edit."""

    name: str = Field(min_length=1, max_length=100)
    title: str = Field(min_length=1, max_length=300)
    status: IncidentStatus = INVESTIGATING
    impact: IncidentImpact = IncidentImpact.MINOR
    body: str = Field(min_length=1)

    @field_validator("status")
    @classmethod
    def _not_postmortem(cls, status: IncidentStatus) -> IncidentStatus:
        if status is IncidentStatus.POSTMORTEM:
            raise ValueError("a template cannot start an incident as postmortem")
        return status


class IncidentPolicy(StrictModel):
    """`incidents:` in the config: what automation does when checks confirm
    a component got worse, and when it calls the incident over."""

    # publish: public at once; draft: staff publish with one click; off: none.
    automatic: Literal["publish", "draft", "off"] = "publish"
    # Components breaking this soon after an automatic incident began join it.
    join_window: Duration = timedelta(minutes=10)
    # Every affected component operational this long -> `monitoring`.
    monitoring_after: Duration = timedelta(minutes=5)
    # This long in `monitoring` with everything operational -> `resolved`.
    resolve_after: Duration = timedelta(minutes=30)
    auto_resolve: bool = True
    templates: list[IncidentTemplate] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_template_names(self) -> IncidentPolicy:
        names = [t.name for t in self.templates]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"template names must be unique: {', '.join(dupes)}")
        return self

    def template(self, name: str) -> IncidentTemplate | None:
        return next((t for t in self.templates if t.name == name), None)


# --- what the policy sees ---------------------------------------------------


@dataclass(frozen=True)
class IncidentView:
    """An unresolved incident as the rules need it."""

    id: str
    status: IncidentStatus
    impact: IncidentImpact
    started_at: datetime
    published: bool
    # Component id -> the status this incident says it is in.
    components: Mapping[str, ComponentStatus]
    # The newest update's display time: a person posting restarts the clock.
    last_change_at: datetime
    automatic: bool = True


@dataclass(frozen=True)
class ComponentChange:
    """A confirmed component transition, as the state engine decided it."""

    component_id: str
    name: str
    old: ComponentStatus | None
    new: ComponentStatus
    at: datetime
    overridden: bool = False  # staff set its status by hand
    under_maintenance: bool = False


@dataclass(frozen=True)
class ComponentSnapshot:
    """A component's current (effective) status and since when."""

    name: str
    status: ComponentStatus
    since: datetime


# --- what the policy asks for -------------------------------------------------


@dataclass(frozen=True)
class OpenIncident:
    title: str
    impact: IncidentImpact
    status: IncidentStatus
    body: str
    components: Mapping[str, ComponentStatus]
    publish: bool
    at: datetime

    @property
    def notify(self) -> bool:
        return self.publish


@dataclass(frozen=True)
class JoinIncident:
    incident_id: str
    component_id: str
    component_status: ComponentStatus
    status: IncidentStatus
    impact: IncidentImpact | None  # None: unchanged
    body: str
    notify: bool
    at: datetime


@dataclass(frozen=True)
class AddUpdate:
    incident_id: str
    status: IncidentStatus
    body: str
    notify: bool
    at: datetime
    components: Mapping[str, ComponentStatus] = field(default_factory=dict)
    impact: IncidentImpact | None = None


@dataclass(frozen=True)
class ResolveIncident:
    incident_id: str
    body: str
    notify: bool
    at: datetime


Action = OpenIncident | JoinIncident | AddUpdate | ResolveIncident


# --- rules --------------------------------------------------------------------


def on_component_change(
    incidents: Sequence[IncidentView],
    change: ComponentChange,
    policy: IncidentPolicy,
    now: datetime,
) -> list[Action]:
    """What to do about one confirmed component transition.

    `incidents` are the unresolved incidents (drafts too, and staff ones:
    automation must not duplicate them). The actions are dated `change.at`,
    when the rule says it happened, not `now`, when it was noticed.
    """
    if not _counts(change):
        return []
    open_ = [i for i in incidents if i.status not in CLOSED]
    covering = [i for i in open_ if change.component_id in i.components]
    if covering:
        auto = [i for i in covering if i.automatic]
        return _got_worse(auto[0], change) if auto and len(auto) == len(covering) else []
    if policy.automatic == "off":
        return []
    joinable = [
        i
        for i in open_
        if i.automatic and i.started_at <= change.at <= i.started_at + policy.join_window
    ]
    if joinable:
        return [_join(max(joinable, key=lambda i: i.started_at), change)]
    return [_open(change, publish=policy.automatic == "publish")]


def _counts(change: ComponentChange) -> bool:
    """A confirmed change for the worse that automation may act on."""
    if change.overridden or change.under_maintenance or change.new not in BAD:
        return False
    return change.old is None or change.new.severity > change.old.severity


def _open(change: ComponentChange, publish: bool) -> OpenIncident:
    components = {change.component_id: change.new}
    return OpenIncident(
        title=incident_title(change.name, change.new),
        impact=impact_of(components),
        status=INVESTIGATING,
        body=f"We are investigating {_problem(change.new)} of {change.name}.",
        components=components,
        publish=publish,
        at=change.at,
    )


def _join(incident: IncidentView, change: ComponentChange) -> JoinIncident:
    components = {**incident.components, change.component_id: change.new}
    return JoinIncident(
        incident_id=incident.id,
        component_id=change.component_id,
        component_status=change.new,
        status=INVESTIGATING if incident.status is MONITORING else incident.status,
        impact=_raised(incident.impact, impact_of(components)),
        body=f"{change.name} is also affected.",
        notify=incident.published,
        at=change.at,
    )


def _got_worse(incident: IncidentView, change: ComponentChange) -> list[Action]:
    before = incident.components[change.component_id]
    if change.new.severity <= before.severity:
        return []  # e.g. back to the status the incident already names
    components = {**incident.components, change.component_id: change.new}
    if incident.status is MONITORING or before is OPERATIONAL:
        status, body = INVESTIGATING, f"{change.name} is affected again. We are investigating."
    else:
        status, body = incident.status, f"{change.name} now has {_problem(change.new)}."
    return [
        AddUpdate(
            incident_id=incident.id,
            status=status,
            body=body,
            notify=incident.published,
            at=change.at,
            components={change.component_id: change.new},
            impact=_raised(incident.impact, impact_of(components)),
        )
    ]


def tick(
    incident: IncidentView,
    components: Mapping[str, ComponentSnapshot],
    policy: IncidentPolicy,
    now: datetime,
) -> list[Action]:
    """The time-based steps of one unresolved automatic incident: monitoring
    once all is quiet for `monitoring_after`, resolved `resolve_after` later.
    Call it on a short periodic tick; it is idempotent."""
    quiet = quiet_since(incident, components)
    if quiet is None or not incident.automatic or incident.status in CLOSED:
        return []
    if incident.status is MONITORING:
        due = quiet + policy.resolve_after
        if policy.auto_resolve and now >= due:
            body = "This incident has been resolved."
            return [ResolveIncident(incident.id, body, notify=incident.published, at=due)]
        return []
    due = quiet + policy.monitoring_after
    if now < due:
        return []
    names = [components[cid].name for cid in incident.components if cid in components]
    verb = "is" if len(names) == 1 else "are"
    return [
        AddUpdate(
            incident_id=incident.id,
            status=MONITORING,
            body=f"{join_names(names)} {verb} operational again. We are monitoring the results.",
            notify=incident.published,
            at=due,
            components=dict.fromkeys(incident.components, OPERATIONAL),
        )
    ]


def next_tick_at(
    incident: IncidentView, components: Mapping[str, ComponentSnapshot], policy: IncidentPolicy
) -> datetime | None:
    """When `tick` will next have something to do, if nothing else changes."""
    quiet = quiet_since(incident, components)
    if quiet is None or not incident.automatic or incident.status in CLOSED:
        return None
    if incident.status is MONITORING:
        return quiet + policy.resolve_after if policy.auto_resolve else None
    return quiet + policy.monitoring_after


def quiet_since(
    incident: IncidentView, components: Mapping[str, ComponentSnapshot]
) -> datetime | None:
    """Since when every affected component is operational and nobody posted,
    or None while one is not (no data and maintenance count as not yet).
    Components no longer configured are left out."""
    known = [components[cid] for cid in incident.components if cid in components]
    if not known or any(c.status is not OPERATIONAL for c in known):
        return None
    return max([incident.last_change_at, *(c.since for c in known)])


# --- wording and impact -------------------------------------------------------

_PROBLEMS = {
    DEGRADED: "degraded performance",
    PARTIAL: "a partial outage",
    MAJOR: "an outage",
}


def _problem(status: ComponentStatus) -> str:
    return _PROBLEMS.get(status, status.label.lower())


def incident_title(name: str, status: ComponentStatus) -> str:
    """`Degraded performance of Payments`, `Partial outage of Payments`,
    `Payments outage`."""
    if status is MAJOR:
        return f"{name} outage"
    if status is PARTIAL:
        return f"Partial outage of {name}"
    return f"Degraded performance of {name}"


def impact_of(components: Mapping[str, ComponentStatus]) -> IncidentImpact:
    """degraded -> minor, partial -> major, major -> major, or critical when
    more than one component is in a major outage."""
    statuses = list(components.values())
    majors = statuses.count(MAJOR)
    if majors > 1:
        return IncidentImpact.CRITICAL
    if majors or PARTIAL in statuses:
        return IncidentImpact.MAJOR
    if DEGRADED in statuses:
        return IncidentImpact.MINOR
    return IncidentImpact.NONE


def _raised(current: IncidentImpact, computed: IncidentImpact) -> IncidentImpact | None:
    """The new impact if it is higher; automation never lowers an impact
    (the peak is what the incident was), and never undoes a person's."""
    if _IMPACT_ORDER.index(computed) > _IMPACT_ORDER.index(current):
        return computed
    return None


def join_names(names: Sequence[str]) -> str:
    """`A`, `A and B`, `A, B and C`."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def effective_status(
    derived: ComponentStatus, override: ComponentStatus | None, under_maintenance: bool
) -> ComponentStatus:
    """What the page shows: a status a person set wins over maintenance and
    checks until released; a maintenance window wins over the checks."""
    if override is not None:
        return override
    if under_maintenance:
        return ComponentStatus.UNDER_MAINTENANCE
    return derived


def deploy_hint(
    component_name: str, went_down_at: datetime, version: str, who: str, deployed_at: datetime
) -> str:
    """For staff: `Payments went down 3 min after deploy v2.14 by ci`."""
    minutes = int((went_down_at - deployed_at).total_seconds() // 60)
    after = f"{minutes} min" if minutes >= 1 else "less than a minute"
    by = f" by {who}" if who else ""
    return f"{component_name} went down {after} after deploy {version}{by}"
