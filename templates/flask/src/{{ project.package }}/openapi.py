"""The API's OpenAPI 3.1 description at `/openapi.json`, built from the app itself.

Paths, methods and path parameters come from Flask's URL map, so no route is left out. Each view
says what it reads and what it answers with `@describe(...)`; the errors follow from what the
view is:
- a JSON body: 400 (malformed JSON), 415 (not JSON), 422 (invalid); a query string: 422;
- a path parameter: 404 (no such object);
{% if auth == "jwt" %}
- `@login_required`: 401 (no valid bearer token);
{% endif %}
{% if "ratelimit" in extras %}
- every route but the probes: 429 (over RATE_LIMIT).
{% endif %}
tests/test_openapi.py checks that routes and description agree.
"""

import re
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, TypeVar

from flask import Blueprint, Flask, current_app
from flask.typing import ResponseReturnValue
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from .schemas import Error

View = TypeVar("View", bound=Callable[..., Any])
# What a view answers with a status: a model, `list[Model]`, or None for no body.
Answer = Any
Refs = Mapping[tuple[type[BaseModel], JsonSchemaMode], dict[str, Any]]

bp = Blueprint("openapi", __name__)

# Attributes of a view function; functools.wraps carries them to the decorators' wrappers.
_OPERATION = "openapi_operation"
_SECURED = "openapi_secured"
_REF = "#/components/schemas/{model}"
# `<int:item_id>` in a Flask rule: the converter and the argument.
_ARGUMENT = re.compile(r"<(?:(?P<converter>\w+)(?:\([^)]*\))?:)?(?P<name>\w+)>")
_CONVERTERS = {"int": {"type": "integer", "minimum": 0}, "float": {"type": "number", "minimum": 0}}
# Headers that come with a status, whichever view answers it.
_HEADERS = {
    201: ("Location", "The URL of what was created"),
    401: ("WWW-Authenticate", "Bearer"),
    429: ("Retry-After", "Seconds until the limit lets requests through again"),
}


@dataclass(frozen=True)
class Operation:
    summary: str
    answers: Mapping[int, Answer]
    errors: Mapping[int, str] = field(default_factory=dict)
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None


def describe(
    summary: str,
    *,
    answers: Mapping[int, Answer],
    errors: Mapping[int, str] | None = None,
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
) -> Callable[[View], View]:
    """Documents a view: what it answers (status: body) and the errors only this view answers."""

    def mark(view: View) -> View:
        vars(view)[_OPERATION] = Operation(summary, answers, errors or {}, body, query)
        return view

    return mark


def needs_token(view: View) -> View:
    """Marks a view that answers 401 without a valid bearer token (see `@login_required`)."""
    vars(view)[_SECURED] = True
    return view


def init_app(app: Flask, *, rate_limited_except: Iterable[Blueprint] | None = None) -> None:
    """Serves the description; with `rate_limited_except`, routes outside those can answer 429."""
    if rate_limited_except is None:
        app.extensions["openapi_unlimited"] = None
    else:
        app.extensions["openapi_unlimited"] = {blueprint.name for blueprint in rate_limited_except}
    app.register_blueprint(bp)


@bp.get("/openapi.json")
def openapi_json() -> ResponseReturnValue:
    return description(current_app)


def description(app: Flask) -> dict[str, Any]:
    """The description of every route of `app` but this module's own."""
    routes = [
        (rule, method, app.view_functions[rule.endpoint])
        for rule in app.url_map.iter_rules()
        if not rule.endpoint.startswith(f"{bp.name}.")
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    ]
    schemas, refs = _components(vars(view).get(_OPERATION) for _, _, view in routes)
    unlimited: set[str] | None = app.extensions["openapi_unlimited"]
    paths: dict[str, dict[str, Any]] = {}
    for rule, method, view in routes:
        limited = unlimited is not None and rule.endpoint.split(".")[0] not in unlimited
        path = _ARGUMENT.sub(r"{\g<name>}", rule.rule)
        paths.setdefault(path, {})[method.lower()] = _operation(rule.rule, view, refs, limited)
    components: dict[str, Any] = {"schemas": schemas}
{% if auth == "jwt" %}
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    }
{% endif %}
    return {
        "openapi": "3.1.0",
        "info": {"title": "{{ project.title }}", "version": "0.1.0"},
        "paths": paths,
        "components": components,
    }


