"""Prometheus metrics: requests and latency by route and status, and the build as a gauge."""

from __future__ import annotations

import os
import threading

from flask import Flask, Response, abort, request
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
# Tuned for a fast API: most answers well under 100 ms.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Metrics:
    """The app's metrics in their own registry, so several apps (tests) never collide."""

    def __init__(self, settings: Settings) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ("method", "route", "status")
        self.requests = Counter(
            "http_requests_total", "HTTP requests served.", labels, registry=self.registry
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time spent serving HTTP requests.",
            labels,
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        Gauge(
            "app_build_info",
            "Build of the running app (always 1).",
            ("version", "revision", "description"),
            registry=self.registry,
            multiprocess_mode="max",
        ).labels(settings.version, settings.last_commit_sha, settings.description).set(1)
        # Label lookups take a lock and hash the labels; the set of children is small, keep them.
        self._children: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}
        self._lock = threading.Lock()

    def record(self, method: str, route: str, status: str, seconds: float) -> None:
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            with self._lock:
                children = (self.requests.labels(*key), self.latency.labels(*key))
                self._children[key] = children
        children[0].inc()
        children[1].observe(seconds)

    def exposition(self) -> bytes:
        directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
        if directory:
            # Under several gunicorn workers each writes its own files; add them up here.
            collected = CollectorRegistry()
            multiprocess.MultiProcessCollector(collected, path=directory)
            return generate_latest(collected)
        return generate_latest(self.registry)


def local_port(environ: dict[str, object]) -> int | None:
    """The port this connection came in on, from the server's own socket (never from a header)."""
    sock = environ.get("gunicorn.socket")
    try:
        return int(sock.getsockname()[1])  # type: ignore[union-attr]
    except (AttributeError, OSError, TypeError, IndexError, ValueError):
        return None


def init_app(app: Flask, metrics: Metrics, port: int) -> None:
    @app.get(METRICS_PATH)
    def metrics_view() -> Response:
        # Version, commit, traffic and error rates are not for the public: only connections to the
        # metrics port, which no target publishes, see them; everyone else gets the plain 404.
        if local_port(request.environ) != port:
            abort(404)
        return Response(metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})
