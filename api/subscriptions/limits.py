"""Sign-up rate limits, per client address and per email address."""

import hashlib
from dataclasses import dataclass
from datetime import datetime

from api.core.errors import TooManyRequests
from api.core.ratelimits import Counter, make_counter
from api.core.settings import Settings


@dataclass
class SignupLimiter:
    """429 with `Retry-After` when a client address or an email signs up too often."""

    counter: Counter
    settings: Settings

    def check(self, client_address: str, email: str, now: datetime) -> None:
        window = self.settings.subscription_limit_window
        # Emails are hashed so no address is ever written to Redis.
        email_key = hashlib.sha256(f"{self.settings.secret_key}:{email}".encode()).hexdigest()
        for key, limit in (
            (f"signup:addr:{client_address}", self.settings.subscription_limit_per_address),
            (f"signup:email:{email_key[:32]}", self.settings.subscription_limit_per_email),
        ):
            count, remaining = self.counter.hit(key, window, now)
            if count > limit:
                raise TooManyRequests(
                    f"Too many sign-ups; try again in {remaining} seconds.",
                    headers={"Retry-After": str(remaining)},
                )


def make_limiter(settings: Settings) -> SignupLimiter:
    return SignupLimiter(make_counter(settings), settings)
