"""Gunicorn settings for every platform the image runs on (Heroku, ECS, Beanstalk, Cloud Run).

Each value is read from the environment where a platform or operator needs to change it.
"""

import atexit
import json
import math
import os
import shutil
import tempfile

import gunicorn.http.wsgi
import gunicorn.util

_port = os.environ.get("PORT", "8080")
# The app on PORT (the one port every target publishes), and /metrics on METRICS_PORT, which no
# target publishes: a scraper beside the app (a sidecar) reads it, the internet does not.
_metrics_port = os.environ.get("METRICS_PORT", "9100")
bind = [f"0.0.0.0:{_port}"] + ([f"0.0.0.0:{_metrics_port}"] if _metrics_port != _port else [])


def effective_cpus(cgroup_root: str = "/sys/fs/cgroup") -> int:
    """CPUs this container may use: its cgroup quota, else its CPU affinity.

    os.cpu_count() reports the host's CPUs; on a 1-vCPU Cloud Run instance or a small Heroku dyno
    that would start far too many workers for the memory there is.
    """
    quota = period = None
    try:  # cgroup v2
        with open(os.path.join(cgroup_root, "cpu.max")) as f:
            raw_quota, raw_period = f.read().split()[:2]
        if raw_quota != "max":
            quota, period = int(raw_quota), int(raw_period)
    except (OSError, ValueError):
        try:  # cgroup v1
            with open(os.path.join(cgroup_root, "cpu", "cpu.cfs_quota_us")) as f:
                quota = int(f.read())
            with open(os.path.join(cgroup_root, "cpu", "cpu.cfs_period_us")) as f:
                period = int(f.read())
        except (OSError, ValueError):
            pass
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if quota and period and quota > 0:
        return max(1, min(math.ceil(quota / period), available or 1))
    return max(1, available or 1)


# gthread, with each request's head read in the worker's event loop before a thread takes the
# connection: a client that trickles its headers costs a socket, not a thread, and is cut off after
# GUNICORN_HEADER_TIMEOUT seconds (onedigest_app/worker.py).
worker_class = "onedigest_app.worker.HeadFirstWorker"
workers = int(os.environ.get("WEB_CONCURRENCY", str(min(effective_cpus() * 2, 8))))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# Load the app once in the master: config errors stop the start before any worker forks,
# and workers share the loaded code.
preload_app = True

# Above the idle timeouts of the load balancers in front (ALB 60 s, Heroku router 90 s), so
# the balancer, not gunicorn, closes idle keep-alive connections and no request races a close.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "95"))
# Below the shortest platform kill timeout after SIGTERM (Cloud Run: 10 s).
# 6 s: with a request still running, the whole stop (workers' grace, then the master) measured
# about 0.1 s past it; 8 s left Cloud Run less than 2 s of margin (tests/test_gunicorn.py).
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "6"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))

# The app logs one JSON line per request itself; a gunicorn access log would duplicate it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# Heartbeat files on tmpfs: never block on a slow disk, and the root filesystem may be read-only.
_shm = "/dev/shm"  # noqa: S108 - tmpfs, private to the container
worker_tmp_dir = _shm if os.path.isdir(_shm) else None

# gunicorn itself trusts no peer's forwarding headers: X-Forwarded-Proto / -Ssl / -Protocol
# would set the scheme, and SCRIPT_NAME the path prefix, for any client that sends them. The app's
# ProxyFix trusts exactly PROXY_FIX_COUNT hops of X-Forwarded-For/-Proto, as each target sets it.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}

# No version banner: responses say `Server: onedigest`, not which gunicorn answers.
gunicorn.http.wsgi.SERVER = "onedigest"


def _json_error(sock, status_int: int, reason: str, mesg: str) -> None:  # noqa: ARG001 - gunicorn's signature
    """Requests gunicorn refuses before the app sees them (a malformed request line or header):
    the app's JSON error shape and security headers instead of gunicorn's HTML page. The parser's
    message is not echoed: it can quote what the client sent."""
    # Imported here, not at the top: the app's modules load prometheus_client, which must first
    # see PROMETHEUS_MULTIPROC_DIR (set below) to add up the workers' metrics.
    from onedigest_app.security import STATIC_HEADERS

    body = json.dumps(
        {
            "error": {
                "code": status_int,
                "name": reason,
                "description": "The request could not be read.",
            }
        }
    )
    head = [
        f"HTTP/1.1 {status_int} {reason}",
        "Connection: close",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *(f"{name}: {value}" for name, value in STATIC_HEADERS),
    ]
    gunicorn.util.write_nonblock(sock, ("\r\n".join(head) + "\r\n\r\n" + body).encode("latin-1"))


gunicorn.util.write_error = _json_error

control_socket_disable = True

if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Several workers: metrics must be summed across processes (prometheus_client multiprocess).
    _metrics_dir = tempfile.mkdtemp(prefix="prometheus-", dir=worker_tmp_dir)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir
    _master_pid = os.getpid()

    def _remove_metrics_dir() -> None:
        # Forked workers inherit this handler; only the master, on its way out, may remove the dir.
        if os.getpid() == _master_pid:
            shutil.rmtree(_metrics_dir, ignore_errors=True)

    atexit.register(_remove_metrics_dir)


def child_exit(server, worker):  # noqa: ARG001 - gunicorn's hook signature
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, directory)
