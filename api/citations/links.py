"""Which cited link a citation's URL is: one `cited_links` row per normalised URL, however
many articles cite it, so each URL is checked once and one archived copy serves them all.

A link's id is a hash of its normalised URL, so a citation is linked without looking
anything up, and an article saved again keeps its links (and their statuses) unchanged.
"""

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from api.articles.models import UNLINKED, Citation
from api.citations.models import CitedLink, LinkStatus
from api.core.db import insert_on_conflict
from api.core.tables import table_of

CITATIONS = table_of(Citation)
BACKFILL_BATCH = 500
INSERT_BATCH = 500  # links per INSERT: far below either database's bound-parameter limit


def normalise_url(url: str) -> str:
    """The form a URL is checked and stored in: scheme and host lower-cased (IDNA), the
    default port and the fragment dropped, an empty path as `/`, non-ASCII characters
    percent-encoded; the rest as written. A URL httpx cannot parse (a host IDNA refuses)
    stays as written: its checks will say why it fails."""
    try:
        parsed = httpx.URL(url).copy_with(fragment=None)
    except httpx.InvalidURL:
        return url
    parts = urlsplit(str(parsed))
    return urlunsplit(parts._replace(path="/")) if not parts.path else parts.geturl()


def link_id(url: str) -> str:
    """The id of a URL's cited link: 128 bits of SHA-256 of its normalised form."""
    return hashlib.sha256(normalise_url(url).encode()).hexdigest()[:32]


def link_citations(session: Session, rows: Iterable[dict[str, Any]], now: datetime) -> None:
    """Set `link_id` on citation rows about to be inserted, and make the links that do not
    exist yet (due for a first check at once): one statement per 500 distinct URLs."""
    links: dict[str, str] = {}
    for row in rows:
        url = row.get("cited_url")
        row["link_id"] = None
        if url:
            row["link_id"] = link_id(url)
            links.setdefault(row["link_id"], normalise_url(url))
    new = [
        {
            "id": key,
            "url": url,
            "status": LinkStatus.unchecked.value,
            "consecutive_failures": 0,
            "next_check_at": now,
            "created_at": now,
        }
        for key, url in links.items()
    ]
    for start in range(0, len(new), INSERT_BATCH):
        session.execute(
            insert_on_conflict(session, CitedLink)
            .values(new[start : start + INSERT_BATCH])
            .on_conflict_do_nothing(index_elements=["id"])
        )


def link_unlinked(session: Session, now: datetime, limit: int = BACKFILL_BATCH) -> int:
    """Link up to `limit` citations that have a URL but no link (written before links
    existed, or by a path that did not link them); return how many were linked."""
    rows = [
        {"id": citation_id, "cited_url": url}
        for citation_id, url in session.execute(
            select(CITATIONS.c.id, CITATIONS.c.cited_url).where(UNLINKED).limit(limit)
        )
    ]
    if not rows:
        return 0
    link_citations(session, rows, now)
    linked = [{"citation_id": r["id"], "new_link_id": r["link_id"]} for r in rows if r["link_id"]]
    if linked:
        session.connection().execute(
            update(CITATIONS)
            .where(CITATIONS.c.id == bindparam("citation_id"))
            .values(link_id=bindparam("new_link_id")),
            linked,
        )
    return len(linked)


def touch_citing_articles(session: Session, link: str) -> None:
    """Mark every article citing the link as changed (what its citations show changed):
    the change-log triggers on `citations` (migration 0003) move the content version, so
    cached answers are renewed, and log the articles for `/v1/sync`, webhooks and WebSub."""
    session.execute(
        update(Citation)
        .where(col(Citation.link_id) == link)
        .values(link_id=col(Citation.link_id))
        .execution_options(synchronize_session=False)
    )
