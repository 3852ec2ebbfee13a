"""Standard style: WeChat, mini-program, web. Plain, polite Simplified Chinese."""

# ---- 一次告知: the whole guide of a one-thing in one message ----------------
GUIDE_TITLE = "【{name}】办事指南（一次告知）"
GUIDE_ITEMS = "这件事一次申请、合并办理以下 {count} 个事项：{names}"
GUIDE_CONDITIONS = "一、办理条件"
GUIDE_MATERIALS = "二、申请材料（一套材料，每份只交一次）"
GUIDE_GROUP_APPLICANT = "■ 需要您提供"
GUIDE_GROUP_SHARED = "■ 无需提交（部门间共享获取）"
GUIDE_GROUP_COMMITMENT = "■ 可用承诺代替（签署告知承诺书即可，不必开证明）"
GUIDE_GROUP_TOLERABLE = "■ 可容缺后补（可先申请，之后补交）"
GUIDE_NO_MATERIAL = "无"
GUIDE_TIME = "三、办理时限"
GUIDE_FEE = "四、收费"
GUIDE_WHERE = "五、在哪办、怎么办"
GUIDE_FOOTER = "以上就是办理需要知道的全部内容。回复“开始办理”即可在线申请。"

ITEM_LINE = "{n}. {text}"
CONDITION_OF_ITEM = "{item}：{conditions}"
MATERIAL_FORM = "{forms}{copies}"
MATERIAL_COPIES = "{n}份"
MATERIAL_APPLICANT = "{n}. {name}（{form}）{note}"
MATERIAL_SHARED = "{n}. {name}（通过{kind}“{source}”获取）"
MATERIAL_PREVIOUS = "{n}. {name}（由“{item}”办结后自动取得）"
MATERIAL_COMMITMENT = "{n}. {name}：可承诺“{commitment}”代替"
MATERIAL_TOLERABLE = "{n}. {name}（可先申请，{days}个工作日内补交）{note}"
MATERIAL_NOTE = "——{note}"
ONLY_WHEN = "〔仅当{conditions}时需要〕"
CONDITION_PART = "“{label}”为“{value}”"
CONDITION_JOIN = "且"
VALUE_OR = "或"
YES = "是"
NO = "否"

TIME_IMMEDIATE = "{n}. {item}：即办件，材料齐全当场办结"
TIME_PROMISED = "{n}. {item}：承诺{promised}个工作日内办结（法定{legal}个工作日）"
TIME_AFTER = "，在“{deps}”办结后办理"
TIME_PARALLEL = "未注明先后的事项同时办理。"
FEE_NONE = "全部事项均不收费。"
FEE_LINE = "{n}. {item}：{standard}"
WHERE_CHANNELS = "办理方式：{channels}"
CHANNELS = {
    "窗口办理": "到窗口办理",
    "网上办理": "网上办理（辽事通、微信小程序）",
    "都可以": "网上办理或到窗口办理均可",
}
WHERE_LOCATION = "办理地点：{location}"
WHERE_HOURS = "办理时间：{hours}"
WHERE_EXPRESS = "证件寄递：{note}"
WHERE_APPOINTMENT = "预约：{note}"
WHERE_PHONE = "咨询电话：{consult}；监督电话：{supervise}"

# ---- HTTP API messages ------------------------------------------------------
API_THING_NOT_FOUND = "没有找到这件事：{id}"
API_BAD_CATEGORY = "分类只能是“个人”或“法人”"
API_BAD_JSON = "请求内容不是有效的 JSON"
API_NUL_IN_URL = "网址里有不能出现的空字符（%00），请检查后重试"
API_TEXT_REQUIRED = "请提供要识别的文字 text（1 到 500 个字）"
API_BAD_INTENT = "意图名称不对：只能是已有意图，或以 thing_ 开头的小写英文名"
API_EXAMPLE_TEXT = "例句不能为空，最长 500 个字"
API_DUPLICATE_EXAMPLE = "这条例句已经有了（可能在别的意图下）"
API_NOT_FOUND = "没有找到：{what}"
API_ACTIVATION_REFUSED = "新模型的交叉验证准确率比当前模型低 {drop}，超过允许的 {margin}；确认要启用请加 force: true"
API_NO_ROLLBACK = "没有可以回退的早先版本"
API_TRAINING_FAILED = "训练失败：{reason}"

