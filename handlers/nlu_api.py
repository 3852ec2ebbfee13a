"""The admin API of the NLU, for console accounts with the ``admin`` role
(login cookie; CSRF token on every change, see ``handlers/console/guard.py``).

POST   /api/admin/nlu/parse                  {"text"}: Rasa-shaped parse
GET    /api/admin/nlu/intents                intents with example counts, names and recent accuracy
GET    /api/admin/nlu/entities               the entities of nlu_data/ an example may annotate
GET    /api/admin/nlu/examples?intent=X      examples
POST   /api/admin/nlu/examples               {"intent", "text"} -> 201 (text: Rasa's [沈阳](city) annotations)
PUT    /api/admin/nlu/examples/{id}          {"intent"?, "text"?}
DELETE /api/admin/nlu/examples/{id}
GET    /api/admin/nlu/fallbacks?all=1&source=fallback|agent
                                             the inbox: utterances that fell back and agents' corrections (masked)
POST   /api/admin/nlu/fallbacks/{id}/label   {"intent"?, "text"?}: becomes an example (no intent: the suggestion)
POST   /api/admin/nlu/fallbacks/{id}/dismiss leaves the inbox
POST   /api/admin/nlu/models                 retrain in the background -> 202 {"job"}; 409 while one runs;
                                             ?wait=1: at once -> 201 with the evaluation against the active model
GET    /api/admin/nlu/training               the latest training job (stage, percent; from any process)
GET    /api/admin/nlu/training/{job}         one job
GET    /api/admin/nlu/models                 versions
GET    /api/admin/nlu/models/{v}/report?against=N
                                             per-intent figures and their change, misclassified utterances
GET    /api/admin/nlu/models/{v}/confusion.png?set=cross_validation|held_out   (or .svg) the heat map
POST   /api/admin/nlu/models/{v}/activate    {"force"?}
POST   /api/admin/nlu/models/rollback
GET    /api/admin/nlu/export                 the data as Rasa YAML (nlu_data/ format)

Who made a change is the logged-in account, in the audit log.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from bot.nlu.data import dump, parse_example
from bot.nlu.evaluate import confused_labels, plot_confusion_cells
from bot.nlu.jobs import TrainingBusy, TrainingJobs
from bot.nlu.store import AlreadyHandled, DuplicateExample, ModelVersion, NotFound
from bot.nlu.training import ActivationRefused
from bot.texts import staff as stx
from bot.texts import standard as tx
from handlers.auth import loads, read_body, refuse
from handlers.console.guard import STAFF, staff
from handlers.keys import SERVICES
from handlers.services import Services

MAX_TEXT = 500
_NEW_INTENT = re.compile(r"^thing_[a-z][a-z0-9_]{1,40}$")
_JOB_ID = re.compile(r"^[0-9a-f]{16}$")
EVALUATION_SETS = ("cross_validation", "held_out")
FIGURES = ("precision", "recall", "f1")
JOBS = web.AppKey("nlu_training_jobs", TrainingJobs)


def _services(request: web.Request) -> Services:
    return request.app[SERVICES]


def _actor(request: web.Request) -> str:
    return request[STAFF].account.username


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = loads(await read_body(request))  # JSON is UTF-8 whatever charset a client declares
    except ValueError:
        refuse(400, "bad_json", tx.API_BAD_JSON)
    if not isinstance(body, dict):
        refuse(400, "bad_json", tx.API_BAD_JSON)
    return body


def _id(raw: str) -> int | None:
    """A row id from a URL; None unless digits that fit the database's integers (else PostgreSQL errs)."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 15 else None


def _int(request: web.Request, name: str) -> int | None:
    return _id(request.match_info[name])


async def _seeded(services: Services) -> None:
    """The database starts as a copy of nlu_data/ as shipped."""
    await services.nlu_store.seed_if_empty(services.nlu_trainer.shipped)


async def _valid_intent(services: Services, intent: Any) -> bool:
    if not isinstance(intent, str):
        return False
    known = {i["intent"] for i in await services.nlu_store.intents()}
    return intent in known or bool(_NEW_INTENT.match(intent))


def _valid_text(text: Any) -> bool:
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        return False
    try:
        return bool(parse_example(text.strip(), "x").text.strip())
    except (ValueError, KeyError, TypeError, AttributeError):  # a broken [x]{json} annotation
        return False


