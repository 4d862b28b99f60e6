"""The /api/v1 OpenAPI document is true: schemathesis generates requests
from it (valid ones and broken ones) and checks every answer against it
(WEB-20): never a 5xx, every status and body as documented, a request
without the token refused. And every /api/v1 route is in the document."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import positive_data_acceptance

from statuspage.store import Store
from statuspage.web.openapi import document
from tests.conftest import FakeClock
from tests.test_api_deployments import bearer, new_token
from tests.test_api_write import api_app, open_incident_and_window

# Few examples and a fixed seed: the run is the same every time and takes
# well under a minute on two cores.
EXAMPLES_PER_OPERATION = 8
SEED = 20260915


def schemathesis_config(token: str, aimed: dict[str, str]) -> SchemathesisConfig:
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "headers": bearer(token),
            # Requests about things that exist, not only random ids (404).
            "parameters": {f"path.{name}": value for name, value in aimed.items()},
            "generation": {
                "max-examples": EXAMPLES_PER_OPERATION,
                "deterministic": True,
                "mode": "all",
            },
            "phases": {"stateful": {"enabled": False}},
        }
    )


@pytest.fixture
def api_schema(store: Store, clock: FakeClock) -> Any:
    """The document as the app serves it, with an editor's token, an open
    incident and an upcoming maintenance to aim at, on each backend
    (PostgreSQL refuses what SQLite takes, such as NUL characters)."""
    app = api_app(store, clock)
    token = new_token(store, "editor", "schemathesis")
    ids = open_incident_and_window(app, bearer(token))
    aimed = {
        "incident_id": ids["incident"],
        "maintenance_id": ids["maintenance"],
        "component_id": "api",
    }
    return schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json", app, config=schemathesis_config(token, aimed)
    )


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    # schemathesis 4.32 reads `node._nodeid`, which pytest 9.2 no longer has.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@schema.parametrize()
def test_the_api_keeps_to_its_document(case: Any) -> None:
    # Not checked: that every schema-valid body is accepted. Rules across
    # fields (a window ends after it starts, a display time is not ahead of
    # now, a component id exists) are no JSON Schema's to say, so such a
    # body may rightly get a 422 (documented) that the schema cannot foresee.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])


def test_every_api_route_is_in_the_document(sqlite_store: Store, clock: FakeClock) -> None:
    app = api_app(sqlite_store, clock)
    documented = {
        (path, method.upper())
        for path, item in document()["paths"].items()
        for method in item
        if method != "parameters"
    }
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in (rule.methods or set()) - {"OPTIONS"}:
            if (
                method == "HEAD"
                and "GET" in (rule.methods or set())
                and (path, "HEAD") not in documented
            ):
                continue  # Flask answers HEAD for every GET
            routed.add((path, method))
    assert routed == documented


def test_the_document_is_public_and_names_the_site(sqlite_store: Store, clock: FakeClock) -> None:
    answer = api_app(sqlite_store, clock).test_client().get("/api/v1/openapi.json")
    assert answer.status_code == 200
    assert answer.json["openapi"] == "3.1.0"  # type: ignore[index]
    assert answer.json["info"]["title"] == "Acme Status write API"  # type: ignore[index]
    scheme = answer.json["components"]["securitySchemes"]["bearer"]  # type: ignore[index]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    create = answer.json["paths"]["/api/v1/incidents"]["post"]  # type: ignore[index]
    assert set(create["responses"]) == {"201", "400", "401", "403", "413", "422"}
    body = answer.json["components"]["schemas"]["IncidentCreate"]  # type: ignore[index]
    assert body["additionalProperties"] is False
    assert body["properties"]["name"]["maxLength"] == 300
    assert body["required"] == ["name", "body"]
