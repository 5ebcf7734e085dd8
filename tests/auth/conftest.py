from tests.admin.conftest import as_, tokens  # noqa: F401  (shared fixtures)
