"""Texts for staff (hotline agents and admins) in the consoles and the CLI.
Citizens never see these; they live apart from the citizen styles."""

LOGIN_REQUIRED = "请先登录"
LOGIN_FAILED = "用户名或密码不对"
LOGIN_THROTTLED = "这个账号从这里登录失败的次数过多，请 {minutes} 分钟后再试"
LOGIN_BODY = "请提供用户名和密码"
FORBIDDEN = "您的账号没有这项权限"
CSRF_FAILED = "请求来源校验没有通过，请刷新页面后重试"
BAD_JSON = "请求内容不是有效的 JSON"
NOT_FOUND = "没有找到：{what}"

HANDOVER_TAKEN = "这个会话已被其他客服接入，或已结束"
HANDOVER_NOT_YOURS = "这个会话不在您名下"
MESSAGE_BODY = "请填写要发送的内容（1 到 1000 个字）"
HANDBACK_BODY = "请选择交还给机器人后从哪里继续：form（接着填表）、start（重新开始）或 none（只结束人工）"
CLOSE_BODY = "请填写服务小结（1 到 2000 个字）"
PHONE_DRAFT_BODY = "请选择一件事，填写来电人的手机号，和至少一项电话中说到的内容"
PHONE_DRAFT_FIELDS = "有几项填写不对，请按提示改正"
PHONE_DRAFT_PHONE = "手机号不对：{problem}"
PHONE_SMS_SENT = "办事码已通过短信发给来电人"
PHONE_SMS_FAILED = "短信暂时发不出去，请把办事码在电话里读给来电人"

REASONS = {
    "requested": "主动要求人工",
    "not_understood": "机器人没听懂",
    "complaint": "投诉",
    "ivr": "电话转人工",
    "elderly": "长辈优先",
}

ACCOUNT_USERNAME = "用户名须为 2–32 位小写字母、数字、点、下划线或连字符，以字母或数字开头"
ACCOUNT_ROLE = "角色须为 {roles}"
ACCOUNT_PASSWORD = "密码至少 {n} 位"
ACCOUNT_EXISTS = "用户名 {username} 已存在"
ACCOUNT_MISSING = "没有用户 {username}"
ACCOUNT_CREATED = "已创建 {role} 账号 {username}"
ACCOUNT_LOGINS_ENDED = "已更新账号 {username}，它的 {n} 个登录已退出"
ACCOUNT_PASSWORD_PROMPT = "密码（至少 {n} 位）："
ACCOUNT_PASSWORD_AGAIN = "再输一遍："
ACCOUNT_PASSWORD_MISMATCH = "两次输入的密码不一样"

# the summary a 12345 agent sees when the IVR transfers a call (handlers/ivr.py)
IVR_CONTEXT_CALLER = "来电 {caller}"
IVR_CONTEXT_ELDER = "来电人 {age} 岁"
IVR_CONTEXT_REASON = "转人工原因：{reason}"
IVR_CONTEXT_THING = "正在办理：{name}"
IVR_CONTEXT_FILLED = "已填：{fields}"
IVR_CONTEXT_FIELD = "{label} {value}"
IVR_CONTEXT_ASKED = "机器人刚问：{question}"
IVR_CONTEXT_SAID = "来电人刚说：{said}"
IVR_CONTEXT_JOIN = "；"
IVR_CONTEXT_LIST_JOIN = "，"
IVR_REASON_SILENCE = "多次没有听到来电人说话"
IVR_REASON_TROUBLE = "系统出错，直接转人工"

DASHBOARD_DAYS = "days 须为 1 到 366 的整数"

# admins editing the guides in the console (bot/catalog/edits.py, handlers/console/catalog_admin.py)
CATALOG_INVALID = "指南没有通过检查（{n} 处问题），没有保存；请按提示改正后再发布"
CATALOG_ID_FIXED = "一件事的标识不能修改，应为 {id}"
CATALOG_NO_PLACE = "{path} 无法在表单中修改，请在“YAML 编辑”中修改"
CATALOG_NOT_EDITABLE = "{elements} 不能在表单中修改（可改：{editable}），其他要素请在“YAML 编辑”中修改"
CATALOG_STORED_BROKEN = "当前版本不是有效的 YAML（{problem}），请在“YAML 编辑”中修改"
CATALOG_NO_ITEM = "这件事没有事项 {item}"
CATALOG_FILE_VERSION = "随程序发布的指南文件"
CATALOG_TOO_LONG = "指南文件太长（最多 {n} 个字符）"
CATALOG_NO_ALIASES = "指南文件中不能使用锚点和别名（& 和 *），请把内容直接写出"
CATALOG_CONFLICT = "您是在第 {base} 版上修改的，现在已是第 {version} 版（可能有人刚刚发布）；请重新打开后再改"
CATALOG_UNCHANGED = "内容与当前版本相同，无需发布"
CATALOG_VERSION_FIELD = "无法写入版本号，请检查文件顶层的 version"
CATALOG_NO_VERSION = "没有第 {version} 版"
CATALOG_BODY = "请求内容不对：{problem}"

