"""The exact shape of log lines and metric samples: what dashboards and log queries rely on."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

from onedigest_app.observability import JsonFormatter
from tests.test_metrics import sample, scrape

APP_DIR = Path(__file__).resolve().parent.parent


def test_access_line_fields(client, log_lines):
    log_lines()
    client.get("/healthcheck?x=1", headers={"X-Request-ID": "rid-1"})
    line = next(entry for entry in log_lines() if entry["logger"] == "onedigest.access")
    assert line["message"] == "request"
    assert line["level"] == "INFO"
    assert (line["method"], line["path"], line["status"], line["request_id"]) == (
        "GET",
        "/healthcheck",
        200,
        "rid-1",
    )
    assert 0 < line["duration_ms"] < 10_000


def test_made_up_methods_count_as_other(client):
    client.open("/", method="BREW")
    text = scrape(client).get_data(as_text=True)
    assert sample(text, "http_requests_total", method="OTHER") == 1
    assert sample(text, "http_requests_total", method="BREW") == 0


def test_formatter_writes_compact_json_and_copes_with_any_value():
    record = logging.LogRecord("x", logging.WARNING, __file__, 1, "hello %s", ("there",), None)
    record.fields = {"when": object.__new__(type("Odd", (), {"__str__": lambda _self: "odd"}))}
    line = JsonFormatter().format(record)
    assert '":"' in line and ", " not in line.split('"message"')[0]
    payload = json.loads(line)
    assert (payload["level"], payload["logger"], payload["message"], payload["when"]) == (
        "WARNING",
        "x",
        "hello there",
        "odd",
    )


def test_hsts_starts_at_one_second(make_app):
    client = make_app(HSTS_MAX_AGE="1").test_client()
    response = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"] == "max-age=1; includeSubDomains"


def test_metrics_add_up_every_worker_in_the_multiprocess_directory(tmp_path, monkeypatch):
    # Two workers, separate processes as gunicorn forks them, write to one directory; a scrape
    # (here in this process, which reads the directory the same way) must count both.
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "APP_ENV": "test"}
    worker = (
        "import sys\n"
        "from onedigest_app import create_app\n"
        "c = create_app().test_client()\n"
        "[c.get('/') for _ in range(int(sys.argv[1]))]\n"
    )
    for count in ("3", "2"):
        subprocess.run(
            [sys.executable, "-c", worker, count], cwd=APP_DIR, env=env, check=True, timeout=60
        )
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    from onedigest_app import create_app

    text = scrape(create_app({"APP_ENV": "test"}).test_client()).get_data(as_text=True)
    assert sample(text, "http_requests_total", method="GET", route="/", status="200") == 5
    # The build gauge is one series for all workers (their maximum), not one per process id.
    build = [line for line in text.splitlines() if line.startswith("app_build_info{")]
    assert len(build) == 1 and "pid=" not in build[0]


def test_metric_help_texts_and_latency_buckets(client):
    client.get("/")
    text = scrape(client).get_data(as_text=True)
    assert "# HELP http_requests_total HTTP requests served." in text
    assert "# HELP http_request_duration_seconds Time spent serving HTTP requests." in text
    assert "# HELP app_build_info Build of the running app (always 1)." in text
    buckets = re.findall(r'_bucket\{le="([^"]+)",method="GET",route="/",', text)
    assert buckets[:13] == [
        "0.001",
        "0.0025",
        "0.005",
        "0.01",
        "0.025",
        "0.05",
        "0.1",
        "0.25",
        "0.5",
        "1.0",
        "2.5",
        "5.0",
        "+Inf",
    ]


def test_werkzeug_request_lines_are_quiet(make_app):
    # Our own access line replaces the dev server's; only its warnings remain.
    logging.getLogger("werkzeug").setLevel(logging.NOTSET)
    make_app()
    assert logging.getLogger("werkzeug").level == logging.WARNING


def test_debug_stays_off_even_when_flask_debug_is_set(monkeypatch, make_app):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    assert make_app().debug is False


def test_a_header_the_view_sets_is_not_duplicated_by_the_defaults(make_app):
    app = make_app()

    @app.get("/framed")
    def framed():
        from flask import Response

        return Response("ok", headers={"x-frame-options": "SAMEORIGIN"})

    response = app.test_client().get("/framed")
    assert response.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_sessions_follow_a_rotated_secret_key(make_app):
    app = make_app()

    @app.get("/set")
    def set_value():
        from flask import session

        session["v"] = "kept"
        return "ok"

    @app.get("/get")
    def get_value():
        from flask import session

        return session.get("v", "gone")

    client = app.test_client()
    client.get("/set")
    assert client.get("/get").get_data(as_text=True) == "kept"
    # A new key: cookies signed with the old one are no longer trusted.
    app.secret_key = "rotated-secret"
    assert client.get("/get").get_data(as_text=True) == "gone"
