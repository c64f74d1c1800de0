from __future__ import annotations

import re


def test_request_id_is_echoed(client):
    response = client.get("/", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"


def test_request_id_is_generated_when_absent(client):
    first = client.get("/").headers["X-Request-ID"]
    second = client.get("/").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != second


def test_a_forged_request_id_is_replaced(client):
    for forged in ('x" {"level":"CRITICAL"}', "a" * 129):
        response = client.get("/", headers={"X-Request-ID": forged})
        assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_one_json_line_per_request(client, log_lines):
    log_lines()
    client.get("/healthcheck", headers={"X-Request-ID": "req-1"})
    client.get("/nope", headers={"X-Request-ID": "req-2"})
    access = [line for line in log_lines() if line["logger"] == "onedigest.access"]
    assert [(a["method"], a["path"], a["status"], a["request_id"]) for a in access] == [
        ("GET", "/healthcheck", 200, "req-1"),
        ("GET", "/nope", 404, "req-2"),
    ]
    for line in access:
        assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
        assert line["level"] == "INFO" and line["time"].endswith("+00:00")


def test_log_level_from_environment(make_app, log_lines):
    client = make_app(LOG_LEVEL="WARNING").test_client()
    log_lines()
    client.get("/")
    assert [line for line in log_lines() if line["logger"] == "onedigest.access"] == []


def test_a_request_id_with_a_trailing_newline_is_replaced(app):
    # `$` would match before a final newline; the ID must be the whole value.
    environ = {"HTTP_X_REQUEST_ID": "abc-123\n"}
    response = app.test_client().get("/", environ_overrides=environ)
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])