# ---- the conversation ---------------------------------------------------------
WELCOME = "您好，我是辽宁“一件事一次办”助手。请说说您要办什么事，比如“孩子刚出生要上户口”“开个饭店”。回复“办事清单”可以看全部能办的事。"
CHOICE_LINE = "{n}. {label}"
CHOICE_HINT = "请回复序号。"
NOT_UNDERSTOOD = "抱歉，我没太明白您的意思。能换个说法再说一次吗？比如“我要给孩子上户口”。"
OUT_OF_SCOPE = (
    "这件事不在我能办理的范围内，抱歉。我能帮您办辽宁“一件事一次办”的 35 件事（回复“办事清单”可以查看），"
    "从告诉您要准备什么，到在线申请、查进度。其他政务问题可以拨打 12345 政务服务便民热线咨询，"
    "也可以回复“留言咨询”，我把问题转给 12345，由工作人员答复您。"
)
OUT_OF_SCOPE_ASKED = (
    "您问的这件事不在我能办的 35 件“一件事一次办”里，抱歉。相关政务问题可以拨打 12345 政务服务便民热线咨询，"
    "也可以回复“留言咨询”，我转给 12345 由工作人员答复您；回复“办事清单”可以看看我能办哪些事。"
)
TWO_NEEDS = "您说了两件事：“{first}”和“{second}”。我们先办“{first}”，这件办完我再接着带您办“{second}”。"
NEXT_NEED = "接下来办您刚才提到的“{name}”。"
MATERIAL_EXPLAINED = "“{name}”：{note}"
MATERIAL_USED_BY = "办理“{items}”时要用"
FAQ_ANSWER = "关于“{q}”：{a}"
NOT_ANSWERED = "这个问题我暂时答不准。您可以回复“留言咨询”，我转给 12345 由工作人员答复；也可以接着办，不影响填写。"
NOT_UNDERSTOOD_ABOUT = "抱歉，我没太明白您的意思。能换个说法再说一次吗？比如“{name}要带啥材料”。"
NOT_UNDERSTOOD_AGAIN = "抱歉，还是没能明白。您可以选择："
HELP_CONTINUE = "继续刚才的"
HELP_OPTIONS = {"list": "看看能办哪些事", "human": "转人工客服", "ask": "留言，请工作人员答复", "restart": "重新开始"}
WHICH_THING = "您是想办下面哪一件事？"
NONE_OF_THESE = "都不是"
CATALOG_TITLE = "可以在线办理的“一件事”（共 {count} 件）："
CATALOG_CATEGORY = "【{category}办事】"
CATALOG_PICK = "回复序号即可查看办事指南。"
THING_PICKED = "好的，为您查询“{name}”。"
START_OR_ASK = "下一步您可以："
LINK_FORM_TITLE = "{name}：在线填写申请"
LINK_FORM = "喜欢在表格里填写的，也可以打开小程序页面“{title}”，内容和这里同步。"
START_OPTIONS = {"start": "开始办理", "materials": "再看一下材料", "other": "换一件事"}
START_AGAIN = "准备好了就回复“开始办理”；有疑问可以直接问我，比如“要带啥材料”。"

ELIGIBILITY_INTRO = "先确认一下办理条件（回复“是”或“不是”）："
REFUSAL_CONFIRM = "想跟您确认一下：您回答的是“{said}”。如果不符合这个条件，“{item}”暂时不能在这里办理（{reason}）。您是不符合这个条件吗？"
REFUSAL_OPTIONS = {"yes": "是的，不符合", "no": "不是，我符合"}
NOT_ELIGIBLE = "根据您的回答，暂时不能在这里办理“{item}”：{reason}\n建议：{instead}"
NOTHING_LEFT = "按您的回答，“{name}”里这次没有需要办理的事项，所以不用提交。如果哪一项答错了，可以回复“查看已填”修改；需要帮助请回复“转人工”。"
AGE_NOT_MET = "按您填的{label}算，现在是 {age} 周岁，还不满 {need} 周岁。"
NOT_ELIGIBLE_ALL = "这件事暂时无法继续办理。如需帮助，可以回复“转人工”。"
NOT_ELIGIBLE_PARTLY = "其余事项可以继续办理。"
YES_NO_OPTIONS = {"yes": "是", "no": "不是"}
YES_NO_AGAIN = "请回复“是”或“不是”。"

