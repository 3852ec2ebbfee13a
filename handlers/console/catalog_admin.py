"""The guides in the admin console (role ``admin``; CSRF token on every change):
view each one-thing's guide elements and form, edit the elements people change
most or the whole YAML file, with the checks of ``python -m bot catalog check``;
every publish is a version (diff, who, when), audited, live in every process
at once (``bot.catalog.follow``). Logic in ``bot/catalog/edits.py``.

GET  /console/api/catalog/things                         the 35, with version and last change
GET  /console/api/catalog/things/{id}                    one guide: YAML, elements per item, form
POST /console/api/catalog/things/{id}/check              {"yaml"}: the checks only, nothing stored
POST /console/api/catalog/things/{id}/elements           {"scope", "changes", "base_version"?, "note"?}
PUT  /console/api/catalog/things/{id}/yaml               {"yaml", "base_version"?, "note"?}
GET  /console/api/catalog/things/{id}/versions           newest first, each with its diff
POST /console/api/catalog/things/{id}/versions/{v}/republish  {"base_version"?, "note"?}: roll back

A publish answers 200 with the new version and its diff; 422 with ``problems``
(``path``, ``message``) when the file does not pass; 409 when ``base_version``
is not the current one any more; 400 for a malformed body.
"""

from __future__ import annotations

import json
from functools import partial, wraps
from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from bot.catalog.edits import EDITABLE, MAX_YAML_CHARS, CatalogEdits, EditError, Invalid, guide_view, refuse_unsafe
from bot.catalog.follow import announce
from bot.catalog.validate import Problem
from bot.texts import staff as tx
from handlers.auth import loads, read_limited, refuse
from handlers.console.guard import STAFF, Handler, staff
from handlers.keys import SERVICES

MAX_BODY = MAX_YAML_CHARS * 4 + 4096  # the YAML as JSON: Chinese may come \u-escaped
_dumps = partial(json.dumps, ensure_ascii=False, default=str)  # dates in a hand-written YAML value


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _line() -> Any:
    return Field(default=None, max_length=2000)


class FeeIn(_In):
    charged: StrictBool
    standard: StrictStr | None = _line()
    basis: StrictStr | None = _line()


class ChangesIn(_In):
    """The elements offered as form inputs; ``null`` takes one out at that scope."""

    fee: FeeIn | None = None
    promised_limit_days: StrictInt | None = None
    location: StrictStr | None = _line()
    hours: StrictStr | None = _line()
    consult_phone: StrictStr | None = _line()
    supervise_phone: StrictStr | None = _line()
    conditions: list[StrictStr] | None = Field(default=None, max_length=100)


class ElementsIn(_In):
    scope: StrictStr = Field(min_length=1, max_length=48)  # "defaults" or an item's key
    changes: ChangesIn
    base_version: StrictInt | None = None
    note: StrictStr = Field(default="", max_length=500)


class YamlIn(_In):
    yaml: StrictStr = Field(min_length=1, max_length=MAX_YAML_CHARS)
    base_version: StrictInt | None = None
    note: StrictStr = Field(default="", max_length=500)


class CheckIn(_In):
    yaml: StrictStr = Field(min_length=1, max_length=MAX_YAML_CHARS)


class RepublishIn(_In):
    base_version: StrictInt | None = None
    note: StrictStr = Field(default="", max_length=500)


M = TypeVar("M", bound=BaseModel)


def _edits(request: web.Request) -> CatalogEdits:
    return request.app[SERVICES].catalog_edits


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps)


def _problems(problems: list[Problem]) -> list[dict[str, str]]:
    return [{"path": p.path, "message": p.message} for p in problems]


def _refused(exc: EditError) -> web.Response:
    body: dict[str, Any] = {"error": exc.code, "message": exc.message}
    if isinstance(exc, Invalid):
        body["problems"] = _problems(exc.problems)
    return _json(body, exc.status)


