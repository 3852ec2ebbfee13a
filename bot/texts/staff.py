"""Texts for staff (hotline agents and admins) in the consoles and the CLI.
Citizens never see these; they live apart from the citizen styles."""

LOGIN_REQUIRED = "请先登录"
LOGIN_FAILED = "用户名或密码不对"
LOGIN_THROTTLED = "登录失败次数过多，请 15 分钟后再试"
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
