"""A small 公文-style document writer: Word (.docx) and Markdown from one outline.

Layout follows the usual 党政机关公文 conventions (GB/T 9704 style):
A4 paper, margins 3.7/3.5/2.8/2.6 cm (top/bottom/left/right), title in
方正小标宋简体 二号 centred, body in 仿宋_GB2312 三号 with a 2-character first-line
indent and fixed 28 pt line spacing; headings numbered 一、 / （一） / 1. in
黑体 / 楷体_GB2312 / bold 仿宋_GB2312; page numbers "— 1 —" in the footer.

The fonts need not be installed: Word falls back, and the East Asian font name
is written on every run (w:eastAsia), which is what makes Chinese text pick up
the intended face when the font is present.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "Section",
    "write_docx",
    "to_markdown",
    "heading_number",
    "chinese_numeral",
    "TITLE_FONT",
    "BODY_FONT",
    "HEADING_FONTS",
]

TITLE_FONT = "方正小标宋简体"
SUBTITLE_FONT = "楷体_GB2312"
BODY_FONT = "仿宋_GB2312"
PAGE_NUMBER_FONT = "宋体"
HEADING_FONTS = {1: "黑体", 2: "楷体_GB2312", 3: "仿宋_GB2312"}

TITLE_PT = 22  # 二号
BODY_PT = 16  # 三号
TABLE_PT = 12  # 小四: tables need to fit the text width
PAGE_NUMBER_PT = 14  # 四号
LINE_PT = 28  # fixed line spacing
TABLE_LINE_PT = 20

_DIGITS = "零一二三四五六七八九"


@dataclass
class Section:
    """One heading with its paragraphs, an optional table and an optional list.

    ``level`` 1 → "一、", 2 → "（一）", 3 → "1." — the writer adds the numbers,
    so ``heading`` holds the bare text. ``items`` are numbered one level below the
    heading (under 一、 as （一）, under （一） as 1．, under 1． as （1）), so the order
    一、→（一）→1．→（1） is never inverted or skipped. The first table row is the header.
    An empty ``heading`` writes only the paragraphs/table (no heading line,
    and the numbering counter is not advanced).
    """

    heading: str
    level: int
    paragraphs: list[str] = field(default_factory=list)
    table: list[list[str]] | None = None
    items: list[str] = field(default_factory=list)  # a list, numbered one level below the heading


def chinese_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 11 → 十一, 20 → 二十, 99 → 九十九 (1 ≤ n ≤ 99)."""
    if not 1 <= n <= 99:
        raise ValueError(f"编号超出范围（1–99）：{n}")
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    head = "十" if tens == 1 else _DIGITS[tens] + "十"
    return head + (_DIGITS[ones] if ones else "")


def heading_number(level: int, n: int) -> str:
    """The prefix of the ``n``-th heading at ``level``: 一、 / （一） / 1."""
    if level == 1:
        return f"{chinese_numeral(n)}、"
    if level == 2:
        return f"（{chinese_numeral(n)}）"
    if level == 3:
        return f"{n}."
    raise ValueError(f"标题级别只能是 1、2、3：{level}")


ITEM_NUMBER = {1: lambda n: f"（{chinese_numeral(n)}）", 2: lambda n: f"{n}．", 3: lambda n: f"（{n}）"}


def item_lines(sec: Section) -> list[str]:
    """The section's list items with the numbers of the level below its heading; one item is no list."""
    if len(sec.items) == 1:
        return list(sec.items)
    number = ITEM_NUMBER[sec.level]
    return [f"{number(i)}{text}" for i, text in enumerate(sec.items, 1)]


def fold_lone_children(sections: list[Section]) -> list[Section]:
    """A （一） without a （二） is no subdivision: its heading, text, list and table join its 一、."""
    out: list[Section] = []
    for i, sec in enumerate(sections):
        lone = sec.level == 2 and sec.heading and out and sum(
            1 for s in _siblings(sections, i) if s.heading) == 1 and not any(
            s.level > 2 for s in sections[i + 1:next((j for j in range(i + 1, len(sections))
                                                      if sections[j].level <= 2), len(sections))])
        if lone:
            host = next(s for s in reversed(out) if s.level == 1)
            host.paragraphs = host.paragraphs + [f"{sec.heading}："] + sec.paragraphs
            host.items = host.items + sec.items
            host.table = host.table or sec.table
            continue
        out.append(Section(sec.heading, sec.level, list(sec.paragraphs), sec.table, list(sec.items)))
    return out


