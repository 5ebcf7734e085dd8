"""Ghost's identifiers, derived from Masthead's: stable, and found again through the same
primary-key index.

Ghost ids are 24 hex characters (MongoDB ObjectIds). Masthead makes its ids as 32 hex
characters (a UUID4's hex), so a Ghost id is an id's first 24: reading by a Ghost id is a
range on the primary key (the ids that start with it), and its 88 random bits keep two ids
from sharing it. An id of another form (a bundle may bring its own) gets a digest as its
Ghost id, which filters and reads by id cannot find (its slug still can). `uuid` is the id
as a UUID (a UUID5 of it for ids of another form).
"""

import hashlib
import re
import uuid
from typing import Any

from sqlalchemy import ColumnElement, and_

GHOST_ID = re.compile(r"^[0-9a-f]{24}$")
MASTHEAD_HEX_ID = re.compile(r"^[0-9a-f]{32}$")
NAMESPACE = uuid.UUID("6d617374-6865-4164-a768-6f7374696473")


def ghost_id(masthead_id: str) -> str:
    if MASTHEAD_HEX_ID.match(masthead_id):
        return masthead_id[:24]
    return hashlib.blake2b(masthead_id.encode(), digest_size=12).hexdigest()


def ghost_uuid(masthead_id: str) -> str:
    if MASTHEAD_HEX_ID.match(masthead_id):
        return str(uuid.UUID(hex=masthead_id))
    return str(uuid.uuid5(NAMESPACE, masthead_id))


def id_prefix(value: str) -> str | None:
    """The stored ids' prefix a Ghost id stands for, or None when it is no Ghost id."""
    lowered = value.lower()
    return lowered if GHOST_ID.match(lowered) else None


def matches_ghost_id(column: Any, prefix: str) -> ColumnElement[bool]:
    """The rows whose id starts with `prefix`: a range the primary-key index serves."""
    return and_(column >= prefix, column <= prefix + "f" * 8)
