"""oEmbed discovery: the provider URL a frontend links from an article's page."""

from urllib.parse import urlencode

OEMBED_PATH = "/oembed"


def oembed_link(base: str, page_url: str) -> str:
    """The oEmbed endpoint for `page_url` (a frontend URL), JSON format, on Masthead's `base`:
    what `<link rel="alternate" type="application/json+oembed" href="…">` points at."""
    return f"{base}{OEMBED_PATH}?{urlencode({'url': page_url, 'format': 'json'})}"
