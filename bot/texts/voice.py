"""Voice (12345 IVR and voice input): like 长辈模式, read aloud: numbers said
one by one, no symbols. Whatever is not redefined reads as in the elderly style."""

from bot.texts.elderly import *  # noqa: F403

CHOICE_LINE = "{label}请按{n}"
CHOICE_HINT = ""
FOOTER = "转人工请按0，再听一遍请按9。"
FILLED_LINE = "{label}，{value}"

# ---- phone wording of sentences the standard style writes for screens ------------
# (“回复” becomes “说”; no “call 12345” to someone already on 12345; no clock times)
ELIGIBILITY_INTRO = "先确认一下办理条件。"
YES_NO_AGAIN = "请说“是”或“不是”。"
FIELD_OPTIONAL = "没有的话，请说“跳过”。"
GUIDE_SHORT_TAIL = "收费情况：{free}。办好了会通知您。"
NOT_ELIGIBLE_ALL = "这件事暂时没法接着办。需要帮忙请按0转人工。"
CATALOG_CATEGORY = "{category}办事有："
CATALOG_PICK = "请直接说出您要办的事。"
START_AGAIN = "准备好了就说“开始办理”；有不明白的可以直接问，比如“要带啥材料”。"
SWITCHED = "“{old}”已经给您存好了，说“继续办理”就能接着办。"
COMMITMENT_BODY = (
    "事项：{items}。\n"
    "依据：{basis}。\n"
    "需要您承诺：{content}。\n"
    "您说“我承诺”，就算本人签了字，系统会记下时间。\n"
    "如果承诺不实，会撤销办理结果，记入信用记录，并承担法律责任。"
)
COMMITMENT_ASK = "您愿意承诺吗？愿意请说“我承诺”或按1，不愿意请说“不承诺”或按2。"
COMMITMENT_RECORDED = "好的，已记下您的承诺。"
SUBMITTED = "已经提交了！受理后会告诉您申办编号。想查进度，随时说“查进度”。"
SUBMIT_FAILED = "提交时出了点问题，您说的内容都存好了。请稍后说“提交”再试一次。"
HANDOFF = "好的，正在为您转接人工客服，请稍候。"
HANDOFF_QUEUED = "好的，正在为您转接人工客服，请稍候。"
HANDOFF_STILL_QUEUED = "正在为您转接人工客服，请稍候。"
PROBLEM = {
    **PROBLEM,  # noqa: F405
    "date.format": "没听懂这个日期，请像“2026年3月5日”这样说。",
    "boolean.format": "请说“是”或“否”。",
}

# ---- the 12345 IVR (handlers/ivr.py) ---------------------------------------------
IVR_ELDER_WELCOME = "您好，这里是一件事一次办。按0转人工，或者直接说您要办的事。"
IVR_SILENCE = "不好意思，没有听到您说话。"
IVR_NOMATCH = "不好意思，没有听清楚。"
IVR_OFFER_AGENT = "好像不太顺利，我请人工客服来帮您吧：转人工请按0，或者说“人工”。"
IVR_GIVE_UP = "还是没有听到您的声音，现在为您转接人工客服，请稍候。"
IVR_TRANSFER = "正在为您转接人工客服，请稍候。"
IVR_TROUBLE = "系统有点忙，正在为您转接人工客服，请稍候。"
IVR_MORE = "内容较多，先说到这里，想听全部请按9。"
IVR_SAY_ONE = "请直接说出您要的那一项。"
IVR_KEY_AGENT = "转人工"
IVR_KEY_REPEAT = "再听一遍"
# said alone, these mean key 0 (“人工” alone is no command to the engine: it would be taken as a name)
IVR_AGENT_WORDS = ("人工", "接人工", "人工台", "人工吧")
# numbers are read one digit at a time; “幺” for 1, as on every Chinese telephone line
DIGIT_NAMES = {
    "0": "零", "1": "幺", "2": "二", "3": "三", "4": "四",
    "5": "五", "6": "六", "7": "七", "8": "八", "9": "九", "X": "叉",
}  # fmt: skip
SPOKEN_MASKED = "中间几位略过"  # the starred middle of a masked number
SPOKEN_HIDDEN = "某"  # the starred rest of a masked name
SPOKEN_PAUSE = "，"
SPOKEN_STOP = "。"
