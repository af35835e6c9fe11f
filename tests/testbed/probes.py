"""Tiny network probes the servers use for is_ready() and version(): TCP and HTTP, stdlib only."""

from __future__ import annotations

import json
import socket
import urllib.request

HOST = "127.0.0.1"
TIMEOUT = 2.0


def tcp_talk(port: int, payload: bytes, host: str = HOST, timeout: float = TIMEOUT) -> bytes:
    """Send payload and read until the server closes (ZooKeeper 4lw, Redis inline + QUIT)."""
    chunks = []
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(payload)
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def tcp_greeting(port: int, host: str = HOST, timeout: float = TIMEOUT) -> bytes:
    """The first bytes a server sends on connect (the MySQL handshake)."""
    with socket.create_connection((host, port), timeout=timeout) as sock:
        return sock.recv(4096)


def http_get(url: str, timeout: float = TIMEOUT) -> str:
    """Body of a GET; raises OSError (urllib's errors included) on failure or non-2xx."""
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read().decode()


def http_json(url: str, timeout: float = TIMEOUT):
    return json.loads(http_get(url, timeout))
