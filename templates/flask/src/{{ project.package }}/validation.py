"""Request bodies and query strings, validated by Pydantic models.

A `pydantic.ValidationError` raised here becomes a 422 response (see `errors.py`).
"""

from typing import TypeVar

from flask import request
from pydantic import BaseModel

Model = TypeVar("Model", bound=BaseModel)


def parse_body(model: type[Model]) -> Model:
    """The JSON request body as `model`. Flask answers 415 if it is not JSON, 400 if malformed."""
    return model.model_validate(request.get_json())


def parse_query(model: type[Model]) -> Model:
    return model.model_validate(request.args.to_dict())
