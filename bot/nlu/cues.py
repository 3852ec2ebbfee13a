"""Words that say what is asked, whatever one-thing they are said of (“在哪办”, “要带啥”, “多久”,
“办到哪了”). A classifier trained on whole sentences leans on the thing's words, which are most of
a sentence: a message full of 公积金 reads as applying for it even when it ends in “在哪办”. These
short, fixed cues settle the act when the classifier's act is to apply; like the commands'
keywords, they are fewer than the ways of saying a thing and do not drift."""

from __future__ import annotations

import re

# in order: the first that matches is the act (a message asking for the fee of the materials is
# about the fee; one asking where to hand in the materials is about the place)
CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "progress",
        re.compile(
            r"办到哪|到哪一步|进度|审批完了?[吗没]|批下来没|下来没|有结果[没了吗]|咋还没[信动消]|怎么还没[信动消]"
            r"|办好了[吗没]|好了没|有信儿?[没吗]|到账了?[没吗]"
        ),
    ),
    ("complaint", re.compile(r"投诉|举报|反映个?问题|踢皮球|刁难|态度太?差|不像话|坑人|太慢了|磨叽|没人管|大呼小叫")),
    ("ask_fee", re.compile(r"多少钱|收费|收钱|要钱|花钱|交钱|费用|免费|交多少|多少税|税费|交税|便宜")),
    ("ask_duration", re.compile(r"多久|多长时间|几天|多少天|几个工作日|啥时候能|什么时候能|多快|当天能")),
    (
        "ask_location",
        re.compile(r"在哪|上哪|去哪|到哪[儿里]?[办去开领批报登交注申]|哪个部门|哪个窗口|哪个单位|什么地方办|哪儿办"),
    ),
    ("ask_online", re.compile(r"网上|线上|手机上|在线|网办|不用跑|用跑|不去窗口|不想来回跑")),
    (
        "ask_materials",
        re.compile(
            r"材料|带啥|带什么|准备啥|准备什么|准备点啥|需要啥|需要什么|要啥手续|什么手续|啥手续|哪些证|什么证件"
            r"|要哪些|要带|得带"
        ),
    ),
    (
        "ask_conditions",
        re.compile(
            r"条件|资格|符合|够[^\s]{0,6}不|能不能|行不行|行不|可以吗|能[^\s]{1,12}[吗不]$|能[^\s]{1,12}[吗不][？?]?$"
        ),
    ),
)


LEAVING = re.compile(r"再见|拜拜|回见|没事了|不打扰了|先这样吧")  # “谢谢啊 再见”: thanks, and leaving


def asked_act(text: str) -> str | None:
    """The act the message's own words say, if any."""
    for act, cue in CUES:
        if cue.search(text):
            return act
    return None
