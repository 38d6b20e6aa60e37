"""User input, read one way everywhere (CLI, web forms, task files, the library).

Dates in the forms people type (2026-12-01, 2026/12/1, 2026.12.1, 2026年12月1日), whole numbers
in a sane range, hours, and short text fields; every refusal is an ``InputError(field, message)``
whose message names the field by its Chinese label.
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from datetime import date, datetime
from typing import Any

from .errors import InputError

__all__ = ["InputError", "LABELS", "label", "parse_date", "parse_int", "parse_hours", "clean_text", "parse_question", "is_text",
           "shorten", "safe_filename", "simplified"]

LABELS = {
    "date": "会议日期", "start": "开始日期", "until": "截止日期", "today": "今天的日期", "deadline": "截止日期",
    "as_of": "核对日期", "year": "年份", "quarter": "季度", "month": "月份", "weeks": "周数",
    "hours_per_week": "每周可用小时", "hours": "工时", "members": "人数", "branch": "党支部名称",
    "branch_type": "支部类型", "type": "会议类型", "topic": "会议主题", "question": "问题", "out": "输出文件",
    "name": "名称", "flag": "标记", "duty": "规定事项", "tasks": "任务", "file": "文件", "k": "返回条数",
    "expected": "应到人数", "present": "实到人数", "leave": "请假人数", "voting": "应到会有表决权人数",
    "yes": "赞成人数", "chair": "主持人", "id": "编号", "step": "环节", "training_days": "集中培训天数",
    "training_hours": "集中培训学时", "extension_months": "延长预备期（月）", "note": "备注", "period": "期间",
}
_DATE_RE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028-\u202e\ufeff]")
_NONE = {"", "-", "—", "无", "none", "null", "~"}
_UNSAFE_NAME_RE = re.compile(r"[^0-9A-Za-z\u3400-\u9fff\uf900-\ufaff（）《》【】、，。_.\-]+")
MIN_YEAR, MAX_YEAR = 1921, 2200


def label(field: str) -> str:
    """The Chinese name of an input field (the field itself when none is known)."""
    return LABELS.get(field, field)


def shorten(value: Any, limit: int = 40) -> str:
    """A value as it may appear in a message or a log line: one line, at most ``limit`` characters."""
    text = " ".join(str(value).split())
    text = _CONTROL_RE.sub("?", text).encode("utf-8", "replace").decode("utf-8")
    return text if len(text) <= limit else text[:limit] + f"…（共 {len(text)} 字）"


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and value.strip().lower() in _NONE)


def parse_date(value: Any, field: str = "date", *, required: bool = True) -> date | None:
    """A date from a date, a datetime or text such as 2026-12-01, 2026/12/1 or 2026年12月1日."""
    if _blank(value):
        if required:
            raise InputError(field, f"{label(field)}不能为空，请写成 2026-12-01 或 2026年12月1日")
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        day = value
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
        m = _DATE_RE.fullmatch(text)
        if not m:
            raise InputError(field, f"{label(field)}应写成 2026-12-01 或 2026年12月1日，收到“{shorten(text)}”")
        try:
            day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            raise InputError(field, f"{label(field)}不是有效日期：“{shorten(text)}”") from None
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise InputError(field, f"{label(field)}的年份应在 {MIN_YEAR}–{MAX_YEAR} 之间，收到 {day.isoformat()}")
    return day


def parse_int(value: Any, field: str, lo: int = 0, hi: int = 10**6, *, required: bool = True) -> int | None:
    """A whole number within [lo, hi] from an int, an integral float or text (full-width digits too)."""
    if _blank(value):
        if required:
            raise InputError(field, f"{label(field)}不能为空")
        return None
    if isinstance(value, bool):
        raise InputError(field, f"{label(field)}应为整数，收到 {value!r}")
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise InputError(field, f"{label(field)}应为整数，收到 {shorten(value)}")
        number = int(value)
    elif isinstance(value, int):
        number = value
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
        if not re.fullmatch(r"[+-]?\d{1,12}(?:\.0+)?", text):
            raise InputError(field, f"{label(field)}应为整数，收到“{shorten(text)}”")
        number = int(float(text)) if "." in text else int(text)
    if not lo <= number <= hi:
        shown = str(number) if len(str(number)) <= 15 else f"{float(number):.3g}"  # 1e300, not 301 digits
        raise InputError(field, f"{label(field)}应在 {lo}–{hi} 之间，收到 {shown}")
    return number


def parse_hours(value: Any, field: str = "hours", lo: float = 0.0, hi: float = 1000.0, *,
                required: bool = True) -> float | None:
    """A number of hours (2, 1.5, "3h", "2小时") within [lo, hi], rounded to 0.01."""
    if _blank(value):
        if required:
            raise InputError(field, f"{label(field)}不能为空")
        return None
    if isinstance(value, bool):
        raise InputError(field, f"{label(field)}应为数字（小时），收到 {value!r}")
    if isinstance(value, (int, float)):
        hours = float(value)
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
        m = re.fullmatch(r"([+-]?\d{1,6}(?:\.\d+)?)\s*(?:h|小时|时)?", text, re.I)
        if not m:
            raise InputError(field, f"{label(field)}应为数字（小时），收到“{shorten(text)}”")
        hours = float(m.group(1))
    if not math.isfinite(hours):
        raise InputError(field, f"{label(field)}应为有限数字，收到 {shorten(value)}")
    if not lo <= hours <= hi:
        raise InputError(field, f"{label(field)}应在 {lo:g}–{hi:g} 小时之间，收到 {hours:g}")
    return round(hours, 2)


def is_text(value: str) -> bool:
    """Whether a string is text a person typed: no control characters (line breaks and tabs
    aside), nothing that cannot be written as UTF-8 (a lone surrogate such as \\udcff)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return not _CONTROL_RE.search(value.replace("\n", " ").replace("\t", " ").replace("\r", " "))