CONSENT = "为了少填表、少交材料，我们可以凭您在辽事通的实名身份，从电子证照库和政务共享数据中调取您本人（或您户内家人、您名下企业）的户籍、婚姻、证照等信息自动填写。您同意调取吗？"
CONSENT_OPTIONS = {"yes": "同意", "no": "不同意，我自己填"}
CONSENT_DECLINED = "好的，不调取共享数据，下面的信息请您逐项填写。"
PREFILL_UNVERIFIED = (
    "下面的信息请您逐项填写，提交后由审批部门核验。（在辽事通实名登录后办理，可以自动带出您本人的信息。）"
)
PREFILL_NOT_OWN = "共享数据只能调取您本人、您户内家人或您名下企业的信息，这一位的信息请您逐项填写。"
PREFILL_DOWN = "共享数据服务暂时连不上，需要您逐项填写，给您添麻烦了。"
PREFILL_NONE = "共享数据里没有查到可以自动填写的信息，下面请您逐项填写。"
VERIFIED_USED = "您已在辽事通实名认证，申请人信息已按实名填好：{who}。"
PREFILL_SHOWN = "已从共享数据为您自动填好以下信息，请核对："
PREFILL_MATERIALS = "以下材料已通过共享获取，无需提交：{names}"
PREFILL_CONFIRM = "这些信息都对吗？"
PREFILL_OPTIONS = {"ok": "都对", "fix": "有要改的"}
WHICH_FIELD = "要修改哪一项？"

FORM_INTRO = "下面开始填写申请表，每项信息只需填一次，共 {count} 项左右。随时可以说“查看已填”“电话填错了”“跳过”。"
FIELD_ASK = "请提供：{label}"
FIELD_HELP = "（{help}）"
FIELD_EXAMPLE = "例如：{example}"
FIELD_OPTIONAL = "此项可以跳过，回复“跳过”即可。"
FIELD_SAVED = "已记录：{label} {value}"
FIELD_SKIPPED = "已跳过：{label}"
FIELD_NOT_SKIPPABLE = "“{label}”是必填项，不能跳过。"
FIELD_REASK = "好的，请重新提供：{label}"
FIELD_CORRECTED = "好的，“{label}”已改为：{value}。"
UNSURE_ANSWER = "不确定也没关系：可以先查一下再回答，已填的内容都会保留；也可以回复“转人工”请工作人员帮您看。"
FIELD_EXPLAINED = "“{label}”这一项是说：{help}"
FIELD_UNKNOWN_FIX = "您想修改哪一项？"
FILLED_TITLE = "目前已填写："
FILLED_EMPTY = "还没有填写任何信息。"
FILLED_LINE = "· {label}：{value}"
PREFILLED_MARK = "（共享数据）"

