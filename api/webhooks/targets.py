"""Where a webhook may point: public addresses only, unless private targets are allowed.

The check is made on the addresses the host name resolves to (a public name can point at
127.0.0.1), at creation and again at every delivery, and the delivery then connects to the
address that was checked, so a name that changes its answer in between gains nothing.
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedTarget(Exception):
    """The URL's host does not resolve, or resolves to an address webhooks may not reach."""


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
                    f"{host} resolves to {address}, a private or reserved address; webhooks "
                    "may only target public addresses"
                )
    return Target(host, addresses[0])
