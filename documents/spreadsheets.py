"""Uploaded spreadsheets (XLSX, CSV in UTF-8 or GBK) read into rows of cells, and a financial
statement read from them (``domain.statements``); a file that cannot be read is a reading with
the reason in words, never an exception."""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from typing import Any

from domain.errors import issue
from domain.materials import CSV, XLSX, decode_text
from domain.statements import StatementReading, read_statement

MAX_ROWS = 2000  # a statement is a page or two; a huge sheet is not one
MAX_COLUMNS = 30


def sheet_rows(data: bytes, content_type: str) -> list[list[Any]]:
    """Every sheet's rows one after the other (values as last calculated, not formulas).
    ValueError when the bytes cannot be read as the type."""
    if content_type == CSV:
        text = decode_text(data)
        if text is None:
            raise ValueError("not text")
        lines = itertools.islice(csv.reader(io.StringIO(text)), MAX_ROWS)
        return [list(line[:MAX_COLUMNS]) for line in lines]
    if content_type != XLSX:
        raise ValueError(content_type)
    from openpyxl import load_workbook  # imported when needed: the API starts without it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, TypeError) as exc:
        raise ValueError(str(exc)) from exc
    rows: list[list[Any]] = []
    try:
        for sheet in book.worksheets:
            for row in sheet.iter_rows(max_row=MAX_ROWS, max_col=MAX_COLUMNS, values_only=True):
                rows.append(list(row))
    finally:
        book.close()
    return rows


def read_statement_file(data: bytes, content_type: str) -> StatementReading:
    """The statement in an XLSX or CSV file; a file that cannot be opened says so."""
    try:
        rows = sheet_rows(data, content_type)
    except Exception:  # any failure of a third-party reader means "unreadable"
        return StatementReading(
            "元",
            None,
            {},
            [
                issue(
                    "file",
                    "statement.unreadable",
                    "表格文件无法打开（已损坏或格式不符），未能读取报表",
                    "The spreadsheet could not be opened (damaged or not the format it claims); "
                    "the statement was not read",
                )
            ],
        )
    return read_statement(rows)
