"""People are stored under a keyed digest of their channel id (the review found an unkeyed SHA-256:
an IVR caller's Redis keys followed from the phone number), and what was stored under the older
digests moves to the new ones with ``python -m bot db upgrade``."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import select, update

from bot.db.schema import applications, contact_prefs, ratings
from bot.dialogue.scripted import Citizen
from bot.people import keys
from bot.people.keys import unkeyed, use_lookup_key, user_key
from bot.people.rekey import rekey_people
from bot.settings import Settings
from handlers.services import Services, build_services

CALLER = "ivr:13812345678"


@pytest.fixture
def restore_key() -> Iterator[None]:
    kept = keys._key
    yield
    use_lookup_key(kept)


def test_the_digest_does_not_follow_from_the_id_alone(restore_key: None) -> None:
    use_lookup_key(b"k" * 32)
    mine = user_key(CALLER)
    assert mine != hashlib.sha256(CALLER.encode()).hexdigest()[:24] and mine != unkeyed(CALLER)
    assert all(mine != hashlib.sha256(CALLER.encode()).hexdigest()[:n] for n in range(16, 65))
    use_lookup_key(b"another key, another deployment")
    assert user_key(CALLER) != mine


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    built = await build_services(settings)
    yield built
    await built.close()


async def test_what_was_stored_under_the_old_digest_is_found_again(services: Services) -> None:
    """As stored by the version before: an application, a rating, contact preferences and a session
    under the unkeyed digest. After the move the person sees them all, as before."""
    user = "wechat:oOldTimer"
    c = Citizen(services.dialogue, user, channel="wechat")
    await c.complete(services.catalog.things["dog_license"], "我想给狗办证")
    [app] = await services.applications.progress(user)
    await services.contacts.set_wants_calls(user, True)
    await c.say("新生儿出生")  # an unfinished conversation in the session
    new, old = user_key(user), unkeyed(user)
    async with services.db.begin() as conn:  # as the older version wrote them
        for table in (applications, contact_prefs):
            await conn.execute(update(table).where(table.c.user_key == new).values(user_key=old))
        await conn.execute(
            ratings.insert().values(subject="application", subject_id=app["id"], user_key=old, score=5, criteria={})
        )
    await services.redis.rename(f"sess:{new}", f"sess:{old}")
    assert await services.applications.progress(user) == [] and not await services.contacts.wants_calls(user)

    moved = await rekey_people(services.db, services.redis, services.settings.vault())
    assert moved["applications.user_key"] == 1 and moved["redis sess:"] == 1, moved
    assert [a["id"] for a in await services.applications.progress(user)] == [app["id"]]
    assert await services.contacts.wants_calls(user) and (await services.ratings.of(user)) == {app["id"]: 5}
    assert (await services.dialogue.sessions.load(user, "wechat")).current == "newborn"
    async with services.db.connect() as conn:
        assert old not in set((await conn.execute(select(ratings.c.user_key))).scalars())
    again = await rekey_people(services.db, services.redis, services.settings.vault())
    assert not any(n for k, n in again.items() if not k.endswith("kept the newer")), again  # nothing left to move
