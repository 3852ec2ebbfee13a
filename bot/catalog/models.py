"""The guide format: one one-thing (一件事) with its service items, one set of
materials and one merged form.

Field names follow the 36 elements of the provincial guide standard
(编制政务服务目录和办事指南工作手册, 附件2); docs/catalog.md maps each element to
its field. Structural checks live here; checks that span several parts of a
file (references, ordering) live in ``bot.catalog.validate``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Key = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$", max_length=48)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

# A branch condition: every listed field must hold one of the listed values.
# ``{death_type: 正常死亡}`` or ``{reason: [购房, 租房]}``; booleans allowed.
Condition = dict[Key, str | bool | list[str | bool]]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---- allowed values of the guide elements (seed 001, 附件2) -----------------

TOPICS_PERSON = [
    "生育收养",
    "户籍办理",
    "民族宗教",
    "教育科研",
    "入伍服役",
    "就业创业",
    "设立变更",
    "准营准办",
    "抵押质押",
    "职业资格",
    "行政缴费",
    "婚姻登记",
    "优待抚恤",
    "规划建设",
    "住房保障",
    "社会保障",
    "证件办理",
    "交通出行",
    "旅游观光",
    "出境入境",
    "消费维权",
    "公共安全",
    "司法公证",
    "知识产权",
    "环保绿化",
    "文化体育",
    "公用事业",
    "医疗卫生",
    "离职退休",
    "死亡殡葬",
    "其他",
]
TOPICS_LEGAL = [
    "设立变更",
    "准营准办",
    "资质认证",
    "年检年审",
    "税收财务",
    "人力资源",
    "社会保障",
    "投资审批",
    "融资信贷",
    "抵押质押",
    "商务贸易",
    "招标采购",
    "海关口岸",
    "涉外服务",
    "农林牧渔",
    "国土和规划建设",
    "交通运输",
    "环保绿化",
    "应对气候变化",
    "水务气象",
    "医疗卫生",
    "科技创新",
    "文体教育",
    "知识产权",
    "民族宗教",
    "质量技术",
    "检验检疫",
    "安全生产",
    "公安消防",
    "司法公证",
    "公用事业",
    "法人注销",
    "档案文物",
    "其他",
]


class PowerType(StrEnum):
    """政务服务事项类别 (seed 001, 2.4.1)."""

    license = "行政许可"
    levy = "行政征收"
    confirmation = "行政确认"
    payment = "行政给付"
    public_service = "公共服务"
    other = "其他行政权力"


class Source(StrEnum):
    applicant = "applicant"  # 申请人提供
    shared = "shared"  # 免提交: data sharing / e-license library
    previous_item = "previous_item"  # produced by an earlier item of this one-thing
    commitment = "commitment"  # 告知承诺制 may replace it


class FieldType(StrEnum):
    text = "text"
    name = "name"  # a person's name: personal data
    id_card = "id_card"
    uscc = "uscc"
    phone = "phone"
    date = "date"
    enum = "enum"
    address = "address"
    amount = "amount"
    integer = "integer"
    boolean = "boolean"
    attachment = "attachment"


PERSONAL_TYPES = frozenset({FieldType.name, FieldType.id_card, FieldType.phone, FieldType.address})

# Where a prefilled value may come from: the e-license / data-sharing
# service answers these kinds (docs/elicense-api.md).
PREFILL_SOURCES = frozenset(
    {
        "identity",  # 实名认证信息: name, id_card, phone, birth_date, gender
        "household",  # 户籍信息: address, household_head, relation, police_station
        "marriage",  # 婚姻登记信息: status, spouse_name, spouse_id_card, date
        "birth",  # 出生医学证明: child_name, birth_date, hospital, mother_*, father_*
        "real_estate",  # 不动产登记: cert_no, address, area, owner
        "business",  # 营业执照: name, uscc, legal_rep, address, scope
        "social_security",  # 社保参保信息: card_no, insured_place, pension_account
        "housing_fund",  # 公积金账户: account_no, balance, employer
        "death",  # 死亡信息: name, id_card, date, place
        "military",  # 退役军人信息: discharge_date, service_years
        "disability",  # 残疾人信息: level, category, cert_no
        "vehicle",  # 机动车/驾驶证信息: license_no
        "residence",  # 居住证信息: permit_no, address
        "practice",  # 律师/鉴定人执业信息: license_no, institution
    }
)


# ---- guide parts ------------------------------------------------------------


class Fee(Strict):
    charged: bool  # 是否收费
    standard: str = "不收费"  # 收费标准
    basis: str = "无"  # 收费依据

    @model_validator(mode="after")
    def _charged_needs_standard(self) -> Fee:
        if self.charged and (self.standard == "不收费" or self.basis == "无"):
            raise ValueError("收费事项须填写收费标准和收费依据")
        return self


class Option(Strict):
    """预约办理 / 网上支付 / 物流快递: 可以 or 不可以, with how."""

    available: bool
    note: str = ""

    @model_validator(mode="after")
    def _available_needs_note(self) -> Option:
        if self.available and not self.note:
            raise ValueError("填写“可以”时须写明途径或方式")
        return self


class Step(Strict):
    name: Text
    description: Text
    days: int | None = Field(default=None, ge=0)  # 办理时长 (工作日), None: no own limit


class Result(Strict):
    name: Text  # 结果名称
    sample: str = ""  # 结果样本: file name or link of the sample document
    delivery: list[Literal["邮寄", "自取", "电子证照", "短信通知", "无需领取"]] = Field(min_length=1)


class ItemGuide(Strict):
    """The personalised guide elements of one service item.

    Each may also be given in a one-thing's ``defaults`` and is inherited by
    every item that does not set it.
    """

    topics: list[str] = Field(min_length=1)  # 事项类型 (可多选)
    power_type: PowerType  # 事项类别
    basis: list[Text] = Field(min_length=1)  # 设定依据
    authority_split: str = "无"  # 权限划分
    level: list[Literal["省级", "市级", "县级"]] = Field(min_length=1)  # 行使层级
    exercise_content: str = "无"  # 行使内容
    agency: Text  # 实施机构
    agency_nature: Literal["法定机关", "授权组织", "受委托组织", "其他"] = "法定机关"
    co_agencies: list[str] = []  # 联办机构
    intermediary: str = "无"  # 中介服务
    legal_limit_days: int = Field(ge=0)  # 法定办结时限 (工作日)
    promised_limit_days: int = Field(ge=0)  # 承诺办结时限 (工作日)
    handling_type: Literal["即办件", "承诺件"]  # 办件类型
    conditions: list[Text] = Field(min_length=1)  # 受理条件
    process: list[Step] = Field(min_length=1)  # 办理流程
    quantity_limit: str = "无"  # 数量限制
    result: Result  # 结果名称 / 结果样本 / 送达方式
    fee: Fee  # 是否收费 / 收费标准 / 收费依据
    service_object: list[Literal["自然人", "法人"]] = Field(min_length=1)  # 服务对象
    scope: Literal["全国", "跨省", "跨市", "跨县"]  # 通办范围
    channels: Literal["窗口办理", "网上办理", "都可以"]  # 办理形式
    appointment: Option  # 预约办理
    online_payment: Option  # 网上支付
    express: Option  # 物流快递
    system_level: Literal["国家级", "省级", "市级"]  # 运行系统
    location: Text  # 办理地点
    hours: Text  # 办理时间
    consult_phone: Text  # 咨询电话
    supervise_phone: Text  # 监督电话
    basic_code: str = ""  # 基本编码 (暂不填写)
    impl_code: str = ""  # 实施编码 (暂不填写)


class Item(Strict):
    """One service item (政务服务事项) of a one-thing."""

    key: Key
    name: Text  # 事项名称: exactly as in the provincial list
    dept: Text  # 牵头/主管部门: exactly as in the provincial list
    depends_on: list[Key] = []  # waits for these items' results; others run in parallel
    when: Condition | None = None  # the item applies only in this branch
    guide: ItemGuide


class Material(Strict):
    """One material of the one-thing's single set (一套材料)."""

    key: Key
    name: Text
    items: list[Key] = Field(min_length=1)  # the items that need it
    form: list[Literal["原件", "复印件", "电子"]] = Field(min_length=1)
    copies: int = Field(default=1, ge=0)  # 纸质份数
    source: Source
    basis: str = ""  # 设定依据 of the material
    note: str = ""  # 填报须知 / 受理标准
    when: Condition | None = None  # needed only in this branch
    shared: SharedRef | None = None  # for source=shared
    from_item: Key | None = None  # for source=previous_item
    commitment: Text | None = None  # for source=commitment: 证明的内容 the applicant commits to
    tolerable: bool = False  # 容缺受理: may be supplied later
    supply_within_days: int | None = Field(default=None, ge=1)  # 容缺后补期限 (工作日)

    @model_validator(mode="after")
    def _source_fields(self) -> Material:
        if (self.source is Source.shared) != (self.shared is not None):
            raise ValueError("source 为 shared 时须（且仅此时）填写 shared")
        if (self.source is Source.previous_item) != (self.from_item is not None):
            raise ValueError("source 为 previous_item 时须（且仅此时）填写 from_item")
        if (self.source is Source.commitment) != (self.commitment is not None):
            raise ValueError("source 为 commitment 时须（且仅此时）填写 commitment")
        if self.tolerable != (self.supply_within_days is not None):
            raise ValueError("容缺材料（tolerable: true）须填写 supply_within_days，其他材料不填")
        if self.tolerable and self.source in (Source.shared, Source.previous_item):
            raise ValueError("免提交的材料无需容缺")
        return self


