from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from onedigest_app import create_app

BASE_CONFIG = {
    "APP_ENV": "test",
    "SECRET_KEY": "test-secret",
    "APP_VERSION": "1.2.3",
    "APP_DESCRIPTION": "test build",
    "LAST_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567",
    "IMAGE_ID": "sha256:" + "c0" * 32,
}


@pytest.fixture
def make_app() -> Callable[..., Flask]:
    def factory(**overrides: Any) -> Flask:
        return create_app({**BASE_CONFIG, **overrides})

    return factory


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        yield client


@pytest.fixture
def log_lines(capsys: pytest.CaptureFixture[str]) -> Callable[[], list[dict[str, Any]]]:
    """The JSON log lines written to stdout so far."""

    def read() -> list[dict[str, Any]]:
        out = capsys.readouterr().out
        return [json.loads(line) for line in out.splitlines() if line.startswith("{")]

    return read
