"""Chinese surnames, so that a name can be told from words said instead of one (“转退休那种”,
“有认定决定书”): the single surnames of 百家姓 and the common ones since, and the compound ones.
A few very rare surnames that also begin everyday phrases (有, 能, 从, 别…) are left out: a person
with one of them says their name again and it is taken (the form asks them to)."""

from __future__ import annotations

SINGLE = frozenset(
    "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜戚谢邹喻柏水窦章"
    "云苏潘葛奚范彭郎鲁韦昌马苗凤花方俞任袁柳酆鲍史唐费廉岑薛雷贺倪汤滕殷罗毕郝邬安常"
    "乐于时傅皮卞齐康伍余元卜顾孟平黄和穆萧尹姚邵湛汪祁毛禹狄米贝明臧计伏成戴谈宋茅庞"
    "熊纪舒屈项祝董梁杜阮蓝闵席季麻强贾路娄危江童颜郭梅盛林刁钟徐邱骆高夏蔡田樊胡凌霍"
    "虞万支柯昝管卢莫房裘缪干宗丁宣贲邓郁单杭洪包诸左石崔吉钮龚程嵇邢滑裴陆荣翁荀羊於"
    "惠甄曲家封芮羿储靳汲邴糜松井段富巫乌焦巴弓牧隗山谷车侯宓蓬全郗班仰秋仲伊宫宁仇栾"
    "暴甘钭厉戎祖武符刘景詹束龙叶幸司韶郜黎蓟薄印宿白怀蒲邰鄂索咸籍赖卓蔺屠蒙池乔阴鬱"
    "胥苍双闻莘党翟谭贡劳逄姬申扶堵冉宰郦雍卻璩桑桂濮牛寿边扈燕冀郏浦尚农温庄晏柴瞿阎"
    "慕连茹习宦艾鱼容向古易慎戈廖庾暨居衡步耿满弘匡国文寇广禄阙东欧殳沃利蔚越夔隆师巩"
    "厍聂晁勾敖融冷訾辛阚那简饶曾毋沙乜鞠丰巢关蒯查荆红游竺权逯盖益桓公仉督岳帅缑亢况"
    "郈琴归海晋楚闫法汝鄢涂钦商牟佘佴伯赏墨哈谯笪年爱阳佟言福肖付覃邸揭粟蹇种佀操练门"
    "植扬刑秘亓虎敬旷冼铁代郇达檀占丛庹寻仝伦朴由迟续展郄芦银撒琚原苟雒栗校弥淡信丘兰"
    "钞浑修巨腾励卿苑依逢麦郯"
    "隋衣战初矫綦尉赫图英德来位靖畅谌辜僧保台宇官木尚"  # common in the north-east, or since 百家姓
)
COMPOUND = frozenset(
    {
        "欧阳",
        "司马",
        "上官",
        "诸葛",
        "东方",
        "皇甫",
        "尉迟",
        "公孙",
        "慕容",
        "长孙",
        "宇文",
        "司徒",
        "司空",
        "夏侯",
        "令狐",
        "端木",
        "独孤",
        "南宫",
        "西门",
        "澹台",
        "公冶",
        "轩辕",
        "呼延",
        "万俟",
        "闻人",
        "赫连",
        "拓跋",
        "完颜",
        "申屠",
        "太史",
        "钟离",
        "宗政",
        "濮阳",
        "淳于",
        "单于",
        "仲孙",
        "微生",
        "梁丘",
        "左丘",
        "东郭",
        "百里",
        "第五",
        "爱新觉罗",
        "叶赫那拉",
    }
)


def has_known_surname(name: str) -> bool:
    return name[:1] in SINGLE or any(name.startswith(c) for c in COMPOUND)
