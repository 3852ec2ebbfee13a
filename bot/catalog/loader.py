"""Loading the catalog directory: every ``*.yaml`` guide file, checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.catalog.models import OneThing
from bot.catalog.validate import Problem, check_against_list, parse_file, read_yaml

# The provincial list (a copy of shared/one_things.yaml; ids are fixed).
LIST_FILE = Path("list") / "one_things.yaml"


class CatalogError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


@dataclass(frozen=True)
class Catalog:
    things: dict[str, OneThing]  # by id, in the list's order
    listing: list[dict[str, Any]] = field(default_factory=list)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.things.values())

    def __len__(self) -> int:
        return len(self.things)

    def get(self, thing_id: str) -> OneThing | None:
        return self.things.get(thing_id)

    def by_category(self, category: str) -> list[OneThing]:
        return [t for t in self if t.category == category]

    def search(self, keyword: str) -> list[OneThing]:
        """Things whose name, summary, keywords or item names contain the keyword."""
        k = keyword.strip()
        if not k:
            return list(self)
        return [
            t
            for t in self
            if k in t.name or k in t.summary or any(k in w for w in t.keywords) or any(k in i.name for i in t.items)
        ]


def read_listing(directory: Path) -> list[dict[str, Any]]:
    path = directory / LIST_FILE
    data = read_yaml(path)
    if not isinstance(data, list):
        raise CatalogError([Problem(str(LIST_FILE), "", "一件事清单应为列表")])
    return data


def check_catalog(directory: Path, only: list[Path] | None = None) -> tuple[dict[str, OneThing], list[Problem]]:
    """Parse every guide file (or ``only`` these); return what parsed and
    every problem found."""
    things: dict[str, OneThing] = {}
    problems: list[Problem] = []
    for path in only or sorted(directory.glob("*.yaml")):
        thing, found = parse_file(path)
        problems.extend(found)
        if thing is not None:
            if thing.id in things:
                problems.append(Problem(path.name, "id", f"标识 {thing.id} 已被其他文件使用"))
            things[thing.id] = thing
    listing = read_listing(directory)
    if only:
        listing = [e for e in listing if e["id"] in things]
    problems.extend(check_against_list(things, listing))
    return things, problems


def load_catalog(directory: Path) -> Catalog:
    """Load and check the whole catalog; refuse it when anything is wrong."""
    things, problems = check_catalog(directory)
    if problems:
        raise CatalogError(problems)
    listing = read_listing(directory)
    ordered = {e["id"]: things[e["id"]] for e in listing}
    return Catalog(things=ordered, listing=listing)
