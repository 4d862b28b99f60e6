"""Find the raw series selectors in a PromQL expression.

Not a PromQL parser: a scanner that knows enough (strings, label matchers,
range brackets, grouping clauses, function calls, keywords) to pull out
`metric{labels}` selectors, so a check can ask how fresh the data behind its
query is.
"""

from __future__ import annotations

import re

_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
    "and", "or", "unless", "offset", "atan2", "inf", "nan",
    # aggregation operators may put `by (...)` before their parentheses
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
    "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio",
}  # fmt: skip
_GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_NUMBER = re.compile(r"(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:e[+-]?\d+)?|\.\d+)")


def metric_selectors(query: str) -> list[str]:
    """`rate(http_requests_total{service="api"}[5m]) / up` ->
    `['http_requests_total{service="api"}', 'up']`, in order, without repeats."""
    found: list[str] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch in "\"'`":
            i = _skip_string(query, i)
            continue
        if ch == "#":  # a comment runs to the end of the line
            i = query.find("\n", i) + 1 or n
            continue
        if ch == "[":
            i = query.find("]", i) + 1 or n
            continue
        if ch == "{":  # a selector without a metric name: {job="api"}
            end = _skip_braces(query, i)
            found.append(query[i:end])
            i = end
            continue
        if ch.isdigit() or (ch == "." and i + 1 < n and query[i + 1].isdigit()):
            m = _NUMBER.match(query, i)
            i = m.end() if m else i + 1
            # a duration such as 5m after offset: skip its unit letters
            while i < n and query[i].isalpha():
                i += 1
            continue
        m = _IDENT.match(query, i)
        if not m:
            i += 1
            continue
        word = m.group(0)
        j = m.end()
        while j < n and query[j].isspace():
            j += 1
        if word.lower() in _GROUPING:
            # `by (le)`, `on (instance)`, `group_left (label)`: label names,
            # not selectors. `group_left` may have no list at all, and then
            # the parenthesis that follows belongs to the next operand.
            i = query.find(")", j) + 1 or n if j < n and query[j] == "(" else j
            continue
        if word.lower() in _KEYWORDS:
            i = j
            continue
        if j < n and query[j] == "(":  # a function or aggregation
            i = j
            continue
        if j < n and query[j] == "{":
            end = _skip_braces(query, j)
            selector = word + query[j:end]
            i = end
        else:
            selector = word
            i = m.end()
        if selector not in found:
            found.append(selector)
    return found


def _skip_string(text: str, start: int) -> int:
    quote = text[start]
    i = start + 1
    while i < len(text):
        if text[i] == "\\" and quote != "`":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    return len(text)


def _skip_braces(text: str, start: int) -> int:
    i = start + 1
    while i < len(text):
        if text[i] in "\"'`":
            i = _skip_string(text, i)
            continue
        if text[i] == "}":
            return i + 1
        i += 1
    return len(text)
