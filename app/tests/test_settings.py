"""Every setting's parsing, defaults, bounds and messages, straight from ``Settings.from_env``."""

from __future__ import annotations

import pytest

from onedigest_app.settings import ConfigError, Settings


def settings(**environ: str) -> Settings:
    return Settings.from_env(environ=environ)


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " True ", "yes", "YES", "on", "On"])
def test_flags_accept_every_spelling_of_yes(raw):
    assert settings(FORCE_HTTPS=raw).force_https is True


@pytest.mark.parametrize("raw", ["0", "false", "FALSE", "no", "NO", "off", "OFF", "", "  "])
def test_flags_accept_every_spelling_of_no(raw):
    assert settings(FORCE_HTTPS=raw).force_https is False


def test_a_flag_that_is_neither_is_refused_by_name():
    with pytest.raises(ConfigError) as excinfo:
        settings(FORCE_HTTPS="maybe")
    assert str(excinfo.value) == "FORCE_HTTPS='maybe' is not a boolean: set FORCE_HTTPS to 1 or 0"


def test_defaults_with_an_empty_environment():
    s = settings()
    assert (s.env, s.secret_key, s.version, s.description) == (
        "production",
        None,
        "0.0.0-dev",
        "onedigest app",
    )
    assert (s.last_commit_sha, s.image_id, s.log_level, s.testing) == (
        "unknown",
        "unknown",
        "INFO",
        False,
    )
    assert (s.proxy_count, s.proxy_proto_count, s.force_https, s.canonical_host) == (
        1,
        1,
        False,
        None,
    )
    assert (s.hsts_max_age, s.max_content_length, s.metrics_port) == (31536000, 1024 * 1024, 9100)


def test_the_given_environment_wins_over_the_process_one(monkeypatch):
    monkeypatch.setenv("APP_VERSION", "from-process")
    assert settings(APP_VERSION="from-argument").version == "from-argument"
    assert Settings.from_env().version == "from-process"


def test_test_environment_sets_testing():
    assert settings(APP_ENV="test").testing is True
    assert settings(APP_ENV="development").testing is False


@pytest.mark.parametrize(
    ("name", "raw", "bounds"),
    [
        ("PROXY_FIX_COUNT", "11", "[0, 10]"),
        ("HSTS_MAX_AGE", "63072001", "[0, 63072000]"),
        ("MAX_CONTENT_LENGTH", "0", "[1, 1073741824]"),
        ("MAX_CONTENT_LENGTH", "1073741825", "[1, 1073741824]"),
        ("METRICS_PORT", "1023", "[1024, 65535]"),
        ("METRICS_PORT", "65536", "[1024, 65535]"),
        ("METRICS_PORT", "http", "[1024, 65535]"),
    ],
)
def test_integers_out_of_bounds_are_refused_by_name(name, raw, bounds):
    with pytest.raises(ConfigError) as excinfo:
        settings(**{name: raw})
    assert str(excinfo.value) == f"{name}={raw!r} is not an integer in {bounds}: set {name} to one"


@pytest.mark.parametrize(
    ("name", "raw", "field", "value"),
    [
        ("HSTS_MAX_AGE", "63072000", "hsts_max_age", 63072000),
        ("MAX_CONTENT_LENGTH", "1", "max_content_length", 1),
        ("MAX_CONTENT_LENGTH", "1073741824", "max_content_length", 1073741824),
        ("METRICS_PORT", "1024", "metrics_port", 1024),
        ("METRICS_PORT", "65535", "metrics_port", 65535),
    ],
)
def test_integers_at_their_bounds_are_accepted(name, raw, field, value):
    assert getattr(settings(**{name: raw}), field) == value


def test_an_unknown_log_level_is_refused_with_the_levels():
    with pytest.raises(ConfigError) as excinfo:
        settings(LOG_LEVEL="loud")
    assert str(excinfo.value) == (
        "LOG_LEVEL='LOUD' is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL: set LOG_LEVEL"
    )


def test_log_level_and_canonical_host_are_case_insensitive():
    assert settings(LOG_LEVEL="debug").log_level == "DEBUG"
    assert settings(CANONICAL_HOST="App.Example.COM").canonical_host == "app.example.com"