def _components(operations: Iterable[Operation | None]) -> tuple[dict[str, Any], Refs]:
    """The schemas of every model the operations use, and a `$ref` to each (model, mode)."""
    models: dict[tuple[type[BaseModel], JsonSchemaMode], None] = {(Error, "serialization"): None}
    for operation in operations:
        if operation is None:
            continue
        if operation.body is not None:
            models[(operation.body, "validation")] = None
        for answer in operation.answers.values():
            if (model := _model(answer)) is not None:
                models[(model, "serialization")] = None
    refs, schemas = models_json_schema(list(models), ref_template=_REF)
    return schemas.get("$defs", {}), refs


def _operation(rule: str, view: Callable[..., Any], refs: Refs, limited: bool) -> dict[str, Any]:
    operation: Operation | None = vars(view).get(_OPERATION)
    if operation is None:
        # Listed all the same, so the description never hides a route; test_openapi.py fails.
        return {"responses": {"default": {"description": "Not described: add @describe"}}}
    secured = bool(vars(view).get(_SECURED))
    errors = dict(operation.errors)
    if operation.body is not None:
        errors.setdefault(400, "The body is not well-formed JSON")
        errors.setdefault(415, "The body is not JSON (Content-Type: application/json)")
        errors.setdefault(422, "The body is not valid: `detail` says where and why")
    if operation.query is not None:
        errors.setdefault(422, "The query string is not valid: `detail` says where and why")
    if secured:
        errors.setdefault(401, "No valid bearer token")
    if "<" in rule:
        errors.setdefault(404, "No such object")
    if limited:
        errors.setdefault(429, "Over RATE_LIMIT: retry after Retry-After seconds")

    answers = operation.answers.items()
    responses = {str(status): _response(status, answer, refs) for status, answer in answers}
    for status, text in sorted(errors.items()):
        responses[str(status)] = _response(status, Error, refs, text)
    described: dict[str, Any] = {"summary": operation.summary, "responses": responses}
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": _CONVERTERS.get(converter, {})}
        for converter, name in _ARGUMENT.findall(rule)
    ] + _query_parameters(operation.query)
    if parameters:
        described["parameters"] = parameters
    if operation.body is not None:
        schema = refs[(operation.body, "validation")]
        content = {"application/json": {"schema": schema}}
        described["requestBody"] = {"required": True, "content": content}
    if secured:
        described["security"] = [{"bearer": []}]
    return described


def _response(status: int, answer: Answer, refs: Refs, text: str = "") -> dict[str, Any]:
    response: dict[str, Any] = {"description": text or HTTPStatus(status).phrase}
    if (model := _model(answer)) is not None:
        schema = refs[(model, "serialization")]
        if typing.get_origin(answer) is list:
            schema = {"type": "array", "items": schema}
        response["content"] = {"application/json": {"schema": schema}}
    if status in _HEADERS:
        name, meaning = _HEADERS[status]
        response["headers"] = {name: {"description": meaning, "schema": {"type": "string"}}}
    return response


def _query_parameters(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    """One parameter per field of `model` (fields of plain types: a query string holds no more)."""
    if model is None:
        return []
    schema = model.model_json_schema(ref_template=_REF)
    required = schema.get("required", [])
    return [
        {"name": name, "in": "query", "required": name in required, "schema": field_schema}
        for name, field_schema in schema["properties"].items()
    ]


def _model(answer: Answer) -> type[BaseModel] | None:
    """The model of an answer: `Model` or `list[Model]`; None for no body."""
    if typing.get_origin(answer) is list:
        (answer,) = typing.get_args(answer)
    return answer if isinstance(answer, type) and issubclass(answer, BaseModel) else None
