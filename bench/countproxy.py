"""A loopback TCP proxy that counts the HTTP requests passing through it.

The failover bench puts one in front of each registry msesync talks to, so the request rate
the product causes is measured at the wire, whatever process or node sends it. With
`companion_offset` (Nacos: gRPC on HTTP port + 1000) it also forwards that port, at the same
offset from its own, counting its bytes (gRPC frames are not HTTP/1.1 request lines) and
how many of its connections are open.
"""

import asyncio
import socket
import threading

REQUEST_LINE_END = b" HTTP/1.1\r\n"


class CountingProxy:
    def __init__(self, target: str, companion_offset: int = 0):
        self.target_host, port = target.rsplit(":", 1)
        self.target_port = int(port)
        self.companion_offset = companion_offset
        self.requests = 0
        self.bytes_up = 0
        self.open_companion = 0  # connections open now on the companion (gRPC) port
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        threading.Thread(target=self._serve, daemon=True, name="proxy").start()
        self._ready.wait(10)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        sockets = self._listening_sockets()
        self.port = sockets[0].getsockname()[1]
        for offset, sock in zip((0, self.companion_offset), sockets, strict=False):
            handler = lambda r, w, o=offset: self._client(r, w, o)  # noqa: E731
            self._loop.run_until_complete(asyncio.start_server(handler, sock=sock))
        self._ready.set()
        self._loop.run_forever()

    def _listening_sockets(self) -> list[socket.socket]:
        """A free port, and (with a companion) the port at the offset from it, free too."""
        while True:
            main = socket.create_server(("127.0.0.1", 0))
            if not self.companion_offset:
                return [main]
            try:
                port = main.getsockname()[1] + self.companion_offset
                return [main, socket.create_server(("127.0.0.1", port))]
            except OSError:
                main.close()

    async def _client(self, reader, writer, offset: int = 0) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self.target_host, self.target_port + offset
            )
        except OSError:
            writer.close()
            return
        companion = offset and offset == self.companion_offset
        self.open_companion += companion
        try:
            await asyncio.gather(
                self._pipe(reader, up_writer, count=True),
                self._pipe(up_reader, writer, count=False),
                return_exceptions=True,
            )
        finally:
            self.open_companion -= companion

    async def _pipe(self, reader, writer, count: bool) -> None:
        tail = b""
        try:
            while chunk := await reader.read(65536):
                if count:
                    # A request line may straddle two reads: look at the seam too.
                    self.requests += (tail + chunk).count(REQUEST_LINE_END)
                    tail = chunk[-(len(REQUEST_LINE_END) - 1) :]
                    self.bytes_up += len(chunk)
                writer.write(chunk)
                await writer.drain()
        finally:
            writer.close()

    def snapshot(self) -> tuple[int, int]:
        return self.requests, self.bytes_up