PROBLEM = {
    "id_card.no_digits": "这里需要 18 位身份证号码（最后一位可能是 X）。一时找不到也没关系，已填的内容都会保留，找到后回复“继续办理”接着填。",
    "id_card.length": "身份证号应为 18 位，您输入的是 {length} 位，请核对。",
    "id_card.chars": "身份证号只能是数字，最后一位可以是数字或 X。",
    "id_card.region": "身份证号前两位的地区代码不对，请核对。",
    "id_card.birth_date": "身份证号第 7 到 14 位的出生日期不对，请核对。",
    "id_card.check_digit": "身份证号第 18 位校验码不对，可能有一位输错了，请核对。",
    "phone.format": "手机号应为 11 位、以 1 开头，请核对。",
    "uscc.length": "统一社会信用代码应为 18 位，请核对。",
    "uscc.chars": "统一社会信用代码里有不该出现的字符（不含 I、O、Z、S、V），请核对。",
    "date.format": "没有看懂这个日期，请按“2026年3月5日”这样的格式回复。",
    "date.day": "请再说一下是{month}的哪一天，例如“{month}5日”。记不清具体哪天，可以看看证件或单据上的日期。",
    "date.month": "请说到月份，例如“{year}年7月”。",
    "date.future": "日期不能晚于今天，请核对。",
    "date.past": "日期不能早于今天，请核对。",
    "enum.option": "请从这几项中选一个：{options}",
    "boolean.format": "请回复“是”或“否”。",
    "integer.format": "请填写一个整数，例如：{example}",
    "amount.format": "请填写金额，例如：{example}",
    "number.min": "不能小于 {min}。",
    "number.max": "不能大于 {max}。",
    "text.empty": "内容不能为空。",
    "text.short": "这一项请写完整一些。",
    "text.unknown": "这一项需要填写。一时不清楚也没关系，可以先查一下，已填的内容都会保留；也可以回复“转人工”请工作人员帮您。",
    "text.too_long": "最多 {max} 个字，请精简一下。",
    "name.format": "姓名应为 2 到 15 个汉字（少数民族姓名可含“·”），请核对。",
    "name.not_a_name": "这里要填的是姓名（2 到 15 个汉字，少数民族姓名可含“·”），请直接告诉我名字。有不明白的也可以直接问我。",
    "name.unusual": "“{name}”不太像姓名。如果没有写错，请再发一次“{name}”；如果刚才说的不是名字，请直接告诉我姓名。",
    "address.short": "地址请写具体一些，包括市、区、街道和门牌号。",
    "address.place": "这里要填的是地址，请写上市、区、街道和门牌号，例如：沈阳市和平区南京南街 1 号 2-3-1。",
    "text.number": "这里要填的是{label}（一串号码），例如：{example}。一时找不到也没关系，已填的内容都会保留，找到后接着填。",
    "attachment.missing": "请上传{label}，或回复“跳过”以后补交。",
    "attachment.required": "这份材料需要上传：请发送{label}的照片或文件。一时找不到也没关系，已填的内容都会保留。",
}
USCC_FLAGGED = "提醒：这个统一社会信用代码的校验位对不上，已先为您记录，提交后工作人员会人工核对（部分早期试点地区的代码属于这种情况）。"
ATTACHMENT_RECEIVED = "已收到：{label}"

COMMITMENT_TITLE = "告知承诺书（{name}）"
COMMITMENT_BODY = (
    "事项：{items}\n"
    "依据：{basis}\n"
    "需要承诺的内容：{content}\n"
    "承诺方式：回复“我承诺”即视为您本人签署，系统记录签署时间和承诺书版本。\n"
    "责任：如承诺不实，将依法撤销办理结果，记入信用记录，并承担相应法律责任。"
)
COMMITMENT_ASK = "您愿意作出上述承诺吗？回复“我承诺”，或回复“不承诺”改为提交证明材料。"
COMMITMENT_RECORDED = "已记录您的承诺（{at}）。"
COMMITMENT_NOT_OFFERED = "根据信用记录，本次不能以告知承诺代替“{name}”，请准备并上传该证明材料。"
COMMITMENT_DECLINED = "好的，请准备并上传“{name}”。改主意了也可以回复“我承诺”。"
COMMITMENT_EXPLICIT = (
    "告知承诺书要由您本人明确签署：同意的话请回复“我承诺”；不愿意承诺请回复“不承诺”，改为提交证明材料。"
)
COMMITMENT_PROOF_NEEDED = (
    "这份证明不能跳过：请上传“{name}”的照片或文件。{offer}一时找不到也没关系，已填的内容都会保留。"
)
COMMITMENT_CAN_PROMISE = "也可以回复“我承诺”，改为签署告知承诺书。"

TOLERABLE_NOTICE = "以下材料可以先不交，申请照常受理：{names}。请在 {days} 个工作日内补交；逾期未补交的，相关事项将按不予受理处理，需要重新申请。"

