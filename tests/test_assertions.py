"""Status expectations and JSON path assertions: what holds, and the reason
shown when it does not (`status (500) == 200`)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from statuspage.checks.assertions import (
    OPERATORS,
    StatusExpectation,
    compile_json_assertions,
    compile_path,
    compile_regex,
    json_equal,
    show,
)


def failures(spec: dict[str, Any], document: Any) -> list[str | None]:
    return [assertion.failure(document) for assertion in compile_json_assertions(spec)]


# --- status ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "status", "reason"),
    [
        (200, 200, None),
        (200, 500, "status (500) == 200"),
        (200, 302, "status (302) == 200"),
        ("204", 204, None),
        ("204", 200, "status (200) == 204"),
        ("2xx", 200, None),
        ("2xx", 299, None),
        ("2xx", 199, "status (199) == 2xx"),
        ("2xx", 300, "status (300) == 2xx"),
        ("2XX", 250, None),
        ("200-204", 204, None),
        ("200-204", 205, "status (205) == 200-204"),
        (" 200 - 204 ", 201, None),
        ([200, "3xx"], 301, None),
        ([200, "3xx"], 404, "status (404) == 200 or 3xx"),
        ([200, 204], 500, "status (500) == 200 or 204"),
    ],
)
def test_status_expectation(spec: Any, status: int, reason: str | None) -> None:
    assert StatusExpectation(spec).failure(status) == reason


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([], "must name at least one status code"),
        (True, "must be a status code such as 200, a class such as 2xx or a range"),
        ("6xx", "'6xx' is not a status code, class (2xx) or range (200-299)"),
        ("ok", "'ok' is not a status code, class (2xx) or range (200-299)"),
        ("20", "'20' is not a status code, class (2xx) or range (200-299)"),
        (99, "99 is not a status code between 100 and 599"),
        (600, "600 is not a status code between 100 and 599"),
        ("299-200", "'299-200' is not a status code between 100 and 599"),
        ([200, "nope"], "'nope' is not a status code, class (2xx) or range (200-299)"),
    ],
)
def test_status_expectation_refuses(spec: Any, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        StatusExpectation(spec)
    assert str(caught.value) == message


# --- json: equality ----------------------------------------------------------


def test_json_equality_reason_shows_seen_and_expected() -> None:
    spec = {"$.status": "active"}
    assert failures(spec, {"status": "expired"}) == ['json $.status ("expired") == "active"']
    assert failures(spec, {"status": "active"}) == [None]


def test_json_missing_value_is_shown_as_missing() -> None:
    assert failures({"$.status": "active"}, {}) == ['json $.status (missing) == "active"']
    assert failures({"$.a.b": 1}, {"a": None}) == ["json $.a.b (missing) == 1"]


def test_json_on_a_document_that_is_not_an_object() -> None:
    assert failures({"$.status": "ok"}, ["ok"]) == ['json $.status (missing) == "ok"']
    assert failures({"$.status": "ok"}, "ok") == ['json $.status (missing) == "ok"']


def test_json_true_is_not_one() -> None:
    # Python says True == 1; JSON does not, and a health flag must not pass on a count.
    assert failures({"$.ok": True}, {"ok": 1}) == ["json $.ok (1) == true"]
    assert failures({"$.count": 1}, {"count": True}) == ["json $.count (true) == 1"]
    assert failures({"$.count": 0}, {"count": False}) == ["json $.count (false) == 0"]
    assert failures({"$.ok": True}, {"ok": True}) == [None]
    assert failures({"$.flags": [True, 1]}, {"flags": [1, 1]}) == [
        "json $.flags ([1, 1]) == [true, 1]"
    ]
    assert failures({"$.o": {"a": True}}, {"o": {"a": 1}}) == ['json $.o ({"a": 1}) == {"a": true}']


def test_json_integer_equals_float_and_null_is_a_value() -> None:
    assert failures({"$.n": 1}, {"n": 1.0}) == [None]
    assert failures({"$.n": None}, {"n": None}) == [None]
    assert failures({"$.n": None}, {}) == ["json $.n (missing) == null"]


def test_json_equality_on_objects_and_lists() -> None:
    assert failures({"$.o": {"a": 1, "b": [1, 2]}}, {"o": {"b": [1, 2], "a": 1}}) == [None]
    assert failures({"$.o": {"a": 1}}, {"o": {"a": 1, "b": 2}}) == [
        'json $.o ({"a": 1, "b": 2}) == {"a": 1}'
    ]
    assert failures({"$.l": [1, 2]}, {"l": [2, 1]}) == ["json $.l ([2, 1]) == [1, 2]"]


def test_json_several_matches_are_compared_as_a_list() -> None:
    document = {"items": [{"ok": True}, {"ok": False}]}
    assert failures({"$.items[*].ok": [True, True]}, document) == [
        "json $.items[*].ok ([true, false]) == [true, true]"
    ]
    assert failures({"$.items[*].ok": {"contains": False}}, document) == [None]


def test_json_filter_expressions_from_the_extended_parser() -> None:
    document = {"checks": [{"name": "db", "status": "up"}, {"name": "cache", "status": "down"}]}
    assert failures({'$.checks[?(@.name == "db")].status': "up"}, document) == [None]
    assert failures({'$.checks[?(@.name == "cache")].status': "up"}, document) == [
        'json $.checks[?(@.name == "cache")].status ("down") == "up"'
    ]


# --- json: operators ---------------------------------------------------------


@pytest.mark.parametrize(
    ("ops", "seen", "reasons"),
    [
        ({"ne": "down"}, "up", [None]),
        ({"ne": "down"}, "down", ['json $.v ("down") != "down"']),
        ({"ne": 1}, True, [None]),
        ({"gt": 3}, 4, [None]),
        ({"gt": 3}, 3, ["json $.v (3) > 3"]),
        ({"gte": 3}, 3, [None]),
        ({"gte": 3}, 2.5, ["json $.v (2.5) >= 3"]),
        ({"lt": 100}, 99.9, [None]),
        ({"lt": 100}, 100, ["json $.v (100) < 100"]),
        ({"lte": 100}, 100, [None]),
        ({"lte": 100}, 101, ["json $.v (101) <= 100"]),
        ({"gt": 3}, "5", ['json $.v ("5") > 3']),
        ({"gt": 0}, True, ["json $.v (true) > 0"]),
        ({"lt": 1}, None, ["json $.v (null) < 1"]),
        ({"gte": 1, "lt": 10}, 5, [None, None]),
        ({"gte": 1, "lt": 10}, 10, [None, "json $.v (10) < 10"]),
        ({"contains": "ok"}, "all ok here", [None]),
        ({"contains": "ok"}, "fine", ['json $.v ("fine") contains "ok"']),
        ({"contains": "db"}, ["db", "cache"], [None]),
        ({"contains": "web"}, ["db", "cache"], ['json $.v (["db", "cache"]) contains "web"']),
        ({"contains": True}, [1], ["json $.v ([1]) contains true"]),
        ({"contains": 1}, "1", ['json $.v ("1") contains 1']),
        ({"contains": "1"}, 1, ['json $.v (1) contains "1"']),
        ({"matches": r"^2\."}, "2.1.0", [None]),
        ({"matches": r"^2\."}, "1.9", [r'json $.v ("1.9") matches /^2\./']),
        ({"matches": "x"}, 5, ["json $.v (5) matches /x/"]),
        ({"exists": True}, 0, [None]),
        ({"exists": True}, None, [None]),
        ({"exists": False}, "here", ['json $.v ("here") exists false']),
    ],
)
def test_json_operators(ops: dict[str, Any], seen: Any, reasons: list[str | None]) -> None:
    assert failures({"$.v": ops}, {"v": seen}) == reasons


@pytest.mark.parametrize(
    ("ops", "reason"),
    [
        ({"exists": True}, "json $.v (missing) exists true"),
        ({"exists": False}, None),
        # A missing value is not "something other than down": silence is not health.
        ({"ne": "down"}, 'json $.v (missing) != "down"'),
        ({"gt": 3}, "json $.v (missing) > 3"),
        ({"contains": "x"}, 'json $.v (missing) contains "x"'),
        ({"matches": "x"}, "json $.v (missing) matches /x/"),
    ],
)
def test_json_operators_on_a_missing_value(ops: dict[str, Any], reason: str | None) -> None:
    assert failures({"$.v": ops}, {"other": 1}) == [reason]


def test_a_mapping_with_other_keys_is_a_literal_to_compare() -> None:
    spec = {"$.v": {"lt": 5, "unit": "ms"}}
    assert failures(spec, {"v": {"lt": 5, "unit": "ms"}}) == [None]
    assert failures(spec, {"v": 3}) == ['json $.v (3) == {"lt": 5, "unit": "ms"}']
    assert failures({"$.v": {}}, {"v": {}}) == [None]


def test_seen_values_are_cut_short_in_reasons() -> None:
    long = "x" * 100
    reason = failures({"$.v": "short"}, {"v": long})[0]
    assert reason == 'json $.v ("' + "x" * 56 + '...) == "short"'
    assert show("é") == '"é"'
    assert show("x" * 58) == '"' + "x" * 58 + '"'  # 60 characters: kept whole


# --- compiling -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"status": "ok"}, "'status' is not a JSON path (it must start with $)"),
        ({"$[": 1}, "'$[' is not a valid JSON path (Parse error near the end of string!)"),
        ({"$x": 1}, "'$x' is not a valid JSON path (Parse error at 1:1 near token x (ID))"),
        ({"$.v": {"gt": "3"}}, 'gt needs a number, not "3"'),
        ({"$.v": {"lte": True}}, "lte needs a number, not true"),
        ({"$.v": {"matches": 5}}, "matches needs a regular expression"),
        (
            {"$.v": {"matches": "("}},
            "'(' is not a valid regular expression"
            " (missing ), unterminated subpattern at position 0)",
        ),
        ({"$.v": {"exists": "yes"}}, "exists needs true or false"),
    ],
)
def test_compile_refuses_with_a_reason(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as caught:
        compile_json_assertions(spec)
    assert str(caught.value) == message


def test_compile_path_refuses_non_strings() -> None:
    with pytest.raises(ValueError, match=r"^5 is not a JSON path \(it must start with \$\)$"):
        compile_path(5)  # type: ignore[arg-type]


def test_compile_regex_compiles_once() -> None:
    pattern = compile_regex(r"ok\s+\d+")
    assert pattern.search("status ok  42")
    assert compile_json_assertions({"$.v": {"matches": "a+"}})[0].want.pattern == "a+"


# --- properties ----------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=10,
)


@given(json_values)
def test_every_json_value_equals_itself(value: Any) -> None:
    # A mapping made of operator names is read as operators, not a literal.
    assume(not (isinstance(value, dict) and value and set(value) <= set(OPERATORS)))
    assert failures({"$.v": value}, {"v": value}) == [None]


@given(json_values, json_values)
def test_json_equal_is_symmetric_and_never_mixes_bools_with_numbers(a: Any, b: Any) -> None:
    assert json_equal(a, b) == json_equal(b, a)
    if isinstance(a, bool) != isinstance(b, bool):
        assert not json_equal(a, b)
