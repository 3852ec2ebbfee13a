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
            r"办到哪|到哪一步|到哪步|哪一步了|进度|审批完了?[吗没]|批下来没|下来没|有结果[没了吗]|咋还没[信动消]|怎么还没[信动消]"
            r"|办好了[吗没]|好了没|有信儿?[没吗]|到账了?[没吗]|啥状态|什么状态|还在审"
            # a step of an application asked after (“审完没”, “批了没有”, “转过来没有”, “出了没”)
            r"|[审批办转开发出下弄整][完过好了来]*(?:了没|没有?(?:啊|呢|呀)?$|没有?[？?\s，,]|没过)|[审批办][完过好]了[吗没]$"
            r"|过没过|好没好|批没批|办没办|审没审|转没转|还没(?:给|帮)?\S{0,3}改"  # “审核过没过”, “燃气还没给俺改过名来”
            # still not done (“咋还没批呢”, “咋还不下来”, “咋一点信儿没有”)
            r"|(?:咋|怎么|为啥|为什么)(?:还|一直|一点)(?:没|不)(?:批|下来|到|审|给|发|转|办|动|信|消息)"
            r"|还没[批审到转发下](?!来得及)|咋一点信|没收着"
            # handed in already, and asked when (“交了一个月了 啥时候能批”, “啥时候能发 等半个月了”)
            r"|(?:交了|交上去|申请了|报了|提交了|办了|申请\S{0,4}[天月周礼拜]了|等了?\S{0,4}[天月周礼拜])(?:[\s，,。]|.{2}).{0,18}"
            r"(?:啥时候|什么时候|多会儿|多久|到哪|哪步|咋回事)"
            r"|(?:啥时候|什么时候|多会儿)\S{0,10}(?:等了?|都)\S{0,4}[天月周礼拜]"
        ),
    ),
    (
        "human",
        re.compile(
            r"转人工|转仁工|找个?人工|要人工|接人工|真人|活人|[找来派]个人|给我打个?电话|跟.{0,12}的人.{0,4}(?:唠|说|聊|谈|讲)|让.{0,8}工作人员.{0,6}(?:回|打)"
            r"|转到?.{0,6}工作人员|找.{0,6}工作人员"
        ),
    ),
    (
        "complaint",
        re.compile(
            r"投诉|举报|反映个?问题|踢皮球|刁难|态度.{0,2}差|不像话|坑人|太慢了|没人管|大呼小叫|没人搭理|不搭理|太扯|管不管"
            r"|折腾|推来推去|互相推|来回跑了|跑了[好几两三四五]+趟|一次说清|不耐烦"
        ),
    ),
    # a need let go (“狗证年审不用办了”, “公积金不提了 先放着吧”)
    ("cancel", re.compile(r"不(?:用|想)?(?:办|整|弄|提|要|做)了|先不(?:办|弄|整|提)|先放着|算了")),
    ("ask_fee", re.compile(r"多少钱|收费|收钱|要钱|花钱|交钱|费用|免费|交多少|多少税|税费|交税|便宜")),
    ("ask_duration", re.compile(r"多久|多长时间|几天|多少天|几个工作日|啥时候能|什么时候能|多快|当天能")),
    (
        "ask_location",
        re.compile(r"在哪|上哪|去哪|到哪[儿里]?[办去开领批报登交注申]|哪个部门|哪个窗口|哪个单位|什么地方办|哪儿办"),
    ),
    ("ask_online", re.compile(r"网上|线上|手机[上能里可]|辽事通上|在线|网办|不用跑|用跑|不去窗口|不想来回跑")),
    (
        "ask_materials",
        re.compile(
            r"材料|带啥|带什么|准备啥|准备什么|准备点啥|需要啥|需要什么|要啥手续|什么手续|啥手续|哪些证|什么证件"
            r"|要哪些|要带|得带|[得要还用]交[吗不啥什]|[要得]拿啥"
        ),
    ),
    (
        "ask_conditions",
        re.compile(
            r"条件|资格|符合|够[^\s]{0,6}不|能不能|行不行|行不|可以吗|能[^\s]{1,12}[吗不]$|能[^\s]{1,12}[吗不][？?]?$"
            r"|还(?:用|得|要|需要)[^\s，,。]{1,12}[吗不](?=[\s，,。？?]|$)"  # “狗牌子还用去派出所取不 我腿不好”
        ),
    ),
)


# a question about the question itself (“啥叫居住登记”, “宣告死亡是啥意思”, “二级是重的还是轻的”)
MEANING = re.compile(r"啥意思|什么意思|啥叫|什么叫|啥是|什么是|是啥|是什么|啥区别|什么区别|还是.{1,6}[的呢吗？?]*$")
# not sure, or all the same to them (“都行”, “看情况吧”): neither an answer nor a question
UNSURE = re.compile(
    r"好像|说不准|说不好|不确定|不知道|不清楚|不记得|记不清|看情况|差不多|可能吧|也许|大概吧|都行|都可以|随便|哪个都"
)
# “不是投诉，我是想开个店”: the complaint denied (what follows is what they want)
NOT_A_COMPLAINT = re.compile(r"(?:不是|没想|不想|没要|不要|不用|我不)(?:要)?(?:投诉|举报)[的了啊！!，,。\s]*")
LEAVING = re.compile(r"再见|拜拜|回见|没事了|不打扰了|先这样吧|我知道了|先下了|^88$|^拜了?$")
# thanks for what was said, and done (“谢了老妹儿 开饭店那些手续俺整明白了”): no one-thing is asked for
THANKS_DONE = re.compile(
    r"^(?:谢谢|谢了|多谢|感谢)\S{0,4}[，,。!！\s]+.{0,20}(?:明白了|知道了|懂了|清楚了)"
)  # “谢谢啊 再见”: thanks, and leaving


def asks_meaning(text: str) -> bool:
    return bool(MEANING.search(text))


def asked_act(text: str) -> str | None:
    """The act the message's own words say, if any."""
    text = NOT_A_COMPLAINT.sub("", text)  # “我不投诉” says no complaint
    for act, cue in CUES:
        if cue.search(text):
            return act
    return None
