"""The OpenAPI description at /openapi.json: every route, nothing else, and every answer."""

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from {{ project.package }}.openapi import description

# Flask adds these to every route by itself.
IMPLICIT_METHODS = {"HEAD", "OPTIONS"}


def routes(app: Flask) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every route of `app` but the description's own."""
    return {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule != "/openapi.json"
        for method in (rule.methods or set()) - IMPLICIT_METHODS
    }


@pytest.fixture
def schema(client: FlaskClient) -> dict[str, Any]:
    """The description the app serves."""
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.json is not None
    served: dict[str, Any] = response.json
    return served


def operations(schema: dict[str, Any]) -> set[tuple[str, str]]:
    return {(path, method) for path, methods in schema["paths"].items() for method in methods}


def test_the_api_describes_itself(schema: dict[str, Any]) -> None:
    assert schema["openapi"].startswith("3.1")
    assert schema["info"]["title"] == "{{ project.title }}"


def test_every_route_is_described_and_nothing_else(app: Flask, schema: dict[str, Any]) -> None:
    assert operations(schema) == routes(app)
    assert ("/items/{item_id}", "patch") in operations(schema)


def test_every_operation_says_what_it_answers(schema: dict[str, Any]) -> None:
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            statuses = set(operation["responses"])
            assert "default" not in statuses, f"{method} {path}: add @describe to its view"
            assert any(status.startswith("2") for status in statuses), f"{method} {path}"


def test_a_route_without_describe_is_listed_and_flagged(app: Flask) -> None:
    @app.get("/undescribed/<int:thing_id>")
    def undescribed(thing_id: int) -> str:
        return "?"

    operation = description(app)["paths"]["/undescribed/{thing_id}"]["get"]
    assert set(operation["responses"]) == {"default"}


def test_the_errors_are_described(schema: dict[str, Any]) -> None:
    paths = schema["paths"]
    # A JSON body can be malformed (400), not JSON (415) or invalid (422).
    assert {"201", "400", "415", "422"} <= set(paths["/items"]["post"]["responses"])
    assert {"200", "422"} <= set(paths["/items"]["get"]["responses"])
    assert {"200", "404"} <= set(paths["/items/{item_id}"]["get"]["responses"])
    assert set(paths["/items/{item_id}"]["delete"]["responses"]) >= {"204", "404"}
{% if auth == "jwt" %}
    assert "401" in paths["/items"]["post"]["responses"]
    assert "401" not in paths["/items"]["get"]["responses"]
    assert "409" in paths["/auth/register"]["post"]["responses"]
    assert paths["/auth/me"]["get"]["security"] == [{"bearer": []}]
{% endif %}
{% if db == "postgres" %}
    assert "503" in paths["/ready"]["get"]["responses"]
{% endif %}
{% if auth == "jwt" %}


def test_the_operations_that_want_a_token_say_so(app: Flask, schema: dict[str, Any]) -> None:
    anonymous = app.test_client()
    for n, (path, method) in enumerate(sorted(operations(schema))):
        operation = schema["paths"][path][method]
        url = re.sub(r"\{\w+\}", "1", path)
        # Each request from its own address, so that no rate limit gets in the way.
        address = {"REMOTE_ADDR": f"192.0.2.{n + 1}"}
        response = anonymous.open(url, method=method.upper(), json={}, environ_base=address)
        assert (response.status_code == 401) == ("security" in operation), f"{method} {path}"
{% endif %}


def test_error_bodies_are_described_as_json(schema: dict[str, Any]) -> None:
    malformed = schema["paths"]["/items"]["post"]["responses"]["400"]
    assert malformed["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert "detail" in schema["components"]["schemas"]["Error"]["required"]


def test_the_item_id_is_a_path_parameter(schema: dict[str, Any]) -> None:
    operation = schema["paths"]["/items/{item_id}"]["get"]
    [parameter] = operation["parameters"]
    assert parameter["in"] == "path"
    assert parameter["name"] == "item_id"
    assert parameter["schema"]["type"] == "integer"


def test_the_paging_parameters_are_in_the_query(schema: dict[str, Any]) -> None:
    operation = schema["paths"]["/items"]["get"]
    parameters = {parameter["name"]: parameter for parameter in operation["parameters"]}
    assert set(parameters) == {"limit", "offset"}
    assert parameters["limit"]["schema"]["maximum"] == 100
    assert all(parameter["in"] == "query" for parameter in parameters.values())


def test_the_schema_says_which_fields_may_be_null(schema: dict[str, Any]) -> None:
    schemas = schema["components"]["schemas"]
    update = schemas["ItemUpdate"]["properties"]
    null = {"type": "null"}
    nullable = {name for name, field in update.items() if null in field.get("anyOf", [])}
    assert nullable == {"description"}  # as test_items.py's test_update_rejects_invalid_input shows