REVIEW_TITLE = "请核对您的申请（{name}）："
REVIEW_MATERIALS_SHARED = "免提交材料：{names}"
REVIEW_MATERIALS_LATER = "待补交材料：{names}"
REVIEW_COMMITMENTS = "已签署承诺：{names}"
REVIEW_FLAGS = "需人工核对：{notes}"
REVIEW_ASK = "确认无误就提交吧。"
REVIEW_OPTIONS = {"submit": "确认提交", "edit": "修改信息", "cancel": "取消申请"}
SUBMITTED = "已提交！正在报送到政务服务平台，受理后会把申办编号发给您。查询进度请回复“查进度”。"
SUBMIT_FAILED = "提交时出了点问题，您填写的内容都已保存。请稍后回复“提交”再试一次。"

CANCELLED = "已取消“{name}”的办理，填写的内容已清除。还有什么可以帮您？"
NOTHING_TO_CANCEL = "目前没有正在办理的事。"
ASIDE_DROPPED = "好的，这件事先不办了。还有什么可以帮您？"
COMPLAINT_DROPPED = "好的，不是投诉，是我理解错了。"
ANYTHING_ELSE = "请问您想办什么事？直接说就行，比如“开个饭店要办哪些手续”。"
CANCEL_CONFIRM = "确定要取消“{name}”的办理吗？您已经填写的 {count} 项（{labels}）会一并清除。"
CANCEL_OPTIONS = {"yes": "确定取消", "no": "不取消，接着填"}
CANCEL_KEPT = "好的，不取消，填写的内容都还在。"
CANCELLED_RESTORABLE = (
    "已取消“{name}”的办理。如果是误操作，今天之内回复“恢复草稿”可以找回刚才填写的内容。还有什么可以帮您？"
)
RESTORED = "已恢复“{name}”的草稿，我们接着填。"
NOTHING_TO_RESTORE = "没有可以恢复的草稿（取消的草稿只保留到当天）。"
RESTART_KEPT = "刚才填写的“{name}”已为您保存，回复“继续办理”可以接着填。"
RESTARTED = "好的，我们重新开始。"
SWITCHED = "“{old}”已为您保存草稿，回复“继续办理”可以接着填。"
RESUME_NONE = "没有找到未完成的申请。请说说您要办什么事。"
RESUME_WHICH = "您有几件事没办完，要继续哪一件？"
RESUMED = "欢迎回来，接着办理“{name}”。"
HANDOFF = "正在为您转接人工客服，请稍候。人工客服接入前，您的申请进度都会保留。也可以直接拨打 12345 政务服务便民热线。"
QUEUE_AHEAD = "您前面还有 {ahead} 位"
QUEUE_NEXT = "下一位就是您"
HANDOFF_QUEUED = "已为您转接人工客服，{place}，请稍候。客服接入前，您可以继续和我对话，申请进度都会保留；也可以拨打 12345 政务服务便民热线。不需要了请回复“取消人工”。"
HANDOFF_STILL_QUEUED = "您已在等候人工客服，{place}，请稍候。"
HANDOFF_WITHDRAWN = "好的，已取消人工客服。"
HANDOFF_NONE = "您现在没有在等候人工客服。"
HANDOFF_PROMISE_OPEN = (
    "人工客服现在都比较忙，很抱歉让您久等。预计 {minutes} 分钟内为您接入；您也可以继续和我对话，或拨打 12345。"
)
HANDOFF_PROMISE_CLOSED = "现在是人工客服的休息时间（工作日 {hours}）。我们会在 {when} 上班后尽快回复您；您也可以继续和我对话，或拨打 12345（24 小时）。"
AGENT_JOINED = "人工客服 {agent} 为您服务，请问有什么可以帮您？"
AGENT_LEFT = "人工客服已结束本次服务，接下来由我继续为您办理。"
AGENT_LOST = "人工客服的连接中断了，很抱歉。已为您重新排队，下一位客服会接着处理；这期间您也可以继续和我对话。"
RATE_AGENT_ASK = "请给刚才人工客服的服务打个分，不评也没关系。"
RATE_AGENT_LATER = "想为刚才的人工服务打分，随时回复“评价”。"
PHONE_CODE_ASK_PHONE = "请回复收到这条短信的手机号，核对后为您接上电话里办的事。"
PHONE_CODE_PHONE_AGAIN = "请回复 11 位手机号，就是收到办事码短信的那个号码。"
PHONE_CODE_WRONG = "办事码或手机号不对，或者办事码已过期（有效期 24 小时）。请核对短信，或拨打 12345 请客服重新发送。"
PHONE_CODE_LOCKED = "办事码输错次数太多，请一小时后再试，或拨打 12345 请客服帮您。"
PHONE_DRAFT_RESUMED = "已接上您在 12345 电话里办的“{name}”，电话里说的 {count} 项已经填好。"
PHONE_CODE_SMS = "【辽宁一件事】您在 12345 电话中办理的“{name}”已保存。在微信公众号或小程序中发送办事码 {code} 即可接着办理，24 小时内有效。"
COMPLAINT = "很抱歉给您带来不好的体验。您的投诉已记录并转给人工客服处理，工作人员会尽快联系您。也可以拨打 12345 热线或 {supervise} 监督电话。"
COMPLAINT_PHONE = "12345"
COMPLAINT_ASK = (
    "很抱歉给您带来不好的体验。请说说您要投诉的具体情况（什么事、哪个部门、什么时候），我会转给 12345 热线督办。"
)
GUIDE_CHANGED = "提示：“{name}”的办事指南刚刚更新，您已填写的内容仍然有效。想看最新要求，可以问我“要带什么材料”。"
GUIDE_CHANGED_AGAIN = "提示：“{name}”的办事指南刚刚更新，按新要求，这几项需要您重新确认：{fields}。其余已填内容都保留。"
TOO_FAST = "您发送得太快了，请稍等几秒再发。刚才的内容如果没有得到回复，请再发一次。"
CALLS_ON = "好的，以后办理进度会由 12345 打电话告诉您（号码用您申请时留的手机号），短信和消息也照常发。不需要了请说“不用打电话”。"
CALLS_OFF = "好的，以后不再打电话通知您，进度会通过消息和短信告诉您。"
FOLLOW_UP_ASK = "请把您的问题说得详细一些（什么事、在哪里办、遇到了什么情况），我转给 12345 热线，由工作人员答复您。"
FOLLOW_UP_TAKEN = "已转到 12345 政务服务便民热线，工单号稍后发给您；工作人员答复后，会在这里和短信里告诉您。"
COMPLAINT_NAME = "为了让承办单位联系您，请告诉我您的姓名。"
COMPLAINT_PHONE_ASK = "请留一个能联系到您的手机号。"
COMPLAINT_TAKEN = "您的投诉已转到 12345 政务服务便民热线督办，工单号稍后发给您；承办单位会在 1 个工作日内联系您。同时已请人工客服看一下。"
GOODBYE = "好的，祝您办事顺利！有需要随时找我。"
THANKS = "不客气，能帮到您很高兴！"
GREET_BACK = "您好！请说说您要办什么事。"

