"""Personal data at rest: AES-256-GCM by default, SM4-GCM selectable; every
sealed value names its key; altered values and unknown keys are refused;
values of the Fernet era still open; rotation reseals everything stored in
the database and Redis with the newest key, after which the old key can go."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import select

from bot.crypto import InvalidToken, Vault, new_key
from bot.db.schema import applications, outbox
from bot.dialogue.scripted import Citizen
from bot.rekey import rotate_redis, rotate_sql
from bot.settings import Settings
from handlers.services import Services, build_services

PERSONAL = "王丽 210102199001011237 13812345678"


@pytest.mark.parametrize(("cipher", "tag"), [("aes-gcm", "a1"), ("sm4-gcm", "s1")])
def test_sealed_values_name_cipher_and_key_and_refuse_tampering(cipher: str, tag: str) -> None:
    vault = Vault([new_key()], cipher)
    sealed = vault.encrypt(PERSONAL)
    assert sealed.startswith(f"{tag}.{vault.key_id}.") and PERSONAL not in sealed
    assert vault.decrypt(sealed) == PERSONAL
    assert vault.encrypt(PERSONAL) != sealed  # a fresh nonce every time
    head, body = sealed.rsplit(".", 1)
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(InvalidToken):
        vault.decrypt(f"{head}.{flipped}")
    with pytest.raises(InvalidToken):
        Vault([new_key()], cipher).decrypt(sealed)  # a key not in DATA_KEYS


def test_rotation_keeps_old_values_readable_and_fernet_values_open() -> None:
    old, new = new_key(), new_key()
    before = Vault([old]).encrypt(PERSONAL)
    fernet_era = Fernet(old.encode()).encrypt(PERSONAL.encode()).decode()
    both = Vault([new, old])
    assert both.decrypt(before) == PERSONAL and both.decrypt(fernet_era) == PERSONAL
    assert not both.is_current(before) and both.is_current(both.reseal(before))
    assert Vault([new]).decrypt(both.reseal(fernet_era)) == PERSONAL
    with pytest.raises(ValueError, match="32 random bytes"):
        Vault(["too short"])
    with pytest.raises(ValueError, match="DATA_CIPHER"):
        Vault([new], "des")


@pytest.fixture
async def first(settings: Settings) -> AsyncIterator[Services]:
    built = await build_services(settings)
    yield built
    await built.close()


async def test_rotate_reseals_database_and_redis_then_the_old_key_can_go(settings: Settings, first: Services) -> None:
    user = "mp:oRotate"
    await Citizen(first.dialogue, user, channel="miniprogram").complete(first.catalog.things["newborn"], "新生儿出生")
    await Citizen(first.dialogue, "mp:oHalfway", channel="miniprogram").say("孩子刚出生，户口咋上")
    await first.inbox.put(user, 1, {"kind": "message", "text": "您好"})
    old_key = settings.data_keys.get_secret_value()  # type: ignore[union-attr]
    rotated = settings.model_copy(update={"data_keys": SecretStr(f"{new_key()},{old_key}"), "data_cipher": "sm4-gcm"})
    vault = rotated.vault()
    tally = await rotate_sql(first.db, vault)
    tally.update(await rotate_redis(first.redis, vault))
    assert tally["applications.form"] == 1 and tally["sess:*"] == 2 and tally["inbox:*"] == 1
    again = await rotate_sql(first.db, vault)
    assert not any(v for k, v in again.items() if ":" not in k)  # nothing left to do

    async with first.db.connect() as conn:
        forms = (await conn.execute(select(applications.c.form))).scalars().all()
        payloads = [p for p in (await conn.execute(select(outbox.c.payload))).scalars().all() if p]
    assert forms and all(v.startswith(f"s1.{vault.key_id}.") for v in [*forms, *payloads])

    only_new = settings.model_copy(update={"data_keys": SecretStr(rotated.data_keys.get_secret_value().split(",")[0]),  # type: ignore[union-attr]
                                           "data_cipher": "sm4-gcm"})  # fmt: skip
    later = await build_services(only_new)
    try:
        [app] = await later.applications.progress(user)
        assert app["thing"] == "newborn"
        replies = await Citizen(later.dialogue, "mp:oHalfway", channel="miniprogram").say("查看已填")
        assert replies  # the session opened with the new key alone
        assert await later.inbox.take(user) == [{"kind": "message", "text": "您好"}]
    finally:
        await later.close()