def entity_names(services: Services) -> set[str]:
    """The entities of nlu_data/: its lookups and regexes, and what its examples annotate."""
    shipped = services.nlu_trainer.shipped
    annotated = {s.entity for e in shipped.examples for s in e.entities}
    return set(shipped.lookups) | set(shipped.regexes) | annotated


def _unknown_entities(services: Services, text: str) -> list[str]:
    known = entity_names(services)
    return sorted({s.entity for s in parse_example(text.strip(), "x").entities} - known)


def intent_name(services: Services, intent: str) -> str:
    """What staff read: a one-thing's name from the catalog, else the label of a general intent."""
    if intent.startswith("thing_"):
        thing = services.catalog.get(intent.removeprefix("thing_"))
        if thing is not None:
            return thing.name
    return stx.INTENT_LABELS.get(intent, intent)


def _check_text(services: Services, text: Any) -> None:
    """400 for a text that cannot be an example (empty, too long, broken or unknown annotations)."""
    if not _valid_text(text):
        refuse(400, "bad_text", tx.API_EXAMPLE_TEXT)
    unknown = _unknown_entities(services, text)
    if unknown:
        refuse(400, "bad_entity", stx.NLU_BAD_ENTITY.format(names="、".join(unknown)))


@staff("admin")
async def parse(request: web.Request) -> web.StreamResponse:
    body = await _body(request)
    text = body.get("text")
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
        refuse(400, "bad_text", tx.API_TEXT_REQUIRED)
    return web.json_response(await _services(request).nlu.parse(text, channel="admin"))


@staff("admin")
async def list_intents(request: web.Request) -> web.StreamResponse:
    """Each intent with its examples and its recent accuracy: the per-intent figures of the
    active version's stored evaluation (none before a console-trained version is active)."""
    services = _services(request)
    await _seeded(services)
    active = await services.nlu_store.active()
    report: dict[str, Any] = (active.evaluation.get("report") or {}) if active else {}
    intents = await services.nlu_store.intents()
    for row in intents:
        row["name"] = intent_name(services, row["intent"])
        accuracy = {}
        for name, details in report.items():
            figures = details.get("intents", {}).get(row["intent"])
            if figures:
                accuracy[name] = {k: figures[k] for k in (*FIGURES, "support")}
        row["accuracy"] = accuracy or None
    evaluated = {"version": active.version, "trained_by": active.created_by} if active and report else None
    note = None if evaluated else stx.NLU_NO_EVALUATION
    return web.json_response({"intents": intents, "evaluated": evaluated, "note": note})


@staff("admin")
async def list_entities(request: web.Request) -> web.StreamResponse:
    services = _services(request)
    names = sorted(entity_names(services))
    return web.json_response({"entities": [{"entity": n, "name": stx.ENTITY_LABELS.get(n, n)} for n in names]})


@staff("admin")
async def list_examples(request: web.Request) -> web.StreamResponse:
    services = _services(request)
    await _seeded(services)
    intent = request.query.get("intent")
    if intent is not None and not await _valid_intent(services, intent):  # e.g. a NUL, which PostgreSQL refuses
        refuse(400, "bad_intent", tx.API_BAD_INTENT)
    return web.json_response({"examples": await services.nlu_store.examples(intent)})


@staff("admin")
async def add_example(request: web.Request) -> web.StreamResponse:
    services = _services(request)
    await _seeded(services)
    body = await _body(request)
    if not await _valid_intent(services, body.get("intent")):
        refuse(400, "bad_intent", tx.API_BAD_INTENT)
    _check_text(services, body.get("text"))
    try:
        example_id = await services.nlu_store.add_example(body["intent"], body["text"].strip(), _actor(request))
    except DuplicateExample:
        refuse(409, "duplicate", tx.API_DUPLICATE_EXAMPLE)
    return web.json_response({"id": example_id}, status=201)


