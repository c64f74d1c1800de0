from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from onedigest_app import ConfigError, create_app

APP_DIR = Path(__file__).resolve().parent.parent
MISSING_SECRET = (
    "SECRET_KEY is not set: set the SECRET_KEY environment variable "
    "(required when APP_ENV=production)"
)


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError) as excinfo:
        create_app({"APP_ENV": "production"})
    assert str(excinfo.value) == MISSING_SECRET


def test_production_is_the_default_environment(monkeypatch):
    monkeypatch.delenv("APP_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app()


def test_production_starts_with_a_secret_key(monkeypatch):
    monkeypatch.delenv("APP_ENV", raising=False)
    monkeypatch.setenv("SECRET_KEY", "s3cret")
    app = create_app()
    assert app.config["SECRET_KEY"] == "s3cret"
    assert app.debug is False and app.testing is False


def test_development_runs_without_a_secret_key():
    app = create_app({"APP_ENV": "development"})
    assert app.config["SECRET_KEY"] is None


def test_unknown_app_env_is_refused():
    with pytest.raises(ConfigError) as excinfo:
        create_app({"APP_ENV": "staging"})
    assert str(excinfo.value) == (
        "APP_ENV='staging' is not one of production, development, test: set APP_ENV to one"
    )


def test_wsgi_entry_exits_with_one_line_naming_the_variable():
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "APP_ENV")}
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=APP_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 3
    assert result.stderr.strip().splitlines() == [
        f"onedigest: configuration error: {MISSING_SECRET}"
    ]
