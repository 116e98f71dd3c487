"""USCC scenarios shared by the registry, bureau and tax providers: validity and magic suffixes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sandbox.codes import is_valid_uscc
from sandbox.errors import SandboxError

# The magic part of a USCC is its "suffix": characters 15-17, just before the check character.
UNKNOWN_SUFFIX = "000"
REVOKED_SUFFIX = "999"
CANCELLED_SUFFIX = "998"
OVERDUE_SUFFIX = "990"
SANCTIONED_SUFFIX = "991"
OVER_INDEBTED_SUFFIX = "992"
TAX_GRADE_D_SUFFIX = "980"
TAX_GRADE_M_SUFFIX = "981"
TAX_GRADE_C_SUFFIX = "982"

PROVINCES: dict[str, str] = {
    "11": "北京市",
    "12": "天津市",
    "13": "河北省",
    "14": "山西省",
    "15": "内蒙古自治区",
    "21": "辽宁省",
    "22": "吉林省",
    "23": "黑龙江省",
    "31": "上海市",
    "32": "江苏省",
    "33": "浙江省",
    "34": "安徽省",
    "35": "福建省",
    "36": "江西省",
    "37": "山东省",
    "41": "河南省",
    "42": "湖北省",
    "43": "湖南省",
    "44": "广东省",
    "45": "广西壮族自治区",
    "46": "海南省",
    "50": "重庆市",
    "51": "四川省",
    "52": "贵州省",
    "53": "云南省",
    "54": "西藏自治区",
    "61": "陕西省",
    "62": "甘肃省",
    "63": "青海省",
    "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区",
}


def suffix_of(uscc: str) -> str:
    """The three characters that select a sandbox scenario."""
    return uscc[14:17]


def require_known_enterprise(uscc: str) -> str:
    """Refuse malformed codes (422) and the designated unknown ones (404); return the USCC."""
    if not is_valid_uscc(uscc):
        raise SandboxError(
            422, "INVALID_USCC", "the USCC is not 18 characters with a valid check character"
        )
    if suffix_of(uscc) == UNKNOWN_SUFFIX:
        raise SandboxError(404, "ENTERPRISE_NOT_FOUND", "no enterprise is registered under it")
    return uscc


def province_name(uscc: str) -> str:
    """The province-level region named by the administrative division code in the USCC."""
    return PROVINCES.get(uscc[2:4], "未知地区")


_CHINA_TZ = timezone(timedelta(hours=8))  # Asia/Shanghai has had no daylight saving since 1991


def last_completed_year() -> int:
    """The latest fiscal year that is over, by the calendar in Beijing."""
    return datetime.now(_CHINA_TZ).year - 1
