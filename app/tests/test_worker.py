"""The head-first gthread worker, run in-process on a loopback listener, heads timing out quickly.

The same attacks go through the real gunicorn in test_gunicorn.py; here each path of the worker is
driven directly, and the stock gthread worker is run against the same clients as the control.
"""

from __future__ import annotations

import os
import selectors
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from concurrent import futures
from functools import partial

import pytest
from gunicorn.config import Config
from gunicorn.glogging import Logger
from gunicorn.workers.gthread import ThreadWorker

from onedigest_app.settings import ConfigError
from onedigest_app.worker import (
    COMPLETE,
    MAX_HEADER_BYTES,
    MORE,
    TOO_LARGE,
    HeadFirstWorker,
    PendingHead,
    header_timeout,
)

HEAD = b"GET /hello HTTP/1.1\r\nHost: test\r\n\r\n"


def app(environ, start_response):
    """Echoes the path; ``/read`` reads the body, anything else leaves it unread."""
    if environ["PATH_INFO"] == "/read":
        environ["wsgi.input"].read()
    body = environ["PATH_INFO"].encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


TIMEOUT = 0.3  # seconds a test client has for its head


def run_worker(worker_class: type[ThreadWorker]) -> Iterator[tuple[ThreadWorker, int]]:
    """The worker on a loopback listener. Its loop is the one gunicorn's ``run()`` turns, checking
    for expired heads every 20 ms instead of every second, so a test waits fractions of a second."""
    cfg = Config()
    cfg.set("threads", 2)
    cfg.set("keepalive", 5)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    listener.setblocking(False)
    worker = worker_class(0, os.getppid(), [listener], None, 30, cfg, Logger(cfg))
    worker.header_timeout = TIMEOUT
    worker.wsgi = app
    worker.tpool = worker.get_thread_pool()
    worker.poller = selectors.DefaultSelector()
    worker._lock = threading.RLock()
    worker.poller.register(
        listener, selectors.EVENT_READ, partial(worker.accept, listener.getsockname())
    )
    running = threading.Event()
    running.set()

    def loop() -> None:
        while running.is_set():
            for key, _ in worker.poller.select(0.02):
                key.data(key.fileobj)
            done, _ = futures.wait(worker.futures, timeout=0, return_when=futures.FIRST_COMPLETED)
            for fut in done:
                worker.futures.remove(fut)
            worker.murder_keepalived()

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield worker, listener.getsockname()[1]
    finally:
        running.clear()
        thread.join(5)
        worker.tpool.shutdown(wait=False)
        worker.poller.close()
        listener.close()
        worker.tmp.close()


@pytest.fixture
def head_first() -> Iterator[tuple[HeadFirstWorker, int]]:
    yield from run_worker(HeadFirstWorker)


