"""Boots the real ``gunicorn -c gunicorn.conf.py wsgi:app`` the image runs."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

APP_DIR = Path(__file__).resolve().parent.parent
GRACEFUL_TIMEOUT = 8


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


@pytest.fixture
def gunicorn():
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "SECRET_KEY": "gunicorn-test",
        "APP_ENV": "production",
        "APP_VERSION": "7.7.7",
        "WEB_CONCURRENCY": "2",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=APP_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield proc, f"http://127.0.0.1:{port}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_gunicorn_serves_and_stops_cleanly_on_sigterm(gunicorn):
    proc, base = gunicorn
    response = wait_for(base + "/healthcheck", time.monotonic() + 20)
    assert response.status == 200
    assert json.load(response)["myapplication"][0]["version"] == "7.7.7"

    # Both workers' counts are summed (prometheus multiprocess mode).
    for _ in range(6):
        urllib.request.urlopen(base + "/", timeout=2).read()  # noqa: S310
    metrics = urllib.request.urlopen(base + "/metrics", timeout=2).read().decode()  # noqa: S310
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


def test_gunicorn_refuses_to_start_without_secret_key():
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(PORT=str(free_port()), APP_ENV="production")
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=APP_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set: set the SECRET_KEY environment variable" in result.stderr
    assert "Traceback" not in result.stderr
