"""How messages travel between medcom and the system under test (SUT): a folder drop or HTTP on loopback.

Both hand what arrives to one bounded queue (`Inbox`) as `Arrival`s stamped with the wall time they arrived; the
live session reads, validates and answers them in order. What the transport itself sees go wrong (a body too
large, a flood that fills the queue, a client that stops sending) arrives as a finding instead, so it is reported
like any other, and nothing a SUT sends can end the run.

- Folder drop (`FolderDrop`), as VANS mailboxes are used: medcom writes each message into the outbox atomically
  (a hidden temporary file, renamed into place), and takes each file the SUT drops into the inbox as it appears
  (watchdog: inotify on Linux, FSEvents on macOS, polling elsewhere), moving it out of the inbox. Names starting
  with '.' or ending in .tmp/.part are files still being written and are left alone.
- HTTP (`HttpEndpoint`): FHIR messaging's `POST [base]/$process-message` on the stdlib ThreadingHTTPServer (a
  loopback test endpoint needs no framework or extra dependency; one thread per connection, with a socket timeout,
  a body limit and the bounded queue keep it safe), answering 202 Accepted: MedCom messaging is asynchronous, the
  Acknowledgement travels back as a message of its own. What medcom sends goes to the SUT's endpoint (`--sut-url`)
  by POST from one sender thread. OIOXML letters travel the same way as application/xml.
"""

from __future__ import annotations

import contextlib
import os
import queue
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medcom.findings import Finding, Severity
from medcom.safe_files import safe_name

if TYPE_CHECKING:
    from watchdog.events import FileSystemEvent
    from watchdog.observers.api import BaseObserver

MAX_BODY = 10_000_000  # the readers' own size limit (ReadOptions.max_bytes)
QUEUE_SIZE = 256  # arrivals waiting to be read; beyond it a flood is refused and reported
MAX_FINDINGS = 1000  # transport findings waiting to be reported; beyond it counted
SOCKET_TIMEOUT = 10.0  # a client that sends nothing for this long is disconnected
MAX_CONNECTIONS = 32  # connections served at once (a thread each)
SEND_TIMEOUT = 10.0
SEND_ATTEMPTS = 5  # 0.1 + 0.2 + 0.4 + 0.8 s between them
CLOSE_EVENTS = sys.platform.startswith("linux")  # inotify tells when a writer closes a file
TRANSPORT = "TRANSPORT"  # a finding about delivery itself, not a rule of RULES.md
_PARTIAL = (".tmp", ".part", ".partial")


@dataclass(frozen=True, slots=True)
class Arrival:
    wall: float  # time.time() when it arrived
    source: str
    data: bytes | None = None
    finding: Finding | None = None  # something the transport saw go wrong instead of a message


class Inbox:
    """What the transports' threads hand to the session: a bounded queue of messages (a flood beyond it is refused
    and counted) and a bounded list of the transports' findings (beyond it they are counted)."""

    def __init__(self, size: int = QUEUE_SIZE, max_findings: int = MAX_FINDINGS) -> None:
        self.queue: queue.Queue[Arrival] = queue.Queue(maxsize=size)
        self.refused = 0  # messages refused: the queue was full
        self.findings_dropped = 0
        self.max_findings = max_findings
        self._findings: list[Arrival] = []
        self._delays: list[tuple[str, float]] = []
        self._lock = threading.Lock()

    def put(self, arrival: Arrival) -> bool:
        try:
            self.queue.put_nowait(arrival)
            return True
        except queue.Full:
            with self._lock:
                self.refused += 1
            return False

    def finding(self, source: str, rule: str, text: str, severity: Severity = Severity.ERROR) -> None:
        with self._lock:
            if len(self._findings) >= self.max_findings:
                self.findings_dropped += 1
                return
            self._findings.append(Arrival(time.time(), source, finding=Finding(rule, severity, text, source)))

    def take_findings(self) -> list[Arrival]:
        with self._lock:
            taken, self._findings = self._findings, []
        return taken

    def delayed(self, name: str, seconds: float) -> None:
        """A message medcom sent left this many seconds after it could have: its sender thread was not run (the
        session weighs it against the grace; medcom's own lag, not the SUT's)."""
        with self._lock:
            if len(self._delays) < self.max_findings:
                self._delays.append((name, seconds))

    def take_delays(self) -> list[tuple[str, float]]:
        with self._lock:
            taken, self._delays = self._delays, []
        return taken


