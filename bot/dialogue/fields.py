"""Reading one form field's value out of what the person said, with a specific
problem when it cannot be accepted. Problems are codes (``id_card.check_digit``);
their wording lives in the style's texts module."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from bot.catalog.models import FieldType, FormField
from bot.dialogue.names import parse_name, person_name  # noqa: F401  (person_name: for the flows)
from bot.dialogue.options import meant
from bot.dialogue.parsed import Parsed
from bot.nlu.cues import UNSURE as _UNSURE
from bot.nlu.entities import chinese_number, extract
from bot.nlu.normalize import normalize
from bot.validators import id_card_problem, mobile_problem, uscc_problem

YES_WORDS = ("是", "对", "有", "已", "嗯", "好", "要", "同意", "可以", "行", "确认", "yes", "ok",
             "那必须", "必须", "肯定", "当然", "可不", "昂", "嗯呐", "没错")  # fmt: skip
NO_WORDS = ("不是", "不对", "没有", "没", "否", "无", "未", "木有", "no")
# “不” says no when it denies being, having or wanting (“不用”, “不符合”); “不变”, “不清楚” do not
_NO_BU = ("不用", "不要", "不需要", "不行", "不会", "不能", "不够", "不符合", "不具备", "不在", "不欠", "不想",
          "不打算", "不办", "不同意", "不愿意", "不了", "不啦")  # fmt: skip
_YES_EXACT = ("没问题", "没错", "没毛病", "不错")
# not sure: neither yes nor no (“好像交过又好像没有”, “不知道有没有公积金”): asked again, not guessed
_ADVERBS = re.compile(r"^(?:已经|早就|早都|早|都|也|还|就|刚)")
_DONE = re.compile(r"(?:了|过|完了|好了|过了|完|上了|过去|过来)$")
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_ATTACHMENT_TEXT = re.compile(r"\.(?:jpe?g|png|pdf|heic)$|^(?:已上传|上传了|\[图片\])", re.IGNORECASE)
# a file a channel received, as a draft keeps it (read again when the draft is checked at submission)
_FILE_REFERENCE = re.compile(r"^wechat-media:[\w\-]+$")


def yes_no(text: str, question: str = "") -> bool | None:
    """A yes or no in the person's words: “对头”, “木有”, and, to a question whose words it echoes,
    “领了” (yes) or “还没迁” (no). None when unsure or not an answer."""
    t = normalize(text).strip().lower().rstrip("。！!.，, ")
    if not t or _UNSURE.search(t):
        return None
    if t in _YES_EXACT or t == "1":
        return True
    if t in ("2",):
        return False
    if t == "不" or any(t.startswith(w) for w in (*NO_WORDS, *_NO_BU)):
        return False
    if any(t.startswith(w) for w in YES_WORDS):
        return True
    if re.match(r"^(?:没有|不是|没)(?:[，,。！!\s]|$)", _ADVERBS.sub("", t)):
        return False  # “都没有，我户口在河北老家”
    return _echoed(t, question)


def _echoed(t: str, question: str) -> bool | None:
    """“领了” to “…是否已领结婚证”: the question's own verb said done (yes) or denied (no, “还没领”)."""
    core = _ADVERBS.sub("", t)
    if not core:
        return None
    denied = core.startswith(("没有", "没", "不", "未"))
    if core.startswith(NO_WORDS) and len(_DONE.sub("", core.lstrip("没有不未"))) == 0:
        return False  # “还没”, “还没有”
    if not question or re.search(r"没|未|不", question):
        return None  # a negatively worded question: its echo is ambiguous
    verb = core.lstrip("没有不未")[:1]
    if verb and "\u4e00" <= verb <= "\u9fff" and verb in question and (denied or _DONE.search(core)):
        return not denied
    return None


_NEGATED_QUESTION = re.compile(r"没有|没在|没欠|未|不在|不是在|无")  # “…没有欠别人的钱吗？”
_ECHOES_NO = ("没有", "没", "未", "无", "不欠", "不在")
_ECHOES_YES = ("有", "欠", "在")


_SO_MANY = re.compile(r"(\d+|[零一二两三四五六七八九十百]+)\s*(?:多|来)?\s*(?:个)?(年|周岁|岁|个月|月)")
_AT_LEAST = re.compile(r"达到|满|超过|以上|不少于|不低于")