class SharedRef(Strict):
    """Where a 免提交 material comes from."""

    kind: Literal["电子证照", "共享数据"]
    name: Text  # license or data type, e.g. 居民户口簿, 婚姻登记信息
    prefill: str | None = None  # the prefill source kind it answers, see PREFILL_SOURCES


class FormField(Strict):
    """One datum of the merged form (一表申请), asked once for all items."""

    id: Key
    label: Text
    type: FieldType
    required: bool = True
    help: Text  # why we ask and how to answer, in plain words
    example: Text  # an example answer, also for elderly users
    items: list[Key] = Field(min_length=1)  # the items that use it
    options: list[Text] | None = None  # for enum
    prefill: str | None = None  # "<source>.<attribute>", source in PREFILL_SOURCES
    when: Condition | None = None
    material: Key | None = None  # for attachment: the material it carries
    min: float | None = None  # integer / amount bounds
    max: float | None = None
    max_length: int | None = Field(default=None, ge=1)
    not_future: bool = False  # date: not later than today
    not_past: bool = False  # date: not earlier than today
    personal: bool | None = None  # defaults to True for name/id_card/phone/address

    @model_validator(mode="after")
    def _type_fields(self) -> FormField:
        if (self.type is FieldType.enum) != bool(self.options):
            raise ValueError("enum 类型须（且仅此类型）填写 options")
        if self.options and len(set(self.options)) != len(self.options):
            raise ValueError("options 有重复")
        if (self.type is FieldType.attachment) != (self.material is not None):
            raise ValueError("attachment 类型须（且仅此类型）填写 material")
        if self.prefill is not None:
            src, _, attr = self.prefill.partition(".")
            if src not in PREFILL_SOURCES or not attr:
                raise ValueError(f"prefill “{self.prefill}” 应为 来源.属性，来源取 {sorted(PREFILL_SOURCES)}")
        if self.type is not FieldType.date and (self.not_future or self.not_past):
            raise ValueError("not_future / not_past 只用于 date 类型")
        if self.not_future and self.not_past:
            raise ValueError("not_future 与 not_past 不能同时为真")
        if (self.min is not None or self.max is not None) and self.type not in (
            FieldType.integer,
            FieldType.amount,
        ):
            raise ValueError("min / max 只用于 integer、amount 类型")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min 大于 max")
        return self

    @property
    def is_personal(self) -> bool:
        return self.personal if self.personal is not None else self.type in PERSONAL_TYPES