class FolderDrop:
    """--outbox DIR --inbox DIR."""

    def __init__(self, outbox: Path, inbox: Path, max_bytes: int = MAX_BODY) -> None:
        self.outbox, self.inbox, self.max_bytes = outbox, inbox, max_bytes
        self._observer: BaseObserver | None = None
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def start(self, sink: Inbox, taken: Path) -> None:
        """Watch the inbox; each complete file is read, moved to `taken` (the log's folder of what arrived) and
        queued. Files already there when the run starts are taken too."""
        from watchdog.events import FileSystemEventHandler
        from watchdog.observers import Observer

        self.sink, self.taken = sink, taken
        drop = self

        class Handler(FileSystemEventHandler):
            # A file renamed into place (the atomic way) is complete when it appears; one written in place is
            # complete when its writer closes it, which inotify says (Linux) and the other observers do not: there
            # a new file is taken when they see it.
            def on_moved(self, event: FileSystemEvent) -> None:
                if not event.is_directory:
                    drop.take(Path(os.fsdecode(event.dest_path)))

            def on_closed(self, event: FileSystemEvent) -> None:
                if not event.is_directory:
                    drop.take(Path(os.fsdecode(event.src_path)))

            def on_created(self, event: FileSystemEvent) -> None:
                if not event.is_directory and not CLOSE_EVENTS:
                    drop.take(Path(os.fsdecode(event.src_path)))

        observer = self._observer = Observer()
        observer.schedule(Handler(), str(self.inbox), recursive=False)
        observer.start()
        for path in sorted(self.inbox.iterdir()):
            self.take(path)

    def take(self, path: Path) -> None:
        name = path.name
        if name.startswith(".") or name.lower().endswith(_PARTIAL) or path.parent != self.inbox:
            return
        with self._lock:
            if name in self._seen:
                return
            self._seen.add(name)
        wall = time.time()
        try:
            if not path.is_file() or path.is_symlink():
                return
            size = path.stat().st_size
            if size > self.max_bytes:
                path.unlink(missing_ok=True)
                self.sink.finding(name, TRANSPORT, f"{name}: {size} bytes, more than the limit of {self.max_bytes}; "
                                  "removed from the inbox, not read")
                return
            data = path.read_bytes()
            path.unlink(missing_ok=True)  # taken out of the mailbox, as a VANS client does
            with self._lock:
                self._seen.discard(name)  # gone: a later file of the same name is a new message
        except OSError as exc:
            with self._lock:
                self._seen.discard(name)
            self.sink.finding(name, TRANSPORT, f"{name}: cannot be taken from the inbox: {exc.strerror or exc}",
                              Severity.WARNING)
            return
        self.sink.put(Arrival(wall, name, data))  # a flood beyond the queue is counted (Inbox.refused), reported

    def send(self, name: str, data: bytes, content_type: str) -> None:
        """Write atomically: a hidden temporary file, renamed into place (the SUT never sees half a message)."""
        final = safe_name(name)
        temporary = self.outbox / f".{final}.tmp"
        with open(temporary, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.outbox / final)

    def describe(self) -> str:
        return f"folder drop: medcom writes to {self.outbox}, reads from {self.inbox}"

    def close(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)


