"""A small HTTP client shared by the HTTP-speaking adapters.

Keeps one pooled session, tries each configured server in turn on connection errors,
and turns every failure into RegistryError so no caller can mistake it for "empty": no
answer from any server is Unreachable; what an answer means is for each adapter to say.
"""

import itertools
import threading
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from syncapp.registries.base import RegistryError, Unreachable

TIMEOUT = (3.0, 10.0)  # connect, read


def base_url(connect_key: str, default_path: str) -> str:
    """`host:port` or a full URL -> a base URL with the registry's path prefix."""
    key = connect_key.strip()
    parts = urlsplit(key if "://" in key else f"http://{key}")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/') or default_path}"


def redacted(url: str) -> str:
    """The URL without `user:password@`, for messages (a connect key may carry credentials)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()


class HttpClient:
    def __init__(self, connect_keys, default_path: str = "", pool_size: int = 32):
        if not connect_keys:
            raise RegistryError("no connectKeyList given")
        self.bases = [base_url(k, default_path) for k in connect_keys]
        self._next = itertools.cycle(range(len(self.bases)))
        self._lock = threading.Lock()
        self.session = requests.Session()
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=pool_size)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def _order(self) -> list[str]:
        with self._lock:
            start = next(self._next)
        return self.bases[start:] + self.bases[:start]

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """The response of the first server that answers; Unreachable if none does."""
        kwargs.setdefault("timeout", TIMEOUT)
        failures = []
        for base in self._order():
            try:
                return self.session.request(method, base + path, **kwargs)
            except requests.RequestException as exc:
                failures.append(f"{redacted(base)}: {type(exc).__name__}")
        raise Unreachable(f"{method} {path} unreachable ({'; '.join(failures)})")

    def close(self) -> None:
        self.session.close()
