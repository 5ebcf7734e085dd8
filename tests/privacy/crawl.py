"""A crawler of the public API, feeds, docs and example page, and what in each answer a
browser (or a feed reader, or a frontend rendering the JSON) would load by itself.

Links a reader chooses to follow (`<a href>`, cited URLs, action URLs) are content and are
not loads; `src=`, stylesheets, preloads, icons, CSS `url()` and `@import`, feed images and
JSON image fields are."""

import json
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree
import lxml.html
from fastapi.testclient import TestClient

from api.core.errors import _routes

# <link rel=…> values that make a browser fetch the href.
LOADING_RELS = {
    "stylesheet",
    "preload",
    "modulepreload",
    "prefetch",
    "prerender",
    "icon",
    "shortcut",
    "apple-touch-icon",
    "apple-touch-icon-precomposed",
    "mask-icon",
    "manifest",
    "preconnect",
    "dns-prefetch",
}
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", re.IGNORECASE)
# JSON fields holding an image a frontend would show (Masthead's, Ghost's, JSON Feed's,
# schema.org's); their value is a URL or an object with `url`.
IMAGE_KEYS = {
    "feature_image",
    "image",
    "logo",
    "icon",
    "favicon",
    "avatar",
    "profile_image",
    "cover_image",
    "og_image",
    "twitter_image",
    "banner_image",
    "thumbnail_url",
}
HTML_KEYS = {"body_html", "html", "content_html", "snippet", "description_html"}
# Hosts that serve fonts, scripts and analytics: a bundled script naming one would load it.
LOADER_HOSTS = re.compile(
    r"(fonts\.googleapis\.com|fonts\.gstatic\.com|googletagmanager\.com|google-analytics\.com"
    r"|cdn\.jsdelivr\.net|unpkg\.com|cdnjs\.cloudflare\.com|use\.typekit\.net"
    r"|ajax\.googleapis\.com|gravatar\.com|plausible\.io|stats\.wp\.com)"
)
NOT_FOLLOWED = ("/v1/admin", "/v1/subscriptions", "/v1/hooks")
# What a relative reference to follow looks like (not `data:`, `#top`, CSS fragments).
PATH_LIKE = re.compile(r"(?:https?://|/|\.{0,2}/?)[A-Za-z0-9_.~/%-]*(?:\?[A-Za-z0-9_.~/%=&,+-]*)?")


def kind_of(content_type: str) -> str:
    media = content_type.split(";")[0].strip().lower()
    if media.endswith("json"):
        return "json"
    if media in ("text/html", "application/xhtml+xml"):
        return "html"
    if media == "text/css":
        return "css"
    if "javascript" in media:
        return "js"
    if media.endswith("xml"):
        return "xml"
    return "other"


def html_loads(markup: str) -> list[str]:
    """What an HTML document or fragment makes a browser fetch."""
    if not markup.strip():
        return []
    try:
        tree = lxml.html.fromstring(markup)
    except (lxml.etree.ParserError, ValueError):
        return []
    found: list[str] = []
    for element in tree.iter():
        if not isinstance(element.tag, str):
            continue
        attributes = element.attrib
        for name in ("src", "poster", "data", "background"):
            if name in attributes and (name != "data" or element.tag == "object"):
                found.append(attributes[name])
        for name in ("srcset", "imagesrcset"):
            found += [part.split()[0] for part in attributes.get(name, "").split(",") if part]
        if element.tag == "link":
            rels = set(attributes.get("rel", "").lower().split())
            if rels & LOADING_RELS and "href" in attributes:
                found.append(attributes["href"])
        if element.tag == "meta" and attributes.get("http-equiv", "").lower() == "refresh":
            found.append(attributes.get("content", "").partition("url=")[2])
        if "style" in attributes:
            found += css_loads(attributes["style"])
        if element.tag == "style" and element.text:
            found += css_loads(element.text)
    return [url.strip() for url in found if url.strip()]


def css_loads(css: str) -> list[str]:
    return [a or b for a, b in CSS_URL.findall(css)]


def json_loads(value: Any, key: str | None = None) -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for name, inner in value.items():
            if name in IMAGE_KEYS:
                url = inner.get("url") if isinstance(inner, dict) else inner
                if isinstance(url, str):
                    found.append(url)
            found += json_loads(inner, name)
    elif isinstance(value, list):
        for inner in value:
            found += json_loads(inner, key)
    elif isinstance(value, str) and key in HTML_KEYS:
        found += html_loads(value)
    return found


