"""Writing WXR files for tests: a big one item by item, and hostile ones."""

from pathlib import Path

HEAD = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
  xmlns:content="http://purl.org/rss/1.0/modules/content/"
  xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:wp="http://wordpress.org/export/1.2/">
<channel>
<title>Big</title><link>https://big.example.org</link><language>en</language>
<wp:wxr_version>1.2</wp:wxr_version><wp:base_site_url>https://big.example.org</wp:base_site_url>
<wp:author><wp:author_login><![CDATA[writer]]></wp:author_login>
<wp:author_display_name><![CDATA[A Writer]]></wp:author_display_name></wp:author>
"""
PARAGRAPH = "<p>" + "Words of a long archived article, and more of them. " * 20 + "</p>\n"
# Page builders keep their layout in post meta, often many times the size of the post.
BUILDER_META = (
    "<wp:postmeta><wp:meta_key><![CDATA[_elementor_data]]></wp:meta_key><wp:meta_value><![CDATA["
    + '[{"elType":"section","settings":{"padding":"10"},"elements":[]}]' * 150
    + "]]></wp:meta_value></wp:postmeta>"
)


def item(n: int, *, title: str | None = None, body: str | None = None) -> str:
    return f"""<item><title><![CDATA[{title or f"Post number {n}"}]]></title>
<link>https://big.example.org/{n}/</link><dc:creator><![CDATA[writer]]></dc:creator>
<content:encoded><![CDATA[{body if body is not None else PARAGRAPH * 2}]]></content:encoded>
<excerpt:encoded><![CDATA[]]></excerpt:encoded><wp:post_id>{n}</wp:post_id>
<wp:post_date_gmt><![CDATA[2020-01-01 00:00:00]]></wp:post_date_gmt>
<wp:post_name><![CDATA[post-{n}]]></wp:post_name><wp:status><![CDATA[publish]]></wp:status>
<wp:post_type><![CDATA[post]]></wp:post_type>
<category domain="post_tag" nicename="tag-{n % 50}"><![CDATA[Tag {n % 50}]]></category>
{BUILDER_META}</item>
"""


def write_wxr(path: Path, items: int, *, tail: str = "</channel>\n</rss>\n") -> Path:
    """A WXR file of `items` posts, written one item at a time (never whole in memory)."""
    with path.open("w", encoding="utf-8") as out:
        out.write(HEAD)
        for n in range(1, items + 1):
            out.write(item(n))
        out.write(tail)
    return path