def against_threshold(text: str, question: str) -> bool | None:
    """“交了三十多年了” to “…缴费年限是否已经达到最低缴费年限（目前为 15 年）？”: a number the person
    says against the one the question sets (one number of the same unit in each); else None."""
    asked = _SO_MANY.findall(normalize(question))
    said = _SO_MANY.findall(normalize(text))
    if len(asked) != 1 or len(said) != 1 or not _AT_LEAST.search(question):
        return None
    (need, unit), (have, their_unit) = asked[0], said[0]
    if unit.rstrip("周") != their_unit.rstrip("周"):
        return None
    need_n, have_n = chinese_number(need), chinese_number(have)
    return None if need_n is None or have_n is None else have_n >= need_n


def yes_to(question: str, text: str) -> bool | None:
    """A yes or no to ``question``, read against its wording: to “您没有在处罚期间，对吗？” or
    “企业没有欠债吗？”, “没有” agrees (yes, the condition holds) and “有” disagrees."""
    by_number = against_threshold(text, question)
    if by_number is not None:
        return by_number
    said = yes_no(text)
    t = _ADVERBS.sub("", normalize(text).strip())  # “都没有” answers as “没有” does
    if _NEGATED_QUESTION.search(question) and not t.startswith(("不是", "不对", "对", "是")):
        clause = re.split(r"[，,。；;\s]", t, maxsplit=1)[0].rstrip("啊呀呢的了")
        if t.startswith(_ECHOES_NO):
            # “没有”, “没有，我还没结婚呢”, “没欠” agree; “没结婚” denies something else: asked again
            rest = clause.lstrip("没有未无不")
            return True if not rest or rest[0] in question else None
        if t.startswith(_ECHOES_YES):
            return False
    return said


_ORDINAL = re.compile(r"^(?:第|选)?([一二三四五六七八九1-9])(?:个|项|种|条)?(?:吧|呀|啊)?$")
_ORDINAL_WORDS = {"头一个": 0, "前一个": 0, "第一个": 0, "后一个": -1, "最后一个": -1, "最后那个": -1}


def pick_option(text: str, options: list[str]) -> str | None:
    """An option by its number (“2”, “第二个”), its text, a text containing it (or contained in it),
    or the person's own words for it; None when unsure or as likely one as another."""
    t = normalize(text).strip().rstrip("。！!.")
    if t.isdigit() and 1 <= int(t) <= len(options):
        return options[int(t) - 1]
    forms = {o: normalize(o) for o in options}  # full-width brackets in options, half-width in speech
    for o, n in forms.items():
        if t == n:
            return o
    if _UNSURE.search(t):
        return None  # “都行吧”, “看情况”: asked again, with the options
    ordinal = _ordinal(t, len(options))
    if ordinal is not None:
        return options[ordinal]
    around = [o for o, n in forms.items() if t and t in n]
    if len(around) == 1:
        return around[0]
    # an option inside a longer answer (“随母亲吧”), unless the answer negates it (“不同意”); a
    # one-character option (“是”) is inside too many answers that do not choose it
    inside = [o for o, n in forms.items() if len(n) >= 2 and n in t and not _negated(t, n)]
    if len(inside) == 1:
        return inside[0]
    return meant(t, options)  # in the person's own words (“我是他爸”, “租的房子”)


def _ordinal(t: str, count: int) -> int | None:
    m = _ORDINAL.match(t) if t.startswith(("第", "选")) else None
    if m:
        n = "一二三四五六七八九".find(m.group(1)) + 1 or int(m.group(1))
        return n - 1 if 1 <= n <= count else None
    at = _ORDINAL_WORDS.get(t.rstrip("吧呀啊"))
    return None if at is None else at % count


def _bigrams(text: str) -> set[str]:
    han = re.findall(r"[\u4e00-\u9fff]+", text)
    return {run[i : i + 2] for run in han for i in range(len(run) - 1)}


def sharing(text: str, options: list[str]) -> str | None:
    """The one option sharing most two-character words with the answer (“油寄到家吧” → 邮寄到家,
    “我去派出所拿” → 派出所自取), words the answer denies not counted; None on a tie or nothing shared."""
    t = normalize(text)
    if _UNSURE.search(t):
        return None
    said = {b for b in _bigrams(t) if not _negated(t, b)}
    scored = sorted(((len(said & _bigrams(normalize(o))), o) for o in options), reverse=True)
    if not scored or scored[0][0] == 0 or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return scored[0][1]


def _negated(text: str, option: str) -> bool:
    at = text.find(option)
    return at > 0 and text[at - 1] in "不没别无非" and not option.startswith(("不", "没"))


def _digits_like(text: str) -> str:
    return re.sub(r"[\s\-]", "", normalize(text)).upper()


