"""Citations that stay alive: every cited URL checked on a slow cadence, archived copies."""
