"""Simulated enterprise registry (国家企业信用信息公示系统): the registered facts about a USCC."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from fastapi import APIRouter
from pydantic import BaseModel

from sandbox.codes import digest_int
from sandbox.enterprises import (
    CANCELLED_SUFFIX,
    REVOKED_SUFFIX,
    TAX_GRADE_M_SUFFIX,
    last_completed_year,
    province_name,
    require_known_enterprise,
    suffix_of,
)

# GB/T 4754 sections with the word an enterprise of that trade tends to carry in its name.
INDUSTRIES: tuple[tuple[str, str, str], ...] = (
    ("C", "制造业", "机械制造"),
    ("F", "批发和零售业", "商贸"),
    ("I", "信息传输、软件和信息技术服务业", "科技"),
    ("E", "建筑业", "建设工程"),
    ("G", "交通运输、仓储和邮政业", "物流"),
    ("A", "农、林、牧、渔业", "农业发展"),
    ("M", "科学研究和技术服务业", "技术服务"),
    ("H", "住宿和餐饮业", "餐饮管理"),
)
_BRANDS = (
    "恒信", "华茂", "瑞丰", "鼎盛", "新源", "嘉禾", "博远", "天合",
    "汇通", "中鑫", "宏达", "金桥", "安泰", "永成", "启明", "众和",
)  # fmt: skip
_SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙")
_GIVEN = ("伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "勇", "军", "杰", "涛", "明", "霞")


class EnterpriseStatus(StrEnum):
    """Registration status: operating (存续), licence revoked (吊销) or deregistered (注销)."""

    ACTIVE = "ACTIVE"
    REVOKED = "REVOKED"
    CANCELLED = "CANCELLED"


class EnterpriseOut(BaseModel):
    """The registry's record of one enterprise."""

    uscc: str
    name: str
    legal_representative: str
    status: EnterpriseStatus
    registered_capital: Decimal
    founding_date: date
    industry_code: str
    industry_name: str
    region_code: str
    region_name: str


def enterprise_record(uscc: str) -> EnterpriseOut:
    """The deterministic record for a USCC (importable, so demos can register matching data)."""
    require_known_enterprise(uscc)

    def pick(facet: str, modulus: int) -> int:
        return digest_int("registry", uscc, facet) % modulus

    industry_code, industry_name, trade_word = INDUSTRIES[pick("industry", len(INDUSTRIES))]
    province = province_name(uscc)
    city = province.removesuffix("省").removesuffix("市")[:2]
    given = _GIVEN[pick("given1", len(_GIVEN))]
    if pick("given-length", 2):
        given += _GIVEN[pick("given2", len(_GIVEN))]
    status = {
        REVOKED_SUFFIX: EnterpriseStatus.REVOKED,
        CANCELLED_SUFFIX: EnterpriseStatus.CANCELLED,
    }.get(suffix_of(uscc), EnterpriseStatus.ACTIVE)
    if suffix_of(uscc) == TAX_GRADE_M_SUFFIX:
        # A new taxpayer (grade M) was founded within the last completed year.
        founded = date(last_completed_year(), 1, 1) + timedelta(days=pick("founded", 300))
    else:
        founded = date(2000, 1, 1) + timedelta(days=pick("founded", 20 * 365))
    return EnterpriseOut(
        uscc=uscc,
        name=f"{city}{_BRANDS[pick('brand', len(_BRANDS))]}{trade_word}有限公司",
        legal_representative=_SURNAMES[pick("surname", len(_SURNAMES))] + given,
        status=status,
        registered_capital=Decimal((10 + pick("capital", 491)) * 100_000).quantize(
            Decimal("0.01"), ROUND_HALF_UP
        ),
        founding_date=founded,
        industry_code=industry_code,
        industry_name=industry_name,
        region_code=uscc[2:8],
        region_name=province,
    )


def registry_router() -> APIRouter:
    """Routes of the enterprise registry under /registry/v1."""
    router = APIRouter(prefix="/registry/v1", tags=["registry"])

    @router.get(
        "/enterprises/{uscc}", operation_id="registry_get_enterprise", response_model=EnterpriseOut
    )
    async def get_enterprise(uscc: str) -> EnterpriseOut:
        return enterprise_record(uscc)

    return router
