"""Boots the real ``gunicorn -c gunicorn.conf.py wsgi:app`` the image runs."""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parent.parent
GRACEFUL_TIMEOUT = 6


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(url: str, deadline: float) -> urllib.request.addinfourl:
    while True:
        try:
            return urllib.request.urlopen(url, timeout=2)  # noqa: S310 - loopback only
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def launch(output: int = subprocess.PIPE, **extra: str) -> tuple[subprocess.Popen[str], str, str]:
    """The real gunicorn as the image runs it; returns it with the app's and the metrics' URLs."""
    port, metrics_port = free_port(), free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "SECRET_KEY": "gunicorn-test",
        "APP_ENV": "production",
        "WEB_CONCURRENCY": "2",
        "METRICS_PORT": str(metrics_port),
        **extra,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=APP_DIR,
        env=env,
        stdout=output,
        stderr=output,
        text=True,
    )
    return proc, f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}"


def stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.fixture
def gunicorn():
    proc, base, metrics_base = launch(APP_VERSION="7.7.7")
    try:
        yield proc, base, metrics_base
    finally:
        stop(proc)


def test_gunicorn_serves_and_stops_cleanly_on_sigterm(gunicorn):
    proc, base, metrics_base = gunicorn
    response = wait_for(base + "/healthcheck", time.monotonic() + 20)
    assert response.status == 200
    assert json.load(response)["myapplication"][0]["version"] == "7.7.7"

    # Both workers' counts are summed (prometheus multiprocess mode).
    for _ in range(6):
        urllib.request.urlopen(base + "/", timeout=2).read()  # noqa: S310
    metrics = urllib.request.urlopen(metrics_base + "/metrics", timeout=2).read().decode()  # noqa: S310
    line = next(
        entry
        for entry in metrics.splitlines()
        if entry.startswith("http_requests_total{") and 'route="/"' in entry
    )
    assert float(line.rsplit(" ", 1)[1]) == 6.0

    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=GRACEFUL_TIMEOUT + 2)
    elapsed = time.monotonic() - started
    assert code == 0
    assert elapsed < GRACEFUL_TIMEOUT

    out, err = proc.communicate()
    access = [json.loads(x) for x in out.splitlines() if '"onedigest.access"' in x]
    # One line per request (1 health + 6 hello + 1 metrics), none duplicated by gunicorn.
    assert len(access) == 8
    assert "GET /healthcheck HTTP" not in out + err


