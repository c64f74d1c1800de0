"""The gunicorn settings module, loaded as gunicorn loads it."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


@pytest.fixture(autouse=True)
def _clean_metrics_dir(monkeypatch):  # noqa: ARG001 - set up after it, so torn down before its undo
    yield
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory and Path(directory).name.startswith("prometheus-"):
        shutil.rmtree(directory, ignore_errors=True)


def load(monkeypatch: pytest.MonkeyPatch, **env: str):
    for key in ("WEB_CONCURRENCY", "PORT", "METRICS_PORT"):
        monkeypatch.delenv(key, raising=False)
    # Recorded by monkeypatch, so the module's own os.environ write is undone after the test.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", CONF)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_timeouts_fit_the_platforms(monkeypatch):
    conf = load(monkeypatch, WEB_CONCURRENCY="1")
    assert conf.worker_class == "onedigest_app.worker.HeadFirstWorker"
    assert conf.preload_app is True
    assert conf.keepalive > 90  # above ALB (60 s) and Heroku router (90 s) idle timeouts
    assert conf.graceful_timeout < 10  # below Cloud Run's 10 s after SIGTERM
    assert conf.graceful_timeout == 6
    # A stuck request is killed after 30 s: within the ALB's 60 s idle timeout, not an hour.
    assert conf.timeout == 30
    # No client's forwarding headers are trusted by gunicorn (the app's ProxyFix decides).
    assert conf.forwarded_allow_ips == ""
    assert conf.secure_scheme_headers == {}
    assert conf.accesslog is None
    # The app's port, and the metrics port no target publishes.
    assert conf.bind == ["0.0.0.0:8080", "0.0.0.0:9100"]


def test_port_and_workers_from_the_environment(monkeypatch):
    conf = load(monkeypatch, PORT="5000", WEB_CONCURRENCY="3", METRICS_PORT="9500")
    assert conf.bind == ["0.0.0.0:5000", "0.0.0.0:9500"]
    assert conf.workers == 3
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"]


def test_effective_cpus_reads_the_cgroup_quota(monkeypatch, tmp_path):
    conf = load(monkeypatch, WEB_CONCURRENCY="1")
    (tmp_path / "cpu.max").write_text("150000 100000\n")
    assert conf.effective_cpus(str(tmp_path)) == min(2, len(os.sched_getaffinity(0)))
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert conf.effective_cpus(str(tmp_path)) == len(os.sched_getaffinity(0))


def test_effective_cpus_reads_cgroup_v1(monkeypatch, tmp_path):
    conf = load(monkeypatch, WEB_CONCURRENCY="1")
    (tmp_path / "cpu").mkdir()
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("100000\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")
    assert conf.effective_cpus(str(tmp_path)) == 1


def test_default_workers_follow_the_cpus(monkeypatch):
    conf = load(monkeypatch)
    assert conf.workers == min(conf.effective_cpus() * 2, 8)
