"""The feeds as WebSub topics: which feed URLs the hub is told about.

Every format of the main feed, of each tag's feed (`?tag=<slug>`) and of each source's feed
(`?source=<slug>`) is a topic: its URL is its `rel="self"` link, and the hub is pinged with
it whenever an article in it changes. Feeds narrowed otherwise (several slugs, a tag and a
source) are not topics: they carry no hub link, since no one would tell the hub about them.
"""

from collections.abc import Iterable

FEED_PATHS = ("/feeds/rss.xml", "/feeds/atom.xml", "/feeds/feed.json")
MAIN = ""


def topic_key(tags: list[str], sources: list[str]) -> str | None:
    """The topic a feed narrowed by these slugs is: `""` (the main feed), `tag=<slug>` or
    `source=<slug>`; None when it is no topic."""
    if not tags and not sources:
        return MAIN
    if len(tags) == 1 and not sources:
        return f"tag={tags[0]}"
    if len(sources) == 1 and not tags:
        return f"source={sources[0]}"
    return None


def topic_url(feed_url: str, key: str) -> str:
    """A feed's URL without its query (`…/feeds/rss.xml`) made the topic `key`'s URL."""
    return f"{feed_url}?{key}" if key else feed_url


def topic_urls(base: str, keys: Iterable[str]) -> list[str]:
    """The URL of every format of each topic, on the public base URL, in a stable order."""
    return [topic_url(f"{base}{path}", key) for key in sorted(set(keys)) for path in FEED_PATHS]
