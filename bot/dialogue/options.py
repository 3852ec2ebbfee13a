"""Options in the person's own words: “我是他爸” is 父亲, “租的房子” is 租住房屋, “没办过” is 首次申领.
For each option, its ways of being said: the option itself with a word of it replaced by what
people say instead (so “随父亲” is also “随爸爸”, “跟他爸”), and a few whole answers meaning it.
Everyday words, not the catalog's: one table for every guide."""

from __future__ import annotations

import re

# a word in an option → what people say for it
SAID_AS: dict[str, tuple[str, ...]] = {
    "父亲": ("他爸", "孩子他爸", "孩子他爹", "爸爸", "老爸", "爹", "爸"),
    "母亲": ("他妈", "孩子他妈", "孩子妈", "妈妈", "老妈", "娘", "妈"),
    "配偶": ("老伴儿", "老伴", "老公", "媳妇儿", "媳妇", "爱人", "丈夫", "妻子", "老婆", "对象", "老头子", "老太太"),
    "子女": ("儿子", "闺女", "女儿", "孩子", "姑娘"),
    "兄弟姐妹": ("哥哥", "弟弟", "姐姐", "妹妹", "兄弟", "姐妹", "他哥", "他弟", "他姐", "他妹"),
    "父母": ("他爸", "他妈", "他爹", "他娘", "爸爸", "妈妈", "爹", "娘"),
    "其他法定监护人": ("爷爷", "奶奶", "姥姥", "姥爷", "外公", "外婆", "监护人"),
    "其他亲属": ("亲戚", "侄子", "外甥", "孙子", "孙女"),
    "租住房屋": ("租的房子", "租房子", "租的", "租房", "租着"),
    "租赁房屋": ("租的房子", "租房子", "租的", "租房", "租着"),
    "自有住房": ("自己的房子", "自己家的房", "自己买的房", "买的房", "自己的房", "自家房"),
    "自有房产": ("自己的房子", "自己家的房", "自己买的房", "买的房", "自己的房", "自家房"),
    "本人房产": ("自己的房子", "自己买的房", "我自己的房"),
    "首次申领": ("第一次办", "头一回", "头一次", "第一次", "没办过", "新办"),
    "首次执业": ("第一次", "头一回", "新申请"),
    "延续执业": ("延续", "续证", "快到期", "要到期"),
    "小学一年级": ("上一年级", "上小学", "一年级"),
    "初中一年级": ("上初中", "小升初", "初一"),
    "丢失补领": ("丢了", "找不着了", "弄丢了", "补办"),
    "损坏换领": ("坏了", "烂了", "看不清了", "破了"),
    "未婚": ("没结过婚", "没结婚", "还没结婚", "单身", "没成家"),
    "已婚": ("结婚了", "结过婚", "成家了", "领证了"),
    "离婚": ("离了", "离婚了", "离过", "离异"),
    "丧偶": ("老伴走了", "老伴没了", "老伴去世了", "老伴走的", "走了", "去世了"),
    "邮寄": ("寄到", "寄给", "寄过来", "寄回"),
    "自取": ("自己去拿", "自己拿", "自己去取", "自己取", "我去拿", "我去取", "去拿", "过去拿"),
    "两项都办": ("都要", "都办", "两个都", "两样都", "两项都"),
    "离异或丧偶": ("离了", "离婚了", "老伴走了", "老伴没了"),
    "解散": ("不干了", "不开了", "不想干了", "关门了", "黄了", "歇业"),
    "正常死亡": ("病故", "病逝", "病死", "在医院走的", "在家走的", "老死", "寿终正寝"),
    "男": ("男孩", "儿子", "小子", "男的"),
    "女": ("女孩", "闺女", "丫头", "女的"),
}


def ways_of_saying(option: str) -> list[str]:
    """The option, and each way of saying it (longest first, so “孩子他爸” is tried before “爸”)."""
    ways = {option}
    for word, said in SAID_AS.items():
        if word in option:
            ways |= {option.replace(word, s) for s in said}
            # the everyday word alone: any of them for the bare option, two characters or more
            # inside a longer one (“跟他妈” is 随母亲; a lone “妈” is too little to tell)
            ways |= {s for s in said if option == word or len(s) >= 2}
    return sorted(ways, key=len, reverse=True)


def meant(text: str, options: list[str]) -> str | None:
    """The one option the text says in other words, or None (none, or two as likely). Longer ways
    are read first, and what they cover is not read again: in “不是他爸”, “爸” is denied too.
    Who the person says they are decides (“我儿子没了 我是他妈” is 父母, not 子女)."""
    said_self = re.search(r"(?:我是|俺是|我就是)([^，,。；;\s]+)", text)
    if said_self:
        return _meant(said_self.group(1), options)
    return _meant(text, options)


def _meant(text: str, options: list[str]) -> str | None:
    ways = sorted(((w, o) for o in options for w in ways_of_saying(o)), key=lambda p: -len(p[0]))
    rest = text
    said: dict[str, int] = {}
    for way, option in ways:
        at = rest.find(way)
        if at < 0 or (len(way) == 1 and text.strip() != way):
            continue  # a one-character option (是) inside a sentence (“他妈是吉林的”) says nothing
        if not _negated(rest, way):
            said[option] = max(said.get(option, 0), len(way))
        rest = rest[:at] + "\x00" * len(way) + rest[at + len(way) :]
    if not said:
        return None
    ranked = sorted(said.items(), key=lambda kv: -kv[1])
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return None  # as likely one as the other: asked again, with the options
    return ranked[0][0]


def _negated(text: str, word: str) -> bool:
    """“不是他爸”, “没租”: the word said, and denied."""
    before = text[: text.find(word)]
    return not word.startswith(("不", "没")) and before.endswith(("不", "没", "别", "非", "不是", "没有"))
