"""Material files uploaded as an applicant would: a balanced XLSX for financial statements,
a PDF for every other kind; their ids, to name in ``material_ids``."""

from __future__ import annotations

from tests.integration.conftest import Platform
from tests.materials_support import PDF, balance_sheet_rows, income_statement_rows, xlsx

STATEMENTS = xlsx(balance_sheet_rows(), income_statement_rows())


async def uploaded(
    platform: Platform, headers: dict[str, str], *kinds: str, application_id: str | None = None
) -> list[str]:
    """Upload one file per kind (to the application, or ahead of one); their ids."""
    path = f"/api/v1/applications/{application_id}/materials" if application_id else ""
    ids: list[str] = []
    for kind in kinds:
        file = ("报表.xlsx", STATEMENTS)
        if kind != "financial_statements":
            file = (f"{kind}.pdf", PDF + kind.encode())
        response = await platform.http.post(
            path or "/api/v1/materials",
            data={"kind": kind},
            files={"file": file},
            headers=headers,
        )
        assert response.status_code == 201, response.text
        ids.append(str(response.json()["id"]))
    return ids
