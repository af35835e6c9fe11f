"""Nacos configuration documents: list, read, write and delete per namespace.

Every server is served by the API it has, newest first, remembered per server (as the admin
calls in http_api.py): Nacos 3.x's v3 admin API (`/v3/admin/cs/config[/list]`, served with
the v1/v2 switches off), else the v1 config API (`/v1/cs/configs`: Nacos 1.x/2.x, r-nacos).

What each flavour keeps of a config (content, type, desc, tags, appName):
- v3 and Nacos 1.x/2.x v1: all five (a v1 read asks for `show=all`);
- r-nacos 0.8: content, type and desc; no tags, no appName. Its v1 read answers the bare
  content, so its type comes from the gRPC ConfigQuery; its desc can be written but no client
  API reads it back (only its console, which is off in our test bed).
Listings give each config's content MD5, so a pass reads only the configs that differ.
Writes name `msesync` as the source user (the server's config history shows who wrote).
"""

import json
import logging
import threading
import time

from syncapp.registries.base import ConfigItem, ConfigKey, Refused, RegistryError
from syncapp.registries.nacos.http_api import PUBLIC, NacosHttp, NotServed

log = logging.getLogger(__name__)
PAGE_SIZE = 500
SOURCE_USER = "msesync"
# Nacos 3 queues config searches and answers 503 ("server limit match") past a few at once
# (nacos.config.search.max_capacity / max_thread): a listing page waits and tries again
# (so does a write refused for a lock: see when_not_busy).
BUSY_RETRIES = 8
BUSY_WAIT = 0.25  # seconds, times the attempt


def when_not_busy(call):
    """`call()`, tried again while Nacos says it is busy: 503 "server limit match" for
    searches; for writes, 500 "data access error" when its embedded Derby database could not
    lock the config history table in time (parallel writes: nothing was written)."""
    for attempt in range(1, BUSY_RETRIES + 1):
        try:
            return call()
        except RegistryError as exc:
            busy = "HTTP 503" in str(exc) or "data access error" in str(exc)
            if not busy or attempt == BUSY_RETRIES:
                raise
            time.sleep(BUSY_WAIT * attempt)


def tenant(namespace: str) -> str:
    """The v1 API's `tenant`: the public namespace is "" there (Nacos 1.x stores it so)."""
    return "" if namespace in ("", PUBLIC) else namespace


def item_of(key: ConfigKey, data: dict) -> ConfigItem:
    """A ConfigItem from a v3 ConfigDetailInfo or a v1 ConfigAllInfo."""
    return ConfigItem(
        key,
        data.get("content") or "",
        type=data.get("type") or "",
        desc=data.get("desc") or "",
        tags=data.get("configTags") or "",
        app_name=data.get("appName") or "",
    )


