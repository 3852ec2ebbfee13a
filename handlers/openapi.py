"""The OpenAPI 3.1 document of the public API (mini-program, 辽事通, the demo
page), built from the same pydantic models the handlers answer with, so the
document cannot drift from the code."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from handlers import catalog_api as catalog
from handlers import miniprogram as mp

REF = "#/components/schemas/{model}"
THING = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}, "description": "a one-thing id"}
APPLICATION = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"},
               "description": "an application id (from my applications)"}  # fmt: skip
CURSOR = {"name": "after", "in": "query", "required": False, "schema": {"type": "string"},
          "description": "the cursor of the last answer (chat or updates)"}  # fmt: skip
SEARCH = [
    {"name": "category", "in": "query", "required": False, "schema": {"enum": ["个人", "法人"]}},
    {"name": "q", "in": "query", "required": False, "schema": {"type": "string"}, "description": "a keyword"},
]


def _schemas() -> dict[str, Any]:
    models: list[type[BaseModel]] = [
        mp.LoginIn, mp.LoginOut, mp.ChatIn, mp.ChatOut, mp.UpdatesOut, mp.ApplicationsOut, mp.ErrorOut,
        mp.FormOut, mp.DraftIn, mp.DraftOut, mp.SubmitOut, mp.IncompleteOut,
        mp.GrantsIn, mp.GrantsOut, mp.RatingIn, mp.RatingOut, catalog.ThingsOut, catalog.GuideOut,
    ]  # fmt: skip
    _, top = models_json_schema([(m, "serialization") for m in models], ref_template=REF)
    return dict(top.get("$defs", {}))


def _body(model: str) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": {"$ref": REF.format(model=model)}}}}


def _answer(model: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": REF.format(model=model)}}}}


def document() -> dict[str, Any]:
    error = _answer("ErrorOut", "a clear message in Chinese")
    bearer = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {"title": "辽宁“一件事一次办”助手 API", "version": "0.1.0"},
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "paths": {
            "/api/mp/login": {
                "post": {
                    "summary": "mini-program login with a wx.login code",
                    "requestBody": _body("LoginIn"),
                    "responses": {
                        "200": _answer("LoginOut", "a session token"),
                        "400": error,
                        "401": error,
                        "503": error,
                    },
                }
            },
            "/api/chat": {
                "post": {
                    "summary": "one message to the assistant; its replies, structured",
                    "security": bearer,
                    "requestBody": _body("ChatIn"),
                    "responses": {"200": _answer("ChatOut", "the replies"), "400": error, "401": error},
                }
            },
            "/api/chat/updates": {
                "get": {
                    "summary": "what reached the person outside their turns (a hotline agent's words…); long poll",
                    "security": bearer,
                    "parameters": [CURSOR],
                    "responses": {
                        "200": _answer("UpdatesOut", "new updates, or none after 20 s"),
                        "400": error,
                        "401": error,
                        "409": {**error, "description": "a newer poll of the same person ended this one"},
                    },
                }
            },
            "/api/things": {
                "get": {
                    "summary": "the one-things, by category and keyword",
                    "parameters": SEARCH,
                    "responses": {"200": _answer("ThingsOut", "in the provincial list's order"), "400": error},
                }
            },
            "/api/things/{id}": {
                "get": {
                    "summary": "one guide in full, with its 一次告知 text",
                    "parameters": [THING],
                    "responses": {"200": _answer("GuideOut", "the guide"), "404": error},
                }
            },
            "/api/things/{id}/form": {
                "get": {
                    "summary": "the merged form of a one-thing, with what is filled and what is missing",
                    "security": bearer,
                    "parameters": [THING],
                    "responses": {"200": _answer("FormOut", "the form"), "401": error, "404": error},
                }
            },
            "/api/things/{id}/draft": {
                "put": {
                    "summary": "save fields (the chat's validators and messages; the chat sees them too)",
                    "security": bearer,
                    "parameters": [THING],
                    "requestBody": _body("DraftIn"),
                    "responses": {
                        "200": _answer("DraftOut", "what was saved, what was wrong"),
                        "400": error,
                        "401": error,
                        "404": error,
                    },
                }
            },
            "/api/things/{id}/submit": {
                "post": {
                    "summary": "submit the draft as one application",
                    "security": bearer,
                    "parameters": [THING],
                    "responses": {
                        "201": _answer("SubmitOut", "stored, on its way to the platform"),
                        "401": error,
                        "404": error,
                        "422": _answer("IncompleteOut", "what is missing"),
                    },
                }
            },
            "/api/me/applications": {
                "get": {
                    "summary": "my applications with each item's status",
                    "security": bearer,
                    "responses": {"200": _answer("ApplicationsOut", "newest first"), "401": error},
                }
            },
            "/api/me/applications/{id}/rating": {
                "post": {
                    "summary": "rate a finished application (好差评); a later rating is a 追评; 差评 opens a 12345 call-back",
                    "security": bearer,
                    "parameters": [APPLICATION],
                    "requestBody": _body("RatingIn"),
                    "responses": {
                        "201": _answer("RatingOut", "recorded"),
                        "400": error,
                        "401": error,
                        "404": error,
                        "409": error,
                    },
                }
            },
            "/api/me/subscriptions": {
                "post": {
                    "summary": "record what wx.requestSubscribeMessage answered (each accept: one message)",
                    "security": bearer,
                    "requestBody": _body("GrantsIn"),
                    "responses": {"200": _answer("GrantsOut", "messages allowed now"), "400": error, "401": error},
                }
            },
        },
    }


async def serve(request: web.Request) -> web.StreamResponse:
    return web.json_response(document())


def setup(app: web.Application) -> None:
    app.router.add_get("/api/openapi.json", serve)
