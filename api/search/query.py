"""The public search syntax, parsed once and rendered for FTS5 or PostgreSQL tsquery.

Syntax (like a web search box): words are all required; `"a phrase"`; `chech*` matches a
prefix; `-word` excludes; `OR` between two terms accepts either.
"""

import re
from dataclasses import dataclass
from typing import Literal

from api.core.errors import Unprocessable

MAX_TERMS = 16
# PostgreSQL's English stop words (tsearch_data/english.stop). It leaves them out of every
# query; SQLite's FTS5 would require them, so `the` would find everything there and nothing
# on PostgreSQL. Leaving them out here makes both backends answer alike.
STOP_WORDS = frozenset(
    """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
    she her hers herself it its itself they them their theirs themselves what which who whom
    this that these those am is are was were be been being have has had having do does did
    doing a an the and but if or because as until while of at by for with about against
    between into through during before after above below to from up down in out on off over
    under again further then once here there when where why how all any both each few more
    most other some such no nor not only own same so than too very s t can will just don
    should now
    """.split()  # noqa: SIM905  (the file's own layout, easy to compare)
)
_TOKEN = re.compile(r'(-?)"([^"]*)"|(\S+)')
_APOSTROPHE = re.compile("['\u2019]")
WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)?", re.UNICODE)


@dataclass(frozen=True)
class Term:
    kind: Literal["word", "prefix", "phrase"]
    text: str
    negated: bool = False
    or_with_previous: bool = False


def _only_stop_words(words: list[str]) -> bool:
    """True for no words, or only stop words (`don't` counts as `don` and `t`, as PostgreSQL)."""
    return all(part in STOP_WORDS for word in words for part in _APOSTROPHE.split(word.lower()))


def parse_query(q: str) -> list[Term]:
    terms: list[Term] = []
    pending_or = False
    for match in _TOKEN.finditer(q):
        negated, phrase, bare = match.group(1) == "-", match.group(2), match.group(3)
        if bare == "OR":
            pending_or = bool(terms)
            continue
        if phrase is not None:
            words = WORD.findall(phrase)
            if _only_stop_words(words):
                continue
            term = Term("phrase", " ".join(words), negated, pending_or)
        else:
            assert bare is not None
            negated = bare.startswith("-") and len(bare) > 1
            body = bare[1:] if negated else bare
            prefix = body.endswith("*")
            words = WORD.findall(body)
            if _only_stop_words(words):
                continue
            if prefix and len(words) == 1:
                term = Term("prefix", words[0], negated, pending_or)
            elif len(words) == 1:
                term = Term("word", words[0], negated, pending_or)
            else:
                term = Term("phrase", " ".join(words), negated, pending_or)
        terms.append(term)
        pending_or = False
    if len(terms) > MAX_TERMS:
        raise Unprocessable(
            f"Search is limited to {MAX_TERMS} terms.",
            errors=[{"loc": ["query", "q"], "msg": f"more than {MAX_TERMS} terms"}],
        )
    if terms and all(term.negated for term in terms):
        raise Unprocessable(
            "A search needs at least one term that is not excluded.",
            errors=[{"loc": ["query", "q"], "msg": "only excluded terms"}],
        )
    return terms


def fts5_expression(terms: list[Term]) -> str:
    """An FTS5 MATCH expression; every term is quoted, so user text is never syntax."""
    positive: list[str] = []
    negative: list[str] = []
    for term in terms:
        quoted = '"' + term.text.replace('"', '""') + '"'
        if term.kind == "prefix":
            quoted += "*"
        if term.negated:
            negative.append(quoted)
        elif term.or_with_previous and positive:
            positive[-1] = f"({positive[-1]} OR {quoted})"
        else:
            positive.append(quoted)
    expression = " AND ".join(positive)
    for excluded in negative:
        expression = f"({expression}) NOT {excluded}"
    return expression
