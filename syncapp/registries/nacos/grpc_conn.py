"""One gRPC connection to a Nacos 2.x/3.x server (or r-nacos), synchronous, thread-safe.

The Nacos client protocol: a unary `Request/request` call for each request, and a
`BiRequestStream/requestBiStream` stream on the same HTTP/2 connection over which the server
pushes (service changes, liveness probes, reset orders) and the client answers. The server
ties what a client registered to this connection: when it closes, the server drops it.

This class connects (ServerCheck, then ConnectionSetup on the stream), answers the server's
requests, probes the connection every few seconds, and reconnects with back-off when it
breaks, calling `on_reconnect` so that the owner can register and subscribe again.
"""

import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable

import grpc

from syncapp.registries.base import Refused, RegistryError, Unreachable, brief
from syncapp.registries.nacos import wire

log = logging.getLogger(__name__)
CLIENT_VERSION = "msesync:grpc"
GRPC_PORT_OFFSET = 1000
CONNECT_TIMEOUT = 3.0
REQUEST_TIMEOUT = 10.0
PROBE_EVERY = 5.0  # a HealthCheckRequest when idle this long (the Java client's default)
READY_WAIT = 3.0  # the server registers a new connection asynchronously after setup
MAX_BACKOFF = 5.0
# Answers the server expects to its own requests, by request type.
ANSWERS = {
    "NotifySubscriberRequest": "NotifySubscriberResponse",
    "ClientDetectionRequest": "ClientDetectionResponse",
    "ConnectResetRequest": "ConnectResetResponse",
    "SetupAckRequest": "SetupAckResponse",
    "ConfigChangeNotifyRequest": "ConfigChangeNotifyResponse",
}
PUSHES = ("NotifySubscriberRequest", "ConfigChangeNotifyRequest")  # handed to `on_push`
CHANNEL_OPTIONS = [
    ("grpc.keepalive_time_ms", 10_000),
    ("grpc.keepalive_timeout_ms", 5_000),
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
    # One HTTP/2 connection per channel: the server knows us by it.
    ("grpc.use_local_subchannel_pool", 1),
]


# gRPC statuses that mean no answer came: the server is down or went away (UNAVAILABLE),
# the call ran out of time, or the channel was closed under it. Any other status is the
# server's own answer (UNIMPLEMENTED, UNAUTHENTICATED, INTERNAL...).
NO_ANSWER = (
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.CANCELLED,
)


class NacosGrpcError(RegistryError):
    """The server refused a request, or could not be reached over gRPC (raised as one of the
    two subclasses below; callers that only care that gRPC failed catch this)."""


class GrpcUnreachable(NacosGrpcError, Unreachable):
    """No answer over gRPC: the server is down, the stream was lost, a call timed out."""


class GrpcRefused(NacosGrpcError, Refused):
    """The server answered with an error response (its code and message kept)."""


def accepted(kind: str, answer_kind: str, answer: dict) -> dict:
    """The answer to a `kind` request, or GrpcRefused when it is a refusal."""
    if answer_kind == "ErrorResponse" or answer.get("resultCode", 200) != 200:
        code = answer.get("errorCode")
        raise GrpcRefused(brief(f"Nacos {kind}: refused ({code}): {answer.get('message')}"))
    return answer


def grpc_address(http_address: str) -> str:
    """host:port of the gRPC client port for an HTTP host:port (Nacos: HTTP port + 1000)."""
    host, _, port = http_address.rpartition(":")
    return f"{host}:{int(port) + GRPC_PORT_OFFSET}"


class Link:
    """One live channel: the unary stub and the stream's outbox."""

    def __init__(self, channel, unary, outbox, connection_id: str):
        self.channel, self.unary, self.outbox = channel, unary, outbox
        self.connection_id = connection_id
        self.broken = threading.Event()

    def close(self) -> None:
        self.broken.set()
        self.outbox.put(None)  # ends the request iterator, so the stream closes
        self.channel.close()