class _BoundedServer(ThreadingHTTPServer):
    """ThreadingHTTPServer with at most MAX_CONNECTIONS at once (a thread each): one more is closed at once and
    reported, so that a flood of connections cannot take the memory or the threads of the run."""

    sink: Inbox

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:  # socketserver's signature
        if not self.slots.acquire(blocking=False):
            self.sink.finding(f"http {client_address[0]}:{client_address[1]}", TRANSPORT,
                              f"more than {MAX_CONNECTIONS} connections at once: one from {client_address[0]} was "
                              "closed unread", Severity.WARNING)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class HttpEndpoint:
    """--http HOST:PORT (receives) and --sut-url URL (where medcom sends)."""

    def __init__(self, host: str, port: int, sut_url: str | None, max_bytes: int = MAX_BODY) -> None:
        self.host, self.port, self.sut_url, self.max_bytes = host, port, sut_url, max_bytes
        self._server: _BoundedServer | None = None
        self._outgoing: queue.Queue[tuple[str, bytes, str, float] | None] = queue.Queue(maxsize=QUEUE_SIZE)
        self._threads: list[threading.Thread] = []

    def listen(self) -> None:
        """Bind the address now (an address in use is said before the flow, not at its epoch); connections that
        come before `start` wait in the backlog."""
        if self._server is not None:
            return
        endpoint, limit = self, self.max_bytes

        class Handler(BaseHTTPRequestHandler):
            timeout = SOCKET_TIMEOUT
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet: what matters is reported as findings
                return

            def _answer(self, status: int, text: str = "") -> None:
                body = text.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                if status >= 400:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802  (http.server's naming)
                self._answer(405, "POST [base]/$process-message\n")

            def do_POST(self) -> None:  # noqa: N802
                sink = endpoint.sink
                who = f"http {self.client_address[0]}:{self.client_address[1]} {self.path[:200]}"
                if not self.path.split("?")[0].endswith("/$process-message"):
                    sink.finding(who, TRANSPORT, f"{who}: POST to a path other than [base]/$process-message",
                                 Severity.WARNING)
                    self._answer(404, "POST [base]/$process-message\n")
                    return
                try:
                    length = int(self.headers.get("Content-Length", ""))
                except ValueError:
                    sink.finding(who, TRANSPORT, f"{who}: no Content-Length; the request was refused")
                    self._answer(411, "Content-Length required\n")
                    return
                if length < 0 or length > limit:
                    sink.finding(who, TRANSPORT, f"{who}: a body of {length} bytes, more than the limit of {limit}; "
                                 "refused")
                    self._answer(413, f"at most {limit} bytes\n")
                    return
                wall = time.time()
                try:
                    data = self.rfile.read(length)
                except OSError as exc:  # a timeout or a reset: the client went away
                    sink.finding(who, TRANSPORT, f"{who}: the connection broke while the message was sent "
                                 f"({exc.__class__.__name__}); nothing was received")
                    self.close_connection = True
                    return
                if len(data) < length:
                    sink.finding(who, TRANSPORT, f"{who}: the client disconnected after {len(data)} of {length} "
                                 "bytes; nothing was received")
                    self.close_connection = True
                    return
                if not sink.put(Arrival(wall, who, data)):
                    self._answer(503, "too many messages waiting; send again later\n")
                    return
                self._answer(202, "accepted\n")

        server = _BoundedServer((self.host, self.port), Handler, bind_and_activate=False)
        server.daemon_threads = True
        server.request_queue_size = 16
        try:
            server.server_bind()
            server.server_activate()
        except OSError:
            server.server_close()
            raise
        self._server = server
        self.port = server.server_address[1]

    def start(self, sink: Inbox, taken: Path) -> None:
        self.listen()
        assert self._server is not None
        self.sink = self._server.sink = sink
        server = self._server
        self._threads = [threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                                          name="medcom-counterpart-http", daemon=True),
                         threading.Thread(target=self._send_loop, name="medcom-counterpart-send", daemon=True)]
        for thread in self._threads:
            thread.start()

    def send(self, name: str, data: bytes, content_type: str) -> None:
        if self.sut_url is None:
            return
        try:
            self._outgoing.put_nowait((name, data, content_type, time.monotonic()))
        except queue.Full:
            self.sink.finding(name, TRANSPORT, f"{name}: not sent, {QUEUE_SIZE} messages already wait for the SUT "
                              f"at {self.sut_url}", Severity.WARNING)

    def _send_loop(self) -> None:
        free = time.monotonic()  # since when this thread was free to send (a SUT slow to answer is not medcom's lag)
        while (item := self._outgoing.get()) is not None:
            name, data, content_type, queued = item
            self.sink.delayed(name, time.monotonic() - max(queued, free))
            try:
                status = self._post(data, content_type)
            except (OSError, ValueError) as exc:
                self.sink.finding(name, TRANSPORT, f"{name}: could not be sent to the SUT at {self.sut_url} "
                                  f"({SEND_ATTEMPTS} attempts): {getattr(exc, 'reason', None) or exc}",
                                  Severity.WARNING)
                continue
            finally:
                free = time.monotonic()
            if status >= 300:
                self.sink.finding(name, TRANSPORT, f"{name}: the SUT at {self.sut_url} answered HTTP {status}",
                                  Severity.WARNING)

    def _post(self, data: bytes, content_type: str) -> int:
        """POST one message; a refused or broken connection is tried again a few times (a SUT restarting)."""
        url = self.sut_url
        assert url is not None  # send() queues nothing without --sut-url
        for attempt in range(SEND_ATTEMPTS):
            request = urllib.request.Request(url, data=data, method="POST",  # noqa: S310  (the tester's URL)
                                             headers={"Content-Type": content_type})
            try:
                with urllib.request.urlopen(request, timeout=SEND_TIMEOUT) as response:  # noqa: S310
                    return int(response.status)
            except urllib.error.HTTPError as exc:
                if exc.code != 503 or attempt == SEND_ATTEMPTS - 1:
                    return exc.code
            except (OSError, ValueError):
                if attempt == SEND_ATTEMPTS - 1:
                    raise
            time.sleep(0.1 * 2 ** attempt)
        return 503

    def describe(self) -> str:
        target = f", sends to {self.sut_url}" if self.sut_url else ", sends nothing (no --sut-url)"
        return f"HTTP: listens on http://{self.host}:{self.port}/$process-message{target}"

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        with contextlib.suppress(queue.Full):
            self._outgoing.put(None, timeout=SEND_TIMEOUT)
        for thread in self._threads[1:]:
            thread.join(timeout=SEND_TIMEOUT)
