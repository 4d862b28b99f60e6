"""JSON Schemas for the OpenAPI document, made from the code's own types:
request bodies from the pydantic models (`model_json_schema`), answers
from the TypedDicts the serializers are typed with. Nothing is written by
hand, so the document says what the code does.

Pydantic cannot read `typing.TypedDict` before Python 3.12, and the
serializers' shapes use it, so `shape_schema` walks their type hints.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable
from typing import Any, Literal, NotRequired, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

REF = "#/components/schemas/{model}"

_SCALARS: dict[Any, str] = {
    str: "string",
    int: "integer",
    bool: "boolean",
    float: "number",
    type(None): "null",
}


def model_schemas(models: Iterable[type[BaseModel]]) -> dict[str, Any]:
    """The request models and every model they use, by name."""
    _, top = models_json_schema([(model, "validation") for model in models], ref_template=REF)
    found: dict[str, Any] = top.get("$defs", {})
    return found


def shape_schema(hint: Any, defs: dict[str, Any]) -> dict[str, Any]:
    """The schema of a type hint; a TypedDict becomes a `$ref`, and its
    schema (closed: no keys but its own) goes into `defs`."""
    if hint is Any:
        return {}
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if typing.is_typeddict(hint):
        name = hint.__name__
        if name not in defs:
            defs[name] = {}  # a placeholder, in case the shape refers to itself
            defs[name] = _object_schema(hint, defs)
        return {"$ref": REF.format(model=name)}
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, types.UnionType):
        options = [shape_schema(arg, defs) for arg in args]
        if all(set(o) == {"type"} and isinstance(o["type"], str) for o in options):
            return {"type": [o["type"] for o in options]}
        return {"anyOf": options}
    if origin is list:
        return {"type": "array", "items": shape_schema(args[0], defs)}
    if origin is dict:
        return {"type": "object", "additionalProperties": shape_schema(args[1], defs)}
    if origin is Literal:
        return {"enum": list(args)}
    raise TypeError(f"no JSON Schema for {hint!r}")


def _object_schema(shape: Any, defs: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required = []
    for key, hint in typing.get_type_hints(shape, include_extras=True).items():
        if get_origin(hint) is NotRequired:
            hint = get_args(hint)[0]
        else:
            required.append(key)
        properties[key] = shape_schema(hint, defs)
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    if shape.__doc__:
        schema["description"] = " ".join(shape.__doc__.split())
    return schema


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """A query model's fields as OpenAPI query parameters. A parameter is
    left out rather than sent empty, so `null` is no option of its own."""
    schema = model.model_json_schema(ref_template=REF)
    required = set(schema.get("required", []))
    found = []
    for name, field in schema.get("properties", {}).items():
        options = [o for o in field.get("anyOf", []) if o != {"type": "null"}]
        if len(options) == 1:
            rest = {k: v for k, v in field.items() if k not in ("anyOf", "default")}
            field = {**rest, **options[0]}
        found.append({"name": name, "in": "query", "required": name in required, "schema": field})
    return found