def start_and_refuse(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """gunicorn as the image starts it, expected to stop at once."""
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=APP_DIR,
        env={**env, "PORT": str(free_port())},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_gunicorn_refuses_to_start_without_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    result = start_and_refuse({**env, "APP_ENV": "production"})
    assert result.returncode != 0
    assert "SECRET_KEY is not set: set the SECRET_KEY environment variable" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def gunicorn_with():
    """Starts the real gunicorn with extra environment; stops every one started."""
    started: list[subprocess.Popen[str]] = []
    metrics: dict[str, str] = {}

    def start(**extra: str) -> str:
        proc, base, metrics_base = launch(subprocess.DEVNULL, **extra)
        started.append(proc)
        wait_for(base + "/healthcheck", time.monotonic() + 20)
        metrics[base] = metrics_base
        return base

    start.metrics = metrics  # type: ignore[attr-defined]
    yield start
    for proc in started:
        stop(proc)


def raw_request(base: str, method: str, path: str, headers: dict[str, str] | None = None):
    """One request as a client sends it, any method and header (http.client, no normalising)."""
    import http.client

    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def series(metrics_base: str) -> list[str]:
    metrics = urllib.request.urlopen(metrics_base + "/metrics", timeout=5).read().decode()  # noqa: S310
    return sorted(
        line.rsplit(" ", 1)[0]
        for line in metrics.splitlines()
        if line.startswith("http_requests_total{")
    )


def test_made_up_methods_and_paths_add_no_metric_series(gunicorn_with):
    import random

    base = gunicorn_with()
    rng = random.Random(7)  # noqa: S311 - test data, not a secret
    word = lambda n: "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(n))  # noqa: E731
    # One of each kind first: the bounded label values (OTHER, <unmatched>) exist from then on.
    raw_request(base, word(8), "/" + word(5).lower())
    raw_request(base, "GET", "/" + word(5).lower())
    scrape = gunicorn_with.metrics[base]
    series(scrape)  # the scrape's own series
    before = series(scrape)
    for _ in range(300):
        raw_request(base, word(rng.randint(3, 12)), "/" + word(rng.randint(1, 20)).lower())
    after = series(scrape)
    assert after == before
    assert any('method="OTHER"' in s for s in after)


def test_clients_cannot_set_the_scheme_or_the_script_name(gunicorn_with):
    # No proxy trusted: forwarded headers from a client change nothing.
    base = gunicorn_with(FORCE_HTTPS="1", PROXY_FIX_COUNT="0", CANONICAL_HOST="app.example.com")
    for header in (
        {"X-Forwarded-Proto": "https"},
        {"X-Forwarded-Ssl": "on"},
        {"X-Forwarded-Protocol": "ssl"},
    ):
        status, headers, _ = raw_request(base, "GET", "/", header)
        assert status == 308, header
        assert headers["Location"].startswith("https://"), header


def test_clients_cannot_set_the_script_name(gunicorn_with):
    # SCRIPT_NAME from a client would make /public/metrics serve /metrics (and log it as /metrics).
    base = gunicorn_with()
    status, _, body = raw_request(base, "GET", "/public/metrics", {"SCRIPT_NAME": "/public"})
    assert status == 404
    assert b"http_requests_total" not in body


def test_one_trusted_proxy_sets_the_scheme(gunicorn_with):
    base = gunicorn_with(FORCE_HTTPS="1", PROXY_FIX_COUNT="1", CANONICAL_HOST="app.example.com")
    status, _, _ = raw_request(
        base, "GET", "/", {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    )
    assert status == 200


def test_no_server_version_banner(gunicorn_with):
    base = gunicorn_with()
    _, headers, _ = raw_request(base, "GET", "/healthcheck")
    assert headers["Server"] == "onedigest"
    # gunicorn's own error responses too (a request line it refuses).
    with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), timeout=5) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nBad Header: x\r\n\r\n")
        reply = sock.recv(4096).decode("latin-1")
    assert "gunicorn" not in reply.lower()
    # …and answer like the app: its JSON error shape and its security headers, no HTML.
    head, _, body = reply.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 400 ")
    assert "Content-Type: application/json" in head
    assert "X-Content-Type-Options: nosniff" in head
    assert "Content-Security-Policy: default-src 'none'" in head
    assert json.loads(body)["error"]["code"] == 400


def test_the_https_redirect_never_points_at_a_host_the_client_sent(gunicorn_with):
    base = gunicorn_with(FORCE_HTTPS="1", PROXY_FIX_COUNT="1", CANONICAL_HOST="app.example.com")
    status, headers, _ = raw_request(base, "GET", "/x?y=1", {"Host": "evil.example"})
    assert status == 308
    assert headers["Location"] == "https://app.example.com/x?y=1"


def test_metrics_only_on_the_metrics_port(gunicorn_with):
    base = gunicorn_with()
    status, _, body = raw_request(base, "GET", "/metrics")
    assert status == 404
    assert b"http_requests_total" not in body
    # A Host header naming the metrics port changes nothing: the socket decides.
    status, _, _ = raw_request(
        base,
        "GET",
        "/metrics",
        {"Host": "127.0.0.1:" + gunicorn_with.metrics[base].rsplit(":", 1)[1]},
    )
    assert status == 404
    status, _, body = raw_request(gunicorn_with.metrics[base], "GET", "/metrics")
    assert status == 200
    assert b"http_requests_total" in body


