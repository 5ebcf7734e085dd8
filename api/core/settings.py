"""Settings from `MASTHEAD_*` environment variables or a `.env` file."""

import ipaddress
from functools import lru_cache
from typing import Annotated, Any, Literal

from pydantic import AnyHttpUrl, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MASTHEAD_", env_file=".env", extra="ignore", frozen=True
    )

    environment: Literal["development", "test", "production"] = Field(
        "development",
        description="`production` refuses development defaults for secrets, and sign-ups "
        "without SMTP; `development` prints outgoing email to the console when there is no "
        "SMTP server.",
    )
    database_url: str = Field(
        "sqlite:///./data/masthead.db",
        description="SQLAlchemy URL: `sqlite:///path` or `postgresql+psycopg://user@host/db`.",
    )
    read_database_url: str | None = Field(
        None,
        description="A streaming replica for public reads; used only while it has caught up "
        "with the primary's content version.",
    )
    database_pool_size: int = Field(5, ge=1, le=200, description="Connections per worker.")
    database_max_overflow: int = Field(5, ge=0, le=200, description="Extra connections.")
    database_pool_timeout: float = Field(
        2.0,
        gt=0,
        le=60,
        description="Longest wait for a pooled PostgreSQL connection, in seconds; then 503.",
    )
    database_connect_timeout: int = Field(
        2, ge=1, le=60, description="Longest wait to open a PostgreSQL connection, in seconds."
    )
    sqlite_busy_timeout_ms: int = Field(
        5000,
        ge=0,
        le=60_000,
        description="How long an SQLite writer waits for the write lock, in ms; then 503.",
    )
    worker_healthcheck_seconds: int = Field(
        60,
        ge=1,
        le=3600,
        description="With several workers, how long one may take to answer the supervisor's "
        "health check before it is restarted.",
    )
    max_in_flight: int | None = Field(
        None,
        ge=1,
        le=10_000,
        description="Requests each worker works on at once; more get 503 at once. Default: "
        "32 on SQLite; on PostgreSQL the pool's size plus its overflow (at most 32).",
    )
    public_url: AnyHttpUrl | None = Field(
        None,
        description="Base URL every absolute link starts with (where the app's root is "
        "served). Unset: the request's own origin when its host is one of "
        "`MASTHEAD_ALLOWED_HOSTS`, else the address `masthead serve` listens on; never an "
        "arbitrary `Host` header.",
    )
    onion_url: AnyHttpUrl | None = Field(
        None,
        description="The onion service's URL (`http://<56 characters>.onion`): requests for "
        "its host get every absolute link on it, and other answers carry `Onion-Location`.",
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "::1"],
        description="Comma-separated host names whose requests may build links on their own "
        "origin when `MASTHEAD_PUBLIC_URL` is not set (development).",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated origins the admin and subscription endpoints answer "
        "by CORS (public reads answer every origin).",
    )
    examples: bool = Field(
        False,
        description="Serve the example frontends of the repository's `examples/` folder at "
        "`/examples/` (`masthead serve --examples`).",
    )
    content_keys_required: bool = Field(
        False, description="Require a content key (`?key=` or `X-Masthead-Key`) on /v1."
    )
    cache_max_age: int = Field(60, ge=0, le=31_536_000, description="Public max-age, seconds.")
    cache_stale_while_revalidate: int = Field(
        300, ge=0, le=31_536_000, description="Public stale-while-revalidate, seconds."
    )
    response_cache: bool = Field(
        True, description="Cache whole public GET responses in each worker (see api/core/cache)."
    )
    response_cache_entries: int = Field(
        4096, ge=16, le=1_000_000, description="Most responses each worker keeps cached."
    )
    smtp_url: str | None = Field(None, description="smtp://user:pass@host:port for email.")
    signups_enabled: bool = Field(
        True, description="Accept newsletter sign-ups (`POST /v1/subscriptions`; 404 when off)."
    )
    redis_url: str | None = Field(None, description="redis://host:port for shared limits.")
    secret_key: str = Field(
        "development-secret-change-me", min_length=16, description="Signs email tokens."
    )
    max_body_bytes: int = Field(
        5_000_000, ge=1024, le=500_000_000, description="Largest accepted request body."
    )
    max_query_length: int = Field(
        2048, ge=256, le=65_536, description="Longest accepted query string, in bytes."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="`debug`, `info`, `warning` or `error`."
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        description="`text` (one readable line per event) or `json` (one JSON object per "
        "line): access lines and application events alike, on standard error.",
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated proxy addresses/networks whose `X-Forwarded-For` and "
        "`X-Request-ID` are honoured.",
    )
    mail_from: str = Field(
        "Masthead <newsletter@masthead.invalid>", description="From: of outgoing email."
    )
    outbox_sender: bool = Field(
        True, description="Run the email outbox sender inside each worker process."
    )
    outbox_poll_seconds: float = Field(
        10.0, gt=0, le=3600, description="How often the sender looks for due email."
    )
    subscription_consent_wording: str = Field(
        "Yes, send me the newsletter. I have read and accept the privacy policy.",
        description="The consent text the sign-up form shows; its hash is kept as proof.",
    )
    privacy_page_slug: str | None = Field(
        "privacy-policy",
        max_length=200,
        description="Slug of the privacy-policy page: each sign-up's consent record names "
        "this page and its revision when it is published (empty: none).",
    )
    subscription_confirm_redirect: AnyHttpUrl | None = Field(
        None, description="Landing page for confirmation links (303 with `?status=`)."
    )
    subscription_unsubscribe_redirect: AnyHttpUrl | None = Field(
        None, description="Landing page for unsubscribe links (303 with `?status=&token=`)."
    )
    subscription_confirm_max_age: int = Field(
        259_200, ge=60, description="Seconds a confirmation link stays valid."
    )
    subscription_resend_after: int = Field(
        600, ge=0, description="Seconds before a repeated sign-up sends another confirmation."
    )
    subscription_limit_per_address: int = Field(
        20, ge=1, description="Sign-ups per client address per window."
    )
    subscription_limit_per_email: int = Field(
        5, ge=1, description="Sign-ups per email address per window."
    )
    subscription_limit_window: int = Field(
        3600, ge=1, description="Rate-limit window for sign-ups, seconds."
    )
    metrics_token: str | None = Field(
        None, min_length=16, description="When set, `/metrics` needs it as a bearer token."
    )
    metrics_allow: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Comma-separated networks allowed to read `/metrics` (all when empty).",
    )
    auth_failure_limit: int = Field(
        20, ge=1, le=100_000, description="Failed authentications per client address per window."
    )
    auth_failure_window: int = Field(
        300, ge=1, le=86_400, description="Window for counting failed authentications, seconds."
    )
    rate_limit_prefix: str = Field(
        "masthead:ratelimit", description="Key prefix for rate-limit counters in Redis."
    )
    webhook_allow_private: bool = Field(
        False,
        description="Let outbound requests (webhooks, WebSub pings, citation link checks) "
        "reach private, loopback and link-local addresses (development and tests only).",
    )
    link_checker: bool | None = Field(
        None,
        description="Run the citation link checker inside each worker process (workers share "
        "the links through row leases). Unset: on, except in the `test` environment.",
    )
    link_check_poll_seconds: float = Field(
        300.0, gt=0, le=86_400, description="How often the link checker looks for due links."
    )
    link_check_batch: int = Field(
        20, ge=1, le=500, description="Cited URLs one worker checks per pass, at most."
    )
    link_check_interval_days: float = Field(
        7.0,
        gt=0,
        le=365,
        description="How long after a check a cited URL is checked again (at most once per "
        "this period; failing links sooner, see `MASTHEAD_LINK_CHECK_RETRY_HOURS`).",
    )
    link_check_retry_hours: float = Field(
        24.0,
        gt=0,
        le=8760,
        description="After a failed check that does not yet mark the link broken, check again "
        "this much later.",
    )
    link_check_failures: int = Field(
        3,
        ge=1,
        le=100,
        description="Consecutive failed checks (errors, timeouts, 5xx, ...) that mark a cited "
        "link broken; a 404 or 410 marks it broken at once.",
    )
    link_check_timeout_seconds: float = Field(
        5.0,
        gt=0,
        le=60,
        description="Time allowed for checking one URL, redirects and GET fallback included.",
    )
    webhook_worker: bool = Field(
        True,
        description="Run the webhook dispatcher and sender (and the WebSub pings) inside each "
        "worker process.",
    )
    webhook_poll_seconds: float = Field(
        5.0, gt=0, le=3600, description="How often the webhook worker looks for work."
    )
    webhook_timeout_seconds: float = Field(
        10.0, gt=0, le=120, description="Timeout of one webhook request, seconds."
    )
    webhook_max_attempts: int = Field(
        8, ge=1, le=50, description="Attempts per webhook delivery before it is marked failed."
    )
    webhook_disable_after: int = Field(
        5, ge=1, le=1000, description="Consecutive failed deliveries that disable a webhook."
    )
    websub_hub: AnyHttpUrl | None = Field(
        None,
        description="A WebSub hub (http(s) URL): every feed links to it, and each change to "
        "a published article pings it for the feeds the article is in (retried with backoff; "
        "the webhook target rules apply). Needs `MASTHEAD_PUBLIC_URL`.",
    )
    hook_actionnetwork_secret: str | None = Field(
        None,
        min_length=16,
        description="Secret of `POST /v1/hooks/actionnetwork` (Action Network's webhooks of "
        "signatures, submissions, RSVPs and donations), sent as `?secret=` or the Basic "
        "auth password; the endpoint is off (404) without it.",
    )
    hook_actblue_username: str | None = Field(
        None,
        min_length=1,
        description="Basic auth user name ActBlue's webhooks send to `/v1/hooks/actblue`.",
    )
    hook_actblue_password: str | None = Field(
        None,
        min_length=16,
        description="Basic auth password ActBlue's webhooks send to `/v1/hooks/actblue` "
        "(and `/refunds`); the endpoints are off (404) without it.",
    )
    hook_standard_secret: str | None = Field(
        None,
        pattern=r"^whsec_[A-Za-z0-9+/]{24,}={0,2}$",
        description="`whsec_<base64>` secret verifying the Standard Webhooks signatures of "
        "`POST /v1/hooks/standard` (conversions from any other tool); off (404) without it.",
    )

    @field_validator("onion_url")
    @classmethod
    def onion_host(cls, url: AnyHttpUrl | None) -> AnyHttpUrl | None:
        if url is not None and not (url.host or "").endswith(".onion"):
            raise ValueError("must be the URL of an onion service (its host ends in .onion)")
        return url

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def split_hosts(cls, value: object) -> object:
        if isinstance(value, str):
            return [host.strip().lower() for host in value.split(",") if host.strip()]
        return value

    @field_validator("trusted_proxies", "metrics_allow", mode="before")
    @classmethod
    def split_proxies(cls, value: object) -> object:
        if isinstance(value, str):
            return [proxy.strip() for proxy in value.split(",") if proxy.strip()]
        return value

    @field_validator("trusted_proxies", "metrics_allow")
    @classmethod
    def valid_proxies(cls, proxies: list[str]) -> list[str]:
        for proxy in proxies:
            ipaddress.ip_network(proxy, strict=False)
        return proxies

    @field_validator("cors_origins", mode="before")
    @classmethod
    def split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def no_wildcard(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if origin == "*" or not origin.startswith(("http://", "https://")):
                raise ValueError(f"{origin!r} is not an http(s) origin (no wildcard)")
        return origins

    @field_validator("database_url", "read_database_url")
    @classmethod
    def known_database(cls, url: str | None) -> str | None:
        if url is None:
            return None
        if not url.startswith(("sqlite://", "postgresql")):
            raise ValueError("must start with sqlite:// or postgresql+psycopg://")
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url


class SettingsError(Exception):
    """A setting has a bad value; the message names it in one line."""


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, turning a validation failure into one clear line."""
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = "MASTHEAD_" + str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise SettingsError(f"invalid setting {name}: {first['msg']}") from None
    if settings.environment == "production" and "change-me" in settings.secret_key:
        raise SettingsError("invalid setting MASTHEAD_SECRET_KEY: set a real secret in production")
    if settings.websub_hub and not settings.public_url:
        raise SettingsError(
            "invalid setting MASTHEAD_WEBSUB_HUB: needs MASTHEAD_PUBLIC_URL, the feeds' public "
            "address the hub is told about and fetches"
        )
    return settings


@lru_cache
def get_settings() -> Settings:
    return load_settings()


def settings_table() -> str:
    """The README's table of settings, made from this model (a test keeps them equal)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        if default is None or default == []:
            shown = "none"
        elif isinstance(default, bool):
            shown = f"`{str(default).lower()}`"
        else:
            shown = f"`{default}`"
        if name == "secret_key":
            shown = "a development value"
        rows.append(f"| `MASTHEAD_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows) + "\n"