@staff("admin")
async def edit_example(request: web.Request) -> web.StreamResponse:
    services = _services(request)
    body = await _body(request)
    example_id = _int(request, "id")
    intent, text = body.get("intent"), body.get("text")
    if intent is not None and not await _valid_intent(services, intent):
        refuse(400, "bad_intent", tx.API_BAD_INTENT)
    if text is not None:
        _check_text(services, text)
    if example_id is None:
        refuse(404, "not_found", tx.API_NOT_FOUND.format(what=request.match_info["id"]))
    try:
        await services.nlu_store.update_example(example_id, _actor(request), intent, text.strip() if text else None)
    except NotFound:
        refuse(404, "not_found", tx.API_NOT_FOUND.format(what=example_id))
    except DuplicateExample:
        refuse(409, "duplicate", tx.API_DUPLICATE_EXAMPLE)
    return web.json_response({"id": example_id})


@staff("admin")
async def remove_example(request: web.Request) -> web.StreamResponse:
    example_id = _int(request, "id")
    try:
        if example_id is None:
            raise NotFound(request.match_info["id"])
        await _services(request).nlu_store.delete_example(example_id, _actor(request))
    except NotFound:
        refuse(404, "not_found", tx.API_NOT_FOUND.format(what=request.match_info["id"]))
    return web.json_response({"id": example_id})


@staff("admin")
async def list_fallbacks(request: web.Request) -> web.StreamResponse:
    source = request.query.get("source")
    if source not in (None, "fallback", "agent"):
        refuse(400, "bad_source", stx.NLU_BAD_SOURCE)
    services = _services(request)
    rows = await services.nlu_store.fallbacks(unlabelled_only=request.query.get("all") != "1", source=source)
    for row in rows:
        row["suggested_name"] = intent_name(services, row["suggested_intent"]) if row["suggested_intent"] else None
    return web.json_response({"fallbacks": rows})


@staff("admin")
async def label_fallback(request: web.Request) -> web.StreamResponse:
    """One click: the entry becomes an example of the chosen intent (or of the agent's suggestion)."""
    services = _services(request)
    await _seeded(services)
    body: dict[str, Any] = {}
    if request.can_read_body:
        parsed = await _body(request)
        body = parsed
    intent, text = body.get("intent"), body.get("text")
    if intent is not None and not await _valid_intent(services, intent):
        refuse(400, "bad_intent", tx.API_BAD_INTENT)
    if text is not None:
        _check_text(services, text)
    fallback_id = _int(request, "id")
    try:
        if fallback_id is None:
            raise NotFound(request.match_info["id"])
        example_id = await services.nlu_store.label_fallback(
            fallback_id, intent, _actor(request), text.strip() if text else None
        )
    except NotFound:
        refuse(404, "not_found", tx.API_NOT_FOUND.format(what=request.match_info["id"]))
    except AlreadyHandled:
        refuse(409, "handled", stx.NLU_INBOX_HANDLED)
    except ValueError:  # neither an intent given nor one suggested
        refuse(400, "bad_intent", stx.NLU_LABEL_NO_INTENT)
    except DuplicateExample:
        refuse(409, "duplicate", tx.API_DUPLICATE_EXAMPLE)
    return web.json_response({"example_id": example_id}, status=201)


@staff("admin")
async def dismiss_fallback(request: web.Request) -> web.StreamResponse:
    fallback_id = _int(request, "id")
    try:
        if fallback_id is None:
            raise NotFound(request.match_info["id"])
        await _services(request).nlu_store.dismiss_fallback(fallback_id, _actor(request))
    except NotFound:
        refuse(404, "not_found", tx.API_NOT_FOUND.format(what=request.match_info["id"]))
    except AlreadyHandled:
        refuse(409, "handled", stx.NLU_INBOX_HANDLED)
    return web.json_response({"id": fallback_id, "dismissed": True})


@staff("admin")
async def retrain(request: web.Request) -> web.StreamResponse:
    """A background job (202; the page polls its progress), one at a time across processes
    (409 with the running job). ``?wait=1``: the answer waits for the evaluation (201)."""
    services = _services(request)
    await _seeded(services)
    try:
        await services.nlu_trainer.check()  # told at once, not minutes later in a failed job
    except ValueError as exc:  # e.g. an intent with too few examples
        refuse(422, "training_failed", tx.API_TRAINING_FAILED.format(reason=exc))
    try:
        job, task = await request.app[JOBS].start(_actor(request))
    except TrainingBusy as busy:
        message = stx.NLU_TRAINING_RUNNING.format(actor=busy.job.get("actor", "?"), percent=busy.job.get("percent", 0))
        return web.json_response({"error": "training_running", "message": message, "job": busy.job}, status=409)
    if request.query.get("wait") not in ("1", "true"):
        location = f"/api/admin/nlu/training/{job['id']}"
        return web.json_response({"job": job}, status=202, headers={"Location": location})
    try:
        result = await asyncio.shield(task)  # a client that goes away does not stop the training
    except ValueError as exc:  # the data changed between the check and the training
        refuse(422, "training_failed", tx.API_TRAINING_FAILED.format(reason=exc))
    return web.json_response(result | {"job": job["id"]}, status=201)


