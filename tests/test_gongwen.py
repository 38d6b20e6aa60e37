"""The 公文-style writer: numbering, Markdown, and the Word file's page, fonts and spacing (checked in the XML)."""
from __future__ import annotations

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from assistant.plans.gongwen import (
    BODY_FONT,
    TITLE_FONT,
    Section,
    chinese_numeral,
    fold_lone_children,
    heading_number,
    title_lines,
    to_markdown,
    write_docx,
)

SECTIONS = [
    Section("会议主题", 1, ["主题：2026年度组织生活会。", "第二段\n第三段"]),
    Section("参加人员", 1, ["支部全体党员。"]),
    Section("到会要求", 2, ["至少 12 人到会。"]),
    Section("细目甲", 3, ["甲。"]),
    Section("细目乙", 3, ["乙。"]),
    Section("表决规则", 2, ["赞成票至少 12 票。"]),
    Section("细目丙", 3, ["丙。"]),
    Section("会前准备", 1, ["见下表。"], [["序号", "事项", "时间"], ["1", "谈心|谈话", "2026年12月22日"]]),
]


def _eq_cm(length, cm: float) -> bool:
    return abs(length - Cm(cm)) <= Cm(0.01)


@pytest.fixture(scope="module")
def doc_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("gongwen") / "sub" / "out.docx"
    assert write_docx("XX党支部2026年度组织生活会方案", SECTIONS, path, subtitle="（2026年12月18日）") == path
    return path


@pytest.fixture(scope="module")
def doc(doc_path):
    return Document(str(doc_path))


# --------------------------------------------------------------------------- numbering

@pytest.mark.parametrize("n, text", [(1, "一"), (9, "九"), (10, "十"), (11, "十一"), (20, "二十"),
                                     (21, "二十一"), (99, "九十九")])
def test_chinese_numeral(n, text):
    assert chinese_numeral(n) == text


def test_heading_numbers():
    assert heading_number(1, 3) == "三、"
    assert heading_number(2, 12) == "（十二）"
    assert heading_number(3, 4) == "4."
    with pytest.raises(ValueError):
        heading_number(4, 1)


def test_markdown_numbering_resets_under_new_parent():
    md = to_markdown("标题", SECTIONS, subtitle="副标题")
    lines = md.splitlines()
    assert lines[0] == "# 标题"
    assert "副标题" in lines
    headings = [ln for ln in lines if ln.startswith("##")]
    assert headings == [
        "## 一、会议主题",
        "## 二、参加人员",
        "### （一）到会要求",
        "#### 1.细目甲",
        "#### 2.细目乙",
        "### （二）表决规则",
        "#### 1.细目丙",
        "## 三、会前准备",
    ]
    assert "第二段" in lines and "第三段" in lines
    assert "| 序号 | 事项 | 时间 |" in lines
    assert "| 1 | 谈心\\|谈话 | 2026年12月22日 |" in lines


def test_bad_level_rejected(tmp_path):
    with pytest.raises(ValueError, match="级别"):
        to_markdown("t", [Section("x", 4, [])])
    with pytest.raises(ValueError):
        write_docx("t", [Section("x", 0, [])], tmp_path / "x.docx")
    assert not (tmp_path / "x.docx").exists()


# --------------------------------------------------------------------------- Word

def test_page_is_a4_with_gongwen_margins(doc):
    for sec in doc.sections:
        assert _eq_cm(sec.page_width, 21) and _eq_cm(sec.page_height, 29.7)
        assert _eq_cm(sec.top_margin, 3.7)
        assert _eq_cm(sec.bottom_margin, 3.5)
        assert _eq_cm(sec.left_margin, 2.8)
        assert _eq_cm(sec.right_margin, 2.6)


def _all_runs(doc):
    parts = [doc.element.body]
    for sec in doc.sections:
        parts.append(sec.footer._element)
    for part in parts:
        yield from part.iter(qn("w:r"))


def _run_text(r) -> str:
    return "".join(t.text or "" for t in r.iter(qn("w:t")))


def _east_asia(r) -> str | None:
    rpr = r.find(qn("w:rPr"))
    fonts = rpr.find(qn("w:rFonts")) if rpr is not None else None
    return fonts.get(qn("w:eastAsia")) if fonts is not None else None


def test_every_text_run_has_east_asian_font(doc):
    runs = [r for r in _all_runs(doc) if _run_text(r).strip()]
    assert len(runs) > 10
    missing = [_run_text(r) for r in runs if not _east_asia(r)]
    assert not missing, f"runs without w:eastAsia: {missing}"


def test_normal_style_has_east_asian_font(doc):
    normal = doc.styles["Normal"]
    fonts = normal.element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == BODY_FONT
    assert normal.font.size == Pt(16)


def test_title_font_size_and_centring(doc):
    title = doc.paragraphs[0]
    assert title.text == "XX党支部2026年度组织生活会方案"
    run = title.runs[0]
    assert _east_asia(run._r) == TITLE_FONT == "方正小标宋简体"
    assert run.font.name == TITLE_FONT
    assert run.font.size == Pt(22)
    assert title.alignment == 1  # CENTER


