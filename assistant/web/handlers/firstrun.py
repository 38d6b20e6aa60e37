"""开始使用: what a new user is told first — our cards come with the app, the regulations' own
texts do not — with the list of the regulations our cards cite (from knowledge/regulations.yaml),
which of them this knowledge base already holds, and where an official copy is found. The
import itself is the 知识库 tab's (handlers/kb.py)."""
from __future__ import annotations

from dataclasses import dataclass, field

from ...citations import same_title, status_word
from ...knowledge import OUR_KINDS
from ...root import App

HEADERS = ["法规", "本库", "生效日期", "状态", "发文字号", "正式文本"]  # 本库 second: in view on a narrow screen
INTRO = ("**自带知识卡**：我们自己的话写成的工作要点，每条附所依据的条款，开箱即可提问。"
         "**法规原文需自行导入**：本软件不附带党内法规原文，请从正式渠道获取并以正式文本为准。"
         "导入下列法规后，回答会直接引用原文，知识卡下也能展开所依据的条文。")


@dataclass
class Regulation:
    """One regulation our cards cite, and what the knowledge base holds of it."""

    title: str
    doc_number: str
    effective: str
    status: str
    official_copy: str
    imported: list = field(default_factory=list)  # DocInfo of the imported texts of this title (this edition)
    other: list = field(default_factory=list)  # DocInfo of the same title whose effective date differs (another edition)

    @property
    def held(self) -> str:
        if self.imported:
            return "已导入（" + "、".join(d.doc_id for d in self.imported) + "）"
        if self.other:
            return "已导入其他版本（" + "、".join(f"{d.doc_id}，{d.effective}" for d in self.other) + "）"
        return "未导入"


def _year_day(text: str) -> str:
    return (text or "").strip()[:10]


def regulations(app: App) -> list[Regulation]:
    """The regulations of knowledge/regulations.yaml, each with the documents of the store that
    are its text: the same title (assistant.citations.same_title), and — when both dates are
    known — the same effective date (an older edition of the same title is 其他版本)."""
    docs = [d for d in app.store.documents() if d.kind not in OUR_KINDS]
    out = []
    for r in app.knowledge.regulations():
        reg = Regulation(str(r["title"]), str(r.get("doc_number") or ""), str(r.get("effective") or ""),
                         str(r.get("status") or ""), str(r.get("official_copy") or ""))
        for d in docs:
            if not same_title(d.title, reg.title):
                continue
            same_edition = not d.effective or not reg.effective or \
                _year_day(reg.effective).startswith(_year_day(d.effective)) or \
                _year_day(d.effective).startswith(_year_day(reg.effective))
            (reg.imported if same_edition else reg.other).append(d)
        out.append(reg)
    return out


def rows(app: App, regs: list[Regulation] | None = None) -> list[list[str]]:
    """One row per regulation, for the page's table."""
    regs = regulations(app) if regs is None else regs
    return [[f"《{r.title}》", r.held, r.effective or "—", status_word(r.status) or "—", r.doc_number or "—",
             r.official_copy or "—"] for r in regs]


def summary(app: App, regs: list[Regulation] | None = None) -> str:
    """The panel's text: what comes with the app, what the user brings, how many are imported."""
    regs = regulations(app) if regs is None else regs
    n = sum(1 for r in regs if r.imported)
    if n == len(regs):
        state = f"知识卡所引用的 {len(regs)} 部法规**都已导入**。"
    elif n:
        state = f"知识卡所引用的 {len(regs)} 部法规中已导入 **{n}** 部，还有 {len(regs) - n} 部未导入（见下表）。"
    else:
        state = f"目前**只有知识卡**：知识卡所引用的 {len(regs)} 部法规都还没有导入（见下表）。"
    return INTRO + "\n\n" + state


README_HEADERS = ["法规", "发文字号", "生效日期", "状态", "正式文本"]


def readme_table(knowledge) -> str:
    """The list as the README shows it (a test checks the README holds exactly this): one row per
    regulation of knowledge/regulations.yaml."""
    lines = ["| " + " | ".join(README_HEADERS) + " |", "|" + "---|" * len(README_HEADERS)]
    for r in knowledge.regulations():
        cells = [f"《{r['title']}》", r.get("doc_number") or "—", r.get("effective") or "—",
                 status_word(r.get("status") or "") or "—", r.get("official_copy") or "—"]
        lines.append("| " + " | ".join(str(c).replace("|", "／") for c in cells) + " |")
    return "\n".join(lines)


def all_imported(app: App) -> bool:
    return all(r.imported for r in regulations(app))


def any_imported(app: App) -> bool:
    return any(r.imported for r in regulations(app))


WELCOME = ("请输入党务工作问题，例如“支委会多久开一次？”。回答下的来源卡片写明依据是知识卡（我们自己的话，附条款）"
           "还是法规原文；法规原文需在“开始使用”中导入，导入后可在来源卡片中展开条文。")