@staff("admin")
async def latest_training(request: web.Request) -> web.StreamResponse:
    jobs = request.app[JOBS]
    return web.json_response({"job": await jobs.latest()})


@staff("admin")
async def training_job(request: web.Request) -> web.StreamResponse:
    job_id = request.match_info["job"]
    job = await request.app[JOBS].get(job_id) if _JOB_ID.match(job_id) else None
    if job is None:
        refuse(404, "not_found", tx.API_NOT_FOUND.format(what=job_id[:40]))
    return web.json_response({"job": job})


@staff("admin")
async def list_models(request: web.Request) -> web.StreamResponse:
    services = _services(request)
    models = [m.public() for m in await services.nlu_store.models()]
    # who answers the citizens: with Rasa, the versions trained here answer only while Rasa is down
    answering = "rasa" if services.nlu.rasa is not None else "embedded"
    return web.json_response({"models": models, "in_use": services.nlu.version, "answering": answering})


async def _version_of(request: web.Request) -> ModelVersion:
    version = _int(request, "version")
    try:
        if version is None:
            raise NotFound(request.match_info["version"])
        model, _ = await _services(request).nlu_store.model(version)
    except NotFound:
        refuse(404, "not_found", tx.API_NOT_FOUND.format(what=request.match_info["version"]))
    return model


async def _baseline(services: Services, model: ModelVersion, against: str | None) -> ModelVersion | None:
    """What a version is compared with: ``against``, else the active version, else (for the
    active one itself) the version active before it."""
    store = services.nlu_store
    if against is not None:
        return (await store.model(int(against)))[0]
    active = await store.active()
    if active is not None and active.version != model.version:
        return active
    previous = await store.previous_active()
    return previous if previous is not None and previous.version != model.version else None


@staff("admin")
async def report(request: web.Request) -> web.StreamResponse:
    """The evaluation report of a version, each figure with its change against the baseline."""
    services = _services(request)
    model = await _version_of(request)
    against = request.query.get("against")
    if against is not None and _id(against) is None:
        refuse(400, "bad_against", tx.API_NOT_FOUND.format(what=against[:20]))
    try:
        base = await _baseline(services, model, against)
    except NotFound:
        refuse(404, "not_found", tx.API_NOT_FOUND.format(what=against))
    sets: dict[str, Any] = {}
    for name in EVALUATION_SETS:
        details = (model.evaluation.get("report") or {}).get(name)
        if details is None:
            continue
        before = ((base.evaluation.get("report") or {}).get(name) or {}).get("intents", {}) if base else {}
        rows = []
        for intent, figures in sorted(details["intents"].items()):
            old = before.get(intent)
            change = {k: round(figures[k] - old[k], 4) for k in FIGURES} if old else None
            rows.append({"intent": intent, "name": intent_name(services, intent), **figures, "change": change})
        sets[name] = {
            "summary": model.evaluation.get(name),
            "baseline": base.evaluation.get(name) if base else None,
            "intents": rows,
            "errors": [
                e
                | {
                    "intent_name": intent_name(services, e["intent"]),
                    "predicted_name": intent_name(services, e["predicted"]),
                }
                for e in details["errors"]
            ],
            "errors_total": details.get("errors_total", len(details["errors"])),
            "heatmap": f"/api/admin/nlu/models/{model.version}/confusion.png?set={name}",
            "heatmap_intents": confused_labels(details["confusion"]),
        }
    return web.json_response({"version": model.public(), "against": base.public() if base else None, "sets": sets})


