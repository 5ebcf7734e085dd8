"""API tokens, roles and the dependencies that guard the admin API."""
