"""metric_selectors: the raw series a PromQL query reads, so a check can ask
how fresh they are."""

from __future__ import annotations

import pytest

from statuspage.checks.promql import metric_selectors


@pytest.mark.parametrize(
    ("query", "selectors"),
    [
        ("up", ["up"]),
        ('up{job="api"}', ['up{job="api"}']),
        ('{job="api", __name__=~"http_.*"}', ['{job="api", __name__=~"http_.*"}']),
        (
            'rate(http_requests_total{service="api"}[5m]) / up',
            ['http_requests_total{service="api"}', "up"],
        ),
        (
            "histogram_quantile(0.95, sum by (le) "
            '(rate(http_request_duration_seconds_bucket{service="api"}[5m])))',
            ['http_request_duration_seconds_bucket{service="api"}'],
        ),
        # grouping after the aggregation, and in capitals
        ("sum(rate(x[5m])) by (job, instance)", ["x"]),
        ("SUM BY (le) (RATE(x[1m]))", ["x"]),
        ("sum without (instance) (x)", ["x"]),
        ('count_values by (code) ("code", x)', ["x"]),
        ("topk(5, x)", ["x"]),
        ("quantile(0.9, x)", ["x"]),
        # vector matching: the label lists are not selectors
        ("a and on(instance) b", ["a", "b"]),
        ("a / ignoring(code) group_left b", ["a", "b"]),
        ("a / on(instance) group_left(version) b", ["a", "b"]),
        ("a * on (instance) group_right (job, env) b", ["a", "b"]),
        # group_left without a list: the parenthesis is the next operand's
        ("a / on(x) group_left rate(b[5m])", ["a", "b"]),
        ("a > bool 5", ["a"]),
        ("a unless b or c", ["a", "b", "c"]),
        # strings never hold selectors
        ('label_replace(up, "dst", "$1 x{y}", "src", "(.*)")', ["up"]),
        ("label_join(up, 'dst', ',', 'a', 'b')", ["up"]),
        ('x{path="/a}b"}', ['x{path="/a}b"}']),
        ('x{path="a\\"b"}', ['x{path="a\\"b"}']),
        ("x{path=`a}b`}", ["x{path=`a}b`}"]),
        # durations, offsets, @, subqueries, numbers
        ("x offset 5m", ["x"]),
        ("rate(x[1h30m] offset 1d)", ["x"]),
        ("x @ 1609746000", ["x"]),
        ("x @ start()", ["x"]),
        ("max_over_time(rate(x[5m])[30m:1m])", ["x"]),
        ("x > 1e3 and y < 0x1F and z != .5", ["x", "y", "z"]),
        ("x > Inf or y == NaN", ["x", "y"]),
        # level:metric:operation names, a space before the braces
        ('job:http_requests:rate5m{job="api"}', ['job:http_requests:rate5m{job="api"}']),
        ('x {job="api"}', ['x{job="api"}']),
        # no selectors at all
        ("vector(1)", []),
        ("time() - 5", []),
        ("", []),
        # repeats are given once, in order of appearance
        ("b + a + b", ["b", "a"]),
        ("sum(a) / sum(a) + c", ["a", "c"]),
        # comments run to the end of the line
        ("up # the job\n + x # and x{y}", ["up", "x"]),
    ],
)
def test_metric_selectors(query: str, selectors: list[str]) -> None:
    assert metric_selectors(query) == selectors


@pytest.mark.parametrize("query", ["sum(", 'x{job="api"', "rate(x[5m", '"unterminated', "a / on(x"])
def test_broken_queries_do_not_crash_the_scanner(query: str) -> None:
    assert isinstance(metric_selectors(query), list)


def test_unterminated_braces_keep_what_was_written() -> None:
    assert metric_selectors('x{job="api"') == ['x{job="api"']
