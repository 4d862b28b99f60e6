"""The state engine: confirmation, staleness, no-data runs and components,
each rule at its exact edges (one result or one second before, at, after)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from statuspage.checks.base import CheckResult
from statuspage.domain import ComponentStatus
from statuspage.state import (
    RESTART_REASON,
    CheckState,
    ComponentState,
    Policy,
    as_of,
    component_change_time,
    derive_check_state,
    derive_component_state,
    initial_state,
)

OPERATIONAL = ComponentStatus.OPERATIONAL
DEGRADED = ComponentStatus.DEGRADED_PERFORMANCE
PARTIAL = ComponentStatus.PARTIAL_OUTAGE
MAJOR = ComponentStatus.MAJOR_OUTAGE
UNKNOWN = ComponentStatus.UNKNOWN

BASE = datetime(2026, 9, 15, 5, 0, tzinfo=UTC)
INTERVAL = timedelta(seconds=30)
SECOND = timedelta(seconds=1)


def at(step: int) -> datetime:
    """The time of the step-th scheduled run."""
    return BASE + INTERVAL * step


def result(step: int, status: ComponentStatus = OPERATIONAL, reason: str = "") -> CheckResult:
    return CheckResult(at=at(step), status=status, reason=reason or f"{status.value} #{step}")


def ok(step: int) -> CheckResult:
    return result(step, OPERATIONAL, f"ok #{step}")


def fail(step: int, status: ComponentStatus = MAJOR) -> CheckResult:
    return result(step, status, f"status (500) == 200 #{step}")


def nodata(step: int) -> CheckResult:
    return result(step, UNKNOWN, f"query returned no data #{step}")


def policy(confirm_down: int = 2, confirm_up: int = 2, stale_after: int = 3) -> Policy:
    return Policy(
        interval=INTERVAL, confirm_down=confirm_down, confirm_up=confirm_up, stale_after=stale_after
    )


def fold(
    results: Sequence[CheckResult],
    pol: Policy,
    previous: CheckState | None = None,
    feed: int | None = None,
) -> list[CheckState]:
    """Feed results one at a time as the monitor does: after each one, the
    engine sees the last `feed` results (default: the policy's window) and
    `now` is the newest result's time. Returns the state after each step."""
    state = previous if previous is not None else initial_state(results[0].at - SECOND)
    feed = pol.window if feed is None else feed
    states = []
    for i, r in enumerate(results):
        window = results[max(0, i + 1 - feed) : i + 1]
        state = derive_check_state(state, window, pol, r.at)
        states.append(state)
    return states


def operational_since(step: int, pol: Policy) -> CheckState:
    """A check that has been operational, with data, since `step`."""
    state = fold([ok(step)], pol)[-1]
    assert state.status is OPERATIONAL
    return state


def down_since(step: int, pol: Policy) -> CheckState:
    state = fold([fail(step)], pol)[-1]
    assert state.status is MAJOR
    return state


# --- after a restart ---------------------------------------------------------


def test_initial_state_is_unknown_since_the_restart():
    state = initial_state(BASE)
    assert state == CheckState(UNKNOWN, BASE, RESTART_REASON, None, None)
    assert state.fresh is False
    assert initial_state(BASE, "config reloaded").reason == "config reloaded"


def test_without_results_the_restart_state_is_kept():
    state = initial_state(BASE)
    assert derive_check_state(state, [], policy(), BASE + timedelta(hours=5)) == state


@pytest.mark.parametrize("status", [OPERATIONAL, DEGRADED, PARTIAL, MAJOR])
def test_first_result_after_restart_is_adopted_at_once(status):
    pol = policy(confirm_down=5, confirm_up=5)
    state = derive_check_state(initial_state(at(0)), [result(1, status)], pol, at(1))
    assert state == CheckState(
        status, at(1), f"{status.value} #1", last_data_at=at(1), next_change_at=at(1) + 3 * INTERVAL
    )
    assert state.fresh


def test_after_restart_the_newest_of_several_results_is_adopted():
    pol = policy(confirm_down=3)
    state = derive_check_state(initial_state(at(0)), [fail(1), fail(2), ok(3)], pol, at(3))
    assert (state.status, state.since, state.reason) == (OPERATIONAL, at(3), "ok #3")
    assert state.last_data_at == at(3)


# --- confirmation ------------------------------------------------------------


def test_confirm_down_minus_one_failures_keep_operational():
    pol = policy(confirm_down=3, confirm_up=2)
    states = fold([ok(0), fail(1), fail(2)], pol)
    assert [s.status for s in states] == [OPERATIONAL] * 3
    # The unconfirmed failures neither move `since` nor replace the reason.
    assert (states[-1].since, states[-1].reason) == (at(0), "ok #0")
    assert states[-1].last_data_at == at(2)


def test_confirm_down_failures_go_down_since_the_first_failure():
    pol = policy(confirm_down=3, confirm_up=2)
    state = fold([ok(0), fail(1), fail(2), fail(3)], pol)[-1]
    assert state == CheckState(
        MAJOR, at(1), "status (500) == 200 #3", last_data_at=at(3), next_change_at=at(6)
    )


def test_confirm_down_of_one_goes_down_on_the_first_failure():
    pol = policy(confirm_down=1, confirm_up=1)
    states = fold([ok(0), fail(1), ok(2)], pol)
    assert [(s.status, s.since) for s in states] == [
        (OPERATIONAL, at(0)),
        (MAJOR, at(1)),
        (OPERATIONAL, at(2)),
    ]


def test_a_success_inside_the_run_restarts_the_count():
    pol = policy(confirm_down=3)
    states = fold([ok(0), fail(1), fail(2), ok(3), fail(4), fail(5), fail(6)], pol)
    assert [s.status for s in states] == [OPERATIONAL] * 6 + [MAJOR]
    assert states[-1].since == at(4)


def test_confirm_up_minus_one_successes_keep_down():
    pol = policy(confirm_down=2, confirm_up=3)
    states = fold([fail(0), ok(1), ok(2)], pol)
    assert [s.status for s in states] == [MAJOR] * 3
    assert states[-1].since == at(0)


def test_confirm_up_successes_recover_since_the_first_success():
    pol = policy(confirm_down=2, confirm_up=3)
    state = fold([fail(0), ok(1), ok(2), ok(3)], pol)[-1]
    assert state == CheckState(
        OPERATIONAL, at(1), "ok #3", last_data_at=at(3), next_change_at=at(6)
    )


def test_a_failure_inside_the_recovery_restarts_the_count():
    pol = policy(confirm_down=2, confirm_up=2)
    states = fold([fail(0), ok(1), fail(2), ok(3), ok(4)], pol)
    assert [s.status for s in states] == [MAJOR] * 4 + [OPERATIONAL]
    assert states[-1].since == at(3)


def test_going_worse_takes_the_mildest_status_of_the_run():
    pol = policy(confirm_down=3)
    states = fold([ok(0), fail(1, MAJOR), fail(2, DEGRADED), fail(3, PARTIAL)], pol)
    assert (states[-1].status, states[-1].since) == (DEGRADED, at(1))
    assert states[-1].reason == "status (500) == 200 #3"


def test_going_better_takes_the_worst_status_of_the_run():
    pol = policy(confirm_up=2)
    states = fold([fail(0, MAJOR), ok(1), fail(2, PARTIAL)], pol)
    assert (states[-1].status, states[-1].since) == (PARTIAL, at(1))


def test_a_run_not_all_worse_than_the_current_status_does_not_confirm():
    pol = policy(confirm_down=2)
    # Current: degraded. A degraded result in the run is not worse.
    states = fold([fail(0, DEGRADED), fail(1, DEGRADED), fail(2, MAJOR)], pol)
    assert [s.status for s in states] == [DEGRADED] * 3
    later = fold([fail(3, MAJOR)], pol, previous=states[-1])
    # Fed alone, the run is too short: the engine needs the window.
    assert later[-1].status is DEGRADED
    state = derive_check_state(states[-1], [fail(2, MAJOR), fail(3, MAJOR)], pol, at(3))
    assert (state.status, state.since) == (MAJOR, at(2))


def test_the_same_status_keeps_since_and_shows_the_newest_reason():
    pol = policy()
    states = fold([fail(0), fail(1), fail(2)], pol)
    assert [(s.status, s.since) for s in states] == [(MAJOR, at(0))] * 3
    assert states[-1].reason == "status (500) == 200 #2"


# --- staleness ---------------------------------------------------------------


def test_stale_edges_one_second_before_at_and_after_the_deadline():
    pol = policy(stale_after=3)
    fresh = operational_since(0, pol)
    deadline = at(0) + INTERVAL * 3
    assert fresh.next_change_at == deadline

    before = derive_check_state(fresh, [ok(0)], pol, deadline - SECOND)
    assert before == fresh
    assert before.status is OPERATIONAL

    stale = derive_check_state(fresh, [ok(0)], pol, deadline)
    assert stale == CheckState(
        UNKNOWN, deadline, "no result since 05:00:00 UTC", last_data_at=at(0), next_change_at=None
    )
    assert stale.fresh is False

    after = derive_check_state(fresh, [ok(0)], pol, deadline + SECOND)
    assert after == stale
    # Looking again later does not move the start of the silence.
    assert derive_check_state(stale, [ok(0)], pol, deadline + timedelta(hours=2)) == stale


def test_staleness_is_measured_from_the_newest_result_with_data():
    pol = policy(confirm_down=3, stale_after=2)
    states = fold([ok(0), ok(1), nodata(2)], pol)
    assert states[-1].status is OPERATIONAL
    assert states[-1].next_change_at == at(1) + 2 * INTERVAL
    deadline = at(1) + 2 * INTERVAL
    window = [ok(0), ok(1), nodata(2)]
    assert derive_check_state(states[-1], window, pol, deadline - SECOND).status is OPERATIONAL
    stale = derive_check_state(states[-1], window, pol, deadline)
    assert (stale.status, stale.since, stale.last_data_at) == (UNKNOWN, deadline, at(1))


def test_a_stale_down_check_is_unknown_not_down():
    pol = policy(stale_after=1)
    down = down_since(0, pol)
    stale = derive_check_state(down, [fail(0)], pol, at(1))
    assert (stale.status, stale.since) == (UNKNOWN, at(1))


def test_a_result_after_staleness_is_adopted_at_once():
    pol = policy(confirm_down=3, confirm_up=3)
    stale = derive_check_state(operational_since(0, pol), [ok(0)], pol, at(10))
    assert stale.status is UNKNOWN
    back = derive_check_state(stale, [ok(0), fail(11)], pol, at(11))
    assert back == CheckState(
        MAJOR, at(11), "status (500) == 200 #11", last_data_at=at(11), next_change_at=at(14)
    )


def test_stale_edge_with_other_multiples():
    pol = Policy(interval=timedelta(minutes=1), confirm_down=2, confirm_up=2, stale_after=5)
    fresh = derive_check_state(initial_state(BASE), [CheckResult(BASE, OPERATIONAL)], pol, BASE)
    deadline = BASE + timedelta(minutes=5)
    assert pol.stale_window == timedelta(minutes=5)
    assert fresh.next_change_at == deadline
    assert derive_check_state(fresh, [], pol, deadline - SECOND).status is OPERATIONAL
    assert derive_check_state(fresh, [], pol, deadline).status is UNKNOWN
    assert derive_check_state(fresh, [], pol, deadline).since == deadline


# --- results in the future ---------------------------------------------------


def test_results_after_now_are_ignored():
    pol = policy(confirm_down=2)
    fresh = operational_since(0, pol)
    future = CheckResult(at(1) + SECOND, MAJOR, "from the future")
    state = derive_check_state(fresh, [fail(1), future], pol, at(1))
    assert state.status is OPERATIONAL
    assert state.last_data_at == at(1)
    # At its own time, the same result counts.
    state = derive_check_state(fresh, [fail(1), future], pol, at(1) + SECOND)
    assert (state.status, state.since, state.reason) == (MAJOR, at(1), "from the future")


def test_a_future_result_does_not_keep_a_check_fresh():
    pol = policy(stale_after=3)
    fresh = operational_since(0, pol)
    deadline = at(3)
    future = CheckResult(deadline + SECOND, OPERATIONAL, "clock skew")
    stale = derive_check_state(fresh, [ok(0), future], pol, deadline)
    assert (stale.status, stale.since, stale.last_data_at) == (UNKNOWN, deadline, at(0))


def test_a_future_result_is_not_adopted_after_restart():
    state = initial_state(at(0))
    future = CheckResult(at(2), MAJOR, "later")
    assert derive_check_state(state, [future], policy(), at(1)) == state


# --- runs without data -------------------------------------------------------


def test_fewer_than_confirm_down_no_data_results_keep_the_status():
    pol = policy(confirm_down=3, confirm_up=2)
    states = fold([ok(0), nodata(1), nodata(2)], pol)
    assert [s.status for s in states] == [OPERATIONAL] * 3
    assert (states[-1].since, states[-1].last_data_at) == (at(0), at(0))
    assert states[-1].next_change_at == at(3)


def test_fewer_no_data_results_keep_a_down_status_too():
    pol = policy(confirm_down=2, stale_after=5)
    states = fold([fail(0), nodata(1), fail(2), nodata(3)], pol)
    assert [(s.status, s.since) for s in states] == [(MAJOR, at(0))] * 4


def test_confirm_down_no_data_results_give_unknown_since_the_first_of_them():
    pol = policy(confirm_down=3, confirm_up=2, stale_after=10)
    states = fold([ok(0), nodata(1), nodata(2), nodata(3)], pol)
    assert states[-1] == CheckState(
        UNKNOWN, at(1), "query returned no data #3", last_data_at=at(0), next_change_at=None
    )
    # More no-data results, fed only the window: the silence still began at 1.
    more = fold([nodata(4), nodata(5)], pol, previous=states[-1])
    assert [(s.status, s.since) for s in more] == [(UNKNOWN, at(1))] * 2


def test_a_long_no_data_run_walks_back_to_its_first_result():
    pol = policy(confirm_down=2)
    recent = [ok(0), nodata(1), nodata(2), nodata(3), nodata(4)]
    state = derive_check_state(operational_since(0, pol), recent, pol, at(4))
    assert (state.status, state.since) == (UNKNOWN, at(1))


def test_no_data_inside_the_window_does_not_make_a_run():
    pol = policy(confirm_down=2)
    # Two no-data results, but not the latest two: data came back.
    states = fold([ok(0), nodata(1), nodata(2), ok(3)], pol)
    assert [s.status for s in states] == [OPERATIONAL, OPERATIONAL, UNKNOWN, OPERATIONAL]
    assert states[-1].since == at(3)


def test_data_coming_back_after_a_no_data_run_is_adopted_at_once():
    pol = policy(confirm_down=2, confirm_up=5)
    states = fold([fail(0), nodata(1), nodata(2), fail(3, PARTIAL)], pol)
    assert [(s.status, s.since) for s in states] == [
        (MAJOR, at(0)),
        (MAJOR, at(0)),
        (UNKNOWN, at(1)),
        (PARTIAL, at(3)),
    ]


def test_no_data_after_restart_stays_unknown_since_the_restart():
    pol = policy(confirm_down=2)
    restart = initial_state(at(0))
    state = derive_check_state(restart, [nodata(1), nodata(2)], pol, at(2))
    assert (state.status, state.since, state.reason) == (
        UNKNOWN,
        at(0),
        "query returned no data #2",
    )
    assert state.last_data_at is None


def test_no_data_after_staleness_keeps_the_stale_since():
    pol = policy(confirm_down=2, stale_after=2)
    stale = derive_check_state(operational_since(0, pol), [ok(0)], pol, at(2))
    assert (stale.status, stale.since) == (UNKNOWN, at(2))
    state = derive_check_state(stale, [nodata(3), nodata(4)], pol, at(4))
    assert (state.status, state.since, state.last_data_at) == (UNKNOWN, at(2), at(0))


def test_no_data_results_neither_confirm_nor_break_a_run_when_history_allows():
    # With the whole history fed, a no-data result inside a failing run is
    # skipped: it is not a failure, and not a success either.
    pol = policy(confirm_down=2)
    history = [ok(0), fail(1), nodata(2), fail(3)]
    states = fold(history, pol, feed=len(history))
    assert [s.status for s in states] == [OPERATIONAL, OPERATIONAL, OPERATIONAL, MAJOR]
    assert states[-1].since == at(1)


# --- components --------------------------------------------------------------


def checkstate(status: ComponentStatus, reason: str = "") -> CheckState:
    return CheckState(status, BASE, reason or status.value, last_data_at=BASE)


def test_a_component_without_checks_is_operational():
    assert derive_component_state([]) == ComponentState(OPERATIONAL, "no automated checks")


def test_a_component_is_the_worst_of_its_fresh_checks():
    checks = [
        ("health", checkstate(DEGRADED, "latency 2.1s > 1s")),
        ("login", checkstate(PARTIAL, "status (502) == 200")),
        ("p95", checkstate(OPERATIONAL)),
    ]
    assert derive_component_state(checks) == ComponentState(PARTIAL, "login: status (502) == 200")


def test_all_checks_operational_give_operational():
    checks = [("a", checkstate(OPERATIONAL)), ("b", checkstate(OPERATIONAL))]
    assert derive_component_state(checks) == ComponentState(OPERATIONAL, "all checks pass")


@pytest.mark.parametrize("fresh_status", [OPERATIONAL, DEGRADED, PARTIAL, MAJOR])
def test_a_stale_check_does_not_hide_a_fresh_one(fresh_status):
    checks = [
        ("p95 latency", checkstate(UNKNOWN, "no result since 04:58:00 UTC")),
        ("health", checkstate(fresh_status, "seen")),
    ]
    assert derive_component_state(checks).status is fresh_status
    assert derive_component_state(list(reversed(checks))).status is fresh_status


def test_a_component_is_unknown_only_when_all_checks_are_unknown():
    checks = [
        ("health", checkstate(UNKNOWN, "no result since 04:58:00 UTC")),
        ("p95", checkstate(UNKNOWN, "query returned no data")),
    ]
    assert derive_component_state(checks) == ComponentState(
        UNKNOWN,
        "no fresh data (health: no result since 04:58:00 UTC; p95: query returned no data)",
    )
    assert derive_component_state(checks[:1]).status is UNKNOWN


def test_component_state_follows_the_engine_end_to_end():
    pol = policy(stale_after=2)
    health = fold([ok(0), fail(1), fail(2)], pol)[-1]
    metrics = derive_check_state(operational_since(0, pol), [ok(0)], pol, at(2))
    assert (health.status, metrics.status) == (MAJOR, UNKNOWN)
    component = derive_component_state([("metrics", metrics), ("health", health)])
    assert component == ComponentState(MAJOR, "health: status (500) == 200 #2")


# --- when a component's change took effect -----------------------------------


def test_change_time_is_the_latest_since_among_changed_checks():
    changed = [checkstate(MAJOR), CheckState(PARTIAL, at(3), "x"), CheckState(MAJOR, at(1), "y")]
    assert component_change_time(changed, fallback=at(9), not_before=None) == at(3)


def test_change_time_falls_back_when_no_check_changed():
    assert component_change_time([], fallback=at(9), not_before=at(2)) == at(9)


def test_change_time_is_never_before_the_previous_change():
    changed = [CheckState(MAJOR, at(1), "x")]
    assert component_change_time(changed, at(9), not_before=at(1) + SECOND) == at(1) + SECOND
    assert component_change_time(changed, at(9), not_before=at(1)) == at(1)
    assert component_change_time(changed, at(9), not_before=at(1) - SECOND) == at(1)


# --- properties of the confirmation rule (REL-07) ----------------------------


def oracle_ok_fail(
    outcomes: Sequence[bool], confirm_down: int, confirm_up: int
) -> list[tuple[ComponentStatus, int]]:
    """A counter-based state machine, written from the rule's words: the
    first result is adopted; then `confirm_down` consecutive failures go
    down and `confirm_up` consecutive successes come back, effective at the
    first of them. Returns (status, index the status began at) per step."""
    out: list[tuple[ComponentStatus, int]] = []
    status: ComponentStatus | None = None
    since = 0
    streak = 0  # consecutive results disagreeing with the status
    streak_start = 0
    for i, good in enumerate(outcomes):
        seen = OPERATIONAL if good else MAJOR
        if status is None:
            status, since = seen, i
        elif seen is status:
            streak = 0
        else:
            if streak == 0:
                streak_start = i
            streak += 1
            if streak >= (confirm_up if good else confirm_down):
                status, since, streak = seen, streak_start, 0
        out.append((status, since))
    return out


confirmations = st.integers(min_value=1, max_value=5)


@settings(max_examples=300, deadline=None)
@given(
    outcomes=st.lists(st.booleans(), min_size=1, max_size=40),
    confirm_down=confirmations,
    confirm_up=confirmations,
    stale_after=st.integers(min_value=1, max_value=4),
)
def test_confirmation_matches_a_counter_oracle(outcomes, confirm_down, confirm_up, stale_after):
    pol = policy(confirm_down, confirm_up, stale_after)
    results = [ok(i) if good else fail(i) for i, good in enumerate(outcomes)]
    states = fold(results, pol, previous=initial_state(BASE - SECOND))
    expected = oracle_ok_fail(outcomes, confirm_down, confirm_up)
    assert [(s.status, s.since) for s in states] == [(st_, at(i)) for st_, i in expected]
    for i, state in enumerate(states):
        assert state.last_data_at == at(i)
        assert state.next_change_at == at(i) + INTERVAL * stale_after

    # The invariant: a status changes only after enough consecutive results
    # that disagree with it.
    for i in range(1, len(states)):
        if states[i].status is states[i - 1].status:
            continue
        going_down = states[i].status is MAJOR
        need = confirm_down if going_down else confirm_up
        tail = outcomes[max(0, i + 1 - need) : i + 1]
        assert len(tail) == need
        assert all(good is not going_down for good in tail)
        # ... and the change took effect at the first of them.
        assert states[i].since == at(i + 1 - need)

    # Feeding more history than the window changes nothing.
    assert fold(results, pol, previous=initial_state(BASE - SECOND), feed=len(results)) == states


def oracle_levels(
    observed: Sequence[ComponentStatus], confirm_down: int, confirm_up: int
) -> list[tuple[ComponentStatus, int]]:
    """The rule over the whole history: when the latest `confirm_down`
    results are all worse than the status, take the mildest of them; when
    the latest `confirm_up` are all better, take the worst of them."""
    out: list[tuple[ComponentStatus, int]] = []
    status: ComponentStatus | None = None
    since = 0
    for i, seen in enumerate(observed):
        if status is None:
            status, since = seen, i
        else:
            current = status.severity
            down = observed[i + 1 - confirm_down : i + 1] if i + 1 >= confirm_down else []
            up = observed[i + 1 - confirm_up : i + 1] if i + 1 >= confirm_up else []
            if seen.severity > current and down and all(s.severity > current for s in down):
                status, since = min(down, key=lambda s: s.severity), i + 1 - confirm_down
            elif seen.severity < current and up and all(s.severity < current for s in up):
                status, since = max(up, key=lambda s: s.severity), i + 1 - confirm_up
        out.append((status, since))
    return out


@settings(max_examples=300, deadline=None)
@given(
    observed=st.lists(
        st.sampled_from([OPERATIONAL, DEGRADED, PARTIAL, MAJOR]), min_size=1, max_size=30
    ),
    confirm_down=confirmations,
    confirm_up=confirmations,
)
def test_confirmation_over_all_levels_matches_the_rule(observed, confirm_down, confirm_up):
    pol = policy(confirm_down, confirm_up, stale_after=2)
    results = [result(i, s) for i, s in enumerate(observed)]
    states = fold(results, pol, previous=initial_state(BASE - SECOND))
    expected = oracle_levels(observed, confirm_down, confirm_up)
    assert [(s.status, s.since) for s in states] == [(s, at(i)) for s, i in expected]
    # A change never takes effect before the previous one, nor after now.
    for i in range(1, len(states)):
        assert states[i - 1].since <= states[i].since <= at(i)


def test_as_of_turns_a_state_stale_exactly_at_its_deadline() -> None:
    due = at(4)
    fresh = CheckState(MAJOR, at(1), "status (500) == 200", last_data_at=at(1), next_change_at=due)
    assert as_of(fresh, due - SECOND) is fresh
    stale = as_of(fresh, due)
    assert stale == CheckState(UNKNOWN, due, "no result since 05:00:30 UTC", at(1), None)
    assert as_of(stale, due + INTERVAL) is stale
    never_ran = initial_state(at(0))
    assert as_of(never_ran, at(100)) is never_ran


def test_staff_override_wins_over_checks_and_maintenance() -> None:
    from statuspage.state import effective_component_state

    automated = ComponentState(OPERATIONAL, "all checks pass")
    assert effective_component_state(automated) == automated
    assert effective_component_state(automated, maintenance="DB upgrade") == ComponentState(
        ComponentStatus.UNDER_MAINTENANCE, "scheduled maintenance: DB upgrade"
    )
    assert effective_component_state(
        automated, override=(MAJOR, "payments provider down"), maintenance="DB upgrade"
    ) == ComponentState(MAJOR, "set by staff: payments provider down")
    assert effective_component_state(automated, override=(PARTIAL, "")) == ComponentState(
        PARTIAL, "set by staff"
    )
