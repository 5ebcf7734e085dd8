"""Rate-limit counters (fixed windows, in memory or shared through Redis) and the client
address they are counted against."""

import ipaddress
import threading
from datetime import datetime
from typing import Protocol

from fastapi import Request

from api.core.settings import Settings


class Counter(Protocol):
    def hit(self, key: str, window: int, now: datetime) -> tuple[int, int]:
        """Count one hit on `key`; return (hits in this window, seconds until it ends)."""
        ...


def _window(window: int, now: datetime) -> tuple[int, int]:
    epoch = int(now.timestamp())
    return epoch // window, window - epoch % window


class MemoryCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, int]] = {}

    def hit(self, key: str, window: int, now: datetime) -> tuple[int, int]:
        index, remaining = _window(window, now)
        with self._lock:
            if len(self._counts) > 100_000:
                self._counts = {k: v for k, v in self._counts.items() if v[0] == index}
            seen_index, count = self._counts.get(key, (index, 0))
            count = count + 1 if seen_index == index else 1
            self._counts[key] = (index, count)
        return count, remaining


class RedisCounter:
    def __init__(self, url: str, prefix: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=2)
        self._prefix = prefix

    def hit(self, key: str, window: int, now: datetime) -> tuple[int, int]:
        index, remaining = _window(window, now)
        name = f"{self._prefix}:{key}:{index}"
        pipe = self._redis.pipeline()
        pipe.incr(name)
        pipe.expire(name, window + 60)
        count, _ = pipe.execute()
        return int(count), remaining


def make_counter(settings: Settings) -> Counter:
    """Counters in Redis when `MASTHEAD_REDIS_URL` is set (shared by every worker), else in
    this process's memory."""
    if settings.redis_url:
        return RedisCounter(settings.redis_url, settings.rate_limit_prefix)
    return MemoryCounter()


def client_address(request: Request, trusted_proxies: list[str]) -> str:
    """The caller's address: `X-Forwarded-For` is believed only when sent by a trusted proxy,
    and only up to the first hop that is not itself a trusted proxy."""
    peer = request.client.host if request.client else "0.0.0.0"
    networks = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]

    def trusted(address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in networks)

    if not networks or not trusted(peer):
        return peer
    hops = [
        hop.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer
    return hops[0] if hops else peer


def client_network(address: str) -> str | None:
    """The address truncated to its /24 (IPv4) or /48 (IPv6): enough as proof, not a person."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
