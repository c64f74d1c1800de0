"""Prometheus metrics: requests and latency by route and status, and the build as a gauge."""

from __future__ import annotations

import os
import time

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from .settings import Settings

METRICS_PATH = "/metrics"
UNMATCHED_ROUTE = "<unmatched>"
# Tuned for a fast API: most answers well under 100 ms.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def _multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def init_app(app: Flask, settings: Settings) -> None:
    # One registry per app, so several apps (tests) never collide on metric names.
    registry = CollectorRegistry(auto_describe=True)
    requests_total = Counter(
        "http_requests_total",
        "HTTP requests served.",
        ("method", "route", "status"),
        registry=registry,
    )
    latency = Histogram(
        "http_request_duration_seconds",
        "Time spent serving HTTP requests.",
        ("method", "route", "status"),
        buckets=LATENCY_BUCKETS,
        registry=registry,
    )
    build_info = Gauge(
        "app_build_info",
        "Build of the running app (always 1).",
        ("version", "revision", "description"),
        registry=registry,
        multiprocess_mode="max",
    )
    build_info.labels(settings.version, settings.last_commit_sha, settings.description).set(1)

    @app.after_request
    def record(response: Response) -> Response:
        started = g.get("start")  # set by observability, which runs first
        rule = request.url_rule
        route = rule.rule if rule is not None else UNMATCHED_ROUTE
        labels = (request.method, route, str(response.status_code))
        requests_total.labels(*labels).inc()
        if started is not None:
            latency.labels(*labels).observe(time.perf_counter() - started)
        return response

    @app.get(METRICS_PATH)
    def metrics_view() -> Response:
        directory = _multiprocess_dir()
        if directory:
            # Under several gunicorn workers each writes its own files; add them up here.
            collected = CollectorRegistry()
            multiprocess.MultiProcessCollector(collected, path=directory)
            body = generate_latest(collected)
        else:
            body = generate_latest(registry)
        return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST})
