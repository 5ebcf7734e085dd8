"""Where a webhook may point: the outbound rules of `api.core.fetch` (public addresses only,
unless private targets are allowed), under the names webhook code has always used."""

from api.core.fetch import RefusedTarget, Target, check_target, is_public, resolve

__all__ = ["RefusedTarget", "Target", "check_target", "is_public", "resolve"]