def parse_value(f: FormField, text: str, today: date | None = None, metadata: dict[str, Any] | None = None) -> Parsed:
    today = today or date.today()
    raw = text.strip()
    t = FieldType(f.type)
    if t is FieldType.attachment:
        files = (metadata or {}).get("attachments") or []
        if files:
            return Parsed(value=str(files[0]))
        if _ATTACHMENT_TEXT.search(raw) or _FILE_REFERENCE.match(raw):
            return Parsed(value=raw)
        # a required material cannot be skipped: the problem says so, never “回复跳过” (which loops)
        return Parsed(
            problem="attachment.missing" if not f.required else "attachment.required", params={"label": f.label}
        )
    if not raw:
        return Parsed(problem="text.empty")
    if t is FieldType.id_card:
        if not re.search(r"\d", normalize(raw)):
            return Parsed(problem="id_card.no_digits")  # “不知道”, “在家呢”: not a number mistyped
        spans = [s for s in extract(normalize(raw), today=today) if s["entity"] == "id_card"]
        if spans:
            s = spans[0]
            return Parsed(problem=f"id_card.{s['problem']}") if "problem" in s else Parsed(value=s["value"])
        v = _digits_like(raw)
        token = max(re.findall(r"[0-9X]+", v), key=len, default="")
        candidate = token if len(token) >= 15 else v
        problem = id_card_problem(candidate, today) or "length"
        return Parsed(problem=f"id_card.{problem}", params={"length": len(candidate)})
    if t is FieldType.phone:
        v = _digits_like(raw)
        found = re.search(r"(?<!\d)1\d{10}(?!\d)", v)
        if found and not mobile_problem(found.group(0)):
            return Parsed(value=found.group(0))
        return Parsed(problem="phone.format")
    if t is FieldType.uscc:
        v = _digits_like(raw)
        token = max(re.findall(r"[0-9A-Z]+", v), key=len, default="")
        problem = uscc_problem(token)
        if problem == "check_char":
            return Parsed(value=token, flag="uscc.check_char")
        return Parsed(problem=f"uscc.{problem}") if problem else Parsed(value=token)
    if t is FieldType.date:
        found = [s for s in extract(normalize(raw), today=today) if s["entity"] == "date"]
        spans = [s for s in found if "grain" not in s]
        if not spans:
            return _date_in_part(f, found, today)
        value = date.fromisoformat(spans[0]["value"])
        if f.not_future and value > today:
            return Parsed(problem="date.future")
        if f.not_past and value < today:
            return Parsed(problem="date.past")
        return Parsed(value=value.isoformat())
    if t is FieldType.enum:
        # a form's options are few and worded apart: words shared with one of them say it
        chosen = pick_option(raw, list(f.options or [])) or sharing(raw, list(f.options or []))
        if chosen is None:
            return Parsed(problem="enum.option", params={"options": "、".join(f.options or [])})
        return Parsed(value=chosen)
    if t is FieldType.boolean:
        answer = yes_no(raw, f"{f.label}（{f.help}）")
        return Parsed(problem="boolean.format") if answer is None else Parsed(value=answer)
    if t in (FieldType.integer, FieldType.amount):
        return _number(f, raw)
    if t is FieldType.name:
        return parse_name(f, raw)
    if t is FieldType.address and len(raw) < 6:
        return Parsed(problem="address.short")
    if t is FieldType.address and not _PLACE.search(raw):
        return Parsed(problem="address.place")  # “租的 签了两年合同”, “我是孩子妈妈”: no place in it
    if t in (FieldType.text, FieldType.address) and _NOT_KNOWN.match(normalize(raw)):
        return Parsed(problem="text.unknown")  # “不知道账号” is not an account number
    if t is FieldType.text and len(raw) < 2:
        return Parsed(problem="text.short")  # “2”: a number from an earlier list, not a breed
    if t is FieldType.text and _is_a_number(f) and len(re.findall(r"\d", normalize(raw))) < 3:
        # “招商银行的卡”, “交了快三年了”: said about the number, not the number
        return Parsed(problem="text.number", params={"label": f.label, "example": f.example})
    limit = f.max_length or 200
    if len(raw) > limit:
        return Parsed(problem="text.too_long", params={"max": limit})
    return Parsed(value=raw)


_MONTH_WILL_DO = re.compile(r"可以说“\d{4}年\d{1,2}月”")  # the field's help lets a month do


