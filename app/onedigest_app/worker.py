"""A gunicorn gthread worker that gives a connection a thread only once its request head is in.

The stock gthread worker hands a connection to a thread as soon as its first byte is readable; the
thread then blocks until the whole request line and headers have come in. A client that sends one
header line a second holds a thread for as long as it likes, and a handful of such clients (as many
as there are threads) leave none for anyone else: ``/healthcheck`` stops answering and the platform
restarts a healthy app. Load balancers in front of most targets buffer the head before they forward
it; a target without one (``local``, or anything published directly) has only the app.

Here the worker's event loop reads the head itself, without a thread, and hands the connection on
only when the head is complete. A head not complete ``GUNICORN_HEADER_TIMEOUT`` seconds (10) after
the request's first byte (or after the accept, for a client that never sends one) gets a JSON 408
and the connection is closed; a head larger than ``MAX_HEADER_BYTES`` gets a JSON 431 at once. A
slow client then costs a socket and a small buffer, not a thread.
"""

from __future__ import annotations

import contextlib
import errno
import os
import selectors
import sys
import time
from collections.abc import Mapping
from functools import partial

from gunicorn import util
from gunicorn.http.body import LengthReader
from gunicorn.workers.gthread import TConn, ThreadWorker

from .settings import ConfigError, _int

HEAD_END = b"\r\n\r\n"
# The whole request head a client may send: the request line and every header. Load balancers in
# front accept up to 64 KiB (ALB); gunicorn's own per-line and per-field limits still apply.
MAX_HEADER_BYTES = 64 * 1024
RECV_CHUNK = 16 * 1024
# At most this much of a refused client's input is read (and dropped) before its answer.
MAX_DISCARD_BYTES = 1024 * 1024

# What a head is after the bytes that arrived so far.
MORE, COMPLETE, TOO_LARGE = "more", "complete", "too large"


def header_timeout(env: Mapping[str, str] = os.environ) -> int:
    """Seconds a client has for a whole request head (``GUNICORN_HEADER_TIMEOUT``, default 10)."""
    return _int("GUNICORN_HEADER_TIMEOUT", env.get("GUNICORN_HEADER_TIMEOUT", "10"), 1, 300)


class PendingHead:
    """The bytes of one request head read so far, and when the client's time to finish it ends."""

    __slots__ = ("data", "deadline")

    def __init__(self, deadline: float, data: bytes = b"") -> None:
        self.data = data
        self.deadline = deadline

    def feed(self, chunk: bytes) -> str:
        """Add what arrived: MORE to wait for, a COMPLETE head, or one TOO_LARGE to accept."""
        start = max(0, len(self.data) - len(HEAD_END) + 1)
        self.data += chunk
        end = self.data.find(HEAD_END, start)
        if end < 0:
            return MORE if len(self.data) < MAX_HEADER_BYTES else TOO_LARGE
        return COMPLETE if end + len(HEAD_END) <= MAX_HEADER_BYTES else TOO_LARGE


def previous_request_done(conn: TConn) -> bool:
    """A kept-alive connection's next bytes start a new request head only when the previous
    request's body was read to its end and nothing of a next request is buffered; otherwise the
    connection goes to a thread as gunicorn would send it (its parser reads the rest first)."""
    if conn.parser.unreader.buf.getbuffer().nbytes:
        return False
    body = conn.parser.mesg.body
    return (
        isinstance(body.reader, LengthReader)
        and body.reader.length == 0
        and not body.buf.getbuffer().nbytes
    )


def discard_input(sock) -> None:
    """Reads and drops what a refused client already sent (up to MAX_DISCARD_BYTES): closing a
    socket with unread input makes the kernel reset the connection, and the client would lose the
    answer written just before."""
    with contextlib.suppress(OSError):  # BlockingIOError: nothing more has arrived
        for _ in range(MAX_DISCARD_BYTES // RECV_CHUNK):
            if not sock.recv(RECV_CHUNK):
                return


class HeadFirstWorker(ThreadWorker):
    """gthread, with request heads read in the event loop (see the module's docstring)."""

    def __init__(self, *args) -> None:
        super().__init__(*args)
        # Connections whose head is still arriving, oldest first; every deadline is "now + the same
        # timeout" when added, so the first entry always expires first.
        self._heads: dict[TConn, PendingHead] = {}
        self.header_timeout: float = header_timeout()

    @classmethod
    def check_config(cls, cfg, log) -> None:
        """In the master at start, before any worker: a bad setting stops the start in one line."""
        super().check_config(cfg, log)
        try:
            header_timeout()
            if cfg.is_ssl:  # the head is read before any TLS handshake could be
                raise ConfigError(
                    "gunicorn's certfile/keyfile are set: this worker serves plain HTTP behind "
                    "the platform's TLS; remove them (or run gunicorn with worker_class gthread)"
                )
        except ConfigError as exc:
            print(f"onedigest: configuration error: {exc}", file=sys.stderr)
            raise SystemExit(3) from None

    def accept(self, server, listener) -> None:
        try:
            sock, client = listener.accept()
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.ECONNABORTED, errno.EWOULDBLOCK):
                raise
            return
        conn = TConn(self.cfg, sock, client, server)
        self.nr_conns += 1
        self._heads[conn] = PendingHead(time.monotonic() + self.header_timeout)
        with self._lock:
            self.poller.register(
                conn.sock, selectors.EVENT_READ, partial(self.on_client_socket_readable, conn)
            )

    def on_client_socket_readable(self, conn: TConn, client) -> None:
        head = self._heads.get(conn)
        if head is None:
            # A kept-alive connection's next request begins.
            with self._lock:
                try:
                    self._keep.remove(conn)
                except ValueError:
                    return  # closed for its keep-alive timeout meanwhile
            if not previous_request_done(conn):
                with self._lock:
                    self.poller.unregister(client)
                self.enqueue_req(conn)
                return
            head = self._heads[conn] = PendingHead(time.monotonic() + self.header_timeout)
        try:
            chunk = conn.sock.recv(RECV_CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:  # reset by the client
            self._drop(conn)
            return
        if not chunk:
            self._drop(conn)
            return
        state = head.feed(chunk)
        if state == MORE:
            return
        if state == TOO_LARGE:
            self._drop(conn, (431, "Request Header Fields Too Large"))
            return
        del self._heads[conn]
        with self._lock:
            self.poller.unregister(client)
        conn.init()
        conn.parser.unreader.unread(head.data)
        self.enqueue_req(conn)  # its conn.init() again changes nothing

    def _drop(self, conn: TConn, answer: tuple[int, str] | None = None) -> None:
        """Forgets a connection whose head is pending, answering it first if it sent anything."""
        del self._heads[conn]
        with self._lock:
            self.poller.unregister(conn.sock)
        if answer:
            discard_input(conn.sock)
            with contextlib.suppress(OSError):  # the client left meanwhile
                util.write_error(conn.sock, *answer, "")
        self.nr_conns -= 1
        conn.close()

    def murder_keepalived(self) -> None:
        super().murder_keepalived()
        now = time.monotonic()
        while self._heads:
            conn, head = next(iter(self._heads.items()))
            if head.deadline > now:
                break
            # A client that sent part of a head hears why; one that never sent a byte is closed.
            self._drop(conn, (408, "Request Timeout") if head.data else None)
