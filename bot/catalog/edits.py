"""Admins edit the guides: every published change of a one-thing is a new
version in ``catalog_versions`` (the whole file as it became, the diff against
the version before, who, when, why), checked by the very checks of
``python -m bot catalog check`` (``parse_file``, ``check_against_list``) and
swapped into the running ``Catalog`` in place, so that everything holding it
(dialogue engine, notifier, ratings…) sees the new guide. The newest version
of a one-thing overrides its file in ``catalog/``.

Structured edits (收费, 承诺时限, 地点, 时间, 电话, 受理条件) change the YAML text
at one spot only, so that comments, layout and the diff stay as the agency
wrote them. Knows nothing of HTTP or Redis (see ``bot.catalog.follow``).
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import and_, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.audit import audit
from bot.catalog.loader import Catalog, read_listing
from bot.catalog.models import ItemGuide, OneThing
from bot.catalog.validate import Problem, check_against_list, parse_file
from bot.db.schema import catalog_versions
from bot.texts import staff as tx

log = logging.getLogger(__name__)

# The guide elements people change most, offered as form inputs in the console.
EDITABLE = ("fee", "promised_limit_days", "location", "hours", "consult_phone", "supervise_phone", "conditions")
DEFAULTS = "defaults"  # the scope of a structured edit that every item inherits
MAX_YAML_CHARS = 200_000  # the largest guide today is about 30 000


class EditError(Exception):
    """Refused before anything was stored; ``message`` is for staff."""

    status = 422
    code = "refused"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownThing(EditError):
    status, code = 404, "not_found"


class NoSuchVersion(EditError):
    status, code = 404, "not_found"


class VersionConflict(EditError):
    status, code = 409, "conflict"


class Unchanged(EditError):
    code = "unchanged"


class BadEdit(EditError):
    code = "bad_edit"


class Invalid(EditError):
    """The whole file does not pass the catalog checks."""

    code = "invalid"

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(tx.CATALOG_INVALID.format(n=len(problems)))
        self.problems = list(problems)


@dataclass(frozen=True)
class Current:
    """What a one-thing's guide is now: the newest stored version, else its file."""

    thing_id: str
    text: str
    version: int
    stored: bool  # False: nothing published in the console yet, the file is in force
    changed_by: str = ""
    changed_at: datetime | None = None


@dataclass(frozen=True)
class Published:
    thing_id: str
    version: int
    diff: str
    changed_by: str
    changed_at: datetime
    note: str

    def public(self) -> dict[str, Any]:
        return {
            "thing_id": self.thing_id,
            "version": self.version,
            "diff": self.diff,
            "changed_by": self.changed_by,
            "changed_at": self.changed_at.isoformat(),
            "note": self.note,
        }


# ---- checking a text with the catalog's own checks ---------------------------


def check_text(thing_id: str, text: str, directory: Path) -> tuple[OneThing | None, list[Problem]]:
    """The checks of ``python -m bot catalog check`` on one file's text, as if it
    were ``catalog/<thing_id>.yaml``. Blocking (file I/O): call in a thread."""
    name = f"{thing_id}.yaml"
    with tempfile.TemporaryDirectory(prefix="catalog-edit-") as tmp:
        path = Path(tmp) / name
        path.write_text(text, encoding="utf-8")
        thing, problems = parse_file(path)  # the one validator, file name check included
    if thing is None:
        return None, problems
    if thing.id != thing_id:
        # parse_file words this as a file name to fix; in the console the id is what is wrong
        problems = [p for p in problems if p.path != "id"] + [
            Problem(name, "id", tx.CATALOG_ID_FIXED.format(id=thing_id))
        ]
        return None, problems
    listing = [e for e in read_listing(directory) if e["id"] == thing_id]
    problems += check_against_list({thing_id: thing}, listing)
    return (None if problems else thing), problems


def refuse_unsafe(thing_id: str, text: str) -> None:
    """Size and aliases: a guide needs neither a huge text nor ``&``/``*`` (which can make
    a small text expand into billions of values when read)."""
    if len(text) > MAX_YAML_CHARS:
        raise BadEdit(tx.CATALOG_TOO_LONG.format(n=MAX_YAML_CHARS))
    try:
        aliased = any(
            isinstance(t, (yaml.AliasToken, yaml.AnchorToken)) for t in yaml.scan(text, Loader=yaml.SafeLoader)
        )
    except yaml.YAMLError:
        return  # not YAML at all: the checks say so in their words
    if aliased:
        raise Invalid([Problem(f"{thing_id}.yaml", "", tx.CATALOG_NO_ALIASES)])


