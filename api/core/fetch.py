"""Outbound HTTP to URLs other people chose (webhook targets, the WebSub hub, cited pages):
public addresses only, checked where the connection is made.

The check is made on the addresses the host name resolves to (a public name can point at
127.0.0.1), and the request then connects to the address that was checked, so a name that
changes its answer in between (DNS rebinding) gains nothing. Redirects are never followed
by the HTTP client: `probe` follows a few itself, checking each new address the same way.
`allow_private` (the `webhook_allow_private` setting) lifts the address rule for
development and tests, which talk to receivers on loopback.
"""

import ipaddress
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_REDIRECTS = 5
MAX_BYTES = 1024 * 1024
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# HEAD answers some servers get wrong (refused, or an error where GET works): ask with GET.
HEAD_UNRELIABLE_FROM = 400


class RefusedTarget(Exception):
    """The URL's host does not resolve, or resolves to an address we may not reach."""


def is_public(address: IpAddress) -> bool:
    """Globally routable: not private, loopback, link-local, multicast, reserved or unspecified."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return is_public(address.ipv4_mapped)
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int) -> list[IpAddress]:
    """Every address the host resolves to (an IP literal is its own answer)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise RefusedTarget(f"the host {host!r} does not resolve") from exc
    addresses: list[IpAddress] = []
    for *_rest, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise RefusedTarget(f"the host {host!r} does not resolve")
    return addresses


@dataclass(frozen=True)
class Target:
    host: str
    address: IpAddress


def check_target(url: str, *, allow_private: bool) -> Target:
    """The address to connect to, or RefusedTarget when any resolved address is not public."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = resolve(host, port)
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise RefusedTarget(
                    f"{host} resolves to {address}, a private or reserved address; only "
                    "public addresses may be reached"
                )
    return Target(host, addresses[0])


def pinned_request(
    client: httpx.Client,
    method: str,
    url: str,
    target: Target,
    *,
    headers: dict[str, str],
    timeout: float,
    content: bytes | None = None,
) -> httpx.Request:
    """A request for `url` that connects to `target.address` (the checked one). The URL's
    host goes in `Host`, and over TLS in SNI, so the certificate is verified for it."""
    parsed = httpx.URL(url)
    extensions = {"sni_hostname": target.host} if parsed.scheme == "https" else {}
    return client.build_request(
        method,
        parsed.copy_with(host=str(target.address)),
        content=content,
        headers={**headers, "Host": parsed.netloc.decode("ascii")},
        timeout=timeout,
        extensions=extensions,
    )


@dataclass(frozen=True)
class Probe:
    """What asking for a URL came to: the final answer's status, or why there was none."""

    status_code: int | None
    error: str | None
    method: str
    final_url: str
    redirects: int = 0
    bytes_read: int = 0


class _OutOfTime(Exception):
    pass


def probe(
    client: httpx.Client,
    url: str,
    *,
    allow_private: bool,
    timeout: float,
    user_agent: str,
    max_redirects: int = MAX_REDIRECTS,
    max_bytes: int = MAX_BYTES,
) -> Probe:
    """Whether `url` answers: HEAD, then a ranged GET when HEAD is refused or answers an
    error. Each follows at most `max_redirects` redirects, each to a checked address; a GET
    reads at most `max_bytes` of the body. A monotonic deadline `timeout` seconds after the
    start is checked between steps, and no network wait may last longer than what is left."""
    deadline = time.monotonic() + timeout
    head = _follow(client, "HEAD", url, allow_private, deadline, user_agent, max_redirects, 0)
    head_refused = head.error is None and (head.status_code or 0) >= HEAD_UNRELIABLE_FROM
    if not head_refused and not (head.error or "").startswith("RemoteProtocolError"):
        return head
    return _follow(
        client, "GET", url, allow_private, deadline, user_agent, max_redirects, max_bytes
    )


def _follow(
    client: httpx.Client,
    method: str,
    url: str,
    allow_private: bool,
    deadline: float,
    user_agent: str,
    max_redirects: int,
    max_bytes: int,
) -> Probe:
    headers = {"User-Agent": user_agent, "Accept": "*/*"}
    if method == "GET":
        headers["Range"] = f"bytes=0-{max_bytes - 1}"
    current = url
    for redirects in range(max_redirects + 1):
        try:
            target = check_target(current, allow_private=allow_private)
            request = pinned_request(
                client, method, current, target, headers=headers, timeout=_left(deadline)
            )
            response = client.send(request, follow_redirects=False, stream=True)
            try:
                read = _read_some(response, max_bytes, deadline) if method == "GET" else 0
            finally:
                response.close()
        except RefusedTarget as exc:
            return Probe(None, f"refused: {exc}", method, current, redirects)
        except (_OutOfTime, httpx.TimeoutException):
            return Probe(None, "timed out", method, current, redirects)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return Probe(None, error, method, current, redirects)
        location = response.headers.get("location")
        if response.status_code not in REDIRECTS or not location:
            return Probe(response.status_code, None, method, current, redirects, read)
        try:
            current = str(httpx.URL(current).join(location))
        except httpx.InvalidURL:
            return Probe(response.status_code, "a redirect to an invalid URL", method, current)
        if urlsplit(current).scheme not in ("http", "https"):
            return Probe(response.status_code, "a redirect to a non-http(s) URL", method, current)
    return Probe(None, f"more than {max_redirects} redirects", method, current, max_redirects)


def _left(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _OutOfTime
    return left


def _read_some(response: httpx.Response, max_bytes: int, deadline: float) -> int:
    """Read the body up to `max_bytes` (a server may ignore `Range`), within the deadline."""
    read = 0
    for chunk in response.iter_raw():
        read += len(chunk)
        if read >= max_bytes:
            return min(read, max_bytes)
        _left(deadline)
    return read
