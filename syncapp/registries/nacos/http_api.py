"""Nacos over HTTP: login, the admin calls (namespaces, service lists), and the v1 naming API.

Every server version is served by the API it has, newest first: the v3 admin API (Nacos 3.x),
then the v1 console/catalog API (Nacos 1.x/2.x, r-nacos); the choice is remembered per
server. The v1 naming API (register, beat, instance list) is used only for servers without
gRPC (Nacos 1.x), or when a cluster is told to (`http` protocol): see naming_http.py.

Writes carry their data in the request body, never the URL: Nacos' refusal (for example a
metadata value over its 1,024-character limit) then reaches the row with its reason.
"""

import json
import logging
import time

from syncapp.registries.base import (
    DEFAULT_GROUP,
    ClusterConfig,
    Refused,
    RegistryError,
    ServiceKey,
    brief,
)
from syncapp.registries.http import HttpClient
from syncapp.registries.nacos.signing import naming_signature

log = logging.getLogger(__name__)
PAGE_SIZE = 500
SUBSCRIBER_PAGES = 20  # a service's subscribers read at most: 10,000 clients
PUBLIC = "public"  # the namespace Nacos assumes when none is given (configs.py too)
NOT_SERVED = (404, 410)  # API absent (3.2+, r-nacos) or switched off (3.0/3.1)
TOKEN_MARGIN = 60  # seconds before expiry at which a login token is refreshed
LOGIN_RETRY = TOKEN_MARGIN + 60  # a refused login is tried again a minute later
# Login endpoints, newest first: v1-less servers have only the first.
LOGIN_PATHS = ("/v3/auth/user/login", "/v1/auth/login")


class NotServed(Refused):
    """This server does not serve that API: try the other flavour. A refusal (404/410) when
    no flavour is served."""


def _token_of(resp) -> tuple[str, float]:
    """(token, seconds to keep it) from a login answer; ("", retry delay) when refused."""
    try:
        body = resp.json() if resp.status_code == 200 else {}
        body = body.get("data", body) if isinstance(body.get("data"), dict) else body
        return body["accessToken"], float(body.get("tokenTtl", 18000))
    except (ValueError, KeyError, TypeError, AttributeError):
        return "", LOGIN_RETRY


def reason(resp) -> str:
    """What the server said, short: Nacos puts its reason in the body of a 4xx/5xx."""
    return brief(resp.text, 300)


