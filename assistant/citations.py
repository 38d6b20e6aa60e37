"""Citations: article labels (第十二条, 第九部分, 第三点), 《title》 references, document status words.

The one place that knows how regulations are numbered and cited; splitting, answering, the
verifier, plans and the knowledge checks all use it.
"""
from __future__ import annotations

import re

from .numerals import cn_to_int

NUM = "零〇一二两三四五六七八九十百千"
#: 第十二条 (an article), 第九部分 (a numbered section of a text without articles) and its 序言, 第三点 (a numbered paragraph)
LABEL = rf"(?:第[{NUM}]+(?:条|部分|点)|序言)"
LABEL_RE = re.compile(LABEL)
LABEL_FULL_RE = re.compile(rf"^{LABEL}$")
ARTICLE_LINE_RE = re.compile(rf"^(第[{NUM}]+条)[\s\u3000]*(.*)$")
CHAPTER_LINE_RE = re.compile(rf"^第[{NUM}]+[编章节][\s\u3000]*\S.*$")
SECTION_LINE_RE = re.compile(rf"^([{NUM}]+)、\s*(.*)$")
# 《title》第一条、第二条和第五条: every label of one citation, not only the first
CITED_RUN_RE = re.compile(rf"《([^》]{{2,60}})》\s*((?:{LABEL})(?:\s*[、，,和及与至]\s*{LABEL})*)")

STATUS_CN = {"current": "现行", "superseded": "已被修订", "reference": "参考资料", "pending": "尚未施行"}


def status_word(status: str) -> str:
    """现行 / 已被修订 / 参考资料 / 尚未施行 for a document status."""
    return STATUS_CN.get(status, status or "")


def label_number(label: str) -> int | None:
    """12 for 第十二条 (also 第十二部分, 第十二点); None for anything else."""
    m = re.fullmatch(rf"第([{NUM}]+)(?:条|部分|点)", label or "")
    return cn_to_int(m.group(1)) if m else None


def section_label(numeral: str) -> str:
    """第九部分 for the heading numeral 九 of a text without articles."""
    return f"第{numeral}部分"


def point_label(numeral: str) -> str:
    """第三点 for a paragraph that opens 三、 in a notice without articles."""
    return f"第{numeral}点"


def cited_refs(text: str) -> list[tuple[str, str]]:
    """(title, label) for every 《title》第X条 in a text; 《T》第一条、第二条 gives both."""
    return [(m.group(1), a) for m in CITED_RUN_RE.finditer(text) for a in LABEL_RE.findall(m.group(2))]


def cite(title: str, article: str = "", status: str = "") -> str:
    """《title》第X条（现行） — the form every 依据 line and plan basis uses."""
    out = f"《{title}》{article}"
    return f"{out}（{status_word(status)}）" if status else out


def family(title: str) -> str:
    """A regulation's name without its edition marker: 《…（2014年版）》 and 《…》 are one family."""
    return re.sub(r"[（(]\d{4}年?(?:版|修订|修正)?[）)]", "", title).strip()


def same_title(a: str, b: str) -> bool:
    """《支部工作条例》 names 《中国共产党支部工作条例（试行）》; an edition marker still tells versions apart."""
    a, b = (t.replace("（试行）", "").replace("(试行)", "").strip() for t in (a, b))
    return a.endswith(b) or b.endswith(a)