def _date_in_part(f: FormField, found: list[dict[str, Any]], today: date) -> Parsed:
    """“1978年9月” where a month will do (its first day kept); else what is missing is asked for:
    the day of “今年10月”, the month of “1986年参加工作的”."""
    month = next((s["value"] for s in found if s.get("grain") == "month"), None)
    if month and _MONTH_WILL_DO.search(f.help):
        value = date.fromisoformat(f"{month}-01")
        if f.not_future and value > today:
            return Parsed(problem="date.future")
        return Parsed(value=value.isoformat())
    if month:
        y, m = month.split("-")
        return Parsed(problem="date.day", params={"month": f"{y}年{int(m)}月"})
    year = next((s["value"] for s in found if s.get("grain") == "year"), None)
    if year:
        return Parsed(problem="date.month", params={"year": year})
    return Parsed(problem="date.format")


# an address names a place: a region, a street, a building, a number
_PLACE = re.compile(r"[省市区县旗镇乡村屯街路道巷弄号楼栋幢座室院里园苑城庄湾堡沟厂组]|胡同|小区|大厦|广场|\d")
_NUMBER_LABEL = re.compile(r"(?:号|号码|账号|卡号|编号|证号)$")


def _is_a_number(f: FormField) -> bool:
    """A field holding a number or a certificate's code (卡号, 证号…), by its label and example."""
    return bool(_NUMBER_LABEL.search(f.label)) and len(re.findall(r"\d", f.example)) >= 4


_NOT_KNOWN = re.compile(r"^(?:我)?(?:也)?(?:不知道|不清楚|不记得|记不清|记不住|想不起来|忘了|没有|不晓得)\S{0,6}$")
_LATER = re.compile(
    r"以后|回头|过两天|过几天|改天|晚点|后补|再[补交传拍照给发弄]|还没|还在|没有|先不|暂时没|没[照拍弄给]"
)


def later(text: str) -> bool:
    """“照片还没照呢，以后再补”: a material the person will hand in later."""
    return bool(_LATER.search(normalize(text)))


def _number(f: FormField, raw: str) -> Parsed:
    t = normalize(raw)
    found = _NUMBER.search(t.replace(",", ""))
    n: float | None = float(found.group(0)) if found else None
    if n is None:
        n = chinese_number(re.sub(r"[元块钱个月年岁人平米方]", "", t))
    if n is not None and "万" in t and n < 10_000:
        n *= 10_000
    code = "integer.format" if f.type is FieldType.integer else "amount.format"
    if n is None or (f.type is FieldType.integer and n != int(n)):
        return Parsed(problem=code, params={"example": f.example})
    if f.min is not None and n < f.min:
        return Parsed(problem="number.min", params={"min": f"{f.min:g}"})
    if f.max is not None and n > f.max:
        return Parsed(problem="number.max", params={"max": f"{f.max:g}"})
    return Parsed(value=int(n) if f.type is FieldType.integer else round(n, 2))


# Entities a message may carry for fields other than the one asked.
ENTITY_FOR_TYPE = {FieldType.id_card: "id_card", FieldType.phone: "phone", FieldType.uscc: "uscc"}


_FIXING = re.compile(r"错了|整错|输错|填错|写错|打错|说错|弄错|不对")


def corrected_values(text: str, answered: list[FormField], today: date | None = None) -> dict[str, Any]:
    """“刚才手机号整错了 是176…”: a number said again for a field already answered, with words that
    say the first was wrong — for the one answered field of its kind."""
    if not _FIXING.search(text):
        return {}
    out: dict[str, Any] = {}
    for s in extract(normalize(text), today=today):
        kind = next((k for k, e in ENTITY_FOR_TYPE.items() if e == s["entity"]), None)
        fields = [f for f in answered if kind is not None and FieldType(f.type) is kind]
        if "problem" not in s and len(fields) == 1:
            out[fields[0].id] = s["value"]
    return out


def extra_values(text: str, fields: list[FormField], today: date | None = None) -> dict[str, Any]:
    """Several fields in one message (“我叫张三，电话138…”): valid ID numbers, phones,
    credit codes and a name after 我叫, each into the first open field of its type."""
    spans = extract(normalize(text), today=today)
    out: dict[str, Any] = {}
    for s in spans:
        if "problem" in s:
            continue
        for f in fields:
            if f.id in out:
                continue
            if ENTITY_FOR_TYPE.get(FieldType(f.type)) == s["entity"] or (
                s["entity"] == "person_name" and f.type is FieldType.name
            ):
                out[f.id] = s["value"]
                break
    return out