def admin(handler: Handler) -> Handler:
    """For admins only; a refused edit becomes the response (an early refusal is raised:
    ``handlers.auth.refuse``), so that each handler reads as what it does."""

    @staff("admin")
    @wraps(handler)
    async def answering(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except EditError as exc:
            return _refused(exc)

    return answering


async def _body(request: web.Request, model: type[M], empty: bool = False) -> M:
    """The JSON body as ``model``; ``empty``: no body at all means ``{}``."""
    raw = await read_limited(request, MAX_BODY)
    try:
        data = loads(raw or (b"{}" if empty else b"null"))
    except ValueError:
        refuse(400, "bad_json", tx.BAD_JSON)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "-"
        refuse(400, "bad_request", tx.CATALOG_BODY.format(problem=f"{where}: {first['msg']}"))


def _thing_id(request: web.Request) -> str:
    thing_id = request.match_info["id"]
    if thing_id not in request.app[SERVICES].catalog.things:
        refuse(404, "not_found", tx.NOT_FOUND.format(what=thing_id))
    return thing_id


@admin
async def list_things(request: web.Request) -> web.StreamResponse:
    newest = await _edits(request).newest()
    out = []
    for t in request.app[SERVICES].catalog:
        last = newest.get(t.id)
        out.append(
            {
                "id": t.id,
                "seq": t.seq,
                "name": t.name,
                "category": t.category,
                "version": t.version,
                "items": len(t.items),
                "source": "console" if last else "file",
                "changed_by": last["changed_by"] if last else "",
                "changed_at": last["changed_at"].isoformat() if last else None,
            }
        )
    return _json({"things": out, "count": len(out)})


@admin
async def get_thing(request: web.Request) -> web.StreamResponse:
    thing_id = _thing_id(request)
    edits = _edits(request)
    live = request.app[SERVICES].catalog.things[thing_id]
    cur = await edits.current(thing_id)
    thing, problems = await edits.check(thing_id, cur.text)
    shown = thing or live  # the running version when the current text does not pass (a changed check)
    view = guide_view(cur.text, thing)
    for item in view["items"]:
        item["materials"] = [m.name for m in shown.materials_of(item["key"])]
    return _json(
        {
            "id": thing_id,
            "seq": shown.seq,
            "name": shown.name,
            "category": shown.category,
            "version": cur.version,
            "live_version": live.version,
            "source": "console" if cur.stored else "file",
            "changed_by": cur.changed_by,
            "changed_at": cur.changed_at.isoformat() if cur.changed_at else None,
            "yaml": cur.text,
            "problems": _problems(problems),
            "defaults": view["defaults"],
            "items": view["items"],
            "faq": [f.model_dump() for f in shown.faq],
            "form": [f.model_dump(mode="json", exclude_defaults=True) for f in shown.form.fields],
            "elements": [{"n": n, "label": label, "field": field} for n, label, field in tx.CATALOG_ELEMENTS],
            "editable": list(EDITABLE),
        }
    )


@admin
async def check(request: web.Request) -> web.StreamResponse:
    thing_id = _thing_id(request)
    body = await _body(request, CheckIn)
    refuse_unsafe(thing_id, body.yaml)
    _, problems = await _edits(request).check(thing_id, body.yaml)
    return _json({"ok": not problems, "problems": _problems(problems)})


async def _published(request: web.Request, thing_id: str, version: int, public: dict[str, Any]) -> web.Response:
    await announce(request.app[SERVICES].redis, thing_id, version)
    return _json(public)


@admin
async def edit_elements(request: web.Request) -> web.StreamResponse:
    thing_id = _thing_id(request)
    body = await _body(request, ElementsIn)
    changes: dict[str, Any] = {}
    for name in body.changes.model_fields_set:  # only what was sent; an explicit null takes it out
        value = getattr(body.changes, name)
        # a fee without standard/basis: the format's defaults (不收费 / 无) apply, and the checks judge
        changes[name] = value.model_dump(exclude_none=True) if isinstance(value, FeeIn) else value
    if not changes:
        refuse(400, "bad_request", tx.CATALOG_BODY.format(problem=tx.CATALOG_NO_CHANGES))
    done = await _edits(request).publish_elements(
        thing_id, body.scope, changes, request[STAFF].account.username, body.note, body.base_version
    )
    return await _published(request, thing_id, done.version, done.public())


@admin
async def put_yaml(request: web.Request) -> web.StreamResponse:
    thing_id = _thing_id(request)
    body = await _body(request, YamlIn)
    done = await _edits(request).publish(
        thing_id, body.yaml, request[STAFF].account.username, body.note, body.base_version, kind="yaml"
    )
    return await _published(request, thing_id, done.version, done.public())


@admin
async def versions(request: web.Request) -> web.StreamResponse:
    thing_id = _thing_id(request)
    return _json({"versions": await _edits(request).history(thing_id)})


@admin
async def republish(request: web.Request) -> web.StreamResponse:
    thing_id = _thing_id(request)
    raw = request.match_info["version"]
    if not raw.isdigit() or len(raw) > 9:
        refuse(404, "not_found", tx.CATALOG_NO_VERSION.format(version=raw))
    body = await _body(request, RepublishIn, empty=True)
    done = await _edits(request).republish(
        thing_id, int(raw), request[STAFF].account.username, body.note, body.base_version
    )
    return await _published(request, thing_id, done.version, done.public())


def setup(app: web.Application) -> None:
    base = "/console/api/catalog/things"
    app.router.add_get(base, list_things)
    app.router.add_get(base + "/{id}", get_thing)
    app.router.add_post(base + "/{id}/check", check)
    app.router.add_post(base + "/{id}/elements", edit_elements)
    app.router.add_put(base + "/{id}/yaml", put_yaml)
    app.router.add_get(base + "/{id}/versions", versions)
    app.router.add_post(base + "/{id}/versions/{version}/republish", republish)