def test_clients_sending_a_header_line_a_second_do_not_starve_the_app(gunicorn_with):
    """Seventeen such clients against 2 workers x 4 threads: /healthcheck keeps answering, and
    each slow client gets the app's JSON 408 once GUNICORN_HEADER_TIMEOUT has passed."""
    import threading

    base = gunicorn_with(GUNICORN_HEADER_TIMEOUT="3")
    port = int(base.rsplit(":", 1)[1])
    slow = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(17)]
    stop_sending = threading.Event()
    first_byte = time.monotonic()

    def trickle() -> None:
        for sock in slow:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n")
        # One header line a second, ending well before the 3 s deadline: a line sent after the
        # server's answer and close would make its kernel reset the connection, and the reset can
        # discard the 408 before the client reads it (the race decides, not the server).
        while not stop_sending.wait(1) and time.monotonic() - first_byte < 2:
            answered, _, _ = select.select(slow, [], [], 0)
            for sock in slow:
                if sock not in answered:
                    with contextlib.suppress(OSError):  # cut off meanwhile
                        sock.sendall(b"X-Slow: 1\r\n")

    sender = threading.Thread(target=trickle, daemon=True)
    sender.start()
    started = time.monotonic()
    try:
        for _ in range(4):
            time.sleep(0.5)
            probe = time.monotonic()
            assert urllib.request.urlopen(base + "/healthcheck", timeout=1).status == 200  # noqa: S310
            assert time.monotonic() - probe < 1
        for sock in slow:
            reply = b""
            while chunk := sock.recv(4096):
                reply += chunk
            head, _, body = reply.decode("latin-1").partition("\r\n\r\n")
            assert head.startswith("HTTP/1.1 408 "), head
            assert "Content-Type: application/json" in head
            assert "X-Content-Type-Options: nosniff" in head
            assert json.loads(body)["error"]["code"] == 408
        assert 3 <= time.monotonic() - started < 6
    finally:
        stop_sending.set()
        for sock in slow:
            sock.close()


def test_a_bad_header_timeout_stops_the_start_in_one_line():
    result = start_and_refuse({**os.environ, "SECRET_KEY": "x", "GUNICORN_HEADER_TIMEOUT": "0"})
    assert result.returncode == 3
    assert (
        "onedigest: configuration error: GUNICORN_HEADER_TIMEOUT='0' is not an integer in [1, 300]"
        in result.stderr
    )
    assert "Traceback" not in result.stderr


def test_a_stop_with_a_request_in_flight_fits_cloud_runs_ten_seconds():
    import threading

    # The shortest platform limit between SIGTERM and SIGKILL is Cloud Run's 10 s.
    port = free_port()
    env = {**os.environ, "PORT": str(port), "METRICS_PORT": str(free_port()), "SECRET_KEY": "x"}
    env.update({"APP_ENV": "production", "WEB_CONCURRENCY": "2"})
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "tests.slow_wsgi:app"],
        cwd=APP_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(base + "/healthcheck", time.monotonic() + 20)
        answers: dict[str, object] = {}

        def ask(name: str, seconds: float) -> None:
            try:
                answers[name] = raw_request(base, "GET", f"/slow?seconds={seconds}")[0]
            except OSError as exc:
                answers[name] = exc

        # One request that finishes inside the grace period, one that never would.
        threads = [threading.Thread(target=ask, args=a) for a in (("short", 2), ("stuck", 60))]
        for t in threads:
            t.start()
        time.sleep(0.5)
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        elapsed = time.monotonic() - started
        for t in threads:
            t.join(timeout=5)
        assert answers["short"] == 200, "a request inside the grace period is answered"
        assert elapsed < 8.0, f"stop took {elapsed:.1f} s: Cloud Run kills at 10 s"
    finally:
        stop(proc)
