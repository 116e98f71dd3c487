"""Errors of the credit model pipeline, with a machine code and a Chinese and English message."""

from __future__ import annotations


class ModelDataError(ValueError):
    """Training data that cannot be used; ``field`` names the column or option at fault."""

    def __init__(self, code: str, message_zh: str, message_en: str, field: str = "data") -> None:
        super().__init__(message_en)
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en
        self.field = field

    def __str__(self) -> str:
        return f"{self.code}: {self.message_en} ({self.message_zh})"