class NacosHttp:
    """One pooled HTTP client for one cluster, with its login token."""

    def __init__(self, config: ClusterConfig):
        self.config = config
        self.http = HttpClient(config.connect_keys, "/nacos")
        self._token, self._token_expiry, self._login_error = "", 0.0, ""
        self._served: dict[str, str] = {}  # what -> API flavour that answered

    # --- auth -----------------------------------------------------------------

    def token(self) -> str:
        """The current access token ("" without a user name or when login was refused)."""
        if not self.config.username:
            return ""
        if time.time() > self._token_expiry - TOKEN_MARGIN:
            self._login()
        return self._token

    def _login(self) -> None:
        """Get a token from the newest login API the server has; a refusal is remembered.

        A server with auth off may refuse the login (Nacos 3.1's v1 layer answers 500) yet
        serve every call, so the calls decide: one that needs auth answers 401/403 and fails,
        with the login's outcome in its message. The password travels in the POST body only;
        the token is never logged.
        """
        form = {"username": self.config.username, "password": self.config.password}
        resp = None
        for path in LOGIN_PATHS:
            resp = self.http.request("POST", path, data=form)
            if resp.status_code not in NOT_SERVED:
                break
        token, ttl = _token_of(resp)
        self._token = token
        self._login_error = "" if token else f"login failed: HTTP {resp.status_code}"
        if not token:
            log.info("%s: Nacos login refused (HTTP %s)", self.config.name, resp.status_code)
        self._token_expiry = time.time() + ttl

    def auth_params(self, grouped_service: str = "") -> dict:
        """Credentials for one request: the token, and the ak/sk signature when configured."""
        params = {}
        if token := self.token():
            params["accessToken"] = token
        if self.config.ak and self.config.sk:
            params.update(naming_signature(self.config.ak, self.config.sk, grouped_service))
        return params

    # --- calls ----------------------------------------------------------------

    def call(self, method: str, path: str, params: dict | None = None, data=None) -> str:
        params = {**(params or {}), **self.auth_params()}
        resp = self.http.request(method, path, params=params, data=data)
        if resp.status_code in NOT_SERVED:
            raise NotServed(f"Nacos {method} {path}: HTTP {resp.status_code} {reason(resp)}")
        if resp.status_code in (401, 403) and self._login_error:
            raise Refused(f"Nacos {method} {path}: HTTP {resp.status_code} ({self._login_error})")
        if resp.status_code != 200:
            raise Refused(f"Nacos {method} {path}: HTTP {resp.status_code} {reason(resp)}")
        return resp.text

    def json(self, method: str, path: str, params: dict | None = None, data=None):
        text = self.call(method, path, params, data)
        try:
            return json.loads(text)
        except ValueError:
            raise RegistryError(f"Nacos {path}: not JSON: {text[:200]!r}") from None

    def first_served(self, what: str, attempts) -> object:
        """Run the first of (flavour, thunk) the server serves, remembering which one did."""
        known = self._served.get(what)
        ordered = sorted(attempts, key=lambda a: a[0] != known)
        for index, (flavour, thunk) in enumerate(ordered):
            try:
                result = thunk()
            except NotServed:
                if index == len(ordered) - 1:
                    raise
                continue
            self._served[what] = flavour
            return result
        raise AssertionError("no attempts")

    # --- namespaces -----------------------------------------------------------

    def existing_namespaces(self) -> set[str]:
        listed = self.first_served(
            "namespaces",
            [
                ("v3", lambda: self.json("GET", "/v3/admin/core/namespace/list")),
                ("v1", lambda: self.json("GET", "/v1/console/namespaces")),
            ],
        )
        return {n.get("namespace") for n in listed.get("data") or []}

    def create_namespace(self, namespace: str) -> None:
        self.first_served(
            "create-namespace",
            [
                (
                    "v3",
                    lambda: self.call(
                        "POST",
                        "/v3/admin/core/namespace",
                        data={"namespaceId": namespace, "namespaceName": namespace},
                    ),
                ),
                (
                    "v1",
                    lambda: self.call(
                        "POST",
                        "/v1/console/namespaces",
                        data={"customNamespaceId": namespace, "namespaceName": namespace},
                    ),
                ),
            ],
        )

    # --- service lists ----------------------------------------------------------

    def list_services(self, namespace: str) -> list[ServiceKey]:
        """Every service of every group, page by page; any failed page fails the list."""
        found, page = [], 1
        while True:
            total, batch = self._service_page(namespace, page)
            found += [
                ServiceKey(namespace, s.get("groupName") or DEFAULT_GROUP, s["name"]) for s in batch
            ]
            if not batch or len(found) >= total:
                return found
            page += 1

    def _service_page(self, namespace: str, page: int) -> tuple[int, list[dict]]:
        """(total, services of one page): Nacos 3's admin API, else the v1 catalog."""
        params = {
            "namespaceId": namespace,
            "pageNo": page,
            "pageSize": PAGE_SIZE,
            "withInstances": "false",
        }

        def v3():
            data = self.json("GET", "/v3/admin/ns/service/list", params).get("data") or {}
            return int(data.get("totalCount", 0)), data.get("pageItems") or []

        def v1():
            body = self.json("GET", "/v1/ns/catalog/services", params)
            return int(body.get("count", 0)), body.get("serviceList") or []

        return self.first_served("services", [("v3", v3), ("v1", v1)])

    # --- subscribers -------------------------------------------------------------

    def subscribers(self, service: ServiceKey) -> list[dict] | None:
        """Every client subscribed to the service, as the server lists them (address, agent,
        app); None where the server has no subscriber API (r-nacos: see PROTOCOLS.md)."""
        found, page = [], 1
        while True:
            try:
                total, batch = self._subscriber_page(service, page)
            except NotServed:
                return None
            found += batch
            if not batch or len(found) >= total or page >= SUBSCRIBER_PAGES:
                return found
            page += 1

    def _subscriber_page(self, service: ServiceKey, page: int) -> tuple[int, list[dict]]:
        """(total, subscribers of one page): Nacos 3's admin API, else v1 (Nacos 1.x/2.x)."""
        params = {
            "namespaceId": service.namespace or PUBLIC,
            "groupName": service.group or DEFAULT_GROUP,
            "serviceName": service.name,
            "pageNo": page,
            "pageSize": PAGE_SIZE,
        }

        def v3():
            path = "/v3/admin/ns/service/subscribers"
            data = self.json("GET", path, params).get("data") or {}
            return int(data.get("totalCount", 0)), data.get("pageItems") or []

        def v1():
            v1_params = {**params, "serviceName": f"{params['groupName']}@@{service.name}"}
            body = self.json("GET", "/v1/ns/service/subscribers", v1_params)
            return int(body.get("count", 0)), body.get("subscribers") or []

        return self.first_served("subscribers", [("v3", v3), ("v1", v1)])

    def server_state(self) -> dict:
        """The server's own description (version, mode), where it serves one; {} otherwise."""
        for path in ("/v3/admin/core/state", "/v1/console/server/state"):
            try:
                body = self.json("GET", path)
            except RegistryError:
                continue
            return body.get("data", body) if isinstance(body.get("data"), dict) else body
        return {}

    def close(self) -> None:
        self.http.close()
