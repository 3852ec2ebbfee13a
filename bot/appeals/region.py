"""属地 of a Liaoning resident from the first four digits of their ID number
(GB/T 2260 prefecture codes): where 12345 routes a work order."""

from __future__ import annotations

PREFECTURES = {
    "2101": "沈阳市", "2102": "大连市", "2103": "鞍山市", "2104": "抚顺市", "2105": "本溪市",
    "2106": "丹东市", "2107": "锦州市", "2108": "营口市", "2109": "阜新市", "2110": "辽阳市",
    "2111": "盘锦市", "2112": "铁岭市", "2113": "朝阳市", "2114": "葫芦岛市",
}  # fmt: skip
PROVINCE = "辽宁省"


def region_of(id_number: str | None) -> str:
    """The prefecture for a Liaoning ID number; the province itself otherwise."""
    return PREFECTURES.get((id_number or "")[:4], PROVINCE)