class GrpcConnection:
    def __init__(
        self,
        address: str,
        namespace: str = "",
        headers: Callable[[dict], dict] = lambda body: {},
        on_push: Callable[[dict], None] = lambda body: None,
        on_reconnect: Callable[[], None] = lambda: None,
        name: str = "nacos",
        module: str = "naming",
    ):
        self.address = address
        self.namespace = namespace
        self.headers = headers  # auth headers for a request body (token or ak/sk signature)
        self.on_push = on_push
        self.on_reconnect = on_reconnect
        self.name = name
        self.module = module  # the connection's label: "naming" or "config"
        self._link: Link | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._ids = itertools.count(1)
        self._last_used = 0.0
        self._watchdog: threading.Thread | None = None
        self._ready = threading.Event()  # set while a usable link is in place
        self._retry_now = threading.Event()  # cuts a reconnect back-off short
        self._in_flight: set = set()  # futures of requests sent and not yet answered
        self._in_flight_lock = threading.Lock()  # not _lock: that one is held while connecting

    # --- requests -------------------------------------------------------------

    def request(self, kind: str, body: dict, timeout: float = REQUEST_TIMEOUT) -> dict:
        """Send one request and return the server's answer; raise NacosGrpcError on refusal."""
        return accepted(kind, *self._call(self.link(), kind, body, timeout))

    def send(
        self,
        kind: str,
        body: dict,
        done: Callable[[NacosGrpcError | None], None],
        timeout: float = REQUEST_TIMEOUT,
    ) -> None:
        """Send one request without waiting for its answer: `done(None)` once the server
        accepted it, `done(error)` when it refused or no answer came. `done` runs on gRPC's
        own thread (or this one, if the answer is already in) and must not block. Many
        requests in flight on one connection cost far less than as many threads each
        waiting for its answer."""
        link = self.link()
        future = link.unary.future(self._encoded(body, kind), timeout=timeout)
        # Kept until answered: gRPC cancels a call whose future is garbage-collected.
        with self._in_flight_lock:
            self._in_flight.add(future)

        def answered(future) -> None:
            with self._in_flight_lock:
                self._in_flight.discard(future)
            try:
                accepted(kind, *wire.decode(self._answer_of(link, kind, future.result)))
            except NacosGrpcError as exc:
                done(exc)
                return
            done(None)

        future.add_done_callback(answered)

    def ask(self, kind: str, body: dict, timeout: float = REQUEST_TIMEOUT) -> dict:
        """Send one request and return the answer as it is, refusals included (a config
        query answers "not found" as a refusal with errorCode 300)."""
        return self._call(self.link(), kind, body, timeout)[1]

    def _call(self, link: Link, kind: str, body: dict, timeout: float) -> tuple[str, dict]:
        encoded = self._encoded(body, kind)
        raw = self._answer_of(link, kind, lambda: link.unary(encoded, timeout=timeout))
        return wire.decode(raw)

    def _encoded(self, body: dict, kind: str) -> bytes:
        body = {"headers": {}, "requestId": "", **body}
        return wire.encode(kind, body, self.headers(body))

    def _answer_of(self, link: Link, kind: str, call: Callable[[], bytes]) -> bytes:
        """The answer's bytes; no answer (or a gRPC-level failure) raises NacosGrpcError."""
        try:
            raw = call()
        except grpc.FutureCancelledError:
            raise GrpcUnreachable(f"Nacos {kind} at {self.address}: cancelled") from None
        except grpc.RpcError as exc:
            if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED):
                link.broken.set()
            failed = GrpcUnreachable if exc.code() in NO_ANSWER else GrpcRefused
            raise failed(f"Nacos {kind} at {self.address}: {exc.code().name}") from None
        self._last_used = time.monotonic()
        return raw

    # --- connecting -----------------------------------------------------------

    def link(self) -> Link:
        """The live link: connects on first use; after a break, waits for the watchdog's
        reconnect (which restores our registrations first), or raises when unreachable."""
        with self._lock:
            if self._closed.is_set():  # closed by its owner: no answer will come on it
                raise GrpcUnreachable(f"connection to {self.address} closed")
            if self._watchdog is None:
                self._link = self._open()
                self._ready.set()
                self._watchdog = threading.Thread(
                    target=self._watch_link, name=f"{self.name}-grpc", daemon=True
                )
                self._watchdog.start()
        if not self._ready.is_set():
            self._retry_now.set()  # someone needs it: skip what is left of the back-off
        if not self._ready.wait(CONNECT_TIMEOUT) or self._link is None:
            raise GrpcUnreachable(f"Nacos gRPC {grpc_address(self.address)} unreachable")
        return self._link

    def _open(self) -> Link:
        target = grpc_address(self.address)
        channel = grpc.insecure_channel(target, options=CHANNEL_OPTIONS)
        try:
            grpc.channel_ready_future(channel).result(timeout=CONNECT_TIMEOUT)
        except grpc.FutureTimeoutError:
            channel.close()
            raise GrpcUnreachable(f"Nacos gRPC {target} unreachable") from None
        unary = channel.unary_unary("/Request/request")
        probe = Link(channel, unary, queue.Queue(), "")
        _, checked = self._call(probe, "ServerCheckRequest", {"module": "internal"}, 5.0)
        link = Link(channel, unary, probe.outbox, checked.get("connectionId", ""))
        stream = channel.stream_stream("/BiRequestStream/requestBiStream")
        answers = stream(iter(link.outbox.get, None))
        link.outbox.put(wire.encode("ConnectionSetupRequest", self._setup_body()))
        threading.Thread(
            target=self._read_stream, args=(link, answers), name=f"{self.name}-push", daemon=True
        ).start()
        self._await_registered(link)
        log.info("%s: gRPC connection %s to %s", self.name, link.connection_id, target)
        return link

    def _setup_body(self) -> dict:
        return {
            "headers": {},
            "requestId": "",
            "module": "internal",
            "clientVersion": CLIENT_VERSION,
            "tenant": self.namespace,
            "labels": {"source": "sdk", "module": self.module},
            "abilityTable": {},
        }

    def _await_registered(self, link: Link) -> None:
        """Wait until the server answers a health check on this connection."""
        deadline = time.monotonic() + READY_WAIT
        while True:
            kind, answer = self._call(link, "HealthCheckRequest", {"module": "internal"}, 5.0)
            if kind != "ErrorResponse" and answer.get("resultCode", 200) == 200:
                return
            if time.monotonic() > deadline:
                link.close()
                raise GrpcRefused(f"Nacos did not accept the connection: {answer}")
            time.sleep(0.02)

    # --- the server's side of the stream ----------------------------------------

    def _read_stream(self, link: Link, answers) -> None:
        try:
            for raw in answers:
                self._answer(link, *wire.decode(raw))
        except grpc.RpcError as exc:
            if not link.broken.is_set():
                log.info("%s: gRPC stream ended: %s", self.name, exc.code().name)
        except Exception:  # a bad push must not leave a half-dead connection behind
            log.exception("%s: gRPC stream reader failed", self.name)
        link.broken.set()

    def _answer(self, link: Link, kind: str, body: dict) -> None:
        answer = ANSWERS.get(kind)
        if answer:
            reply = {"requestId": body.get("requestId", ""), "resultCode": 200, "errorCode": 0}
            link.outbox.put(wire.encode(answer, reply))
        if kind in PUSHES:
            self.on_push(body)
        elif kind == "ConnectResetRequest":
            link.broken.set()  # the watchdog connects again (the server asked us to move)

    # --- keeping it alive --------------------------------------------------------

    def _watch_link(self) -> None:
        """Probe when idle; reconnect when broken, then let the owner redo its state."""
        backoff = 0.1
        while not self._closed.is_set():
            link = self._link
            if link is None or link.broken.wait(0.2):
                self._ready.clear()
                if self._reconnect():
                    backoff = 0.1
                else:
                    self._retry_now.wait(backoff)
                    self._retry_now.clear()
                    backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            if time.monotonic() - self._last_used > PROBE_EVERY:
                self._probe(link)

    def _probe(self, link: Link) -> None:
        try:
            self._call(link, "HealthCheckRequest", {"module": "internal"}, 3.0)
        except NacosGrpcError:
            link.broken.set()

    def _reconnect(self) -> bool:
        with self._lock:
            if self._closed.is_set():
                return True
            if self._link is not None:
                self._link.close()
            self._link = None
            try:
                self._link = self._open()
            except NacosGrpcError as exc:
                log.info("%s: reconnect failed: %s", self.name, exc)
                return False
        self._ready.set()
        try:
            self.on_reconnect()
        except Exception:
            log.exception("%s: restoring state after reconnect failed", self.name)
            self._link.broken.set()
        return True

    @property
    def connected(self) -> bool:
        link = self._link
        return link is not None and not link.broken.is_set()

    def close(self) -> None:
        self._closed.set()
        self._retry_now.set()
        self._ready.set()  # wake waiters: link() sees the closed connection
        with self._lock:
            if self._link is not None:
                self._link.close()
            self._link = None