class HttpConfigs:
    """Configs of one cluster over HTTP; `query` reads one over gRPC (r-nacos' type)."""

    def __init__(self, http: NacosHttp, query=None, bare_reads: bool = False):
        self.http = http
        self.query = query  # ConfigKey -> ConfigItem | None, over gRPC; None: no gRPC
        self.bare_reads = bare_reads  # r-nacos: a v1 read answers the content alone
        self._probe = threading.Lock()

    @property
    def flavour(self) -> str:
        """ "v3" or "v1": the API this server serves (found by the first listing)."""
        with self._probe:  # one probe, not one per thread of a pass
            if "configs" not in self.http._served:
                self._page(PUBLIC, 1)
        return self.http._served["configs"]

    # --- listing ------------------------------------------------------------------

    def list(self, namespace: str) -> dict[ConfigKey, str]:
        found, page = {}, 1
        while True:
            total, items = self._page(namespace, page)
            for entry in items:
                group = entry.get("groupName") or entry.get("group") or ""
                key = ConfigKey(namespace, group, entry["dataId"])
                found[key] = entry.get("md5") or ""
            if not items or page * PAGE_SIZE >= total:
                return found
            page += 1

    def _page(self, namespace: str, page: int) -> tuple[int, list]:
        return self.http.first_served(
            "configs",
            [
                ("v3", lambda: self._page_v3(namespace, page)),
                ("v1", lambda: self._page_v1(namespace, page)),
            ],
        )

    def _page_v3(self, namespace: str, page: int) -> tuple[int, list]:
        params = {
            "namespaceId": namespace,
            "groupName": "",
            "dataId": "",
            "search": "blur",
            "pageNo": page,
            "pageSize": PAGE_SIZE,
        }
        body = when_not_busy(lambda: self.http.json("GET", "/v3/admin/cs/config/list", params))
        data = body.get("data") or {}
        return int(data.get("totalCount") or 0), data.get("pageItems") or []

    def _page_v1(self, namespace: str, page: int) -> tuple[int, list]:
        params = {
            "search": "blur",
            "dataId": "",
            "group": "",
            "tenant": tenant(namespace),
            "pageNo": page,
            "pageSize": PAGE_SIZE,
        }
        data = self.http.json("GET", "/v1/cs/configs", params)
        return int(data.get("totalCount") or 0), data.get("pageItems") or []

    # --- one config ---------------------------------------------------------------

    def read(self, key: ConfigKey) -> ConfigItem | None:
        if self.flavour == "v3":
            params = {"namespaceId": key.namespace, "groupName": key.group, "dataId": key.data_id}
            try:
                data = self.http.json("GET", "/v3/admin/cs/config", params).get("data")
            except NotServed:  # 404: no such config
                return None
            return item_of(key, data) if data else None
        if self.bare_reads and self.query is not None:
            return self.query(key)
        return self._read_v1(key)

    def _read_v1(self, key: ConfigKey) -> ConfigItem | None:
        params = {"dataId": key.data_id, "group": key.group, "tenant": tenant(key.namespace)}
        if not self.bare_reads:
            params["show"] = "all"
        try:
            text = self.http.call("GET", "/v1/cs/configs", params)
        except NotServed:  # 404: no such config
            return None
        if self.bare_reads:
            return ConfigItem(key, text)
        if not text.strip():  # Nacos 1.x/2.x answer a missing config's details with nothing
            return None
        try:
            return item_of(key, json.loads(text))
        except (ValueError, AttributeError):
            raise RegistryError(f"Nacos config details: not JSON: {text[:200]!r}") from None

    def write(self, item: ConfigItem, replaces_md5: str = "") -> None:
        key = item.key
        headers = {"casMd5": replaces_md5} if replaces_md5 else {}
        if self.flavour == "v3":
            form = {
                "namespaceId": key.namespace,
                "groupName": key.group,
                "dataId": key.data_id,
                "content": item.content,
                "type": item.type,
                "desc": item.desc,
                "configTags": item.tags,
                "appName": item.app_name,
                "srcUser": SOURCE_USER,
            }
            self._send("POST", "/v3/admin/cs/config", form, headers)
            return
        form = {
            "dataId": key.data_id,
            "group": key.group,
            "tenant": tenant(key.namespace),
            "content": item.content,
            "type": item.type,
            "desc": item.desc,
            "config_tags": item.tags,
            "appName": item.app_name,
            "src_user": SOURCE_USER,
        }
        self._send("POST", "/v1/cs/configs", {k: v for k, v in form.items() if v != ""}, headers)

    def delete(self, key: ConfigKey) -> None:
        if self.flavour == "v3":
            params = {"namespaceId": key.namespace, "groupName": key.group, "dataId": key.data_id}
            self._send("DELETE", "/v3/admin/cs/config", None, {}, params)
        else:
            params = {"dataId": key.data_id, "group": key.group, "tenant": tenant(key.namespace)}
            self._send("DELETE", "/v1/cs/configs", None, {}, params)

    def _send(self, method, path, form, headers, params=None) -> None:
        when_not_busy(lambda: self._send_once(method, path, form, headers, params))

    def _send_once(self, method, path, form, headers, params=None) -> None:
        """A write whose answer must be true (Nacos answers `true`, or a v3 Result)."""
        params = {**(params or {}), **self.http.auth_params()}
        resp = self.http.http.request(method, path, params=params, data=form, headers=headers)
        text = resp.text.strip()
        if resp.status_code != 200 or not (text == "true" or '"data":true' in text):
            raise Refused(
                f"Nacos {method} {path}: HTTP {resp.status_code} {' '.join(text.split())[:300]}"
            )
