"""长辈模式: one short question per message, numbered choices, no links or
emoji, every answer read back; “0 转人工、9 再听一遍” always at hand.
Whatever is not redefined here reads as in the standard style."""

from bot.texts.standard import *  # noqa: F403
from bot.texts.standard import SUBMITTED as _SUBMITTED

WELCOME = "您好！我是办事小助手。请说您要办什么事，比如“给孙子上户口”。"
CHOICE_HINT = "请回复数字。"
FOOTER = "（回复 0 转人工，回复 9 再听一遍）"
FIELD_ASK = "请告诉我：{label}"
FIELD_HELP = ""
FIELD_EXAMPLE = "比如：{example}"
FIELD_OPTIONAL = "没有的话，回复“跳过”。"
FORM_INTRO = "下面一项一项地问您，慢慢来，不着急。"
READBACK = "您说的是：{value}，对吗？"
READBACK_OPTIONS = {"yes": "对", "no": "不对，重说"}
START_OPTIONS = {"start": "开始办理", "materials": "再听一遍材料", "other": "换一件事"}
NOT_UNDERSTOOD = "不好意思，没听明白。请再说一次您要办什么事。"
NOT_UNDERSTOOD_ABOUT = "不好意思，没听明白。请再说一次，比如“{name}要带啥”。"
ELDERLY_ON = "好的，已换成长辈模式，字少一些，一次只问一件事。"
GUIDE_SHORT = "办“{name}”要准备的："
GUIDE_SHORT_LINE = "{n}. {name}"
GUIDE_SHORT_NONE = "不用您准备材料，都能网上调取。"
GUIDE_SHORT_TAIL = "收费：{free}。办好了会通知您。"
PREFILL_UNVERIFIED = "下面一项一项问您，提交后由审批部门核验。"
SUBMITTED = _SUBMITTED + "想让 12345 打电话告诉您办理结果，请回复“电话通知”。"