PROGRESS_NONE = "您还没有提交过申请。"
PROGRESS_NONE_NAMED = "没有查到您在这里提交的“{name}”申请。在窗口或其他渠道办理的，可以拨打 12345 查询进度。"
PROGRESS_NONE_FOR = "没有查到您办理“{name}”的申请。您的其他申请如下："
PROGRESS_TITLE = "您的申请进度："
PROGRESS_APPLICATION = "【{name}】申办编号：{number}，提交于 {at}"
PROGRESS_PENDING_NUMBER = "报送中"
PROGRESS_ITEM = "· {item}：{status}"
NOTICE_ORDER_OPENED = "您反映的问题已转到 12345 政务服务便民热线（{kind}），工单号 {number}。承办单位办理后会回复您，有进展也会在这里告诉您。"
NOTICE_ORDER = "您的 12345 工单 {number} 有新进展：{status}。{result}"
RATE_NONE = "您还没有全部办结的申请，办结后再来评价吧。"
RATE_ASK = "请给“{name}”这次办事打个分，不评也没关系。"
RATE_CHOOSE = "您对这次办事满意吗？"
RATE_WHY = "很抱歉让您不满意。哪里做得不好？说一说，我们转给 12345 督促整改。"
RATE_THANKS = "谢谢您的评价！以后想补充，随时回复“评价”再评一次。"
RATE_BAD_TAKEN = "已记录您的评价，并转到 12345 热线：承办部门会在 1 个工作日内联系您，15 个工作日内整改并回复。"
NOTICE_RATE_INVITE = "“{name}”（申办编号 {number}）已全部办结。方便的话回复“评价”给这次办事打个分，不评也没关系。"
SUPPLEMENT_NONE = "您目前没有需要补正的材料。回复“查进度”可以看各事项的办理情况。"
SUPPLEMENT_PICK = "有几项需要补正，先补哪一项？"
SUPPLEMENT_ASK = "“{item}”需要补充：{missing}。\n请直接发照片，或用文字说明，发完我就转交审批部门。"
SUPPLEMENT_EMPTY = "没有收到照片或文字。请发送需要补正的材料照片，或用文字说明。"
SUPPLEMENT_TAKEN = "收到，已转交审批部门，“{item}”会恢复审批，有进展马上告诉您。"
SUPPLEMENT_GONE = "这一项现在不需要补正了（可能已经处理过）。回复“查进度”看最新情况。"
PROGRESS_NOT_FOUND = "没有找到申办编号 {number} 的申请，请核对编号。"