# admins training the intents (handlers/nlu_api.py, bot/nlu/jobs.py); agents' corrections (handlers/console/corrections.py)
NLU_TRAINING_RUNNING = "已有一次训练正在进行（{actor} 开始，已完成 {percent}%），请等它结束"
NLU_TRAINING_INTERRUPTED = "训练中断了（服务重启或停止），请重新开始训练"
NLU_TRAINING_INVALID = "训练失败：{reason}"
NLU_TRAINING_ERROR = "训练出错了，请稍后重试；仍不行请联系运维查看日志"
NLU_NO_EVALUATION = "还没有评估：启用一个在这里训练的模型版本后，这里显示它在各意图上的表现"
NLU_INBOX_HANDLED = "这一条已经被标注或忽略了"
NLU_LABEL_NO_INTENT = "请选择意图（这一条没有坐席建议的意图）"
NLU_BAD_SOURCE = "source 只能是 fallback（没听懂的话）或 agent（坐席纠正）"
NLU_BAD_ENTITY = "不认识的实体：{names}（可用的实体见 nlu_data/）"
NLU_REPORT_SET = "评估集只能是 cross_validation（交叉验证）或 held_out（测试集）"
NLU_NO_REPORT = "第 {version} 版没有这份评估报告（可能是较早训练的版本）"
CORRECTION_BODY = "请提供要标注的那句话（entry）和它应该是的意图（intent）"
CORRECTION_INTENT = "没有这个意图：{intent}"
CORRECTION_ENTRY = "只能标注办事人说的话（这条记录可能已经过期）"
CORRECTION_SAVED = "已记下，管理员会在“意图训练”的待标注里看到"

INTENT_LABELS = {  # intents other than the one-things (whose names come from the catalog)
    "greet": "问候",
    "goodbye": "告别",
    "thanks": "感谢",
    "affirm": "肯定（是、对）",
    "deny": "否定（不是、不对）",
    "cancel": "取消",
    "check_progress": "查办理进度",
    "human_handoff": "转人工",
    "complaint": "投诉",
    "ask_materials": "问要什么材料",
    "ask_duration": "问多久办完",
    "ask_fee": "问收不收费",
    "ask_location": "问去哪里办",
    "ask_online": "问能不能网上办",
    "elderly_mode": "长辈模式",
    "out_of_scope": "不在服务范围",
    "nlu_fallback": "没听懂（兜底）",
}
ENTITY_LABELS = {
    "city": "城市",
    "district": "区县",
    "id_card": "身份证号",
    "phone": "手机号",
    "uscc": "统一社会信用代码",
    "application_no": "申办编号",
    "amount": "金额",
    "date": "日期",
    "person_name": "姓名",
}
CATALOG_NO_CHANGES = "没有要修改的要素"
# the 36 guide elements (编制政务服务目录和办事指南工作手册 附件2) as the console lists them:
# (number, name, field of an item's guide; name / materials / faq live elsewhere in the file)
CATALOG_ELEMENTS = (
    ("1", "基本编码", "basic_code"),
    ("2", "实施编码", "impl_code"),
    ("3", "事项名称", "name"),
    ("4", "事项类型", "topics"),
    ("4", "事项类别", "power_type"),
    ("5", "设定依据", "basis"),
    ("6", "行使层级", "level"),
    ("7", "权限划分", "authority_split"),
    ("8", "行使内容", "exercise_content"),
    ("9", "实施机构", "agency"),
    ("10", "实施主体性质", "agency_nature"),
    ("11", "法定办结时限（工作日）", "legal_limit_days"),
    ("12", "受理条件", "conditions"),
    ("13", "申请材料", "materials"),
    ("14", "联办机构", "co_agencies"),
    ("15", "中介服务", "intermediary"),
    ("16", "办理流程", "process"),
    ("17", "数量限制", "quantity_limit"),
    ("18–19", "结果名称、结果样本、送达方式", "result"),
    ("20–22", "是否收费、收费标准、收费依据", "fee"),
    ("23", "服务对象", "service_object"),
    ("24", "办件类型", "handling_type"),
    ("25", "承诺办结时限（工作日）", "promised_limit_days"),
    ("26", "通办范围", "scope"),
    ("27", "办理形式", "channels"),
    ("28", "预约办理", "appointment"),
    ("29", "网上支付", "online_payment"),
    ("30", "物流快递", "express"),
    ("31", "运行系统", "system_level"),
    ("32", "办理地点", "location"),
    ("33", "办理时间", "hours"),
    ("34", "咨询电话", "consult_phone"),
    ("35", "常见问题", "faq"),
    ("36", "监督电话", "supervise_phone"),
)

FORGET_BODY = "请给出要删除其个人信息的人（user：渠道标识，如 wechat:…）或他的一件申请（application），二选一"
FORGET_DONE_BEFORE = "这个人的个人信息已经删除过了"
