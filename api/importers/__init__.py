"""Importers from other publishing systems (`masthead import --from ghost|wordpress FILE`).

Each importer reads its export as a stream of `SourcePost`s; `common` turns them, a batch at
a time, into content bundles and writes them with the bundle importer, in one transaction.
"""

from enum import StrEnum


class ImportSource(StrEnum):
    """The export formats `masthead import --from` reads."""

    ghost = "ghost"
    wordpress = "wordpress"