ANSWER_CONDITIONS = "“{name}”的办理条件："
ANSWER_MATERIALS = "“{name}”需要的材料："
ANSWER_DURATION = "“{name}”的办理时限："
ANSWER_FEE = "“{name}”的收费："
ANSWER_LOCATION = "“{name}”在哪办："
ANSWER_ONLINE = "“{name}”能不能网上办："
ANSWER_ONLINE_YES = "可以，全程在这里网上申请，结果可以邮寄或发电子证照。"
ANSWER_ONLINE_WINDOW = "这件事的部分事项需要到窗口办理：{items}。可以先在这里网上申请、预约，再到窗口一次办结。"
ANSWER_NO_THING = "请先告诉我您要办哪件事，我再告诉您具体要求。"
ITEM_EXPLAINED = "“{item}”是这件事里一并办理的一项，由{agency}办理。办理条件：{conditions}。"
BACK_TO = "我们接着刚才的："

ELDERLY_OFFER = "看您已年满 60 岁：如果觉得字多，回复“长辈模式”可以切换，字更少、一次只问一件事。"
ELDERLY_ON = "已切换到长辈模式。"
ELDERLY_OFF = "已切换回标准模式。"
PROXY_ASK = "您是替家里人办理吗？"
PROXY_OPTIONS = {"self": "给自己办", "proxy": "替家人代办"}
PROXY_RELATION = "请问您和办事人是什么关系？比如：子女、配偶、父母。"
PROXY_RECORDED = "好的，记录为由{relation}代办。下面请填写办事人本人的信息。"
FOOTER = ""  # appended to the last message of a turn (elderly/voice: how to reach a human)
READBACK = "您填写的是：{value}，对吗？"
READBACK_OPTIONS = {"yes": "对", "no": "不对，重新填"}
NOTED_FROM_WORDS = "您刚才说过，已记下“{label}：{value}”。不对的话，可以说“{label}填错了”。"
READBACK_AGAIN = "先确认一下刚才的："
GUIDE_SHORT = "办“{name}”需要您准备的："
GUIDE_SHORT_LINE = "{n}. {name}"
GUIDE_SHORT_NONE = "不需要您准备材料，全部可以共享调取。"
GUIDE_SHORT_TAIL = "是否收费：{free}。"
FEE_FREE = "不收费"
FEE_SOME = "部分收费，开始办理前会说明"

