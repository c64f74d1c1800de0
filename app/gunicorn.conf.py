"""Gunicorn settings for every platform the image runs on (Heroku, ECS, Beanstalk, Cloud Run).

Each value is read from the environment where a platform or operator needs to change it.
"""

import multiprocessing
import os
import shutil
import tempfile

_port = os.environ.get("PORT", "8080")
bind = [f"0.0.0.0:{_port}"]

# gthread: a few threads per worker absorb slow clients without a worker per connection.
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", str(min(multiprocessing.cpu_count() * 2, 8))))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# Load the app once in the master: config errors stop the start before any worker forks,
# and workers share the loaded code.
preload_app = True

# Above the idle timeouts of the load balancers in front (ALB 60 s, Heroku router 90 s), so
# the balancer, not gunicorn, closes idle keep-alive connections and no request races a close.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "95"))
# Below the shortest platform kill timeout after SIGTERM (Cloud Run: 10 s).
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "8"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))

# The app logs one JSON line per request itself; a gunicorn access log would duplicate it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# Heartbeat files on tmpfs: never block on a slow disk, and the root filesystem may be read-only.
_shm = "/dev/shm"  # noqa: S108 - tmpfs, private to the container
worker_tmp_dir = _shm if os.path.isdir(_shm) else None

# Trust the platform's proxy headers (ProxyFix in the app decides how many hops).
forwarded_allow_ips = "*"

control_socket_disable = True

if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Several workers: metrics must be summed across processes (prometheus_client multiprocess).
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(
        prefix="prometheus-", dir=worker_tmp_dir
    )


def child_exit(server, worker):  # noqa: ARG001 - gunicorn's hook signature
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid, directory)


def on_exit(server):  # noqa: ARG001
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if directory.startswith(os.path.join(worker_tmp_dir or tempfile.gettempdir(), "prometheus-")):
        shutil.rmtree(directory, ignore_errors=True)
