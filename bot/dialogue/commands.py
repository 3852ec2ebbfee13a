"""Things a person may say at any point, recognised before anything else:
their words are short and fixed enough that keywords beat a classifier
(and they must work while a free-text field is being asked)."""

from __future__ import annotations

import re

from bot.nlu.normalize import normalize

_COMMANDS: dict[str, tuple[str, ...]] = {
    # before "handoff" and "cancel", whose words these contain
    "handoff_cancel": ("取消人工", "不用人工", "不要人工", "不转人工", "不找人工"),
    "catalog": ("办事清单", "有哪些事", "有啥事能办", "能办哪些事", "能办什么", "都能办啥", "事项清单", "能办啥"),
    "resume": ("继续办理", "接着办", "继续填", "接着填", "继续申请"),
    "calls_off": ("不用打电话", "别打电话", "不要打电话", "不用电话通知"),  # before calls_on, whose words these hold
    "calls_on": ("电话通知", "打电话告诉我", "打电话通知我", "给我打电话"),
    "follow_up": ("留言咨询", "我要留言", "请工作人员回复", "请工作人员答复"),
    "handoff": ("转人工", "人工客服", "找人工", "人工服务", "要人工", "找客服", "真人", "人工", "转仁工", "仁工"),
    "restore": ("恢复草稿", "找回草稿", "恢复刚才的", "撤销取消", "恢复填写"),
    "cancel": ("取消办理", "取消申请", "不办了", "取消"),
    "restart": ("重新开始", "从头开始", "从头再来", "重来"),
    "progress": ("查进度", "我的申请", "办到哪了", "进度查询", "办理进度", "查询进度"),
    "elderly_on": ("长辈模式", "老年模式", "字太小", "我年纪大了", "看不清", "岁数大了"),
    "elderly_off": ("标准模式", "退出长辈模式"),
    "show_filled": ("查看已填", "填了什么", "填了啥", "看看填的", "已填信息", "看看已填"),
    "repeat": ("再听一遍", "再说一遍", "再说一次", "没听清", "听不清", "大点声", "没听见"),
    "skip": ("跳过", "没有，跳过", "以后再补", "先不传"),
    "rate": ("评价", "打分", "给个评价", "好差评", "我要评价"),
    "supplement": ("补正", "补交材料", "补材料", "补充材料", "补正材料"),
    "submit": ("提交",),
}
# “啊？你说啥？”: asked to say it again (not “你说啥时候能办”, which asks when)
_WHAT_DID_YOU_SAY = re.compile(r"^(?:啊|嗯|哈|啥)?[？?，,\s]*(?:你)?(?:说)?(?:啥|什么|的啥)?(?:呢|呀)?$")
# Exact short answers only (a “0” inside an ID number is not a command).
_ELDERLY_KEYS = {"0": "handoff", "9": "repeat"}
_FIX = re.compile(r"^(?:我)?(?:要)?(?:改一下|修改|更正|改)?(?P<what>.{1,12}?)(?:填错了|写错了|错了|要改|改一下|不对)$")


def command_of(text: str, elderly: bool = False) -> str | None:
    t = normalize(text).strip().rstrip("。！!?？ ")
    if elderly and t in _ELDERLY_KEYS:
        return _ELDERLY_KEYS[t]
    if t == "提交":
        return "submit"
    if t and t not in ("啥", "什么") and _WHAT_DID_YOU_SAY.match(t) and any(c in t for c in "啊说啥什"):
        return "repeat"
    for name, words in _COMMANDS.items():
        if name == "submit":
            continue
        # a command is the message, or nearly: “帮我转人工”, “我要取消办理”
        if any(_said(w, t) for w in words) and len(t) <= max(len(w) for w in words) + 4:
            return name
    return None


def _said(word: str, t: str) -> bool:
    """The word said, not denied (“不取消”, “别取消” are no cancel)."""
    at = t.find(word)
    return at >= 0 and not (at > 0 and t[at - 1] in "不别没")


def correction_target(text: str) -> str | None:
    """“电话填错了” → “电话”: the words naming the field to ask again."""
    m = _FIX.match(normalize(text).strip().rstrip("。！!"))
    return m.group("what").strip() if m and m.group("what").strip() else None
