"""No state is a trap: in every state the engine can wait in, a person can cancel, start over, ask
for a person, say goodbye, name another need — and, in a complaint, say it is not one — and is
understood. Each state is set up as the engine leaves it (a dog-licence draft with one answer in
focus), each way out said, and what comes back checked."""

from __future__ import annotations

from typing import Any

import pytest

from bot.dialogue import states as st
from bot.dialogue.messages import HandoffNotice, Inbound, Reply
from bot.dialogue.session import Draft
from bot.texts import standard
from tests.memory_engine import catalog, memory_engine

THING = "dog_license"
# one example of every state, as the flows leave them
STATES: dict[str, dict[str, Any]] = {
    "pick_thing": {"options": ["dog_license", "none"]},
    "start": {"options": ["start", "materials", "other"]},
    "eligibility": {"ref": catalog().things[THING].eligibility[0].id, "options": ["yes", "no"]},
    "proxy": {"options": ["self", "proxy"]},
    "proxy_relation": {},
    "consent": {"options": ["yes", "no"]},
    "prefill_confirm": {"options": ["yes", "no"]},
    "pick_field": {"options": ["applicant_name"]},
    "field": {"ref": "applicant_name"},
    "readback": {"ref": "applicant_name", "value": "王淑芬", "options": ["yes", "no"]},
    "commitment": {"ref": next(m.key for m in catalog().things[THING].materials), "options": ["yes", "no"]},
    "review": {"options": ["submit", "edit", "cancel"]},
    "cancel_confirm": {"options": ["yes", "no"]},
    "help": {"options": ["catalog", "handoff", "restart"]},
    "resume": {"options": [THING]},
    "supplement_pick": {"options": ["SB1|item"]},
    "supplement": {"ref": "SB1|item"},
    "complaint": {"value": {}},
    "complaint_name": {"value": {"content": "窗口态度差"}},
    "complaint_phone": {"value": {"content": "窗口态度差", "name": "王淑芬"}},
    "rating": {"ref": "A1", "options": ["5", "4", "3", "2", "1"]},
    "rating_comment": {"ref": "A1", "value": 1},
    "rating_phone": {"ref": "handover:h1", "value": {"score": 1, "comment": "太慢"}},
    "phone_code_phone": {"value": {"code": "123456"}},
}


def test_every_state_is_walked() -> None:
    assert set(STATES) == set(st.KINDS)


async def _in_state(kind: str, said: str) -> tuple[list[Reply], Any]:
    engine = memory_engine()
    user = f"trap:{kind}:{said}"
    s = await engine.sessions.load(user, "test")
    t = catalog().things[THING]
    s.drafts[THING] = Draft(thing=THING, catalog_version=t.version, started=True, answers={"applicant_name": "王淑芬"})
    s.current = THING
    s.awaiting = st.AWAITING.validate_python({"kind": kind, **STATES[kind]})
    await engine.sessions.save(s)
    replies = await engine.handle(Inbound(user=user, channel="test", text=said))
    return replies, await engine.sessions.load(user, "test")


def _told(replies: list[Reply]) -> str:
    return "\n".join(r.text for r in replies)


@pytest.mark.parametrize("kind", sorted(STATES))
async def test_cancel_is_understood(kind: str) -> None:
    replies, s = await _in_state(kind, "取消")
    told = _told(replies)
    if st.AWAITING.validate_python({"kind": kind, **STATES[kind]}).aside:
        assert standard.ASIDE_DROPPED in told and s.awaiting is None and THING in s.drafts
    else:  # the draft has an answer: what would be lost is said, and a yes asked for
        assert "确定要取消" in told or "已取消" in told, told
        assert THING in s.drafts or s.cancelled is not None  # nothing erased without a way back


@pytest.mark.parametrize("kind", sorted(STATES))
async def test_starting_over_is_understood(kind: str) -> None:
    replies, s = await _in_state(kind, "重新开始")
    assert standard.RESTARTED in _told(replies) and s.awaiting is None
    assert s.drafts[THING].answers == {"applicant_name": "王淑芬"}  # kept for 继续办理


@pytest.mark.parametrize("kind", sorted(STATES))
async def test_asking_for_a_person_is_understood(kind: str) -> None:
    replies, _ = await _in_state(kind, "转人工")
    assert any(isinstance(r, HandoffNotice) for r in replies) or "人工" in _told(replies), _told(replies)


@pytest.mark.parametrize("kind", sorted(STATES))
async def test_goodbye_is_understood(kind: str) -> None:
    replies, _ = await _in_state(kind, "好的 再见")
    assert standard.GOODBYE in _told(replies), _told(replies)


@pytest.mark.parametrize("kind", sorted(STATES))
async def test_another_need_is_understood(kind: str) -> None:
    replies, s = await _in_state(kind, "我想开个药店")
    told = _told(replies)
    assert catalog().things["open_pharmacy"].name in told, told
    assert s.drafts[THING].answers == {"applicant_name": "王淑芬"}  # the open draft kept


@pytest.mark.parametrize("kind", ["complaint", "complaint_name", "complaint_phone"])
@pytest.mark.parametrize("said", ["不是投诉，我是想开个药店", "我不投诉！"])
async def test_a_complaint_denied_is_let_go(kind: str, said: str) -> None:
    replies, s = await _in_state(kind, said)
    told = _told(replies)
    assert standard.COMPLAINT_DROPPED in told and standard.COMPLAINT_PHONE_ASK not in told
    assert not (s.awaiting and s.awaiting.kind.startswith("complaint"))
    if "药店" in said:
        assert catalog().things["open_pharmacy"].name in told
