"""The NLU through the app: admin login, Rasa's answer shape, and the embedded
engine answering when the Rasa service is down."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from bot.settings import Settings
from handlers.app import create_app
from tests.console_helpers import as_staff


@pytest.fixture
def admin_settings(settings: Settings, unused_tcp_port: int) -> Settings:
    # Rasa configured but nothing listens there: the embedded engine must answer.
    return settings.model_copy(
        update={
            "nlu_backend": "rasa",
            "rasa_url": f"http://127.0.0.1:{unused_tcp_port}",
        }
    )


async def test_parse_falls_back_to_embedded_when_rasa_is_down(
    aiohttp_client: Any, admin_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    client: TestClient = await aiohttp_client(create_app(admin_settings))
    csrf = await as_staff(client)
    resp = await client.post("/api/admin/nlu/parse", json={"text": "老爷子走了，后面要办啥"}, headers=csrf)
    body = await resp.json()
    assert resp.status == 200, body
    assert body["intent"]["name"] == "thing_posthumous_affairs"
    assert {"text", "intent", "entities", "intent_ranking"} <= set(body)
    assert "Rasa unavailable" in caplog.text


@pytest.mark.parametrize(
    ("login", "payload", "status"),
    [
        (None, {"text": "你好"}, 401),
        ("agent", {"text": "你好"}, 403),
        ("admin", {"txt": "你好"}, 400),
        ("admin", {"text": ""}, 400),
        ("admin", {"text": "长" * 501}, 400),
        ("admin", ["你好"], 400),
    ],
)
async def test_bad_requests_get_a_clear_4xx(
    aiohttp_client: Any, admin_settings: Settings, login: str | None, payload: Any, status: int
) -> None:
    client: TestClient = await aiohttp_client(create_app(admin_settings))
    headers = await as_staff(client, login, role=login) if login else {}
    resp = await client.post("/api/admin/nlu/parse", json=payload, headers=headers)
    assert resp.status == status
    assert (await resp.json())["message"]


async def test_malformed_json_is_400(aiohttp_client: Any, admin_settings: Settings) -> None:
    client: TestClient = await aiohttp_client(create_app(admin_settings))
    resp = await client.post("/api/admin/nlu/parse", data=b"{not json", headers=await as_staff(client))
    assert resp.status == 400