def xml_loads(document: bytes) -> list[str]:
    try:
        root = lxml.etree.fromstring(document)
    except lxml.etree.XMLSyntaxError:
        return []
    found: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        name = lxml.etree.QName(element).localname
        if name in ("enclosure", "content", "thumbnail") and "url" in element.attrib:
            found.append(element.attrib["url"])
        if name in ("icon", "logo") and element.text:
            found.append(element.text)
        if name == "image" and "href" in element.attrib:
            found.append(element.attrib["href"])
        if name == "url" and lxml.etree.QName(element.getparent()).localname == "image":
            found.append(element.text or "")
        if name in ("encoded", "description", "content", "summary") and "<" in (element.text or ""):
            found += html_loads(element.text or "")
    return found


def loads(response: Any) -> list[str]:
    """Every URL this answer makes a browser, feed reader or frontend fetch by itself."""
    kind = kind_of(response.headers.get("content-type", ""))
    if kind == "json":
        return json_loads(response.json())
    if kind == "html":
        return html_loads(response.text)
    if kind == "css":
        return css_loads(response.text)
    if kind == "xml":
        return xml_loads(response.content)
    if kind == "js":
        return [f"https://{host}/" for host in LOADER_HOSTS.findall(response.text)]
    return []


def links(response: Any, own: str) -> list[str]:
    """The URLs on our own origin in an answer (to crawl next), absolute."""
    kind = kind_of(response.headers.get("content-type", ""))
    text = response.text if kind in ("json", "xml", "html", "css") else ""
    base = str(response.url)
    absolute = re.findall(r"https?://[^\s\"'<>\\`]+", text)
    found = [m.rstrip(".,;:)") for m in absolute if m.startswith(own)]
    relative: list[str] = []
    if kind == "html":
        tree = lxml.html.fromstring(text or "<p></p>")
        relative += [str(v) for v in tree.xpath("//@href | //@src")]
    if kind == "css":
        relative += css_loads(text)
    found += [urljoin(base, url) for url in relative if PATH_LIKE.fullmatch(url)]
    header = response.headers.get("link", "")
    found += re.findall(r"<([^>]+)>", header)
    return [url.replace("&amp;", "&") for url in found if url.startswith(own)]


def third_party(url: str, own_host: str) -> bool:
    """Whether loading `url` (relative to our origin) reaches another host."""
    if url.startswith(("data:", "#", "blob:")):
        return False
    host = urlsplit(urljoin(f"https://{own_host}/", url)).hostname
    return host is not None and host != own_host


@dataclass
class Crawl:
    """What was fetched (path and query -> response) and every third-party load found."""

    responses: dict[str, Any] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)


def crawl(
    client: TestClient, own: str, seeds: list[str], *, per_route: int = 4, limit: int = 600
) -> Crawl:
    """Breadth first from `seeds`, following links on `own` (at most `per_route` pages of
    one route), checking each answer."""
    own_host = urlsplit(own).hostname or ""
    result = Crawl()
    queue = deque(seeds)
    seen_per_route: dict[str, int] = {}
    routes = route_templates(client.app)
    while queue and len(result.responses) < limit:
        target = queue.popleft()
        split = urlsplit(target)
        if split.hostname not in (None, own_host):
            continue
        path = split.path + (f"?{split.query}" if split.query else "")
        if path in result.responses or path.startswith(NOT_FOLLOWED):
            continue
        template = route_of(routes, split.path)
        count = seen_per_route.get(template, 0)
        if count >= per_route and target not in seeds:
            continue
        seen_per_route[template] = count + 1
        response = client.get(path, follow_redirects=False)
        result.responses[path] = response
        for url in loads(response):
            if third_party(url, own_host):
                result.violations.append(f"{path} loads {url}")
        if 300 <= response.status_code < 400:
            continue  # a redirect's target is the content's (an action's URL)
        queue.extend(links(response, own))
    return result


def route_templates(app: Any) -> list[Any]:
    from fastapi.routing import APIRoute
    from starlette.routing import Mount, Route

    found = []
    for route in _routes(app.router.routes):
        gets = isinstance(route, (APIRoute, Route)) and "GET" in (route.methods or ())
        if gets or isinstance(route, Mount):
            found.append(route)
    return found


def route_of(routes: list[Any], path: str) -> str:
    """The template of the first route whose pattern matches `path` (or the path)."""
    for route in routes:
        if route.path_regex.match(path):
            return str(route.path)
    return path


def summary(result: Crawl) -> str:
    statuses: dict[int, int] = {}
    for response in result.responses.values():
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    return json.dumps({"fetched": len(result.responses), "statuses": statuses})