@staff("admin")
async def confusion(request: web.Request) -> web.StreamResponse:
    """The confusion heat map of one evaluation of a version (only the confused intents when many)."""
    model = await _version_of(request)
    name = request.query.get("set", "cross_validation")
    if name not in EVALUATION_SETS:
        refuse(400, "bad_set", stx.NLU_REPORT_SET)
    details = (model.evaluation.get("report") or {}).get(name)
    if details is None:
        refuse(404, "no_report", stx.NLU_NO_REPORT.format(version=model.version))
    cells = details["confusion"]
    labels = confused_labels(cells)
    every = {c[0] for c in cells} | {c[1] for c in cells}
    title = f"v{model.version} {name.replace('_', '-')}: {len(labels)} of {len(every)} intents"
    fmt = request.match_info["fmt"]
    image = await asyncio.to_thread(plot_confusion_cells, cells, labels, title, fmt)  # type: ignore[arg-type]
    headers = {
        "Cache-Control": "private, max-age=86400",  # a version's evaluation never changes
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",  # an SVG opened on its own
    }
    content_type = "image/png" if fmt == "png" else "image/svg+xml"
    return web.Response(body=image, content_type=content_type, headers=headers)


@staff("admin")
async def activate(request: web.Request) -> web.StreamResponse:
    services = _services(request)
    body: dict[str, Any] = {}
    if request.can_read_body:
        parsed = await _body(request)
        body = parsed
    version = _int(request, "version")
    try:
        if version is None:
            raise NotFound(request.match_info["version"])
        result = await services.nlu_trainer.activate(version, _actor(request), force=body.get("force") is True)
    except NotFound:
        refuse(404, "not_found", tx.API_NOT_FOUND.format(what=request.match_info["version"]))
    except ActivationRefused as exc:
        margin = services.nlu_trainer.margin
        message = tx.API_ACTIVATION_REFUSED.format(drop=exc, margin=margin)
        # the figures too, so that the console can word it for a person and offer "force"
        refusal = {"error": "accuracy_drop", "message": message, "drop": float(str(exc)), "margin": margin}
        return web.json_response(refusal, status=409)
    return web.json_response(result)


@staff("admin")
async def rollback(request: web.Request) -> web.StreamResponse:
    try:
        result = await _services(request).nlu_trainer.rollback(_actor(request))
    except LookupError:
        refuse(409, "no_previous", tx.API_NO_ROLLBACK)
    return web.json_response(result)


@staff("admin")
async def export(request: web.Request) -> web.StreamResponse:
    services = _services(request)
    await _seeded(services)
    data = await services.nlu_store.training_data(services.nlu_trainer.shipped)
    return web.Response(text=dump(data), content_type="application/x-yaml", charset="utf-8")


async def _jobs(app: web.Application) -> AsyncIterator[None]:
    """Training jobs of this process (after the services exist; stopped before they close)."""
    services = app[SERVICES]
    jobs = TrainingJobs(services.redis, services.nlu_trainer)
    app[JOBS] = jobs
    yield
    await jobs.close()


def setup(app: web.Application) -> None:
    app.cleanup_ctx.append(_jobs)
    r = app.router
    r.add_post("/api/admin/nlu/parse", parse)
    r.add_get("/api/admin/nlu/intents", list_intents)
    r.add_get("/api/admin/nlu/entities", list_entities)
    r.add_get("/api/admin/nlu/examples", list_examples)
    r.add_post("/api/admin/nlu/examples", add_example)
    r.add_put("/api/admin/nlu/examples/{id}", edit_example)
    r.add_delete("/api/admin/nlu/examples/{id}", remove_example)
    r.add_get("/api/admin/nlu/fallbacks", list_fallbacks)
    r.add_post("/api/admin/nlu/fallbacks/{id}/label", label_fallback)
    r.add_post("/api/admin/nlu/fallbacks/{id}/dismiss", dismiss_fallback)
    r.add_post("/api/admin/nlu/models", retrain)
    r.add_get("/api/admin/nlu/models", list_models)
    r.add_get("/api/admin/nlu/training", latest_training)
    r.add_get("/api/admin/nlu/training/{job}", training_job)
    r.add_post("/api/admin/nlu/models/rollback", rollback)
    r.add_get("/api/admin/nlu/models/{version}/report", report)
    r.add_get(r"/api/admin/nlu/models/{version}/confusion.{fmt:(png|svg)}", confusion)
    r.add_post("/api/admin/nlu/models/{version}/activate", activate)
    r.add_get("/api/admin/nlu/export", export)