def _siblings(sections: list[Section], i: int) -> list[Section]:
    """The sections of sections[i]'s level under the same parent (itself included)."""
    level = sections[i].level
    start = next((j for j in range(i - 1, -1, -1) if sections[j].level < level), -1)
    end = next((j for j in range(i + 1, len(sections)) if sections[j].level < level), len(sections))
    return [s for s in sections[start + 1:end] if s.level == level]


def title_lines(title: str, unit: str = "", per_line: int = 18) -> list[str]:
    """A long title in two lines broken between words, not inside one (组织生活/会方案): after the
    issuing ``unit`` when the title starts with it, else after the first unit word (…党支部、…委员会)
    or before 关于 or a year, nearest the middle."""
    if len(title) <= per_line:
        return [title]
    if unit and title.startswith(unit) and 4 <= len(unit) <= len(title) - 4:
        return [unit, title[len(unit):]]
    subject = [m.start() for m in re.finditer(r"\d{4}年|关于", title) if m.start() > 0]
    first_unit = re.search(r"党支部|党总支|党委|委员会|支部", title)
    cuts = subject + ([first_unit.end()] if first_unit else [])
    cuts = [c for c in cuts if 4 <= c <= len(title) - 4]
    if not cuts:
        return [title]
    cut = min(cuts, key=lambda c: abs(c - len(title) / 2))
    return [title[:cut], title[cut:]]


def _numbered(sections: list[Section]) -> list[tuple[Section, str]]:
    """Pair each section with its full heading text; counters reset under a new parent."""
    counters = [0, 0, 0, 0]
    out: list[tuple[Section, str]] = []
    for sec in sections:
        if sec.level not in (1, 2, 3):
            raise ValueError(f"标题级别只能是 1、2、3：{sec.level}（{sec.heading}）")
        if not sec.heading:
            out.append((sec, ""))
            continue
        counters[sec.level] += 1
        for deeper in range(sec.level + 1, 4):
            counters[deeper] = 0
        out.append((sec, heading_number(sec.level, counters[sec.level]) + sec.heading))
    return out


def _split(paragraph: str) -> list[str]:
    return [line for line in str(paragraph).split("\n")]


# --------------------------------------------------------------------------- Markdown

def _md_cell(text: str) -> str:
    """One table cell: lines joined with spaces (a page shows a literal <br>), bars escaped."""
    return " ".join(str(text).replace("\\", "\\\\").replace("|", "\\|").split("\n"))


def to_markdown(title: str, sections: list[Section], subtitle: str | None = None,
                signature: tuple[str, str] | None = None) -> str:
    """Markdown with the same numbering as the Word file: ``## 一、…``, ``### （一）…``, ``#### 1. …``."""
    lines = [f"# {title}", ""]
    if subtitle:
        lines += [subtitle, ""]
    for sec, heading in _numbered(fold_lone_children(sections)):
        if heading:
            lines += ["#" * (sec.level + 1) + " " + heading, ""]
        for para in sec.paragraphs + item_lines(sec):
            for line in _split(para):
                if line.strip():
                    lines += [line, ""]
        if sec.table:
            header, *rows = sec.table
            width = len(header)
            lines.append("| " + " | ".join(_md_cell(c) for c in header) + " |")
            lines.append("|" + "---|" * width)
            for row in rows:
                cells = list(row) + [""] * (width - len(row))
                lines.append("| " + " | ".join(_md_cell(c) for c in cells[:width]) + " |")
            lines.append("")
    if signature:
        lines += ["", *signature, ""]
    return "\n".join(lines).rstrip() + "\n"


# --------------------------------------------------------------------------- Word

def _set_run_font(run, name: str, size_pt: float, bold: bool = False) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = name  # w:ascii and w:hAnsi
    run.font.size = Pt(size_pt)
    run.font.bold = bold
    rfonts = run._element.get_or_add_rPr().get_or_add_rFonts()
    rfonts.set(qn("w:eastAsia"), name)
    rfonts.set(qn("w:cs"), name)


