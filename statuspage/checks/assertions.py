"""Assertions on an HTTP response, compiled once when the config loads.

Each assertion, given what was seen, returns None when it holds or a short
reason that shows what was seen against what was expected, in the form
`status (500) == 200` or `json $.status ("expired") == "active"`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jsonpath_ng import JSONPath
from jsonpath_ng.exceptions import JSONPathError
from jsonpath_ng.ext import parse as parse_jsonpath

_MISSING = object()

# Comparison operators allowed in `json:` assertions, by their YAML key.
OPERATORS: dict[str, tuple[str, Callable[[Any, Any], bool]]] = {
    "eq": ("==", lambda seen, want: json_equal(seen, want)),
    # A missing value is not "something other than X": silence is not health.
    "ne": ("!=", lambda seen, want: seen is not _MISSING and not json_equal(seen, want)),
    "gt": (">", lambda seen, want: _number(seen) > want),
    "gte": (">=", lambda seen, want: _number(seen) >= want),
    "lt": ("<", lambda seen, want: _number(seen) < want),
    "lte": ("<=", lambda seen, want: _number(seen) <= want),
    "contains": ("contains", lambda seen, want: _contains(seen, want)),
    "matches": ("matches", lambda seen, want: isinstance(seen, str) and bool(want.search(seen))),
    "exists": ("exists", lambda seen, want: (seen is not _MISSING) == want),
}


def json_equal(seen: Any, want: Any) -> bool:
    """Equality as JSON means it: `true` is not `1` (Python says it is)."""
    if isinstance(seen, bool) or isinstance(want, bool):
        return isinstance(seen, bool) and isinstance(want, bool) and seen == want
    if isinstance(seen, list) and isinstance(want, list):
        return len(seen) == len(want) and all(map(json_equal, seen, want))
    if isinstance(seen, dict) and isinstance(want, dict):
        return seen.keys() == want.keys() and all(json_equal(seen[k], want[k]) for k in seen)
    return bool(seen == want)


def _contains(seen: Any, want: Any) -> bool:
    if isinstance(seen, str):
        return isinstance(want, str) and want in seen
    if isinstance(seen, list):
        return any(json_equal(item, want) for item in seen)
    return False


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError("not a number")
    return float(value)


def show(value: Any) -> str:
    """A seen value as it appears in a reason: JSON, cut short."""
    if value is _MISSING:
        return "missing"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _show_expected(op: str, want: Any) -> str:
    if op == "matches":
        return f"/{want.pattern}/"
    return show(want)


class StatusExpectation:
    """Expected HTTP status: one code, a list, or a class like `2xx`/`200-299`."""

    def __init__(self, spec: int | str | list[int | str]) -> None:
        items = spec if isinstance(spec, list) else [spec]
        if not items:
            raise ValueError("must name at least one status code")
        self.ranges: list[tuple[int, int]] = [self._parse(item) for item in items]
        self.text = " or ".join(str(item) for item in items)

    @staticmethod
    def _parse(item: int | str) -> tuple[int, int]:
        if isinstance(item, bool):
            raise ValueError("must be a status code such as 200, a class such as 2xx or a range")
        if isinstance(item, int):
            low = high = item
        else:
            text = str(item).strip().lower()
            if m := re.fullmatch(r"([1-5])xx", text):
                low, high = int(m.group(1)) * 100, int(m.group(1)) * 100 + 99
            elif m := re.fullmatch(r"(\d{3})\s*-\s*(\d{3})", text):
                low, high = int(m.group(1)), int(m.group(2))
            elif re.fullmatch(r"\d{3}", text):
                low = high = int(text)
            else:
                raise ValueError(f"{item!r} is not a status code, class (2xx) or range (200-299)")
        if not (100 <= low <= high <= 599):
            raise ValueError(f"{item!r} is not a status code between 100 and 599")
        return low, high

    def failure(self, status: int) -> str | None:
        if any(low <= status <= high for low, high in self.ranges):
            return None
        return f"status ({status}) == {self.text}"


@dataclass(frozen=True)
class JsonAssertion:
    path_text: str
    path: JSONPath
    op: str
    want: Any

    def failure(self, document: Any) -> str | None:
        matches = [m.value for m in self.path.find(document)]
        seen: Any = _MISSING if not matches else matches[0] if len(matches) == 1 else matches
        symbol, compare = OPERATORS[self.op]
        try:
            holds = compare(seen, self.want)
        except TypeError:
            holds = False
        if holds:
            return None
        return f"json {self.path_text} ({show(seen)}) {symbol} {_show_expected(self.op, self.want)}"


def compile_json_assertions(spec: dict[str, Any]) -> list[JsonAssertion]:
    """`{"$.status": "ok", "$.queue": {"lt": 100}}` to assertions.

    A plain value means equality; a mapping whose keys are all operator names
    (eq, ne, gt, gte, lt, lte, contains, matches, exists) applies each.
    Raises ValueError naming the path and what is wrong.
    """
    compiled = []
    for path_text, expected in spec.items():
        path = compile_path(path_text)
        if isinstance(expected, dict) and expected and set(expected) <= set(OPERATORS):
            for op, want in expected.items():
                compiled.append(JsonAssertion(path_text, path, op, _compile_operand(op, want)))
        else:
            compiled.append(JsonAssertion(path_text, path, "eq", expected))
    return compiled


def compile_path(path_text: str) -> JSONPath:
    if not isinstance(path_text, str) or not path_text.startswith("$"):
        raise ValueError(f"{path_text!r} is not a JSON path (it must start with $)")
    try:
        return parse_jsonpath(path_text)
    except JSONPathError as exc:
        raise ValueError(f"{path_text!r} is not a valid JSON path ({exc})") from exc


def _compile_operand(op: str, want: Any) -> Any:
    is_number = isinstance(want, int | float) and not isinstance(want, bool)
    if op in ("gt", "gte", "lt", "lte") and not is_number:
        raise ValueError(f"{op} needs a number, not {show(want)}")
    if op == "matches":
        if not isinstance(want, str):
            raise ValueError("matches needs a regular expression")
        return compile_regex(want)
    if op == "exists" and not isinstance(want, bool):
        raise ValueError("exists needs true or false")
    return want


def compile_regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{pattern!r} is not a valid regular expression ({exc})") from exc
