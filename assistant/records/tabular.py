"""Worksheets in and out: the branch's .xlsx / .csv as rows with their spreadsheet row numbers.

A worker's sheet often has a title line or two above the header; the header is the first row
(among the first ten) that holds all the required column names. Row numbers are the ones Excel
shows, so a message "第5行" points at the row the worker sees.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterable

from ..errors import InputError

FORMATS = (".xlsx", ".csv")
MAX_ROWS = 20000
HEADER_SEARCH = 10


@dataclass(frozen=True)
class Sheet:
    """The data rows under the header: (row number, {column key: cell value})."""

    rows: list[tuple[int, dict[str, Any]]]
    columns: list[str]          # the keys found, in sheet order
    unknown: list[str]          # header cells that map to no key (ignored)


def _norm(text: Any) -> str:
    return re.sub(r"[\s\u3000*＊:：]+", "", str(text if text is not None else ""))


def _raw_rows(path: Path) -> Iterable[list[Any]]:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a damaged file
            raise InputError("file", f"无法读取 Excel 文件“{path.name}”：文件已损坏或不是 .xlsx") from None
        try:
            ws = wb.worksheets[0]
            for row in ws.iter_rows(values_only=True):
                yield list(row)
        finally:
            wb.close()
        return
    if suffix == ".csv":
        data = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - gb18030 decodes nearly anything
            raise InputError("file", f"无法识别“{path.name}”的文字编码，请另存为 UTF-8 的 CSV")
        yield from csv.reader(io.StringIO(text))
        return
    raise InputError("file", f"只能导入 .xlsx 或 .csv 文件，收到“{path.name}”")


def read_sheet(path: Path | str, headers: dict[str, str], required: Iterable[str]) -> Sheet:
    """The rows of the first worksheet (or the CSV) under its header.

    ``headers`` maps a column name (spaces removed) to a key; ``required`` are keys that must
    all be present in the header row. Blank rows are skipped."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file", f"文件不存在：{path.name}")
    required = list(required)
    rows_iter = iter(_raw_rows(path))
    header: dict[int, str] | None = None
    unknown: list[str] = []
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, cells in enumerate(rows_iter, start=1):
        if header is None:
            found = {i: headers[_norm(c)] for i, c in enumerate(cells) if _norm(c) in headers}
            if set(required) <= set(found.values()):
                header = {}
                for i, key in found.items():
                    header.setdefault(i, key)
                unknown = [str(c).strip() for i, c in enumerate(cells) if _norm(c) and i not in found]
            elif number >= HEADER_SEARCH:
                break
            continue
        values = {key: cells[i] for i, key in header.items() if i < len(cells)}
        if all(_blank(v) for v in values.values()):
            continue
        if len(rows) >= MAX_ROWS:
            raise InputError("file", f"“{path.name}”超过 {MAX_ROWS} 行，请分成几个文件导入")
        rows.append((number, values))
    if header is None:
        names = "、".join(_first_name(headers, k) for k in required)
        raise InputError("file", f"“{path.name}”的前 {HEADER_SEARCH} 行中找不到表头（需要列：{names}）")
    return Sheet(rows, list(dict.fromkeys(header.values())), unknown)


def _first_name(headers: dict[str, str], key: str) -> str:
    return next((h for h, k in headers.items() if k == key), key)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: Any) -> str:
    """A cell as text: dates as 2026-03-10, whole floats without .0."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def write_xlsx(path: Path | str, sheets: list[tuple[str, list[str], list[list[Any]]]],
               widths: dict[str, list[int]] | None = None) -> Path:
    """An .xlsx with one sheet per (title, header, rows); header bold and frozen."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    path = Path(path)
    wb = Workbook()
    wb.remove(wb.active)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title[:31])
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center")
        for row in rows:
            ws.append(list(row))
            for cell in ws[ws.max_row]:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # text that looks like a formula stays text
        ws.freeze_panes = "A2"
        for i, w in enumerate((widths or {}).get(title) or [], start=1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = w
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                if isinstance(cell.value, date):
                    cell.number_format = "yyyy-mm-dd"
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