def _fixed_spacing(paragraph, line_pt: float = LINE_PT) -> None:
    from docx.enum.text import WD_LINE_SPACING
    from docx.shared import Pt

    pf = paragraph.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(line_pt)
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)


def _first_line_indent(paragraph, chars: int = 2, size_pt: float = BODY_PT) -> None:
    """Indent by ``chars`` characters: w:firstLineChars (Word) plus the absolute twips (others)."""
    from docx.oxml.ns import qn
    from docx.shared import Pt

    paragraph.paragraph_format.first_line_indent = Pt(chars * size_pt)
    ind = paragraph._p.get_or_add_pPr().find(qn("w:ind"))
    if ind is not None:
        ind.set(qn("w:firstLineChars"), str(chars * 100))


def _outline_level(paragraph, level: int) -> None:
    """Mark a heading for Word's navigation pane without using the (English-font) Heading styles."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    ppr = paragraph._p.get_or_add_pPr()
    el = OxmlElement("w:outlineLvl")
    el.set(qn("w:val"), str(level - 1))
    ppr.append(el)


def _setup_normal_style(doc) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    style = doc.styles["Normal"]
    style.font.name = BODY_FONT
    style.font.size = Pt(BODY_PT)
    rfonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    rfonts.set(qn("w:eastAsia"), BODY_FONT)
    rfonts.set(qn("w:cs"), BODY_FONT)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        rfonts.attrib.pop(qn(attr), None)
    _fixed_spacing_style(style)
    # Theme fonts in the document defaults would otherwise win over nothing-set runs.
    defaults = doc.styles.element.find(qn("w:docDefaults"))
    if defaults is not None:
        for rf in defaults.iter(qn("w:rFonts")):
            for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                rf.attrib.pop(qn(attr), None)
            rf.set(qn("w:ascii"), BODY_FONT)
            rf.set(qn("w:hAnsi"), BODY_FONT)
            rf.set(qn("w:eastAsia"), BODY_FONT)


def _fixed_spacing_style(style) -> None:
    from docx.enum.text import WD_LINE_SPACING
    from docx.shared import Pt

    pf = style.paragraph_format
    pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    pf.line_spacing = Pt(LINE_PT)
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)


def _setup_page(doc) -> None:
    from docx.shared import Cm

    for section in doc.sections:
        section.page_width = Cm(21)
        section.page_height = Cm(29.7)
        section.top_margin = Cm(3.7)
        section.bottom_margin = Cm(3.5)
        section.left_margin = Cm(2.8)
        section.right_margin = Cm(2.6)
        _add_page_number(section)


def _add_page_number(section) -> None:
    """Footer "— N —" with N a PAGE field, 宋体 四号, centred."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    footer = section.footer
    para = footer.paragraphs[0] if footer.paragraphs else footer.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER

    def text_run(text: str):
        run = para.add_run(text)
        _set_run_font(run, PAGE_NUMBER_FONT, PAGE_NUMBER_PT)
        return run

    def fld(kind: str):
        run = para.add_run()
        _set_run_font(run, PAGE_NUMBER_FONT, PAGE_NUMBER_PT)
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        run._r.append(el)

    text_run("— ")
    fld("begin")
    instr_run = para.add_run()
    _set_run_font(instr_run, PAGE_NUMBER_FONT, PAGE_NUMBER_PT)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = " PAGE "
    instr_run._r.append(instr)
    fld("separate")
    text_run("1")
    fld("end")
    text_run(" —")


TEXT_WIDTH_CM = 21 - 2.8 - 2.6


def _display_len(text: str) -> float:
    """Width in full-width characters (CJK 1, ASCII about 0.6) of the longest line of a cell."""
    return max((sum(0.6 if ord(ch) < 0x2E80 else 1.0 for ch in line) for line in str(text).split("\n")),
               default=0.0)


