"""GET /oembed: rich cards of articles and of the calls to action shown in them, whose HTML
is sanitised and loads nothing; discovery links in the article JSON."""

from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.factories import action, article, author, bundle, load
from tests.site.test_site import SETTINGS, patch_site

STORY_URL = "https://news.example.org/news/story/"  # SETTINGS' url and article template


def content():
    return bundle(
        authors=[author("alex")],
        actions=[
            action(
                "petition", organisation="All Out", description="Ask Russia to <b>intervene</b>."
            )
        ],
        articles=[
            article(
                "story",
                title='Protest <script>alert(1)</script> & "more"',
                excerpt="About 400 <img src=x onerror=alert(1)> protesters.",
                authors=["alex"],
                actions=["petition"],
                feature_image={"url": "https://img.example.org/a.jpg"},
            ),
            article("draft", status="draft", published_at=None),
            article("about", kind="page"),
        ],
    )


@pytest.fixture
def site(client, as_, engine):
    assert patch_site(client, as_, SETTINGS).status_code == 200
    load(engine, content())


class Loads(HTMLParser):
    """Every tag, and every attribute that could make a browser fetch something."""

    def __init__(self):
        super().__init__()
        self.tags, self.fetching, self.links = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "srcset", "data", "poster", "background", "action", "formaction"):
                self.fetching.append((tag, name, value))
            if name == "style" and "url(" in (value or ""):
                self.fetching.append((tag, name, value))
            if name.startswith("on"):
                self.fetching.append((tag, name, value))
            if name == "href":
                self.links.append(value)


def loads(html):
    parser = Loads()
    parser.feed(html)
    return parser


def oembed(client, url, **params):
    return client.get("/oembed", params={"url": url, **params})


def test_an_article_card(client, site):
    response = oembed(client, STORY_URL, format="json")
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] and "oembed" in response.headers["Surrogate-Key"]
    card = response.json()
    assert card["version"] == "1.0" and card["type"] == "rich"
    assert card["title"] == 'Protest <script>alert(1)</script> & "more"'  # JSON, not HTML
    assert card["provider_name"] == "The Campaign Desk"
    assert card["provider_url"] == "https://news.example.org"
    assert card["author_name"] == "Alex"
    assert card["author_url"] == "https://news.example.org/author/alex/"
    assert (card["width"], card["height"]) == (550, 320)
    assert card["cache_age"] > 0
    html = loads(card["html"])
    assert set(html.tags) <= {"blockquote", "p", "strong", "a", "span"}
    assert html.fetching == []  # no image, frame, script: nothing loads
    assert STORY_URL in html.links
    assert all(urlsplit(link).scheme in ("http", "https") for link in html.links)
    assert "<script>" not in card["html"] and "&lt;script&gt;" in card["html"]
    assert "img.example.org" not in card["html"]  # the feature image is not embedded
    assert 'style="max-width:550px;max-height:320px;overflow:hidden"' in card["html"]


def test_maxwidth_and_maxheight_are_honoured(client, site):
    card = oembed(client, STORY_URL, maxwidth=300, maxheight=100).json()
    assert (card["width"], card["height"]) == (300, 100)
    assert "max-width:300px;max-height:100px" in card["html"]
    roomy = oembed(client, STORY_URL, maxwidth=2000, maxheight=2000).json()
    assert (roomy["width"], roomy["height"]) == (550, 320)
    assert oembed(client, STORY_URL, maxwidth=0).status_code == 422


def test_an_action_card(client, site):
    card = oembed(client, STORY_URL + "#action-petition").json()
    assert card["type"] == "rich" and card["title"] == "Sign petition"
    html = loads(card["html"])
    assert html.fetching == []
    assert "https://act.example.org/petition" in html.links
    assert STORY_URL in html.links
    assert "&lt;b&gt;intervene&lt;/b&gt;" in card["html"]  # text, escaped
    assert (card["width"], card["height"]) == (550, 240)


@pytest.mark.parametrize(
    "url",
    [
        "https://news.example.org/news/missing/",
        "https://news.example.org/news/draft/",
        "https://news.example.org/news/about/",  # a page
        "https://news.example.org/about/",
        "https://elsewhere.example.org/news/story/",
        "http://news.example.org/news/story/",  # another origin
        "https://news.example.org/news/story/#action-other",
        "https://news.example.org/news/story/#comments",
        "javascript:alert(1)",
        "not a url",
    ],
)
def test_unknown_urls_are_404(client, site, url):
    response = oembed(client, url)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_url_variants_name_the_same_article(client, site):
    for variant in ("https://NEWS.example.org/news/story", STORY_URL + "?utm_source=x"):
        assert oembed(client, variant).json()["title"].startswith("Protest")


def test_xml_is_501_and_other_formats_422(client, site):
    response = oembed(client, STORY_URL, format="xml")
    assert response.status_code == 501
    assert response.headers["content-type"] == "application/problem+json"
    assert oembed(client, STORY_URL, format="yaml").status_code == 422
    assert client.get("/oembed").status_code == 422


def test_articles_carry_the_discovery_link(client, site):
    data = client.get("/v1/articles/story").json()["data"]
    link = urlsplit(data["links"]["oembed"])
    assert f"{link.scheme}://{link.netloc}{link.path}" == "http://testserver/oembed"
    assert parse_qs(link.query) == {"url": [STORY_URL], "format": ["json"]}
    listed = client.get("/v1/articles").json()["data"]
    assert listed[0]["links"]["oembed"] == data["links"]["oembed"]
    assert client.get(data["links"]["oembed"]).status_code == 200  # it answers
    page = client.get("/v1/pages/about").json()["data"]
    assert "oembed" not in page["links"]  # pages have no card
