"""What a user typed on the command line, checked before any request: every bad value is
reported at once, each with its option's name, in Chinese and English."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import TypeVar

from cli.display import to_type
from domain.origination import Material

E = TypeVar("E", bound=StrEnum)


@dataclass(frozen=True, slots=True)
class MaterialFile:
    """A material file named on the command line: its checklist kind, name and bytes."""

    kind: str
    name: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


_MONEY = re.compile(r"\d{1,16}(\.\d{1,2})?")
_SIGNED = re.compile(r"[-+]?\d{1,16}(\.\d+)?")
_RATE = re.compile(r"0?\.\d{1,6}")
_WHOLE = re.compile(r"[-+]?\d{1,9}")


class Inputs:
    """Collects the problems of the values checked so far; a value that fails is returned as a
    placeholder, so a command checks everything, then stops if :meth:`report` says so."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def _problem(self, option: str, zh: str, en: str) -> None:
        self.problems.append(f"{option}: {zh} / {en}")

    def money(self, value: str, option: str) -> Decimal:
        """An amount in CNY as typed (a Decimal, never a float): digits, at most 2 decimals, > 0."""
        text = value.strip()
        if _SIGNED.fullmatch(text) and Decimal(text) <= 0:
            self._problem(
                option,
                f"金额须大于 0（输入为 {text}）",
                f"the amount must be more than 0 (you gave {text})",
            )
        elif not _MONEY.fullmatch(text):
            self._problem(
                option,
                f"{value!r} 不是有效金额（如 300000.00，最多两位小数）",
                f"{value!r} is not an amount in CNY (e.g. 300000.00, at most 2 decimals)",
            )
        else:
            return Decimal(text)
        return Decimal(0)

    def rate(self, value: str, option: str) -> Decimal:
        """An annual rate as a decimal fraction (0.0395 is 3.95 %), at most 6 decimals."""
        text = value.strip()
        rate = Decimal(text) if _RATE.fullmatch(text) else Decimal(0)
        if rate <= 0:
            self._problem(
                option,
                f"{value!r} 不是有效年利率（小数，如 0.0395 即 3.95%）",
                f"{value!r} is not an annual rate (a fraction: 0.0395 is 3.95%)",
            )
        return rate

    def day(self, value: str, option: str) -> date:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            self._problem(
                option,
                f"{value!r} 不是日期（YYYY-MM-DD）",
                f"{value!r} is not a date (YYYY-MM-DD)",
            )
            return date.min

    def whole(self, value: str, option: str, low: int, high: int) -> int:
        """A whole number from ``low`` to ``high`` (months, for instance)."""
        text = value.strip()
        if _WHOLE.fullmatch(text) and low <= int(text) <= high:
            return int(text)
        self._problem(
            option,
            f"{value!r} 须为 {low} 至 {high} 之间的整数",
            f"{value!r} must be a whole number from {low} to {high}",
        )
        return low

    def choice(self, value: str, option: str, kind: type[E], vocabulary: str) -> E:
        """One of an enumeration's codes; the problem lists the codes with their words."""
        return kind(self.one_of(value, option, [c.value for c in kind], vocabulary))

    def one_of(self, value: str, option: str, codes: Sequence[str], vocabulary: str) -> str:
        """One of ``codes`` of ``vocabulary``; the problem lists them with their words."""
        if value.strip() in codes:
            return value.strip()
        allowed = to_type(vocabulary, codes)
        self._problem(
            option,
            f"{value!r} 不是可选项，可选：{allowed}",
            f"{value!r} is not one of: {allowed}",
        )
        return codes[0]

    def file(self, path: Path, option: str) -> bytes:
        """The bytes of a file to upload."""
        try:
            return path.read_bytes()
        except FileNotFoundError:
            self._problem(option, f"文件不存在：{path}", f"no such file: {path}")
        except IsADirectoryError:
            self._problem(
                option, f"这是一个目录，不是文件：{path}", f"a directory, not a file: {path}"
            )
        except PermissionError:
            self._problem(option, f"没有读取权限：{path}", f"not allowed to read: {path}")
        except OSError as exc:
            reason = exc.strerror or str(exc)
            self._problem(option, f"无法读取 {path}（{reason}）", f"cannot read {path} ({reason})")
        return b""

    def material_files(self, values: list[str] | None, option: str) -> list[MaterialFile]:
        """``KIND=PATH`` pairs: each a kind of the checklist with the file's name and bytes."""
        files: list[MaterialFile] = []
        for value in values or []:
            kind, sep, path = value.partition("=")
            if not sep or not path.strip():
                self._problem(
                    option,
                    f"{value!r} 应为 材料类型=文件路径，如 financial_statements=报表.xlsx",
                    f"{value!r} should be KIND=PATH, e.g. financial_statements=statements.xlsx",
                )
                continue
            chosen = self.choice(kind, option, Material, "material")
            where = Path(path.strip()).expanduser()
            files.append(MaterialFile(chosen.value, where.name, self.file(where, option)))
        return files

    def report(self) -> str | None:
        """None when every value was good; else one line for one problem, or a heading and a
        line per problem."""
        if not self.problems:
            return None
        if len(self.problems) == 1:
            return self.problems[0]
        count = len(self.problems)
        heading = f"{count} 处输入有误 / {count} values are wrong"
        return "\n".join([heading, *(f"  {p}" for p in self.problems)])
