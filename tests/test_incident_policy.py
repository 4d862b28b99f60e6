"""Automatic incident rules, at their edges, with explicit times (no sleeps)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from statuspage.domain import ComponentStatus, IncidentImpact, IncidentStatus
from statuspage.incidents import (
    AddUpdate,
    ComponentChange,
    ComponentSnapshot,
    IncidentPolicy,
    IncidentView,
    JoinIncident,
    OpenIncident,
    ResolveIncident,
    deploy_hint,
    effective_status,
    impact_of,
    incident_title,
    join_names,
    next_tick_at,
    on_component_change,
    quiet_since,
    tick,
)

OK = ComponentStatus.OPERATIONAL
DEGRADED = ComponentStatus.DEGRADED_PERFORMANCE
PARTIAL = ComponentStatus.PARTIAL_OUTAGE
MAJOR = ComponentStatus.MAJOR_OUTAGE
UNKNOWN = ComponentStatus.UNKNOWN
MAINT = ComponentStatus.UNDER_MAINTENANCE
INVESTIGATING = IncidentStatus.INVESTIGATING
IDENTIFIED = IncidentStatus.IDENTIFIED
MONITORING = IncidentStatus.MONITORING
RESOLVED = IncidentStatus.RESOLVED

T0 = datetime(2026, 9, 15, 5, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)
POLICY = IncidentPolicy()


def at(minutes: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


def change(
    component_id: str = "payments",
    new: ComponentStatus = MAJOR,
    old: ComponentStatus | None = OK,
    when: datetime = T0,
    **kw: bool,
) -> ComponentChange:
    return ComponentChange(component_id, component_id.title(), old, new, when, **kw)


def incident(
    components: dict[str, ComponentStatus] | None = None,
    status: IncidentStatus = INVESTIGATING,
    impact: IncidentImpact = IncidentImpact.MAJOR,
    started_at: datetime = T0,
    last_change_at: datetime | None = None,
    published: bool = True,
    automatic: bool = True,
    id: str = "inc000000001",
) -> IncidentView:
    return IncidentView(
        id=id,
        status=status,
        impact=impact,
        started_at=started_at,
        published=published,
        components=components if components is not None else {"payments": MAJOR},
        last_change_at=last_change_at or started_at,
        automatic=automatic,
    )


def snap(status: ComponentStatus, since: datetime, name: str = "Payments") -> ComponentSnapshot:
    return ComponentSnapshot(name, status, since)


# --- config -----------------------------------------------------------------------


def test_policy_defaults_suit_a_small_team() -> None:
    assert POLICY.automatic == "publish"
    assert POLICY.join_window == timedelta(minutes=10)
    assert POLICY.monitoring_after == timedelta(minutes=5)
    assert POLICY.resolve_after == timedelta(minutes=30)
    assert POLICY.auto_resolve is True
    assert POLICY.templates == []


def test_policy_parses_durations_and_templates() -> None:
    policy = IncidentPolicy.model_validate(
        {
            "automatic": "draft",
            "join_window": "2m",
            "monitoring_after": "90s",
            "resolve_after": "1h",
            "auto_resolve": False,
            "templates": [
                {
                    "name": "db",
                    "title": "Database maintenance overran",
                    "status": "identified",
                    "impact": "major",
                    "body": "We know why.",
                }
            ],
        }
    )
    assert policy.join_window == timedelta(minutes=2)
    assert policy.monitoring_after == timedelta(seconds=90)
    assert policy.resolve_after == timedelta(hours=1)
    template = policy.template("db")
    assert template is not None
    assert (template.status, template.impact) == (IDENTIFIED, IncidentImpact.MAJOR)
    assert policy.template("nope") is None


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"automatic": "yes"}, "automatic"),
        ({"join_windw": "1m"}, "join_windw"),
        ({"resolve_after": "soon"}, "resolve_after"),
        ({"templates": [{"name": "a", "title": "t", "body": "b", "colour": "red"}]}, "colour"),
        (
            {"templates": [{"name": "a", "title": "t", "body": "b", "status": "postmortem"}]},
            "status",
        ),
        (
            {"templates": [{"name": "a", "title": "t", "body": "b"}] * 2},
            "template names must be unique: a",
        ),
    ],
)
def test_policy_rejects_bad_config(data: dict[str, object], where: str) -> None:
    with pytest.raises(ValidationError) as error:
        IncidentPolicy.model_validate(data)
    assert where in str(error.value)


# --- opening ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("new", "title", "impact", "body"),
    [
        (
            DEGRADED,
            "Degraded performance of Payments",
            IncidentImpact.MINOR,
            "We are investigating degraded performance of Payments.",
        ),
        (
            PARTIAL,
            "Partial outage of Payments",
            IncidentImpact.MAJOR,
            "We are investigating a partial outage of Payments.",
        ),
        (
            MAJOR,
            "Payments outage",
            IncidentImpact.MAJOR,
            "We are investigating an outage of Payments.",
        ),
    ],
)
def test_a_confirmed_worse_status_opens_a_published_incident(
    new: ComponentStatus, title: str, impact: IncidentImpact, body: str
) -> None:
    actions = on_component_change([], change(new=new, when=at(1)), POLICY, now=at(1, 5))
    assert actions == [
        OpenIncident(
            title=title,
            impact=impact,
            status=INVESTIGATING,
            body=body,
            components={"payments": new},
            publish=True,
            at=at(1),  # when the change happened, not when it was noticed
        )
    ]
    assert actions[0].notify is True


def test_draft_policy_opens_an_unpublished_incident_that_notifies_nobody() -> None:
    policy = IncidentPolicy(automatic="draft")
    [action] = on_component_change([], change(), policy, now=T0)
    assert isinstance(action, OpenIncident)
    assert (action.publish, action.notify) == (False, False)


def test_off_policy_opens_nothing() -> None:
    assert on_component_change([], change(), IncidentPolicy(automatic="off"), now=T0) == []


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (OK, UNKNOWN),  # no data is a monitoring problem, not an incident
        (MAJOR, UNKNOWN),
        (DEGRADED, OK),  # better
        (MAJOR, DEGRADED),  # better, still bad
        (OK, MAINT),
        (DEGRADED, DEGRADED),
        (OK, OK),
    ],
)
def test_only_a_change_for_the_worse_opens_an_incident(
    old: ComponentStatus, new: ComponentStatus
) -> None:
    assert on_component_change([], change(old=old, new=new), POLICY, now=T0) == []


@pytest.mark.parametrize("old", [None, UNKNOWN])
def test_bad_data_after_no_data_opens_an_incident(old: ComponentStatus | None) -> None:
    # After a restart, or once data is back: the component is down and no
    # incident says so.
    [action] = on_component_change([], change(old=old, new=PARTIAL), POLICY, now=T0)
    assert isinstance(action, OpenIncident)
    assert action.components == {"payments": PARTIAL}


def test_a_component_under_maintenance_opens_nothing() -> None:
    assert on_component_change([], change(under_maintenance=True), POLICY, now=T0) == []


def test_a_component_overridden_by_staff_opens_nothing() -> None:
    # REL-08: the person's word wins over the checks until released.
    assert on_component_change([], change(overridden=True), POLICY, now=T0) == []


def test_a_resolved_incident_is_not_open() -> None:
    closed = incident(status=RESOLVED)
    [action] = on_component_change([closed], change(when=at(1)), POLICY, now=at(1))
    assert isinstance(action, OpenIncident)


def test_a_staff_incident_covering_the_component_is_not_duplicated_nor_touched() -> None:
    staff = incident({"payments": DEGRADED}, automatic=False)
    assert on_component_change([staff], change(old=DEGRADED, new=MAJOR), POLICY, now=T0) == []
    # ...and another component does not join a staff incident.
    [action] = on_component_change([staff], change("projects"), POLICY, now=T0)
    assert isinstance(action, OpenIncident)


# --- joining ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "joins"),
    [
        (at(10) - SECOND, True),
        (at(10), True),  # the window includes its end
        (at(10) + SECOND, False),
    ],
)
def test_a_component_breaking_within_the_join_window_joins(when: datetime, joins: bool) -> None:
    open_ = incident({"payments": MAJOR})
    actions = on_component_change(
        [open_], change("projects", new=DEGRADED, when=when), POLICY, now=when
    )
    if joins:
        assert actions == [
            JoinIncident(
                incident_id=open_.id,
                component_id="projects",
                component_status=DEGRADED,
                status=INVESTIGATING,
                impact=None,  # major already; degraded does not raise it
                body="Projects is also affected.",
                notify=True,
                at=when,
            )
        ]
    else:
        assert actions == [
            OpenIncident(
                title="Degraded performance of Projects",
                impact=IncidentImpact.MINOR,
                status=INVESTIGATING,
                body="We are investigating degraded performance of Projects.",
                components={"projects": DEGRADED},
                publish=True,
                at=when,
            )
        ]


def test_a_second_major_outage_joining_makes_the_incident_critical() -> None:
    open_ = incident({"payments": MAJOR})
    [action] = on_component_change([open_], change("api", when=at(3)), POLICY, now=at(3))
    assert isinstance(action, JoinIncident)
    assert action.impact is IncidentImpact.CRITICAL


def test_joining_a_draft_keeps_it_quiet() -> None:
    draft = incident(published=False)
    [action] = on_component_change([draft], change("api", when=at(1)), POLICY, now=at(1))
    assert isinstance(action, JoinIncident)
    assert action.notify is False


def test_joining_an_incident_in_monitoring_sends_it_back_to_investigating() -> None:
    open_ = incident({"payments": OK}, status=MONITORING)
    [action] = on_component_change([open_], change("api", when=at(9)), POLICY, now=at(9))
    assert isinstance(action, JoinIncident)
    assert action.status is INVESTIGATING


def test_joining_keeps_a_status_staff_set() -> None:
    open_ = incident(status=IDENTIFIED)
    [action] = on_component_change([open_], change("api", when=at(1)), POLICY, now=at(1))
    assert isinstance(action, JoinIncident)
    assert action.status is IDENTIFIED


def test_the_newest_joinable_incident_is_joined() -> None:
    older = incident(id="older0000000", started_at=at(0))
    newer = incident({"api": MAJOR}, id="newer0000000", started_at=at(5))
    [action] = on_component_change([older, newer], change("projects", when=at(8)), POLICY, at(8))
    assert isinstance(action, JoinIncident)
    assert action.incident_id == "newer0000000"


def test_off_policy_joins_nothing() -> None:
    policy = IncidentPolicy(automatic="off")
    assert on_component_change([incident()], change("api", when=at(1)), policy, at(1)) == []


# --- getting worse inside an incident ------------------------------------------------


def test_a_component_getting_worse_updates_its_status_and_the_impact() -> None:
    open_ = incident({"payments": DEGRADED}, impact=IncidentImpact.MINOR)
    actions = on_component_change(
        [open_], change(old=DEGRADED, new=MAJOR, when=at(20)), POLICY, now=at(20)
    )
    assert actions == [
        AddUpdate(
            incident_id=open_.id,
            status=INVESTIGATING,
            body="Payments now has an outage.",
            notify=True,
            at=at(20),
            components={"payments": MAJOR},
            impact=IncidentImpact.MAJOR,
        )
    ]


def test_getting_worse_keeps_identified_and_never_lowers_a_higher_impact() -> None:
    open_ = incident({"payments": DEGRADED}, status=IDENTIFIED, impact=IncidentImpact.CRITICAL)
    [action] = on_component_change(
        [open_], change(old=DEGRADED, new=PARTIAL, when=at(20)), POLICY, now=at(20)
    )
    assert isinstance(action, AddUpdate)
    assert (action.status, action.impact) == (IDENTIFIED, None)
    assert action.body == "Payments now has a partial outage."


def test_breaking_again_to_the_status_the_incident_names_says_nothing_new() -> None:
    # Recovered for a moment, then down again, while still investigating.
    open_ = incident({"payments": MAJOR})
    assert on_component_change([open_], change(old=OK, new=MAJOR, when=at(4)), POLICY, at(4)) == []
    assert on_component_change([open_], change(old=OK, new=PARTIAL), POLICY, at(4)) == []


def test_breaking_again_during_monitoring_goes_back_to_investigating() -> None:
    open_ = incident({"payments": OK}, status=MONITORING)
    [action] = on_component_change(
        [open_], change(old=OK, new=DEGRADED, when=at(40)), POLICY, now=at(40)
    )
    assert action == AddUpdate(
        incident_id=open_.id,
        status=INVESTIGATING,
        body="Payments is affected again. We are investigating.",
        notify=True,
        at=at(40),
        components={"payments": DEGRADED},
        impact=None,
    )


def test_an_incident_component_going_dark_changes_nothing() -> None:
    open_ = incident()
    assert on_component_change([open_], change(old=MAJOR, new=UNKNOWN), POLICY, at(1)) == []


def test_an_overridden_component_inside_an_incident_is_left_alone() -> None:
    open_ = incident({"payments": DEGRADED})
    worse = change(old=DEGRADED, new=MAJOR, overridden=True)
    assert on_component_change([open_], worse, POLICY, at(1)) == []


def test_getting_worse_outside_the_join_window_still_updates_its_own_incident() -> None:
    open_ = incident({"payments": DEGRADED}, impact=IncidentImpact.MINOR)
    [action] = on_component_change(
        [open_], change(old=DEGRADED, new=MAJOR, when=at(90)), POLICY, now=at(90)
    )
    assert isinstance(action, AddUpdate)


# --- monitoring and resolution (tick) --------------------------------------------------


def test_tick_moves_to_monitoring_when_everything_was_operational_long_enough() -> None:
    open_ = incident({"payments": MAJOR, "projects": DEGRADED}, last_change_at=at(2))
    components = {
        "payments": snap(OK, at(30)),
        "projects": snap(OK, at(31), name="Projects"),
    }
    due = at(36)  # the later recovery + monitoring_after
    assert next_tick_at(open_, components, POLICY) == due
    assert tick(open_, components, POLICY, now=due - SECOND) == []
    expected = [
        AddUpdate(
            incident_id=open_.id,
            status=MONITORING,
            body="Payments and Projects are operational again. We are monitoring the results.",
            notify=True,
            at=due,
            components={"payments": OK, "projects": OK},
        )
    ]
    assert tick(open_, components, POLICY, now=due) == expected
    # A late tick (a restart) dates the update when the rule says.
    assert tick(open_, components, POLICY, now=due + timedelta(hours=2)) == expected


def test_monitoring_wording_for_one_component() -> None:
    open_ = incident()
    [action] = tick(open_, {"payments": snap(OK, at(10))}, POLICY, now=at(15))
    assert isinstance(action, AddUpdate)
    assert action.body == "Payments is operational again. We are monitoring the results."


@pytest.mark.parametrize("still", [MAJOR, DEGRADED, UNKNOWN, MAINT])
def test_no_monitoring_while_any_affected_component_is_not_operational(
    still: ComponentStatus,
) -> None:
    # No data and maintenance are not recovery: silence is not health.
    open_ = incident({"payments": MAJOR, "projects": MAJOR})
    components = {"payments": snap(OK, at(1)), "projects": snap(still, at(1), name="Projects")}
    assert tick(open_, components, POLICY, now=at(600)) == []
    assert next_tick_at(open_, components, POLICY) is None
    assert quiet_since(open_, components) is None


def test_a_staff_update_after_recovery_restarts_the_clock() -> None:
    open_ = incident(status=IDENTIFIED, last_change_at=at(12))
    components = {"payments": snap(OK, at(10))}
    assert tick(open_, components, POLICY, now=at(17) - SECOND) == []
    [action] = tick(open_, components, POLICY, now=at(17))
    assert isinstance(action, AddUpdate)
    assert (action.status, action.at) == (MONITORING, at(17))


def test_tick_resolves_resolve_after_the_monitoring_update() -> None:
    open_ = incident({"payments": OK}, status=MONITORING, last_change_at=at(15))
    components = {"payments": snap(OK, at(10))}
    due = at(45)
    assert next_tick_at(open_, components, POLICY) == due
    assert tick(open_, components, POLICY, now=due - SECOND) == []
    expected = [ResolveIncident(open_.id, "This incident has been resolved.", notify=True, at=due)]
    assert tick(open_, components, POLICY, now=due) == expected
    assert tick(open_, components, POLICY, now=due + SECOND) == expected


def test_no_automatic_resolution_when_the_policy_says_so() -> None:
    policy = IncidentPolicy(auto_resolve=False)
    open_ = incident({"payments": OK}, status=MONITORING, last_change_at=at(15))
    components = {"payments": snap(OK, at(10))}
    assert tick(open_, components, policy, now=at(600)) == []
    assert next_tick_at(open_, components, policy) is None
    # ...but monitoring still comes on its own.
    investigating = incident()
    [action] = tick(investigating, components, policy, now=at(15))
    assert isinstance(action, AddUpdate)


def test_a_draft_is_resolved_quietly() -> None:
    draft = incident({"payments": OK}, status=MONITORING, last_change_at=at(15), published=False)
    [action] = tick(draft, {"payments": snap(OK, at(10))}, POLICY, now=at(45))
    assert action == ResolveIncident(
        draft.id, "This incident has been resolved.", notify=False, at=at(45)
    )


def test_tick_leaves_staff_and_closed_incidents_alone() -> None:
    components = {"payments": snap(OK, at(1))}
    assert tick(incident(automatic=False), components, POLICY, now=at(600)) == []
    assert tick(incident(status=RESOLVED), components, POLICY, now=at(600)) == []
    assert next_tick_at(incident(automatic=False), components, POLICY) is None


def test_components_no_longer_configured_do_not_hold_an_incident_open() -> None:
    open_ = incident({"payments": MAJOR, "gone": MAJOR})
    [action] = tick(open_, {"payments": snap(OK, at(1))}, POLICY, now=at(6))
    assert isinstance(action, AddUpdate)
    assert action.components == {"payments": OK, "gone": OK}
    assert action.body == "Payments is operational again. We are monitoring the results."
    assert tick(open_, {}, POLICY, now=at(600)) == []


def test_the_whole_outage_from_open_to_resolved() -> None:
    """Payments breaks, projects joins, both recover, monitoring, resolved."""
    open_ = on_component_change([], change(when=at(0)), POLICY, now=at(0))[0]
    assert isinstance(open_, OpenIncident)
    view = incident(dict(open_.components), impact=open_.impact, last_change_at=at(0))
    join = on_component_change([view], change("projects", new=DEGRADED, when=at(4)), POLICY, at(4))
    assert isinstance(join[0], JoinIncident)
    view = replace(view, components={"payments": MAJOR, "projects": DEGRADED}, last_change_at=at(4))
    recovered = {"payments": snap(OK, at(50)), "projects": snap(OK, at(52), "Projects")}
    assert tick(view, recovered, POLICY, at(56)) == []
    [monitoring] = tick(view, recovered, POLICY, at(57))
    assert isinstance(monitoring, AddUpdate)
    view = replace(
        view,
        status=MONITORING,
        components=dict(monitoring.components),
        last_change_at=monitoring.at,
    )
    assert tick(view, recovered, POLICY, at(57)) == []  # idempotent
    [resolved] = tick(view, recovered, POLICY, at(87))
    assert resolved == ResolveIncident(view.id, "This incident has been resolved.", True, at(87))


# --- wording, impact and helpers ----------------------------------------------------


def test_impact_from_the_worst_status() -> None:
    assert impact_of({}) is IncidentImpact.NONE
    assert impact_of({"a": OK}) is IncidentImpact.NONE
    assert impact_of({"a": DEGRADED, "b": DEGRADED}) is IncidentImpact.MINOR
    assert impact_of({"a": PARTIAL, "b": DEGRADED}) is IncidentImpact.MAJOR
    assert impact_of({"a": MAJOR}) is IncidentImpact.MAJOR
    assert impact_of({"a": MAJOR, "b": PARTIAL}) is IncidentImpact.MAJOR
    assert impact_of({"a": MAJOR, "b": MAJOR}) is IncidentImpact.CRITICAL


def test_titles_and_names() -> None:
    assert incident_title("Payments", DEGRADED) == "Degraded performance of Payments"
    assert incident_title("Payments", PARTIAL) == "Partial outage of Payments"
    assert incident_title("Payments", MAJOR) == "Payments outage"
    assert join_names([]) == ""
    assert join_names(["A"]) == "A"
    assert join_names(["A", "B"]) == "A and B"
    assert join_names(["A", "B", "C"]) == "A, B and C"


def test_effective_status_a_person_wins_then_maintenance_then_checks() -> None:
    assert effective_status(OK, MAJOR, under_maintenance=True) is MAJOR
    assert effective_status(OK, OK, under_maintenance=False) is OK
    assert effective_status(MAJOR, OK, under_maintenance=False) is OK
    assert effective_status(MAJOR, None, under_maintenance=True) is MAINT
    assert effective_status(MAJOR, None, under_maintenance=False) is MAJOR
    assert effective_status(UNKNOWN, None, under_maintenance=False) is UNKNOWN


def test_deploy_hint_for_staff() -> None:
    assert (
        deploy_hint("Payments", at(8), "v2.14", "ci", deployed_at=at(5))
        == "Payments went down 3 min after deploy v2.14 by ci"
    )
    assert (
        deploy_hint("Payments", at(0, 59), "v2.14", "", deployed_at=at(0))
        == "Payments went down less than a minute after deploy v2.14"
    )
