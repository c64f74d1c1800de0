"""JSON logs on stdout (one line per request, app logs in the same shape), request IDs, and the
WSGI middleware that times each request, records it and adds the response headers every answer
carries. One middleware instead of several Flask hooks: it runs on every request, so it stays cheap.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

REQUEST_ID_HEADER = "X-Request-ID"
KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"}
)
ROUTE_ENVIRON = "onedigest.route"
# Accept a caller's id only if it is short and plain, so it cannot forge log lines.
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")

access_log = logging.getLogger("onedigest.access")

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields passed as ``extra={"fields": {...}}``."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            payload.update(fields)
        if record.exc_info:
            # Tracebacks go to the log stream (one JSON string), never to the client.
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, separators=(",", ":"), default=str)


class StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stdout`` is at emit time (it may be replaced after start-up)."""

    @property  # type: ignore[override]
    def stream(self):
        return sys.stdout

    @stream.setter
    def stream(self, _value: object) -> None:
        pass


def configure_logging(level: str) -> None:
    handler = StdoutHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Werkzeug's dev-server access lines would duplicate ours.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


class RequestMiddleware:
    """Per request: an ID (the caller's if sane), timing, one access-log line, the metrics record,
    and the static and conditional response headers (``header_for`` decides the latter)."""

    def __init__(
        self,
        app: WSGIApp,
        static_headers: list[tuple[str, str]],
        https_headers: list[tuple[str, str]],
        record: Callable[[str, str, str, float], None],
    ) -> None:
        self.app = app
        self.static_headers = static_headers
        self.https_headers = https_headers
        self.record = record

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        incoming = environ.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            extra = self.static_headers
            if environ.get("wsgi.url_scheme") == "https":
                extra = extra + self.https_headers
            headers.extend(h for h in extra if h[0].lower() not in present)
            headers.append((REQUEST_ID_HEADER, request_id))
            # Timed to the status line, as Flask's own hooks would see it; bodies here are small.
            self.finish(environ, status[:3], time.perf_counter() - started, request_id)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)

    def finish(self, environ: dict[str, Any], status: str, duration: float, rid: str) -> None:
        method = environ.get("REQUEST_METHOD", "")
        # Labels come from bounded sets only: a client can send any method name (gunicorn accepts
        # any token) and any path, and each new label value would be a new series forever.
        label = method if method in KNOWN_METHODS else "OTHER"
        self.record(label, environ.get(ROUTE_ENVIRON, "<unmatched>"), status, duration)
        if access_log.isEnabledFor(logging.INFO):
            access_log.info(
                "request",
                extra={
                    "fields": {
                        "method": method,
                        "path": environ.get("PATH_INFO", ""),
                        "status": int(status),
                        "duration_ms": round(duration * 1000, 3),
                        "request_id": rid,
                        "remote_addr": environ.get("REMOTE_ADDR"),
                    }
                },
            )
