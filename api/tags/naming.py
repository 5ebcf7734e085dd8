"""How a tag's hashtag is made from its name when none is given."""

import re


def hashtag_for(name: str) -> str:
    """`Chechen anti-gay purge` -> `#ChechenAntiGayPurge`: each word capitalised, joined."""
    return "#" + "".join(part[:1].upper() + part[1:] for part in re.findall(r"\w+", name))
