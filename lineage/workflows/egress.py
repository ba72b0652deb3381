"""Where a webhook may go, and the one way it gets there.

A webhook URL is hostile input: by default it may reach only public
addresses. The host is resolved once; every address it resolves to is
checked with `ipaddress` (loopback, private, link-local, multicast,
reserved, unspecified, shared, and those same addresses hidden in IPv4-mapped,
6to4, Teredo and NAT64 forms — decimal, octal and hex spellings of IPv4 are
resolved to the address they mean before the check); the connection goes to
exactly the address that was checked, so a DNS answer that changes between
check and connect (rebinding) changes nothing. The Host header and TLS
server name stay the URL's. LINEAGE_WEBHOOK_ALLOWED_HOSTS names hosts an
operator allows although they are not public.
"""
from __future__ import annotations

import base64
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from django.conf import settings

MAX_TIMEOUT_SECONDS = 30.0
# A response body is kept (in the step's trace) only from an allowed host,
# and only this much of it.
KEPT_RESPONSE_CHARS = 500
_READ_LIMIT = 64_000

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SHARED = ipaddress.ip_network("100.64.0.0/10")


class EgressRefused(Exception):
    """The URL may not be called; the message says why, for people."""


class UnresolvableHost(EgressRefused):
    """The host has no address now (perhaps only for now)."""


@dataclass(frozen=True)
class Target:
    """A URL checked for calling: where to connect and what to say."""

    scheme: str
    host: str  # as written in the URL (the Host header and TLS server name)
    port: int
    path: str
    credentials: str | None  # user:password from the URL, sent as Basic auth
    addresses: tuple[str, ...] = field(default=())
    allowed: bool = False  # named in LINEAGE_WEBHOOK_ALLOWED_HOSTS


def check_url(url: str) -> Target:
    """The URL's scheme, host and port, checked without resolving anything:
    EgressRefused for what is never callable."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EgressRefused(f"the URL is not valid ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise EgressRefused(f"only http:// and https:// URLs are called, not {scheme or 'this'}://")
    if not parts.hostname:
        raise EgressRefused("the URL names no host")
    host = parts.hostname.rstrip(".").lower()
    port = port or (443 if scheme == "https" else 80)
    credentials = None
    if parts.username is not None:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port, path, credentials, allowed=_is_allowed_name(host, port))


def resolve(target: Target) -> Target:
    """The target with the addresses it may connect to: every address the
    host resolves to, each one checked. EgressRefused if any is not public
    (and the host is not allowed)."""
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvableHost(f"cannot resolve {target.host}: {exc}") from None
    addresses = tuple(dict.fromkeys(info[4][0] for info in infos))
    allowed = target.allowed or all(_is_allowed_address(a, target.port) for a in addresses)
    if not allowed:
        for address in addresses:
            reason = refusal_reason(ipaddress.ip_address(address))
            if reason:
                shown = target.host if target.host == address else f"{target.host} ({address})"
                raise EgressRefused(
                    f"{shown} is {reason}: webhooks reach only public addresses unless "
                    "LINEAGE_WEBHOOK_ALLOWED_HOSTS allows the host"
                )
    return Target(**{**target.__dict__, "addresses": addresses, "allowed": allowed})


def refusal_reason(address: IPAddress) -> str:
    """Why a webhook may not connect to `address` ("" when it may)."""
    for embedded in _embedded_ipv4(address):
        reason = refusal_reason(embedded)
        if reason:
            return reason
    checks = [
        ("is_unspecified", "an unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
        ("is_reserved", "a reserved address"),
        ("is_private", "a private address"),
    ]
    for attribute, reason in checks:
        if getattr(address, attribute):
            return reason
    if address in _SHARED or not address.is_global:
        return "not a public address"
    return ""


def _embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address carries (mapped, 6to4, Teredo, NAT64)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
    if address in _NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [a for a in found if a is not None]


def _allowed_entries() -> list[tuple[str, int | None]]:
    """LINEAGE_WEBHOOK_ALLOWED_HOSTS as (host, port or None)."""
    entries = []
    for entry in settings.LINEAGE_WEBHOOK_ALLOWED_HOSTS:
        parts = urlsplit(f"//{entry.strip()}")
        try:
            port = parts.port
        except ValueError:
            port = None
        if parts.hostname:
            entries.append((parts.hostname.rstrip(".").lower(), port))
    return entries


def _is_allowed_name(host: str, port: int) -> bool:
    return any(name == host and allowed in (None, port) for name, allowed in _allowed_entries())


def _is_allowed_address(address: str, port: int) -> bool:
    checked = ipaddress.ip_address(address)
    for name, allowed in _allowed_entries():
        try:
            if ipaddress.ip_address(name) == checked and allowed in (None, port):
                return True
        except ValueError:
            continue
    return False


# --- Calling ----------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    reason: str
    body: str  # empty unless the host is allowed


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the checked address; Host stays the URL's name."""

    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS: certificate and SNI checked against the URL's name."""

    def __init__(self, target: Target, address: str, timeout: float) -> None:
        super().__init__(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def post_json(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> Reply:
    """POST `body` to a resolved target, following no redirect, within
    `timeout` seconds in all (a server that answers a byte at a time is cut
    off at the deadline). OSError/http.client errors for the caller to word."""
    deadline = time.monotonic() + timeout
    last_error: OSError | None = None
    for address in target.addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        connection_class = (
            _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
        )
        connection = connection_class(target, address, remaining)
        try:
            connection.connect()
        except OSError as exc:
            last_error = exc
            connection.close()
            continue
        return _exchange(connection, target, body, headers, deadline)
    raise last_error or TimeoutError("timed out")


def _exchange(
    connection: http.client.HTTPConnection,
    target: Target,
    body: bytes,
    headers: dict[str, str],
    deadline: float,
) -> Reply:
    # Past the deadline the socket is shut down, whatever read is waiting.
    watchdog = threading.Timer(max(0.0, deadline - time.monotonic()), _shut, [connection])
    watchdog.start()
    try:
        all_headers = dict(headers)
        if target.credentials is not None and "authorization" not in {h.lower() for h in headers}:
            token = base64.b64encode(target.credentials.encode()).decode()
            all_headers["Authorization"] = f"Basic {token}"
        connection.request("POST", target.path, body=body, headers=all_headers)
        response = connection.getresponse()
        data = response.read(_READ_LIMIT) if target.allowed else b""
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out")
        text = data.decode("utf-8", "replace")[:KEPT_RESPONSE_CHARS]
        return Reply(response.status, response.reason, text)
    except OSError:
        if time.monotonic() >= deadline:
            raise TimeoutError("timed out") from None
        raise
    finally:
        watchdog.cancel()
        connection.close()


def _shut(connection: http.client.HTTPConnection) -> None:
    if connection.sock is not None:
        try:
            connection.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