# ---- changing a YAML text at one spot ----------------------------------------

_REMOVE = object()  # a value meaning: take the key out (the item then inherits ``defaults``)


class _Dumper(yaml.SafeDumper):
    """Lists indented under their key, as the guide files are written."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _emit(key: str, value: Any, indent: int, flow: bool) -> str:
    dumped = yaml.dump(
        {key: value},
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=None if flow else False,
        width=100_000,  # one line per value, as typed
    ).rstrip("\n")
    return ("\n" + " " * indent).join(dumped.split("\n"))


def _child(node: Node, key: str) -> tuple[ScalarNode, Node] | None:
    if not isinstance(node, MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, ScalarNode) and k.value == key:
            return k, v
    return None


def _node_at(root: Node, path: Sequence[str | int]) -> Node:
    node = root
    for part in path:
        if isinstance(part, int):
            if not isinstance(node, SequenceNode) or part >= len(node.value):
                raise BadEdit(tx.CATALOG_NO_PLACE.format(path=_dotted(path)))
            node = node.value[part]
        else:
            found = _child(node, part)
            if found is None:
                raise BadEdit(tx.CATALOG_NO_PLACE.format(path=_dotted(path)))
            node = found[1]
    return node


def _end(node: Node, text: str) -> int:
    """Where a node's text ends (block collections: their last scalar; no trailing blanks)."""
    while isinstance(node, (MappingNode, SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        node = last[1] if isinstance(node, MappingNode) else last
    end = node.end_mark.index
    while end > node.start_mark.index and text[end - 1] in " \t\r\n":
        end -= 1
    return end


def _dotted(path: Sequence[str | int]) -> str:
    return ".".join(str(p + 1) if isinstance(p, int) else p for p in path)


def _apply(data: Any, path: Sequence[str | int], value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    if value is _REMOVE:
        data.pop(path[-1], None)
    else:
        data[path[-1]] = value


def set_value(text: str, path: Sequence[str | int], value: Any, after: Sequence[str] = ()) -> str:
    """``text`` with the mapping entry at ``path`` set to ``value`` (or removed: ``_REMOVE``),
    the rest of the text untouched. A new key goes after the first of ``after`` present,
    else last. The result is re-read and must equal the intended data, else ``BadEdit``."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if root is None:
        raise BadEdit(tx.CATALOG_NO_PLACE.format(path=_dotted(path)))
    parent = _node_at(root, path[:-1])
    key = str(path[-1])
    if not isinstance(parent, MappingNode) or parent.flow_style:
        raise BadEdit(tx.CATALOG_NO_PLACE.format(path=_dotted(path)))
    found = _child(parent, key)
    if found is not None:
        k, v = found
        start, end = k.start_mark.index, _end(v, text)
        if value is _REMOVE:
            line_start = text.rfind("\n", 0, start) + 1
            line_end = text.find("\n", end)
            line_end = len(text) if line_end < 0 else line_end + 1
            rest = text[end:line_end].strip()
            if text[line_start:start].strip() or (rest and not rest.startswith("#")):
                raise BadEdit(tx.CATALOG_NO_PLACE.format(path=_dotted(path)))
            new = text[:line_start] + text[line_end:]
        else:
            flow = isinstance(v, (MappingNode, SequenceNode)) and bool(v.flow_style)
            new = text[:start] + _emit(key, value, k.start_mark.column, flow) + text[end:]
    elif value is _REMOVE:
        return text
    else:
        if not parent.value:
            raise BadEdit(tx.CATALOG_NO_PLACE.format(path=_dotted(path)))
        pairs = {k.value: (k, v) for k, v in parent.value if isinstance(k, ScalarNode)}
        anchor = next((pairs[a] for a in after if a in pairs), parent.value[-1])
        column = parent.value[0][0].start_mark.column
        at = text.find("\n", _end(anchor[1], text))
        at = len(text) if at < 0 else at
        # small mappings in flow style ({charged: false}), lists as blocks: the files' own habit
        line = "\n" + " " * column + _emit(key, value, column, isinstance(value, dict))
        new = text[:at] + line + text[at:]
    expected = yaml.safe_load(text)
    _apply(expected, path, value)
    if yaml.safe_load(new) != expected:
        raise BadEdit(tx.CATALOG_NO_PLACE.format(path=_dotted(path)))
    return new


def set_version(text: str, version: int) -> str:
    """``version: N`` in the text; unchanged when the text is not a YAML mapping (the checks say why)."""
    try:
        return set_value(text, ["version"], version, after=("keywords", "summary"))
    except (yaml.YAMLError, BadEdit):
        return text


def edit_elements(text: str, scope: str, changes: dict[str, Any]) -> str:
    """Set guide elements on ``defaults`` or on the item whose key is ``scope``; a value
    of None takes the element out there (an item then inherits it from ``defaults``)."""
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise BadEdit(tx.CATALOG_NOT_EDITABLE.format(elements="、".join(unknown), editable="、".join(EDITABLE)))
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BadEdit(tx.CATALOG_STORED_BROKEN.format(problem=exc)) from exc
    if not isinstance(data, dict):
        raise BadEdit(tx.CATALOG_STORED_BROKEN.format(problem="-"))
    if scope == DEFAULTS:
        base: list[str | int] = [DEFAULTS]
        holder = data.get(DEFAULTS)
    else:
        items = data.get("items") if isinstance(data.get("items"), list) else []
        pos = next((n for n, i in enumerate(items) if isinstance(i, dict) and i.get("key") == scope), None)
        if pos is None:
            raise BadEdit(tx.CATALOG_NO_ITEM.format(item=scope))
        base = ["items", pos, "guide"]
        holder = items[pos].get("guide")
    if not isinstance(holder, dict):
        raise BadEdit(tx.CATALOG_NO_PLACE.format(path=_dotted(base)))
    for element, value in changes.items():
        if value is None and element not in holder:
            continue
        if value is not None and holder.get(element, _REMOVE) == value:
            continue  # as it is: leave the text (and its layout) alone
        text = set_value(text, [*base, element], _REMOVE if value is None else value)
    return text


def unified_diff(before: str, after: str, thing_id: str, old: int, new: int) -> str:
    lines = difflib.unified_diff(
        before.splitlines(keepends=True),
        after.splitlines(keepends=True),
        fromfile=f"{thing_id}.yaml@{old}",
        tofile=f"{thing_id}.yaml@{new}",
    )
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


# ---- what the console shows --------------------------------------------------

STANDARD_DEFAULTS = {
    name: f.default for name, f in ItemGuide.model_fields.items() if not f.is_required() and f.default is not None
}


def guide_view(text: str, thing: OneThing | None) -> dict[str, Any]:
    """Each item's guide elements as the file holds them with ``defaults`` merged the
    loader's way (an item's own value wins), and where each value comes from:
    ``item``, ``defaults`` or ``standard`` (the format's default, not written)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:  # a file changed on disk since start: the checks' problems say why
        data = None
    if not isinstance(data, dict):
        return {"defaults": {}, "items": []}
    defaults = data.get(DEFAULTS) if isinstance(data.get(DEFAULTS), dict) else {}
    checked = {i.key: i for i in thing.items} if thing is not None else {}
    items = []
    for raw in data.get("items") or []:
        if not isinstance(raw, dict):
            continue
        own = raw.get("guide") if isinstance(raw.get("guide"), dict) else {}
        key = raw.get("key") if isinstance(raw.get("key"), str) else ""
        merged = checked[key].guide.model_dump(mode="json") if key in checked else {}
        elements = {}
        for name in ItemGuide.model_fields:
            if name in own:
                source, value = "item", own[name]
            elif name in defaults:
                source, value = "defaults", defaults[name]
            elif name in STANDARD_DEFAULTS:
                source, value = "standard", STANDARD_DEFAULTS[name]
            else:
                source, value = "missing", None
            elements[name] = {"value": value, "source": source, "effective": merged.get(name, value)}
        items.append({"key": key, "name": raw.get("name"), "dept": raw.get("dept"), "elements": elements})
    return {"defaults": defaults, "items": items}


# ---- storage -----------------------------------------------------------------


def _aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


@dataclass
class CatalogEdits:
    """Published versions of the guides, and the running catalog kept in step with them."""

    db: AsyncEngine
    catalog: Catalog
    directory: Path
    on_change: Callable[[OneThing], None] | None = None  # told of every one-thing swapped in

    def _known(self, thing_id: str) -> None:
        if thing_id not in self.catalog.things:
            raise UnknownThing(tx.NOT_FOUND.format(what=thing_id))

    async def check(self, thing_id: str, text: str) -> tuple[OneThing | None, list[Problem]]:
        return await asyncio.to_thread(check_text, thing_id, text, self.directory)

    async def file_text(self, thing_id: str) -> str:
        return await asyncio.to_thread((self.directory / f"{thing_id}.yaml").read_text, encoding="utf-8")

    async def current(self, thing_id: str) -> Current:
        self._known(thing_id)
        async with self.db.connect() as conn:
            row = (
                await conn.execute(
                    select(catalog_versions)
                    .where(catalog_versions.c.thing_id == thing_id)
                    .order_by(catalog_versions.c.version.desc())
                    .limit(1)
                )
            ).first()
        if row is not None:
            return Current(thing_id, row.data, row.version, True, row.changed_by, _aware(row.changed_at))
        text = await self.file_text(thing_id)
        return Current(thing_id, text, _file_version(text), False)

    async def newest(self) -> dict[str, dict[str, Any]]:
        """The newest stored version of every one-thing edited in the console (no texts)."""
        top = (
            select(catalog_versions.c.thing_id, func.max(catalog_versions.c.version).label("version"))
            .group_by(catalog_versions.c.thing_id)
            .subquery()
        )
        query = select(
            catalog_versions.c.thing_id,
            catalog_versions.c.version,
            catalog_versions.c.changed_by,
            catalog_versions.c.changed_at,
        ).join(top, and_(catalog_versions.c.thing_id == top.c.thing_id, catalog_versions.c.version == top.c.version))
        async with self.db.connect() as conn:
            rows = await conn.execute(query)
            return {
                r.thing_id: {"version": r.version, "changed_by": r.changed_by, "changed_at": _aware(r.changed_at)}
                for r in rows
            }

    async def history(self, thing_id: str, limit: int = 200) -> list[dict[str, Any]]:
        """Newest first; the file shipped with the code closes the list while it is the base."""
        self._known(thing_id)
        async with self.db.connect() as conn:
            rows = list(
                await conn.execute(
                    select(catalog_versions)
                    .where(catalog_versions.c.thing_id == thing_id)
                    .order_by(catalog_versions.c.version.desc())
                    .limit(limit)
                )
            )
        out = [
            {
                "version": r.version,
                "source": "console",
                "changed_by": r.changed_by,
                "changed_at": _aware(r.changed_at).isoformat(),  # type: ignore[union-attr]
                "note": r.note,
                "diff": r.diff,
            }
            for r in rows
        ]
        file_version = _file_version(await self.file_text(thing_id))
        if not rows or file_version < rows[-1].version:
            out.append(
                {
                    "version": file_version,
                    "source": "file",
                    "changed_by": "",
                    "changed_at": None,
                    "note": tx.CATALOG_FILE_VERSION,
                    "diff": "",
                }
            )
        return out

    async def publish(
        self, thing_id: str, text: str, actor: str, note: str = "", base_version: int | None = None, **detail: Any
    ) -> Published:
        """Check the whole file and store it as the next version (``version`` set in the text
        too), audited; then swap it into this process's catalog. Nothing is stored unless
        the whole file passes."""
        refuse_unsafe(thing_id, text)
        cur = await self.current(thing_id)
        if base_version is not None and base_version != cur.version:
            raise VersionConflict(tx.CATALOG_CONFLICT.format(base=base_version, version=cur.version))
        version = cur.version + 1
        text = set_version(text, version)
        if text == set_version(cur.text, version):
            raise Unchanged(tx.CATALOG_UNCHANGED)
        thing, problems = await self.check(thing_id, text)
        if thing is None or problems:
            raise Invalid(problems)
        if thing.version != version:  # set_version could not write it: never store a wrong number
            raise Invalid([Problem(f"{thing_id}.yaml", "version", tx.CATALOG_VERSION_FIELD)])
        diff = unified_diff(cur.text, text, thing_id, cur.version, version)
        at = datetime.now(UTC)
        try:
            async with self.db.begin() as conn:
                await conn.execute(
                    insert(catalog_versions).values(
                        thing_id=thing_id,
                        version=version,
                        data=text,
                        diff=diff,
                        changed_by=actor,
                        changed_at=at,
                        note=note,
                    )
                )
                await audit(conn, actor, "catalog.edit", thing_id, version=version, previous=cur.version, **detail)
        except IntegrityError as exc:  # someone else published this number a moment ago
            raise VersionConflict(tx.CATALOG_CONFLICT.format(base=cur.version, version=version)) from exc
        self.replace(thing)
        return Published(thing_id, version, diff, actor, at, note)

    async def publish_elements(
        self,
        thing_id: str,
        scope: str,
        changes: dict[str, Any],
        actor: str,
        note: str = "",
        base_version: int | None = None,
    ) -> Published:
        cur = await self.current(thing_id)
        if base_version is not None and base_version != cur.version:
            raise VersionConflict(tx.CATALOG_CONFLICT.format(base=base_version, version=cur.version))
        text = edit_elements(cur.text, scope, changes)
        return await self.publish(
            thing_id, text, actor, note, cur.version, kind="elements", scope=scope, elements=sorted(changes)
        )

    async def republish(
        self, thing_id: str, version: int, actor: str, note: str = "", base_version: int | None = None
    ) -> Published:
        """Publish an earlier version again, as a new version (a roll back is itself a version)."""
        self._known(thing_id)
        async with self.db.connect() as conn:
            data = (
                await conn.execute(
                    select(catalog_versions.c.data).where(
                        catalog_versions.c.thing_id == thing_id, catalog_versions.c.version == version
                    )
                )
            ).scalar_one_or_none()
        if data is None:
            file_text = await self.file_text(thing_id)
            if _file_version(file_text) != version:
                raise NoSuchVersion(tx.CATALOG_NO_VERSION.format(version=version))
            data = file_text
        return await self.publish(thing_id, data, actor, note, base_version, kind="republish", from_version=version)

    # ---- keeping the running catalog in step --------------------------------

    def replace(self, thing: OneThing) -> None:
        """Swap one one-thing inside the shared Catalog (its dict is shared by every holder)."""
        self.catalog.things[thing.id] = thing
        if self.on_change is not None:
            self.on_change(thing)

    async def refresh(self, only: Sequence[str] | None = None, at_start: bool = False) -> list[str]:
        """Swap in the newest stored version of each one-thing (or of ``only`` these) that
        the catalog does not hold yet; → the ids swapped. At start the stored version wins
        whatever the file's number; later only a newer number is taken (a slow check must
        not undo a publish this process has just made)."""
        newest = await self.newest()
        swapped = []
        for thing_id, top in newest.items():
            if only is not None and thing_id not in only:
                continue
            live = self.catalog.things.get(thing_id)
            if live is None:
                log.warning("catalog_versions has %s, which is not in the provincial list: ignored", thing_id)
                continue
            if not at_start and live.version >= top["version"]:
                continue
            if at_start and live.version > top["version"]:
                log.warning(
                    "catalog/%s.yaml is version %s, newer than the console's %s: the console's version is used",
                    thing_id,
                    live.version,
                    top["version"],
                )
            async with self.db.connect() as conn:
                text = (
                    await conn.execute(
                        select(catalog_versions.c.data).where(
                            catalog_versions.c.thing_id == thing_id, catalog_versions.c.version == top["version"]
                        )
                    )
                ).scalar_one()
            thing, problems = await self.check(thing_id, text)
            if thing is None or problems:
                # passed when published: the checks or the provincial list changed since
                log.error(
                    "stored version %s of %s no longer passes the checks, keeping version %s: %s",
                    top["version"],
                    thing_id,
                    live.version,
                    "; ".join(map(str, problems)),
                )
                continue
            self.replace(thing)
            swapped.append(thing_id)
            log.info("guide %s is now version %s", thing_id, thing.version)
        return swapped


def _file_version(text: str) -> int:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return 1
    version = data.get("version", 1) if isinstance(data, dict) else 1
    return version if isinstance(version, int) and version >= 1 else 1