def _column_widths(rows: list[list[str]], width: int):
    """Column widths from each column's longest cell at the table font size.

    Short columns (序号, 负责人 …) keep their natural width so they do not wrap;
    the long ones share what is left in proportion to their length.
    """
    from docx.shared import Cm

    char_cm = TABLE_PT * 0.03528 * 1.05  # one full-width character at the table size
    natural = []
    for i in range(width):
        longest = max((_display_len(r[i]) for r in rows if i < len(r)), default=0.0)
        natural.append(max(longest, 1.0) * char_cm + 0.5)  # + the cell margins
    total = sum(natural)
    if total <= TEXT_WIDTH_CM:
        return [Cm(TEXT_WIDTH_CM * w / total) for w in natural]
    # too wide: cap the widest columns at a common width c (water-filling), so only they wrap
    widths = sorted(natural)
    room, cap = TEXT_WIDTH_CM, TEXT_WIDTH_CM / width
    for k, w in enumerate(widths):
        remaining = width - k
        if w * remaining >= room:
            cap = room / remaining
            break
        room -= w
    return [Cm(min(w, cap)) for w in natural]


def _add_table(doc, rows: list[list[str]]) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement

    header, *body = rows
    width = len(header)
    table = doc.add_table(rows=0, cols=width)
    table.autofit = False
    try:
        table.style = doc.styles["Table Grid"]
    except KeyError:  # pragma: no cover - the default template has it
        pass
    for r, row in enumerate([header, *body]):
        new_row = table.add_row()
        tr_pr = new_row._tr.get_or_add_trPr()
        tr_pr.append(OxmlElement("w:cantSplit"))  # a row stays on one page
        if r == 0:
            tr_pr.append(OxmlElement("w:tblHeader"))  # header repeats on each page
        cells = new_row.cells
        values = list(row) + [""] * (width - len(row))
        for cell, value in zip(cells, values[:width]):
            lines = _split(value) or [""]
            for i, line in enumerate(lines):
                para = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
                _fixed_spacing(para, TABLE_LINE_PT)
                if r == 0:
                    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
                if line:
                    _set_run_font(para.add_run(line), BODY_FONT, TABLE_PT, bold=(r == 0))
    widths = _column_widths(rows, width)
    for i, col in enumerate(table.columns):
        col.width = widths[i]
        for cell in col.cells:
            cell.width = widths[i]
    # a blank line after the table keeps the next heading clear of the grid
    _fixed_spacing(doc.add_paragraph())


def write_docx(title: str, sections: list[Section], path: Path, subtitle: str | None = None,
               signature: tuple[str, str] | None = None) -> Path:
    """Write the outline as a 公文-style .docx at ``path`` (parent folders are created). A long
    title breaks between words; headings keep with the next paragraph (never alone at the foot
    of a page); ``signature`` (the unit, the date) is the 落款 at the end, right-aligned."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    numbered = _numbered(fold_lone_children(sections))  # validate levels before touching the disk
    path = Path(path)
    doc = Document()
    _setup_normal_style(doc)
    _setup_page(doc)

    core = doc.core_properties
    core.title = title
    core.author = ""
    core.comments = ""

    para = doc.add_paragraph()
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    para.paragraph_format.keep_with_next = True
    _fixed_spacing(para, 36)
    for i, line in enumerate(title_lines(title, signature[0] if signature else "")):  # a line break between words, never inside one
        run = para.add_run(line)
        _set_run_font(run, TITLE_FONT, TITLE_PT)
        if i == 0 and line != title:
            run.add_break()
    if subtitle:
        para = doc.add_paragraph()
        para.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _fixed_spacing(para)
        _set_run_font(para.add_run(subtitle), SUBTITLE_FONT, BODY_PT)
    _fixed_spacing(doc.add_paragraph())  # one blank line under the title block

    for sec, heading in numbered:
        if heading:
            para = doc.add_paragraph()
            _fixed_spacing(para)
            _first_line_indent(para)
            _outline_level(para, sec.level)
            para.paragraph_format.keep_with_next = True
            _set_run_font(para.add_run(heading), HEADING_FONTS[sec.level], BODY_PT, bold=(sec.level == 3))
        for text in sec.paragraphs + item_lines(sec):
            for line in _split(text):
                if not line.strip():
                    continue
                para = doc.add_paragraph()
                _fixed_spacing(para)
                _first_line_indent(para)
                _set_run_font(para.add_run(line), BODY_FONT, BODY_PT)
        if sec.table:
            _add_table(doc, sec.table)
    if signature:
        _fixed_spacing(doc.add_paragraph())
        for line in signature:
            para = doc.add_paragraph()
            para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            _fixed_spacing(para)
            _set_run_font(para.add_run(line), BODY_FONT, BODY_PT)

    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(path))
    return path
