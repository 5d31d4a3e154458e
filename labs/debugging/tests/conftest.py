"""Fixtures of the debugging lab's hidden tests, which run from a copy outside tests/."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from {{ project.package }}.config import Settings
from {{ project.package }}.main import create_app


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings())) as client:
        yield client