class Form(Strict):
    fields: list[FormField] = Field(min_length=1)


class AgeCheck(Strict):
    """A condition on age read from ID numbers as they are typed (“是” to 法定婚龄 at 21 does not
    hold): each ID's birth date and sex (its 17th digit) against the ages the law sets."""

    fields: list[Key]  # id_card fields of the form
    min_age_male: int = Field(ge=0, le=120)
    min_age_female: int = Field(ge=0, le=120)


class Eligibility(Strict):
    """A yes/no question drawn from 受理条件."""

    id: Key
    question: Text  # asked so that 是 qualifies
    items: list[Key] = []  # items it gates; empty: the whole one-thing
    when: Condition | None = None
    if_not: Text  # why the citizen does not qualify
    instead: Text  # what to do instead
    ages: AgeCheck | None = None  # checked again from the ID numbers given in the form


class Faq(Strict):
    q: Text
    a: Text


class OneThing(Strict):
    id: Key
    seq: int = Field(ge=1)
    name: Text
    category: Literal["个人", "法人"]
    lead: list[Text] = Field(min_length=1)
    summary: Text  # one sentence for citizens: what this one-thing gets done
    keywords: list[Text] = []  # search words for the catalog API
    items: list[Item] = Field(min_length=1)
    materials: list[Material] = Field(min_length=1)
    form: Form
    eligibility: list[Eligibility] = []
    faq: list[Faq] = Field(min_length=3)  # 常见问题
    version: int = Field(default=1, ge=1)  # bumped on every published change

    def item(self, key: str) -> Item:
        return next(i for i in self.items if i.key == key)

    def materials_of(self, item_key: str) -> list[Material]:
        return [m for m in self.materials if item_key in m.items]


Material.model_rebuild()


def merge_defaults(raw: dict[str, Any]) -> dict[str, Any]:
    """Fold a file's ``defaults`` guide block into each item's ``guide``.

    Agencies write what all items share (place, hours, phones…) once; an
    item's own value wins.
    """
    raw = dict(raw)
    defaults = raw.pop("defaults", None) or {}
    if not isinstance(defaults, dict):
        raise ValueError("defaults 应为键值表")
    items = raw.get("items")
    if isinstance(items, list):
        merged = []
        for item in items:
            if isinstance(item, dict):
                item = dict(item)
                own = item.get("guide") or {}
                item["guide"] = {**defaults, **own} if isinstance(own, dict) else own
            merged.append(item)
        raw["items"] = merged
    return raw