def clean_text(value: Any, field: str, max_len: int = 200, *, required: bool = False) -> str:
    """One line of text: whitespace folded, no control characters, at most ``max_len`` characters."""
    text = unicodedata.normalize("NFC", str(value if value is not None else ""))
    if _CONTROL_RE.search(text.replace("\n", " ").replace("\t", " ").replace("\r", " ")):
        raise InputError(field, f"{label(field)}含有控制字符，请删除后重试")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(field, f"{label(field)}含有无法识别的字符，请重新输入") from None
    text = " ".join(text.split())
    if required and not text:
        raise InputError(field, f"{label(field)}不能为空")
    if len(text) > max_len:
        raise InputError(field, f"{label(field)}太长（{len(text)} 字），请控制在 {max_len} 字以内")
    return text


def parse_question(value: Any, max_len: int = 1000) -> str:
    """A question as asked (line breaks kept), or InputError: empty, over ``max_len`` characters
    (ASSISTANT_MAX_QUESTION_CHARS: the chat, /ask, the API and the command line alike), control
    characters, or characters that are not text (a lone surrogate such as \\udcff)."""
    text = unicodedata.normalize("NFC", str(value if value is not None else "")).strip()
    if not text:
        raise InputError("question", "请输入问题")
    if len(text) > max_len:
        raise InputError("question", f"问题太长（{len(text)} 字），请控制在 {max_len} 字以内")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError("question", "问题含有无法识别的字符，请重新输入") from None
    if _CONTROL_RE.search(text.replace("\n", " ").replace("\t", " ").replace("\r", " ")):
        raise InputError("question", "问题含有控制字符，请删除后重试")
    return text


@functools.cache
def _to_simplified():
    from opencc import OpenCC  # phrase-aware: 显著、著作 stay as they are

    return OpenCC("t2s")


def simplified(text: str) -> str:
    """A question typed in traditional characters (發展黨員大會…) in the simplified ones the regulations use."""
    return _to_simplified().convert(text) if text else text


def safe_filename(name: str, default: str = "文件") -> str:
    """A file name that stays inside its folder: no path parts, no shell metacharacters,
    no leading dot, at most 120 characters; the extension is kept."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    base = base.replace("\x00", "")
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    stem = _UNSAFE_NAME_RE.sub("_", stem).strip("._-") or default
    ext = re.sub(r"[^0-9A-Za-z]", "", ext).lower()
    stem = stem[: 120 - len(ext) - 1]
    return f"{stem}.{ext}" if ext else stem
