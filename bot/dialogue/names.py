"""A person's name read out of what they typed (他爸叫刘洋, 会计 白雪, 马 桂 兰, 热依拉·艾买提), and the
words said instead of one refused (不知道, 这个要花钱不, 转退休那种)."""

from __future__ import annotations

import re

from bot.catalog.models import FormField
from bot.dialogue.parsed import Parsed
from bot.dialogue.surnames import has_known_surname
from bot.nlu.normalize import normalize

_NAME = re.compile(r"^[\u4e00-\u9fff]+(?:·[\u4e00-\u9fff]+)*$")  # 阿依古丽·买买提: a dot between parts
NAME_LENGTH = (2, 15)  # characters of a name, its dots not counted
# what is said instead of a name (“不知道”, “还没起名呢”, “这个要花钱不”): words and characters no
# name holds — particles, question words, denials
_NOT_A_NAME = re.compile(r"[吗呢吧啊呀哦嗯么啥咋谁哪没给办的了我你他她俺个是？?！!，,、]")  # 不: 阿不都
_NAME_PREFIX = re.compile(r"^(?:我叫|我是|叫|姓名是?|名字是?|他叫|她叫|孩子叫|就叫)[:：]?")


# said instead of a name, anywhere in the message (“小名叫豆豆 大名还没定”, “卖家姓吴”)
_NO_NAME_GIVEN = re.compile(
    r"不知道|不清楚|不晓得|不记得|忘了|没有|没起|还没|没想|没定|随便|这个|那个|什么|怎么|请问|你好|您好|谢谢"
    r"|人工|客服|一下|办理|多少|干啥|嘎哈|不用|不要|不是|算了|等等|就行|叫我|姓(?!名)|[吗呢啥咋谁？?]"
)
# who the name is of, said before it (“他爸叫刘洋”, “会计 白雪”, “先父陈国栋”)
_SAID_BEFORE = re.compile(r"^(?:我|俺|本人|先父|先母|亡夫|亡妻|姓名|名字|就是|申请人|办理人|经办人|联系人)+[:：]?")


def person_name(text: str) -> Parsed:
    """A person's name said outside a form (a complaint's, a rating's): read as a form's name is,
    an unusual one taken as said (no second chance to confirm it there)."""
    parsed = parse_name(None, text)
    return Parsed(value=parsed.params["name"]) if parsed.problem == "name.unusual" else parsed


def parse_name(f: FormField | None, raw: str) -> Parsed:
    text = normalize(raw).strip()
    if _NO_NAME_GIVEN.search(text):
        return Parsed(problem="name.not_a_name")
    v = _name_in(text)
    if _NOT_A_NAME.search(v) or _NOT_NAME_WORDS.search(v) or (len(v) > 1 and len(set(v)) == 1):  # “呜呜呜”
        return Parsed(problem="name.not_a_name")
    shortest, longest = NAME_LENGTH
    length = len(v.replace("·", ""))
    if not _NAME.match(v) or not shortest <= length <= min(longest, (f and f.max_length) or longest):
        return Parsed(problem="name.format")
    if "·" not in v and (length > 6 or not has_known_surname(v)):  # 乌兰其其格: five, no dot
        # “转退休那种”, “有认定决定书”: no surname begins them; said again, they are taken (a rare
        # surname, a minority name typed without its dot)
        return Parsed(problem="name.unusual", params={"name": v})
    return Parsed(value=v)


def _name_in(text: str) -> str:
    """The name in a message about it: after the last 叫/是/：, its last word, its characters
    joined when typed apart (“马 桂 兰”), the dot of a minority name as input methods give it."""
    parts = [p.strip() for p in re.split(r"[，,。；;]|电话|手机|\d", text) if p.strip()] or [text]
    part = next((p for p in reversed(parts) if "叫" in p), parts[0])
    m = re.search(r"叫\s*(.+)$", part) or re.search(r"(?:是|[:：])\s*([^是:：]+)$", part)
    marked = bool(m and m.group(1).strip())
    if marked and m:
        part = m.group(1)
    words = [w for w in part.split() if w not in ("我", "俺", "本人", "自己")] or part.split()
    named = [w for w in (words if marked else reversed(words)) if _looks_named(w)]
    if len(words) > 1 and all(len(w) == 1 for w in words[1:]):
        v = "".join(words)  # “马 桂 兰”, “我 周 文 博”
    elif len(words) > 1 and named:
        v = named[0]  # “我是她老头 张德福”: the word that is a name, not who they are
    elif words:
        v = words[0] if marked else words[-1]  # “叫赵桂芝 今年七十三了”; “会计 白雪”
    else:
        v = part
    v = _SAID_BEFORE.sub("", _NAME_PREFIX.sub("", v)).rstrip("。.")
    return re.sub(r"(?<=[\u4e00-\u9fff])[.•・･](?=[\u4e00-\u9fff])", "·", v)


_NOT_NAME_WORDS = re.compile(r"申请|认定|办理|登记")  # “申请人 乌兰其其格”, “认定了”: words, not names


def _looks_named(word: str) -> bool:
    w = _SAID_BEFORE.sub("", _NAME_PREFIX.sub("", word))
    return (bool(_NAME.match(w)) and not _NOT_A_NAME.search(w) and not _NOT_NAME_WORDS.search(w)
            and has_known_surname(w) and 2 <= len(w) <= 4)  # fmt: skip