def _para(doc, text):
    for p in doc.paragraphs:
        if p.text == text:
            return p
    raise AssertionError(f"no paragraph {text!r}")


def test_heading_fonts_by_level(doc):
    h1 = _para(doc, "一、会议主题").runs[0]
    h2 = _para(doc, "（一）到会要求").runs[0]
    h3 = _para(doc, "1.细目甲").runs[0]
    assert _east_asia(h1._r) == "黑体"
    assert _east_asia(h2._r) == "楷体_GB2312"
    assert _east_asia(h3._r) == "仿宋_GB2312" and h3.font.bold
    assert all(r.font.size == Pt(16) for r in (h1, h2, h3))


def test_body_font_spacing_and_indent(doc):
    body = _para(doc, "主题：2026年度组织生活会。")
    run = body.runs[0]
    assert _east_asia(run._r) == BODY_FONT == "仿宋_GB2312"
    assert run.font.size == Pt(16)
    pf = body.paragraph_format
    assert pf.line_spacing == Pt(28)
    assert pf.line_spacing_rule == 4  # EXACTLY
    assert pf.first_line_indent == Pt(32)
    ind = body._p.pPr.find(qn("w:ind"))
    assert ind.get(qn("w:firstLineChars")) == "200"
    # "\n" inside a paragraph string became separate paragraphs
    _para(doc, "第二段")
    _para(doc, "第三段")


def test_table_header_and_cells(doc):
    assert len(doc.tables) == 1
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["序号", "事项", "时间"]
    assert [c.text for c in table.rows[1].cells] == ["1", "谈心|谈话", "2026年12月22日"]
    header_run = table.rows[0].cells[0].paragraphs[0].runs[0]
    assert header_run.font.bold


def test_footer_has_page_field(doc):
    footer = doc.sections[0].footer._element
    instr = "".join(t.text for t in footer.iter(qn("w:instrText")))
    assert "PAGE" in instr
    texts = "".join(t.text for t in footer.iter(qn("w:t")))
    assert texts.startswith("—") and texts.endswith("—")


def test_table_header_repeats_and_rows_do_not_split(doc):
    rows = doc.tables[0].rows
    assert rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert all(r._tr.trPr.find(qn("w:cantSplit")) is not None for r in rows)


# --------------------------------------------------------------------------- lists, lone children, title, 落款

def test_items_are_numbered_one_level_below_their_heading():
    md = to_markdown("标题", [Section("甲", 1, items=["一项", "二项"]), Section("乙", 1),
                              Section("乙一", 2, items=["子项", "又一项"]), Section("乙二", 2)])
    lines = [ln for ln in md.splitlines() if ln]
    assert lines[lines.index("## 一、甲") + 1:][:2] == ["（一）一项", "（二）二项"]
    assert lines[lines.index("### （一）乙一") + 1:][:2] == ["1．子项", "2．又一项"]
    assert to_markdown("标题", [Section("丙", 1, items=["子项"])]).splitlines()[-1] == "子项"  # one item: no number


def test_a_lone_child_heading_joins_its_parent():
    folded = fold_lone_children([Section("甲", 1, ["甲文。"]), Section("唯一", 2, ["子文。"], items=["项"]),
                                 Section("乙", 1), Section("乙一", 2), Section("乙二", 2)])
    assert [(s.heading, s.level) for s in folded] == [("甲", 1), ("乙", 1), ("乙一", 2), ("乙二", 2)]
    assert folded[0].paragraphs == ["甲文。", "唯一：", "子文。"] and folded[0].items == ["项"]


@pytest.mark.parametrize("title, lines", [
    ("XX党支部2026年度组织生活会方案", ["XX党支部2026年度组织生活会方案"]),  # short: one line
    ("XX党支部2026年度党支部工作自查报告", ["XX党支部", "2026年度党支部工作自查报告"]),
    ("中共某某市财政局机关委员会第一党支部关于召开2026年度组织生活会的方案",
     ["中共某某市财政局机关委员会第一党支部", "关于召开2026年度组织生活会的方案"]),
])
def test_long_titles_break_between_words(title, lines):
    assert title_lines(title) == lines


def test_the_unit_named_by_the_signature_is_where_the_title_breaks(tmp_path):
    path = write_docx("XX党支部接收预备党员的支部党员大会方案", SECTIONS, tmp_path / "t.docx",
                      signature=("XX党支部", "2026年12月1日"))
    doc = Document(str(path))
    title = doc.paragraphs[0]
    assert title.text == "XX党支部\n接收预备党员的支部党员大会方案"
    assert title.paragraph_format.keep_with_next
    assert [(p.text, p.alignment) for p in doc.paragraphs[-2:]] == [("XX党支部", 2), ("2026年12月1日", 2)]  # RIGHT
    headings = [p for p in doc.paragraphs if p.text.startswith(("一、", "二、", "（一）", "1."))]
    assert headings and all(p.paragraph_format.keep_with_next for p in headings)


def test_markdown_cells_never_show_a_literal_br():
    md = to_markdown("标题", [Section("表", 1, table=[["时间", "备注"], ["2026年12月1日\n（星期二）", "甲|乙"]])])
    assert "<br>" not in md and "| 2026年12月1日 （星期二） | 甲\\|乙 |" in md
