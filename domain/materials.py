"""Application materials as files (申请材料): which types are accepted, judged on their bytes
(never on the name or the declared type), the size limit, and the field-level refusals."""

from __future__ import annotations

import io
import zipfile

from domain.errors import FieldIssue, issue
from domain.onboarding import check_file, sniff_content_type
from domain.origination import Material

MAX_MATERIAL_BYTES = 20 * 1024 * 1024
"""A material may be at most 20 MB (a scanned statement of several pages fits)."""

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
PREVIEWABLE = frozenset({"application/pdf", "image/jpeg", "image/png"})
"""Types a browser shows inline (the officer's preview); the others are downloaded."""
SPREADSHEETS = frozenset({XLSX, CSV})
EXTENSIONS = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    XLSX: "xlsx",
    CSV: "csv",
}
# The parts every OOXML workbook has: a zip that lacks them is not a spreadsheet.
_OOXML_PARTS = ("[Content_Types].xml", "xl/workbook.xml")


def _is_xlsx(data: bytes) -> bool:
    """A zip holding the OOXML workbook parts (an .xlsx, not any zip renamed)."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError):
        return False
    return all(part in names for part in _OOXML_PARTS)


def decode_text(data: bytes) -> str | None:
    """The text of a CSV: UTF-8 (with or without BOM), else GBK (what Excel saves in China);
    None for bytes that are no text (NUL or other control bytes, undecodable)."""
    for encoding in ("utf-8-sig", "gbk"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if any(ord(c) < 32 and c not in "\t\r\n" for c in text):
            return None
        return text
    return None


def material_content_type(data: bytes) -> str | None:
    """What the bytes really are: PDF, JPEG, PNG, XLSX or CSV text; None for anything else."""
    sniffed = sniff_content_type(data[:16])
    if sniffed is not None:
        return sniffed
    if _is_xlsx(data):
        return XLSX
    if data and decode_text(data) is not None:
        return CSV
    return None


def unknown_kind(kind: str, field: str = "kind") -> list[FieldIssue]:
    """A kind outside the checklist's vocabulary (a typo must not count as a document)."""
    known = sorted(m.value for m in Material)
    if kind in known:
        return []
    return [
        issue(
            field,
            "material.unknown_kind",
            f"未知的材料类型：{kind}",
            f"Unknown material kind: {kind}. Known: {', '.join(known)}.",
        )
    ]


def check_material(size: int, data: bytes, field: str = "file") -> list[FieldIssue]:
    """Not empty, at most 20 MB, and a PDF/JPEG/PNG/XLSX/CSV by its content."""
    return check_file(
        size,
        size <= MAX_MATERIAL_BYTES and material_content_type(data) is not None,
        limit=MAX_MATERIAL_BYTES,
        accepted=(
            "PDF、JPEG、PNG、XLSX、CSV（按文件内容判断）",
            "PDF, JPEG, PNG, XLSX and CSV (judged by their content)",
        ),
        field=field,
    )


def upload_status(problems: list[FieldIssue]) -> int:
    """The HTTP status of a refused upload: 413 too large, 422 unknown kind or empty, 415."""
    codes = {p.code for p in problems}
    if "upload.too_large" in codes:
        return 413
    if "upload.unsupported_type" in codes:
        return 415
    return 422
