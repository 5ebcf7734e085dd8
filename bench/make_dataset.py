#!/usr/bin/env python3
"""Write a deterministic Masthead content bundle (CONTRACT.md section 7) of any size.

    python3 bench/make_dataset.py --articles 10000 > bundle.json

The same arguments always give the same bytes, so benchmarks, tests and peers load identical
content. Only the standard library is used. `bench/run.py` runs it as a script;
`tests/factories.py` imports `build` from it.
"""

import argparse
import json
import random
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

# The words of every title and body; `--search-q karimo` in bench/run.py is built from them.
# fmt: off
SYLLABLES = [
    "ka", "ri", "mo", "ne", "ta", "lu", "vi", "so", "pe", "ga", "dor", "lin", "mar", "ves", "tol",
    "ran", "kel", "pos", "dum", "ser", "ha", "jo", "ze", "qui", "bra", "cru", "fen", "gis", "hom",
]
# fmt: on
KINDS = ["news_outlet", "ngo", "government", "intergovernmental", "person", "social_media", "other"]
ACTION_KINDS = ["petition", "donation", "volunteer", "contact", "event", "other"]
COUNTRIES = ["GB", "RU", "US", "AU", "FR", "DE", "UA", "GE", None]
EPOCH = datetime(2021, 1, 1, tzinfo=UTC)

# Every value below is drawn from one seeded generator in a fixed order: reordering any call
# changes every byte after it.


def word(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3)))


def words(rng: random.Random, n: int) -> str:
    return " ".join(word(rng) for _ in range(n))


def sentence(rng: random.Random) -> str:
    s = words(rng, rng.randint(6, 18))
    return s[0].upper() + s[1:] + "."


def iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def build(
    n_articles: int,
    n_tags: int,
    n_sources: int,
    n_actions: int,
    n_authors: int,
    words_per_article: int,
    seed: int,
) -> dict[str, Any]:
    rng = random.Random(seed)
    authors = [
        {
            "slug": f"author-{i}",
            "name": words(rng, 2).title(),
            "bio": sentence(rng),
            "url": f"https://example.org/people/{i}",
        }
        for i in range(n_authors)
    ]
    tags = []
    for i in range(n_tags):
        name = "".join(w.title() for w in words(rng, rng.randint(1, 3)).split())
        tags.append({"slug": f"tag-{i}", "name": name, "description": sentence(rng)})
    sources = [
        {
            "slug": f"source-{i}",
            "name": words(rng, rng.randint(1, 3)).title(),
            "kind": rng.choice(KINDS),
            "url": f"https://source{i}.example.net/",
            "country": rng.choice(COUNTRIES),
            "description": sentence(rng),
        }
        for i in range(n_sources)
    ]
    actions = []
    for i in range(n_actions):
        start = EPOCH + timedelta(days=rng.randint(0, 1800))
        ends = start + timedelta(days=rng.randint(30, 720)) if rng.random() < 0.6 else None
        actions.append(
            {
                "slug": f"action-{i}",
                "kind": rng.choice(ACTION_KINDS),
                "title": sentence(rng),
                "description": sentence(rng),
                "url": f"https://act.example.org/{i}",
                "organisation": words(rng, 2).title(),
                "starts_at": iso(start),
                "ends_at": iso(ends) if ends else None,
            }
        )
    articles = []
    for i in range(n_articles):
        title = sentence(rng)[:-1]
        paragraphs: list[str] = []
        total = 0
        while total < words_per_article:
            para = " ".join(sentence(rng) for _ in range(rng.randint(3, 7)))
            total += para.count(" ") + 1
            if rng.random() < 0.3:
                cited = rng.randrange(n_sources)
                text = word(rng)
                para += f' <a href="https://source{cited}.example.net/story/{i}">{text}</a>.'
            paragraphs.append(f"<p>{para}</p>")
        published = EPOCH + timedelta(minutes=rng.randint(0, 5 * 365 * 24 * 60))
        status = "published" if rng.random() < 0.95 else "draft"
        articles.append(
            {
                "slug": f"article-{i}",
                "title": title,
                "subtitle": sentence(rng),
                "excerpt": sentence(rng),
                "body_html": "\n".join(paragraphs),
                "lang": "en",
                "status": status,
                "published_at": iso(published),
                "canonical_url": f"https://example.org/articles/article-{i}",
                "feature_image": None,
                "authors": [rng.choice(authors)["slug"]],
                "tags": sorted({rng.choice(tags)["slug"] for _ in range(3)}),
                "sources": [
                    {
                        "source": s["slug"],
                        "cited_url": s["url"] + f"story/{i}",
                        "context": sentence(rng),
                    }
                    for s in rng.sample(sources, rng.randint(1, min(5, n_sources)))
                ],
                "actions": [
                    a["slug"] for a in rng.sample(actions, rng.randint(0, min(2, n_actions)))
                ],
            }
        )
    return {
        "format": "masthead-bundle",
        "version": 1,
        "authors": authors,
        "tags": tags,
        "sources": sources,
        "actions": actions,
        "articles": articles,
    }


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--articles", type=int, default=1000)
    p.add_argument("--tags", type=int, default=200)
    p.add_argument("--sources", type=int, default=300)
    p.add_argument("--actions", type=int, default=100)
    p.add_argument("--authors", type=int, default=20)
    p.add_argument("--words", type=int, default=800, help="approximate words per article body")
    p.add_argument("--seed", type=int, default=9053)
    a = p.parse_args(argv)
    bundle = build(a.articles, a.tags, a.sources, a.actions, a.authors, a.words, a.seed)
    json.dump(bundle, sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