@pytest.fixture
def stock() -> Iterator[tuple[ThreadWorker, int]]:
    yield from run_worker(ThreadWorker)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def response(sock: socket.socket) -> bytes:
    """One whole response (these answers are small and carry Content-Length)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def eventually(check: Callable[[], bool], seconds: float = 3) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def answered_within(port: int, seconds: float) -> bool:
    sock = connect(port)
    sock.settimeout(seconds)
    try:
        sock.sendall(HEAD)
        return response(sock).startswith(b"HTTP/1.1 200")
    except TimeoutError:
        return False
    finally:
        sock.close()


def trickle(port: int, count: int) -> list[socket.socket]:
    """Clients that have sent a request line and one header, and not the end of their head."""
    socks = [connect(port) for _ in range(count)]
    for sock in socks:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n")
    return socks


def test_clients_trickling_their_heads_leave_the_threads_free(head_first):
    _, port = head_first
    slow = trickle(port, 6)  # three times the two threads
    try:
        time.sleep(0.05)
        assert answered_within(port, 0.2)
        for sock in slow:
            sock.sendall(b"X-Slow: 1\r\n")
        assert answered_within(port, 0.2)
    finally:
        for sock in slow:
            sock.close()


def test_the_stock_gthread_worker_is_starved_by_the_same_clients(stock):
    """The control: without reading heads first, two trickling clients take both threads."""
    _, port = stock
    slow = trickle(port, 2)
    try:
        time.sleep(0.05)
        assert not answered_within(port, 0.2)
    finally:
        for sock in slow:
            sock.close()


def within_deadline(started: float) -> bool:
    """Cut off at the deadline, not before it and not long after."""
    return TIMEOUT <= time.monotonic() - started < TIMEOUT + 0.3


def test_a_head_not_finished_in_time_gets_408_and_the_connection_closes(head_first):
    worker, port = head_first
    started = time.monotonic()
    [sock] = trickle(port, 1)
    assert response(sock).startswith(b"HTTP/1.1 408 Request Timeout\r\n")
    assert within_deadline(started)
    assert sock.recv(1) == b""
    assert eventually(lambda: worker.nr_conns == 0)


def test_a_silent_connection_is_closed_without_an_answer(head_first):
    worker, port = head_first
    started = time.monotonic()
    sock = connect(port)
    assert sock.recv(1024) == b""
    assert within_deadline(started)
    assert eventually(lambda: worker.nr_conns == 0)


def test_a_head_split_anywhere_is_served(head_first):
    _, port = head_first
    for cut in (1, len(HEAD) - 3, len(HEAD) - 2, len(HEAD) - 1):
        sock = connect(port)
        sock.sendall(HEAD[:cut])
        time.sleep(0.03)
        sock.sendall(HEAD[cut:])
        assert response(sock).endswith(b"\r\n\r\n/hello"), cut
        sock.close()


def test_a_kept_alive_connection_gets_the_same_deadline_for_each_next_head(head_first):
    worker, port = head_first
    sock = connect(port)
    sock.sendall(HEAD)
    assert response(sock).startswith(b"HTTP/1.1 200")
    # Waiting for the next request is keep-alive, not a head's deadline.
    time.sleep(TIMEOUT * 2)
    # The next head, in pieces but in time, is served on the same connection.
    sock.sendall(HEAD[:10])
    time.sleep(TIMEOUT / 2)
    sock.sendall(HEAD[10:])
    assert response(sock).startswith(b"HTTP/1.1 200")
    # One that never ends is cut off like a new connection's.
    started = time.monotonic()
    sock.sendall(HEAD[:10])
    assert response(sock).startswith(b"HTTP/1.1 408 ")
    assert within_deadline(started)
    assert eventually(lambda: worker.nr_conns == 0)


@pytest.mark.parametrize(
    ("path", "first", "rest"),
    [
        ("/read", b"0123456789", b""),  # read by the app
        ("/ignore", b"0123", b"456789"),  # not read, and partly still to come
    ],
)
def test_a_request_after_a_small_body_is_served(head_first, path, first, rest):
    _, port = head_first
    sock = connect(port)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n".encode() + first)
    assert response(sock).endswith(path.encode())
    sock.sendall(rest + HEAD)
    assert response(sock).endswith(b"/hello")
    sock.close()


def test_a_large_unread_body_is_not_taken_for_the_next_head(head_first):
    """The rest of a body the app did not read is no request head: it goes to gunicorn's parser,
    which skips it, and is not refused as a head over the limit."""
    _, port = head_first
    sock = connect(port)
    size = 4 * MAX_HEADER_BYTES
    sock.sendall(f"POST /ignore HTTP/1.1\r\nHost: t\r\nContent-Length: {size}\r\n\r\n".encode())
    assert response(sock).endswith(b"/ignore")
    sock.sendall(b"x" * size + HEAD)
    assert response(sock).endswith(b"/hello")
    sock.close()


def test_a_chunked_body_left_unread_is_skipped_too(head_first):
    _, port = head_first
    sock = connect(port)
    sock.sendall(b"POST /ignore HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    assert response(sock).endswith(b"/ignore")
    sock.sendall(b"5\r\nhello\r\n0\r\n\r\n" + HEAD)
    assert response(sock).endswith(b"/hello")
    sock.close()


def test_a_pipelined_request_already_read_is_finished_by_the_parser(head_first):
    """Part of the next request arrived with the previous one: its end completes it."""
    _, port = head_first
    sock = connect(port)
    sock.sendall(HEAD + HEAD[:-2])
    assert response(sock).endswith(b"/hello")
    sock.sendall(HEAD[-2:])
    assert response(sock).endswith(b"/hello")
    sock.close()


def test_a_head_larger_than_the_limit_is_refused_at_once(head_first):
    worker, port = head_first
    sock = connect(port)
    line = b"X-Filler: " + b"a" * 1000 + b"\r\n"
    started = time.monotonic()
    # Four times the limit, all sent before the answer: the answer still arrives (what the client
    # sent is read and dropped first; closing on unread input would reset the connection).
    sock.sendall(b"GET / HTTP/1.1\r\n" + line * (4 * MAX_HEADER_BYTES // len(line)))
    time.sleep(0.05)
    assert response(sock).startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
    assert time.monotonic() - started < TIMEOUT
    assert eventually(lambda: worker.nr_conns == 0)
    # The worker goes on accepting and serving (the refused socket left its poller).
    for _ in range(3):
        assert answered_within(port, 1)


def test_a_head_that_ends_just_inside_the_limit_is_served(head_first):
    _, port = head_first
    sock = connect(port)
    start = b"GET /hello HTTP/1.1\r\nHost: test\r\n"
    lines = [b"X-Filler: " + b"a" * 1000 + b"\r\n"] * ((MAX_HEADER_BYTES - len(start)) // 1012 - 1)
    head = start + b"".join(lines)
    last = (
        b"X-Last: " + b"b" * (MAX_HEADER_BYTES - len(head) - len(b"X-Last: \r\n\r\n")) + b"\r\n\r\n"
    )
    assert len(head + last) == MAX_HEADER_BYTES
    sock.sendall(head + last)
    assert response(sock).endswith(b"/hello")


@pytest.mark.parametrize("reset", [False, True])
def test_a_client_that_leaves_mid_head_frees_its_slot_at_once(head_first, reset):
    worker, port = head_first
    for sock in trickle(port, 3):
        if reset:  # an RST instead of a FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    assert eventually(lambda: worker.nr_conns == 0, TIMEOUT / 2)
    assert answered_within(port, 1)


def test_each_waiting_head_expires_on_its_own_deadline_and_none_is_left(head_first):
    worker, port = head_first
    first = trickle(port, 3)
    time.sleep(TIMEOUT / 2)
    second = trickle(port, 3)
    with futures.ThreadPoolExecutor(6) as pool:
        done = list(pool.map(lambda s: (response(s), time.monotonic()), first + second))
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer, _ in done)
    assert min(t for _, t in done[3:]) - max(t for _, t in done[:3]) > TIMEOUT / 4
    assert eventually(lambda: worker.nr_conns == 0)


def test_accept_with_nothing_to_accept_returns_quietly(head_first):
    worker, _ = head_first
    idle = socket.socket()
    idle.bind(("127.0.0.1", 0))
    idle.listen(1)
    idle.setblocking(False)
    try:
        worker.accept(idle.getsockname(), idle)  # EAGAIN: another worker took it, or none came
    finally:
        idle.close()
    closed = socket.socket()
    closed.close()
    with pytest.raises(OSError):
        worker.accept(("127.0.0.1", 0), closed)


def test_the_worker_takes_its_head_timeout_from_the_environment(monkeypatch):
    monkeypatch.setenv("GUNICORN_HEADER_TIMEOUT", "7")
    cfg = Config()
    worker = HeadFirstWorker(0, os.getppid(), [], None, 30, cfg, Logger(cfg))
    try:
        assert worker.header_timeout == 7
    finally:
        worker.tmp.close()


def test_check_config_keeps_gthreads_own_checks():
    cfg = Config()
    cfg.set("worker_connections", 2)
    cfg.set("threads", 2)
    warnings: list[str] = []
    log = type("Log", (), {"warning": lambda _log, msg, *a: warnings.append(msg % a)})()
    HeadFirstWorker.check_config(cfg, log)
    assert len(warnings) == 1
    assert warnings[0].startswith("No keepalived connections can be handled.")


def test_pending_head_finds_an_end_at_the_very_start_and_the_first_one():
    # Blank lines first: complete (gunicorn's parser refuses it at once instead of waiting).
    assert PendingHead(0.0).feed(b"\r\n\r\n") == COMPLETE
    # The first end decides, even if what follows (a body) holds another past the limit.
    body = b"x" * MAX_HEADER_BYTES + b"\r\n\r\n"
    assert PendingHead(0.0).feed(HEAD + body) == COMPLETE


def test_pending_head_finds_the_end_across_chunks():
    head = PendingHead(0.0)
    assert head.feed(b"GET / HTTP/1.1\r\nHost: x\r") == MORE
    assert head.feed(b"\n\r") == MORE
    assert head.feed(b"\nbody") == COMPLETE
    assert head.data == b"GET / HTTP/1.1\r\nHost: x\r\n\r\nbody"


def test_pending_head_size_limit():
    head = PendingHead(0.0)
    assert head.feed(b"a" * (MAX_HEADER_BYTES - 1)) == MORE
    assert head.feed(b"a") == TOO_LARGE
    # A head that ends exactly at the limit is complete; one byte more is too large.
    exact = PendingHead(0.0)
    assert exact.feed(b"a" * (MAX_HEADER_BYTES - 4) + b"\r\n\r\n" + b"body") == COMPLETE
    over = PendingHead(0.0)
    assert over.feed(b"a" * (MAX_HEADER_BYTES - 3) + b"\r\n\r\n") == TOO_LARGE


def test_header_timeout_setting():
    assert header_timeout({}) == 10
    assert header_timeout({"GUNICORN_HEADER_TIMEOUT": "1"}) == 1
    assert header_timeout({"GUNICORN_HEADER_TIMEOUT": "300"}) == 300
    for bad in ("0", "301", "ten", ""):
        with pytest.raises(ConfigError) as excinfo:
            header_timeout({"GUNICORN_HEADER_TIMEOUT": bad})
        assert str(excinfo.value) == (
            f"GUNICORN_HEADER_TIMEOUT={bad!r} is not an integer in [1, 300]: "
            "set GUNICORN_HEADER_TIMEOUT to one"
        )


def refused_at_start(cfg: Config, capsys) -> str:
    """What the worker's start-time check prints when it stops the start (with exit code 3)."""
    with pytest.raises(SystemExit) as excinfo:
        HeadFirstWorker.check_config(cfg, Logger(cfg))
    assert excinfo.value.code == 3
    return capsys.readouterr().err


def test_a_bad_header_timeout_stops_the_start_in_one_line(monkeypatch, capsys):
    monkeypatch.setenv("GUNICORN_HEADER_TIMEOUT", "0")
    assert refused_at_start(Config(), capsys) == (
        "onedigest: configuration error: GUNICORN_HEADER_TIMEOUT='0' is not an integer in "
        "[1, 300]: set GUNICORN_HEADER_TIMEOUT to one\n"
    )


def test_tls_in_gunicorn_itself_is_refused_at_start(capsys):
    cfg = Config()
    cfg.set("certfile", "/etc/ssl/app.pem")
    assert refused_at_start(cfg, capsys) == (
        "onedigest: configuration error: gunicorn's certfile/keyfile are set: this worker serves "
        "plain HTTP behind the platform's TLS; remove them (or run gunicorn with worker_class "
        "gthread)\n"
    )