# ---- notices (after submission) ---------------------------------------------
NOTICE_ACCEPTED = "好消息：您的“{name}”申请已被政务服务平台受理，申办编号 {number}。各事项的办理进展会及时告诉您，也可以随时回复“查进度”。"
NOTICE_NEEDS_STAFF = "您的“{name}”申请需要工作人员人工核对，我们会尽快联系您，请保持电话畅通。给您添麻烦了。"
NOTICE_STATUS = "您的“{name}”（申办编号 {number}）有新进展：{item} {status}。{note}"
NOTICE_SUPPLEMENT = (
    "您的“{name}”（申办编号 {number}）中“{item}”需要补正材料。\n"
    "需要补充：{missing}\n原因：{reason}\n请在 {deadline} 前补交，逾期未补正的将按不予受理处理。\n"
    "直接在这里回复“补正”，按提示发送照片或文字即可，不用跑窗口。"
)
NOTICE_DONE = "您的“{name}”（申办编号 {number}）中“{item}”已办结。{delivery}"
NOTICE_DELIVERY = {
    "邮寄": "结果已通过邮寄寄出，快递单号 {tracking}，请留意查收。",
    "自取": "请带身份证原件到 {place} 领取结果。",
    "电子证照": "电子证照已发放，可在辽事通“我的证照”中查看和使用。",
}
NOTICE_DELIVERY_UNKNOWN = "结果领取方式会另行通知您。"
NOTICE_REFUSED = "很抱歉，您的“{name}”（申办编号 {number}）中“{item}”不予受理。原因：{reason}。如有疑问，可以回复“转人工”或拨打 12345。"

# ---- WeChat official account ----------------------------------------------------
WECHAT_VOICE_UNHEARD = "抱歉，这段语音没能识别出来。请打字告诉我，或拨打 12345 政务服务便民热线。"
WECHAT_UNSUPPORTED = "目前只能处理文字、语音和图片。请打字告诉我您要办什么事，回复“办事清单”可以看全部能办的事。"
WECHAT_MORE_FOLLOWS = "（内容较多，其余部分随后发给您）"

# ---- mini-program / 辽事通 API ----------------------------------------------------
API_IDENTITY_SIGNATURE = "实名信息核验没有通过，请从辽事通重新进入。"
API_IDENTITY_EXPIRED = "实名信息已过期，请从辽事通重新进入。"
API_IDENTITY_USED = "这份实名信息已经用过了，请从辽事通重新进入。"
API_GRANTS_BODY = "请提供订阅消息的授权结果（每个模板一项，一次最多 3 个）。"
API_GRANTS_UNKNOWN = "这个订阅消息模板不是本服务的，没有记录。"
API_RATING_BODY = "请给出 1 到 5 分的评价（5 分为非常满意），留言不超过 500 字。"
API_APPLICATION_NOT_FOUND = "没有找到您的这件申请。"
API_RATING_NOT_FINISHED = "这件事还没有全部办结，办结后再来评价吧。"
API_LOGIN_CODE = "请提供 wx.login 得到的 code"
API_LOGIN_FAILED = "登录失败：微信登录凭证无效或已过期，请重新进入小程序"
API_LOGIN_UNAVAILABLE = "微信登录服务暂时不可用，请稍后再试"
API_TOKEN_REQUIRED = "请先登录（Authorization: Bearer <token>）"
API_TOKEN_EXPIRED = "登录已过期，请重新登录"
API_TOO_MANY = "请求太频繁了，请稍等一秒再试。"
API_CURSOR = "after 须为上一次答复中的 cursor"
API_POLL_SUPERSEDED = "您在另一个页面打开了同一个对话，新消息会显示在那里"
API_CHAT_BODY = "请提供 text（最多 2000 个字）或 choice"
API_UNKNOWN_FIELD = "这件事的申请表里没有这一项"
API_FORM_BODY = "请提供 answers：{字段: 填写内容}"
API_FORM_INCOMPLETE = "申请表还没填完，不能提交"
API_UNAVAILABLE = "服务暂时繁忙，请稍等一两分钟再试。给您带来不便，敬请谅解。"
WECHAT_UNAVAILABLE = "抱歉，系统暂时繁忙，您刚才的消息没能处理。请过一两分钟再发一次；急事请拨打 12345 热线。"
WECHAT_REST_LATER = "（其余内容暂时没能发出，请稍后回复“再听一遍”查看完整内容）"
