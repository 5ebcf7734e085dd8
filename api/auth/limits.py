"""Failed authentication is limited per client address: guessing tokens costs a 429.

While an address is over the limit, its requests get 429 before any token is checked, so a
guesser cannot tell a right token from a wrong one. Failures are counted in the same fixed
windows as sign-ups, in memory or (with `MASTHEAD_REDIS_URL`) in Redis, shared by workers.
"""

import threading
from datetime import datetime, timedelta

from fastapi import Request

from api.core.errors import TooManyRequests
from api.core.ratelimits import Counter, client_address, make_counter
from api.core.settings import Settings


class AuthFailureLimiter:
    def __init__(self, counter: Counter, settings: Settings) -> None:
        self.counter = counter
        self.limit = settings.auth_failure_limit
        self.window = settings.auth_failure_window
        self.trusted_proxies = settings.trusted_proxies
        self._blocked: dict[str, datetime] = {}
        self._lock = threading.Lock()

    def check(self, request: Request, now: datetime) -> None:
        """429 while this client is over the limit."""
        address = client_address(request, self.trusted_proxies)
        with self._lock:
            until = self._blocked.get(address)
            if until is not None and now >= until:
                del self._blocked[address]
                until = None
        if until is not None:
            raise self._refusal(int((until - now).total_seconds()) + 1)

    def failed(self, request: Request, now: datetime) -> None:
        """Count a failed attempt; past the limit the client is refused until the window ends."""
        address = client_address(request, self.trusted_proxies)
        count, remaining = self.counter.hit(f"auth-failure:{address}", self.window, now)
        if count >= self.limit:
            with self._lock:
                if len(self._blocked) > 100_000:
                    self._blocked = {a: t for a, t in self._blocked.items() if t > now}
                self._blocked[address] = now + timedelta(seconds=remaining)
            if count > self.limit:
                raise self._refusal(remaining)

    @staticmethod
    def _refusal(retry_after: int) -> TooManyRequests:
        return TooManyRequests(
            "Too many failed authentication attempts from this address; retry later.",
            headers={"Retry-After": str(max(retry_after, 1))},
        )


def make_auth_failure_limiter(settings: Settings) -> AuthFailureLimiter:
    return AuthFailureLimiter(make_counter(settings), settings)
