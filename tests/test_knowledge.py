"""Checks for the shipped knowledge base: work cards and local-practice cards.

What is checked (each test can fail; fix the cards, never loosen the checks):

(a) Front matter and layout.  Every file in knowledge/cards/ and knowledge/practices/
    has an ASCII file name, YAML front matter between two ``---`` lines with
    ``title`` (str), ``tags`` (non-empty list), ``applies_to`` (non-empty list from
    机关/企业/高校/社区/通用), ``sources`` (non-empty list of ``{doc, article}``) and
    ``updated`` (an ISO date).  Work cards have the sections 做什么 · 什么时候 · 谁来做 ·
    怎么做 (numbered steps) · 合格标准 · 常见问题 (问：/答： pairs) · 依据, in that order.
    Practice cards carry ``kind: practice``, the visible line
    "（地方实践，非党内法规规定）" and the sections 是什么 · 要解决的问题 · 支部可以怎么做 ·
    依据.  Every topic the issue asks for has a card.

(b) Citations.  Every ``sources`` entry, and every citation written in a body as
    《title》第X条, resolves against the corpus: the title is a ``title`` in
    manifest.json (or the title line of the founding article in ../seed) and the label
    exists in that file.  An article starts at a line beginning ``第X条`` followed by a
    space or a full-width space; for a document without articles, a line beginning ``X、``
    starts either a numbered point or a headed section: when the rest of the line is a
    sentence (the 2015 通知's points) the label is ``第X点``; when it is a bare heading (the
    准则's sections "九、严格党的组织生活制度") the label is ``第X部分``, and the section runs
    to the next such line.  A point cannot be cited as a 部分 nor a section as a 点.
    Seed-article labels are ``前言``,
    a part ``三`` or a sub-section ``三（二）``.  No citation may point to a
    ``superseded`` document whose manifest entry names a current replacement
    (``superseded_by``), nor to the descriptive ``reference`` report.  Every source is restated in the 依据 section, and every
    article cited in the body is listed in ``sources``.

(c) Numbers.  Every number stated in a card body must occur in the text of at least
    one article (or seed section) that the card cites.  Numbers are: Arabic numbers
    (full-width digits normalised, decimals kept, "％" treated as "%"), and Chinese
    numerals attached to a unit (个月、工作日、学时、年、月、天、日、人、名、次、届、岁、元、倍 …),
    including ranges like 一至两名.  "半年" counts as 0.5 of a 年 and is compared as 0.5.
    Exempt on purpose, and only these:
      * worked examples: a line whose text (after any Markdown list / quote marker)
        starts with "例：", "示例" or "算例".  Results computed in an example (e.g.
        97.5 元 of 党费) are not in any regulation, so they are not checked here; the
        党费 example is instead checked arithmetically by ``test_dangfei_example``;
      * labels and titles: text inside 《》 and ordinal labels such as 第十二条、第四季度、
        第一书记 (a numeral right after 第 is an ordinal, not a quantity);
      * Markdown numbered-list markers at the start of a line ("1. ").
    Front matter (including ``updated``) is not part of the body and is not checked.
    Numbers cited from a 第X部分 are checked against that section's text only.

(f) Current texts and the regulation list.  A card that speaks of 纪律处分 (纪律处分、党纪处分、
    留党察看、开除党籍、严重警告、处分影响期) cites the current 《中国共产党纪律处分条例》.
    knowledge/regulations.yaml has one entry per corpus document cited anywhere in knowledge/
    (cards' and practice cards' sources and body citations, obligations.yaml sources,
    meetings.yaml documents), with the title exactly as in manifest.json, and no entry that
    nothing cites; its ``not_bundled`` list names exactly the regulations that card bodies
    name as the home of a rule the corpus does not contain.  (knowledge/questions/ holds
    retrieval phrasings, not citations, and is not counted.)

(d) Fixed political formulations.  All text files under knowledge/ and prompts/ (if
    present) are scanned for known garbles ("二个维护", "两个坚决维护", "三个自信" …), for
    a 四个意识/四个自信/两个维护/两个确立 list whose members are wrong or missing, and for a
    "坚决维护习近平…" / "确立习近平…" phrase that is not the exact wording.

(e) No copying.  No run of 30 or more characters (whitespace removed) in any file under
    knowledge/ may be identical to a run in any corpus text (*.txt, the quiz bank) or in
    the founding article.

The corpus is found at $ASSISTANT_CORPUS_DIR or <repo>/../shared/corpus, the founding
article in <corpus>/../seed.  Tests that need them are skipped, with the reason, when
they are absent (without the founding article, the practice-card citation and number
checks are skipped and the copy check covers the corpus texts only).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from assistant.numerals import cn_to_int

REPO_ROOT = Path(__file__).resolve().parents[1]
KNOWLEDGE_DIR = REPO_ROOT / "knowledge"
CARDS_DIR = KNOWLEDGE_DIR / "cards"
PRACTICES_DIR = KNOWLEDGE_DIR / "practices"
PROMPTS_DIR = REPO_ROOT / "prompts"
CORPUS_DIR = Path(os.environ.get("ASSISTANT_CORPUS_DIR", REPO_ROOT / "../shared/corpus"))
SEED_DIR = CORPUS_DIR / ".." / "seed"

APPLIES_TO = {"机关", "企业", "高校", "社区", "通用"}
CARD_SECTIONS = ["做什么", "什么时候", "谁来做", "怎么做", "合格标准", "常见问题", "依据"]
PRACTICE_SECTIONS = ["是什么", "要解决的问题", "支部可以怎么做", "依据"]
PRACTICE_MARK = "（地方实践，非党内法规规定）"
COPY_RUN = 30

# Topics the issue requires; each must be contained in the title of some card.
REQUIRED_CARD_TOPICS = [
    "支部党员大会", "支委会", "党小组会", "党课", "主题党日", "组织生活会", "民主评议党员",
    "谈心谈话", "入党申请", "入党积极分子", "发展对象", "接收预备党员",
    "预备党员教育考察与转正", "党费", "组织关系转接", "党员教育培训",
    "支部委员会设置与换届选举", "党支部设置与调整", "机关党委与机关党支部职责",
    "流动党员与失联党员", "不合格党员处置", "请示报告", "党务公开", "支部工作记录与台账",
    # added with the 2023 纪律处分条例 and the 党内政治生活准则
    "纪律处分", "党内政治生活准则", "双重组织生活", "停止党籍", "出国（境）学习研究与高校毕业生的组织关系",
    "党组织设置看党员人数",
]
REQUIRED_PRACTICE_TOPICS = [
    "五坚持五突出", "机关党委书记领办项目", "党建联建破难", "责任清单", "头雁培育工程",
    "攀峰提能", "机关党委专职副书记队伍建设", "监督检查与考核评价", "数智赋能",
    "标准化", "规范化", "制度化", "数智化", "专业化",
]

CN_NUM = "零〇一二两三四五六七八九十百千万"
UNITS = ("个工作日|工作日|个学时|学时|个小时|小时|个月|个季度|周岁|岁|分钟|"
         "年|月|周|天|日|人|名|次|届|元|倍")
ORDINAL_OR_TITLE = re.compile(r"《[^》]*》|第[0-9０-９" + CN_NUM + r"]+")
CN_QUANTITY = re.compile(
    r"([" + CN_NUM + r"]+|半)(?=(?:(?:至|到|或者|或|、)[" + CN_NUM + r"]+)?(?:" + UNITS + "))")
ARABIC = re.compile(r"(?<![\d.])\d+(?:\.\d+)?")
LIST_MARKER = re.compile(r"^\s*(?:[-*+>]\s*)*\d+[.、)]\s+", re.M)
EXAMPLE_LINE = re.compile(r"^\s*(?:[-*+>]\s*|\d+[.、)]\s*)*(?:例[：:]|示例|算例)")
FULLWIDTH = str.maketrans("０１２３４５６７８９．％", "0123456789.%")


# --------------------------------------------------------------------------- helpers

def cn_to_number(text: str) -> float:
    """Convert a Chinese numeral such as 二十四, 一百, 两, 半 to a number."""
    return 0.5 if text == "半" else float(cn_to_int(text) or 0)


def numbers_in(text: str) -> set[float]:
    """Quantities stated in a text (Arabic numbers, Chinese numerals with a unit)."""
    text = text.translate(FULLWIDTH)
    text = ORDINAL_OR_TITLE.sub(" ", text)
    text = LIST_MARKER.sub("", text)
    found = {round(float(m.group(0)), 6) for m in ARABIC.finditer(text)}
    found |= {round(cn_to_number(m.group(1)), 6) for m in CN_QUANTITY.finditer(text)}
    return found


def strip_examples(body: str) -> str:
    return "\n".join(line for line in body.splitlines() if not EXAMPLE_LINE.match(line))


def cn_label_to_int(label: str) -> int:
    return int(cn_to_number(label))


def parse_card(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    m = re.match(r"^---\n(.*?)\n---\n?(.*)$", text, re.S)
    if not m:
        raise AssertionError(f"{path.name}: no YAML front matter between --- lines")
    meta = yaml.safe_load(m.group(1))
    if not isinstance(meta, dict):
        raise AssertionError(f"{path.name}: front matter is not a mapping")
    return meta, m.group(2)


def sections(body: str) -> list[tuple[str, str]]:
    parts = re.split(r"^## +(.+?)\s*$", body, flags=re.M)
    return [(parts[i].strip(), parts[i + 1]) for i in range(1, len(parts), 2)]


def card_files() -> list[Path]:
    files = []
    for d in (CARDS_DIR, PRACTICES_DIR):
        if d.is_dir():
            files += sorted(p for p in d.iterdir() if p.is_file())
    return files


def knowledge_text_files() -> list[Path]:
    out = []
    for root in (KNOWLEDGE_DIR, PROMPTS_DIR):
        if root.is_dir():
            out += sorted(p for p in root.rglob("*") if p.is_file()
                          and p.suffix.lower() in {".md", ".yaml", ".yml", ".txt", ".json", ".py"})
    return out


# --------------------------------------------------------------------------- corpus

class Corpus:
    """Manifest titles -> labelled article texts, plus the founding article."""

    ARTICLE = re.compile(r"^第([" + CN_NUM + r"]+)条[ \u3000]")
    CHAPTER = re.compile(r"^第[" + CN_NUM + r"]+章")
    POINT = re.compile(r"^([一二三四五六七八九十]+)、")
    # a line "九、严格党的组织生活制度" is a section heading; "一、对已落实…，…。" is a point
    HEADING_REST = re.compile(r"^[^，。；：,.;:!?！？]{1,30}$")
    SUB = re.compile(r"^[（(]([一二三四五六七八九十]+)[)）]")

    def __init__(self, corpus_dir: Path, seed_dir: Path):
        self.manifest = json.loads((corpus_dir / "manifest.json").read_text(encoding="utf-8"))
        self.by_title = {e["title"]: e for e in self.manifest}
        self.by_file = {e["file"]: e for e in self.manifest}
        self.articles: dict[str, dict[str, str]] = {}
        self.texts: dict[str, str] = {}
        for e in self.manifest:
            text = (corpus_dir / e["file"]).read_text(encoding="utf-8")
            self.texts[e["title"]] = text
            self.articles[e["title"]] = self._split_articles(text)
        self.seed_title = None
        self.seed_text = ""
        seeds = sorted(seed_dir.glob("*.txt")) if seed_dir.is_dir() else []
        if seeds:
            self.seed_text = seeds[0].read_text(encoding="utf-8")
            self.seed_title = next(l.strip() for l in self.seed_text.splitlines() if l.strip())
            self.articles[self.seed_title] = self._split_seed(self.seed_text)
            self.texts[self.seed_title] = self.seed_text

    def _split_articles(self, text: str) -> dict[str, str]:
        arts: dict[str, list[str]] = {}
        cur = None
        for line in text.splitlines():
            m = self.ARTICLE.match(line)
            if m:
                cur = f"第{m.group(1)}条"
                assert cur not in arts, f"duplicate article {cur}"
                arts[cur] = [line]
            elif self.CHAPTER.match(line):
                cur = None
            elif cur:
                arts[cur].append(line)
        if not arts:  # numbered 一、二、…: a notice's points (第X点) or headed sections (第X部分)
            preamble: list[str] = []
            for line in text.splitlines():
                m = self.POINT.match(line)
                if m:
                    rest = line[m.end():].strip()
                    kind = "部分" if self.HEADING_REST.match(rest) else "点"
                    cur = f"第{m.group(1)}{kind}"
                    assert cur not in arts, f"duplicate {cur}"
                    arts[cur] = [line]
                elif cur:
                    arts[cur].append(line)
                else:
                    preamble.append(line)
            if any(k.endswith("部分") for k in arts):  # what comes before the first 部分 is its 序言
                arts = {"序言": preamble, **arts}
        return {k: "\n".join(v) for k, v in arts.items()}

    def _split_seed(self, text: str) -> dict[str, str]:
        secs: dict[str, list[str]] = {"前言": []}
        part = sub = None
        for line in text.splitlines()[1:]:
            s = line.strip()
            m = self.POINT.match(s)
            if m:
                part, sub = m.group(1), None
                secs[part] = [s]
                continue
            m = self.SUB.match(s)
            if m and part:
                sub = f"{part}（{m.group(1)}）"
                secs[sub] = [s]
                secs[part].append(s)
                continue
            if part is None:
                secs["前言"].append(s)
            else:
                secs[part].append(s)
                if sub:
                    secs[sub].append(s)
        return {k: "\n".join(v) for k, v in secs.items()}

    def resolve(self, doc: str, article: str) -> str | None:
        """Problem description, or None when the citation is fine."""
        if doc not in self.articles:
            return f"unknown document title 《{doc}》"
        e = self.by_title.get(doc)
        if e and e.get("status") == "superseded" and e.get("superseded_by"):
            new = self.by_file.get(e["superseded_by"], {}).get("title", e["superseded_by"])
            return f"《{doc}》 is superseded; cite the current 《{new}》"
        if e and e.get("status") == "reference":
            return f"《{doc}》 is a descriptive report, not a regulation with articles"
        if article not in self.articles[doc]:
            return f"《{doc}》 has no {article}"
        return None

    def article_text(self, doc: str, article: str) -> str:
        return self.articles.get(doc, {}).get(article, "")

    def copy_texts(self, corpus_dir: Path) -> list[tuple[str, str]]:
        out = [(f"corpus/{p.relative_to(corpus_dir)}", p.read_text(encoding="utf-8"))
               for p in sorted(corpus_dir.rglob("*.txt"))]
        for p in sorted(corpus_dir.rglob("*.json*")):
            if p.name == "manifest.json":
                continue
            raw = p.read_text(encoding="utf-8")
            items = (json.loads(raw) if p.suffix == ".json"
                     else [json.loads(l) for l in raw.splitlines() if l.strip()])
            for it in items:
                for key in ("question", "answer"):
                    if isinstance(it, dict) and isinstance(it.get(key), str):
                        out.append((f"corpus/{p.name}", it[key]))
        if self.seed_text:
            out.append(("seed", self.seed_text))
        return out


@lru_cache(maxsize=1)
def _corpus() -> Corpus | None:
    if not (CORPUS_DIR / "manifest.json").is_file():
        return None
    return Corpus(CORPUS_DIR.resolve(), SEED_DIR.resolve())


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    c = _corpus()
    if c is None:
        pytest.skip(f"corpus not found at {CORPUS_DIR} (set ASSISTANT_CORPUS_DIR)")
    return c


CARDS = card_files()
CARD_IDS = [f"{p.parent.name}/{p.name}" for p in CARDS]
BODY_CITATION = re.compile(
    r"《([^》]+)》(第[" + CN_NUM + r"]+(?:[条点]|部分)|前言|[一二三四五六七八九十]+(?:（[一二三四五六七八九十]+）)?)")


def body_citations(body: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BODY_CITATION.finditer(body)]


# --------------------------------------------------------------------------- (a)

def test_cards_exist_for_every_required_topic():
    titles = {}
    for p in CARDS:
        meta, _ = parse_card(p)
        titles.setdefault(p.parent.name, []).append(str(meta.get("title", "")))
    for topic in REQUIRED_CARD_TOPICS:
        assert any(topic in t for t in titles.get("cards", [])), f"no card for {topic}"
    for topic in REQUIRED_PRACTICE_TOPICS:
        assert any(topic in t for t in titles.get("practices", [])), f"no practice card for {topic}"


@pytest.mark.parametrize("path", CARDS, ids=CARD_IDS)
def test_front_matter(path: Path):
    assert re.fullmatch(r"[a-z0-9][a-z0-9_-]*\.md", path.name), f"{path.name}: use an ASCII .md name"
    meta, body = parse_card(path)
    for key in ("title", "tags", "applies_to", "sources", "updated"):
        assert key in meta, f"{path.name}: front matter lacks {key}"
    assert isinstance(meta["title"], str) and meta["title"].strip()
    assert isinstance(meta["tags"], list) and meta["tags"], "tags must be a non-empty list"
    assert all(isinstance(t, str) and t.strip() for t in meta["tags"])
    assert isinstance(meta["applies_to"], list) and meta["applies_to"]
    assert set(meta["applies_to"]) <= APPLIES_TO, f"applies_to outside {APPLIES_TO}"
    assert isinstance(meta["sources"], list) and meta["sources"], "sources must be a non-empty list"
    for s in meta["sources"]:
        assert isinstance(s, dict) and set(s) == {"doc", "article"}, f"bad source entry {s!r}"
        assert isinstance(s["doc"], str) and isinstance(s["article"], str), f"bad source entry {s!r}"
    upd = meta["updated"]
    if isinstance(upd, str):
        upd = _dt.date.fromisoformat(upd)
    assert isinstance(upd, _dt.date), "updated must be an ISO date"
    first = next(l for l in body.splitlines() if l.strip())
    assert first.strip() == f"# {meta['title']}", f"{path.name}: body must start with '# {meta['title']}'"
    assert len(set(map(str, (meta["sources"])))) == len(meta["sources"]), "duplicate sources"


@pytest.mark.parametrize("path", [p for p in CARDS if p.parent == CARDS_DIR],
                         ids=[i for i in CARD_IDS if i.startswith("cards/")])
def test_work_card_layout(path: Path):
    meta, body = parse_card(path)
    assert meta.get("kind") != "practice", "practice cards belong in knowledge/practices/"
    secs = sections(body)
    assert [s for s, _ in secs] == CARD_SECTIONS, f"sections must be exactly {CARD_SECTIONS}"
    text = dict(secs)
    steps = re.findall(r"^\d+\. \S", text["怎么做"], re.M)
    assert len(steps) >= 3, "怎么做 needs numbered steps (1. 2. 3. …)"
    assert text["合格标准"].strip(), "合格标准 is empty"
    lines = [l.strip() for l in text["常见问题"].splitlines() if l.strip()]
    qs = [i for i, l in enumerate(lines) if l.startswith("问：")]
    assert len(qs) >= 2, "常见问题 needs at least two 问： entries"
    answers = []
    for i in qs:
        assert i + 1 < len(lines) and lines[i + 1].startswith("答："), f"{lines[i]} has no 答："
        answers.append(lines[i + 1])
    assert any(body_citations(a) for a in answers), "at least one 答 must cite 《title》第X条"


@pytest.mark.parametrize("path", [p for p in CARDS if p.parent == PRACTICES_DIR],
                         ids=[i for i in CARD_IDS if i.startswith("practices/")])
def test_practice_card_layout(path: Path):
    meta, body = parse_card(path)
    assert meta.get("kind") == "practice", "practice cards need kind: practice"
    assert PRACTICE_MARK in body, f"practice cards must show {PRACTICE_MARK}"
    secs = sections(body)
    assert [s for s, _ in secs] == PRACTICE_SECTIONS, f"sections must be exactly {PRACTICE_SECTIONS}"
    steps = re.findall(r"^\d+\. \S", dict(secs)["支部可以怎么做"], re.M)
    assert len(steps) >= 2, "支部可以怎么做 needs numbered steps"


# --------------------------------------------------------------------------- (b)

@pytest.mark.parametrize("path", CARDS, ids=CARD_IDS)
def test_citations_resolve(path: Path, corpus: Corpus):
    meta, body = parse_card(path)
    problems = []
    sources = [(s["doc"], s["article"]) for s in meta["sources"]]
    if path.parent == PRACTICES_DIR and not corpus.seed_title:
        pytest.skip(f"founding article not found in {SEED_DIR}; cannot resolve its sections")
    for doc, art in sources:
        err = corpus.resolve(doc, art)
        if err:
            problems.append(f"source {doc} {art}: {err}")
    if path.parent == CARDS_DIR:
        assert any(d in corpus.by_title for d, _ in sources), "a work card must cite a regulation"
    if path.parent == PRACTICES_DIR:
        assert any(d == corpus.seed_title for d, _ in sources), "a practice card must cite the article"
    for doc, art in body_citations(body):
        if doc not in corpus.articles:
            continue  # 《入党志愿书》 and other form names are not documents
        err = corpus.resolve(doc, art)
        if err:
            problems.append(f"body cites {doc} {art}: {err}")
        elif (doc, art) not in sources:
            problems.append(f"body cites 《{doc}》{art} but sources does not list it")
    for title in re.findall(r"《([^》]+)》", body):
        e = corpus.by_title.get(title)
        if e and e.get("status") == "superseded" and e.get("superseded_by"):
            problems.append(f"body names superseded 《{title}》")
    basis = dict(sections(body)).get("依据", "")
    for doc, art in sources:
        if f"《{doc}》{art}" not in basis:
            problems.append(f"依据 does not restate 《{doc}》{art}")
    assert not problems, "\n".join(problems)


def test_resolver_rejects_bad_citations(corpus: Corpus):
    assert corpus.resolve("中国共产党支部工作条例（试行）", "第十二条") is None
    assert corpus.resolve("中国共产党支部工作条例（试行）", "第九十九条")
    assert corpus.resolve("支部工作条例", "第一条")  # short names are not titles
    assert "superseded" in corpus.resolve("中国共产党发展党员工作细则（2014年版）", "第七条")
    assert corpus.resolve("中国共产党发展党员工作细则", "第四十四条") is None
    assert corpus.resolve("中国共产党发展党员工作细则", "第四十五条")
    # the 2015 通知: numbered points 第一点 … 第六点, not sections
    tongzhi = "中共中央组织部关于做好高校毕业生党员组织关系管理工作的通知"
    assert corpus.resolve(tongzhi, "第三点") is None
    assert corpus.resolve(tongzhi, "第六点") is None
    assert corpus.resolve(tongzhi, "第七点")
    assert corpus.resolve(tongzhi, "第三部分")
    # the 准则: a preamble and headed sections 第一部分 … 第十二部分, not points
    zhunze = "关于新形势下党内政治生活的若干准则"
    assert corpus.resolve(zhunze, "第一部分") is None
    assert corpus.resolve(zhunze, "第九部分") is None
    assert corpus.resolve(zhunze, "第十二部分") is None
    assert corpus.resolve(zhunze, "第十三部分")
    assert corpus.resolve(zhunze, "第九点")
    assert corpus.resolve(zhunze, "第九条")
    # the 2018 纪律处分条例 is superseded by the 2023 text
    assert "superseded" in corpus.resolve("中国共产党纪律处分条例（2018年版）", "第八条")
    assert corpus.resolve("中国共产党纪律处分条例", "第一百五十八条") is None
    assert corpus.resolve("中国共产党纪律处分条例", "第一百五十九条")


def test_sections_of_a_text_without_articles(corpus: Corpus):
    """A 第X部分 is the text from its heading line to the next heading, nothing more."""
    zhunze = "关于新形势下党内政治生活的若干准则"
    nine = corpus.article_text(zhunze, "第九部分")
    assert nine.startswith("九、严格党的组织生活制度")
    assert "三会一课" in nine and "谈心谈话" in nine
    assert "十、开展批评和自我批评" not in nine and "团结——批评——团结" not in nine
    assert "办好中国的事情" not in corpus.article_text(zhunze, "第一部分")  # the preamble is no section
    assert corpus.article_text(zhunze, "第十二部分").startswith("十二、")
    labels = list(corpus.articles[zhunze])
    assert labels == ["序言"] + [f"第{n}部分" for n in "一二三四五六七八九十"] + ["第十一部分", "第十二部分"]
    assert corpus.article_text(zhunze, "序言").count("办好中国的事情") == 1
    tongzhi = corpus.articles["中共中央组织部关于做好高校毕业生党员组织关系管理工作的通知"]
    assert list(tongzhi) == [f"第{n}点" for n in "一二三四五六"]
    # numbers of a 部分 come from that section only: 第二部分 names a 100, 第九部分 no number
    assert 100.0 in numbers_in(corpus.article_text(zhunze, "第二部分"))
    assert numbers_in(corpus.article_text(zhunze, "第九部分")) == set()
    assert BODY_CITATION.findall("见《关于新形势下党内政治生活的若干准则》第九部分。") == [
        (zhunze, "第九部分")]


# --------------------------------------------------------------------------- (c)

def test_number_extraction_rules():
    assert numbers_in("党支部委员会会议一般每月召开1次") == {1.0}
    assert numbers_in("公示期不少于五个工作日") == {5.0}
    assert numbers_in("不少于二十四个学时，延长不能少于半年") == {24.0, 0.5}
    assert numbers_in("指定一至两名正式党员") == {1.0, 2.0}
    assert numbers_in("3000元以上至5000元者交纳1.5％") == {3000.0, 5000.0, 1.5}
    assert numbers_in("《中国共产党纪律处分条例（2018年版）》第十二条，第四季度，第一书记") == set()
    assert numbers_in("1. 先开支委会\n2. 再开党员大会") == set()
    assert numbers_in("“四个意识”“三会一课”一般") == set()
    assert strip_examples("收入6500元\n例：6500元 × 1.5% = 97.5元\n> 例：x 9") == "收入6500元"


@pytest.mark.parametrize("path", CARDS, ids=CARD_IDS)
def test_numbers_occur_in_cited_articles(path: Path, corpus: Corpus):
    meta, body = parse_card(path)
    if path.parent == PRACTICES_DIR and not corpus.seed_title:
        pytest.skip(f"founding article not found in {SEED_DIR}; cannot check its numbers")
    allowed: set[float] = set()
    for s in meta["sources"]:
        allowed |= numbers_in(corpus.article_text(s["doc"], s["article"]))
    bad = []
    for line in strip_examples(body).splitlines():
        for n in sorted(numbers_in(line) - allowed):
            bad.append(f"{n:g} in: {line.strip()[:80]}")
    assert not bad, "numbers not found in any cited article:\n" + "\n".join(bad)


def test_dangfei_example():
    """The 党费 card must carry the rate table and a worked example that adds up."""
    path = CARDS_DIR / "dangfei.md"
    assert path.is_file(), "knowledge/cards/dangfei.md is missing"
    _, body = parse_card(path)
    nums = numbers_in(strip_examples(body))
    assert {3000.0, 5000.0, 10000.0, 0.5, 1.0, 1.5, 2.0} <= nums, "rate table incomplete"

    def rate(base: float) -> float:
        return 0.5 if base <= 3000 else 1.0 if base <= 5000 else 1.5 if base <= 10000 else 2.0

    examples = [l for l in body.splitlines() if EXAMPLE_LINE.match(l)]
    checked = 0
    for line in examples:
        m = re.search(r"(\d+(?:\.\d+)?)元.*?(\d+(?:\.\d+)?)%.*?(\d+(?:\.\d+)?)元", line.translate(FULLWIDTH))
        if not m:
            continue
        base, pct, fee = map(float, m.groups())
        if "离退休" in line or "退休" in line:
            continue
        assert pct == rate(base), f"wrong rate in example: {line}"
        assert abs(base * pct / 100 - fee) < 0.005, f"arithmetic wrong in example: {line}"
        checked += 1
    assert checked >= 1, "the 党费 card needs a worked example line starting with 例："


def test_everyday_questions_are_answered():
    """A fresh install must answer these from the cards, with a citation."""
    wanted = {"zhiweihui.md": "多久", "dangfei.md": "怎么算"}
    for name, word in wanted.items():
        _, body = parse_card(CARDS_DIR / name)
        faq = dict(sections(body))["常见问题"]
        lines = [l.strip() for l in faq.splitlines() if l.strip()]
        hit = [i for i, l in enumerate(lines) if l.startswith("问：") and word in l]
        assert hit, f"{name}: no question containing {word}"
        assert body_citations(lines[hit[0] + 1]), f"{name}: answer to {word} lacks a citation"


# --------------------------------------------------------------------------- (f)

DISCIPLINE_WORDS = re.compile(r"纪律处分|党纪处分|留党察看|开除党籍|严重警告|处分影响期")
DISCIPLINE_DOC = "中国共产党纪律处分条例"


@pytest.mark.parametrize("path", CARDS, ids=CARD_IDS)
def test_discipline_cards_cite_current_tiaoli(path: Path, corpus: Corpus):
    """A card that speaks of 纪律处分 rests on the current 条例 (articles as numbered there)."""
    meta, body = parse_card(path)
    words = sorted(set(DISCIPLINE_WORDS.findall(body)))
    if not words:
        return
    e = corpus.by_title.get(DISCIPLINE_DOC)
    assert e and e.get("status") == "current", f"《{DISCIPLINE_DOC}》 is not a current corpus text"
    cited = [s["article"] for s in meta["sources"] if s["doc"] == DISCIPLINE_DOC]
    assert cited, f"{path.name} speaks of {'、'.join(words)} but cites no article of 《{DISCIPLINE_DOC}》"


REGULATIONS_FILE = KNOWLEDGE_DIR / "regulations.yaml"
REGULATION_KEYS = {"title", "short", "issued_by", "doc_number", "effective", "status",
                   "official_copy", "corpus_source"}
# a 《…》 in a card body that names a regulation (not a form such as 《入党志愿书》)
REGULATION_NAME = re.compile(r"(?:条例|规定|准则|细则|规则|办法|意见|通知|决定)(?:（试行）)?$")


def cited_documents(corpus: Corpus) -> dict[str, set[str]]:
    """Title -> where in knowledge/ it is cited (cards, practices, obligations, meetings)."""
    out: dict[str, set[str]] = {}
    for path in CARDS:
        meta, body = parse_card(path)
        where = f"{path.parent.name}/{path.name}"
        for src in meta["sources"]:
            out.setdefault(src["doc"], set()).add(where)
        for doc, _ in body_citations(body):
            if doc in corpus.articles:
                out.setdefault(doc, set()).add(where)
    obligations = yaml.safe_load((KNOWLEDGE_DIR / "obligations.yaml").read_text(encoding="utf-8"))
    for duty in obligations.get("duties") or []:
        for src in duty.get("sources") or []:
            out.setdefault(src["doc"], set()).add(f"obligations.yaml:{duty.get('id')}")
    meetings = yaml.safe_load((KNOWLEDGE_DIR / "meetings.yaml").read_text(encoding="utf-8"))
    for short, title in (meetings.get("documents") or {}).items():
        out.setdefault(title, set()).add(f"meetings.yaml:{short}")
    return out


def test_regulation_list_matches_citations(corpus: Corpus):
    """knowledge/regulations.yaml lists exactly the corpus documents knowledge/ cites."""
    assert REGULATIONS_FILE.is_file(), "knowledge/regulations.yaml is missing"
    data = yaml.safe_load(REGULATIONS_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and isinstance(data.get("regulations"), list)
    problems = []
    listed: dict[str, dict] = {}
    for entry in data["regulations"]:
        assert isinstance(entry, dict), f"bad entry {entry!r}"
        title = entry.get("title")
        if set(entry) != REGULATION_KEYS:
            problems.append(f"{title}: keys must be {sorted(REGULATION_KEYS)}, got {sorted(entry)}")
            continue
        if title in listed:
            problems.append(f"{title}: listed twice")
        listed[title] = entry
        m = corpus.by_title.get(title)
        if not m:
            problems.append(f"{title}: not a title in manifest.json")
            continue
        if m.get("status") == "reference":
            problems.append(f"{title}: a descriptive report, not a regulation")
        if entry["short"] != m["short"]:
            problems.append(f"{title}: short {entry['short']!r} differs from manifest {m['short']!r}")
        if entry["status"] != m["status"]:
            problems.append(f"{title}: status {entry['status']!r} differs from manifest {m['status']!r}")
        if not str(entry["effective"]).startswith(str(m["effective"])):
            problems.append(f"{title}: effective {entry['effective']} differs from manifest {m['effective']}")
        for key in ("issued_by", "official_copy", "corpus_source"):
            if not (isinstance(entry[key], str) and entry[key].strip()):
                problems.append(f"{title}: {key} must be a non-empty text")
        if not isinstance(entry["doc_number"], str):
            problems.append(f"{title}: doc_number must be a text (empty when not known)")
    cited = cited_documents(corpus)
    for title, where in sorted(cited.items()):
        if title not in corpus.by_title:
            if title != corpus.seed_title:
                problems.append(f"{title}: cited in {sorted(where)} but not a corpus document")
            continue
        if title not in listed:
            problems.append(f"{title}: cited in {sorted(where)} but has no entry")
    for title in listed:
        if title not in cited:
            problems.append(f"{title}: has an entry but nothing in knowledge/ cites it")
    assert not problems, "\n".join(problems)


def test_not_bundled_regulations_are_named(corpus: Corpus):
    """Regulations a card names as the home of a rule we do not ship are listed, and only those."""
    data = yaml.safe_load(REGULATIONS_FILE.read_text(encoding="utf-8"))
    entries = data.get("not_bundled") or []
    named: dict[str, set[str]] = {}
    for path in CARDS:
        _, body = parse_card(path)
        for title in re.findall(r"《([^》]+)》", body):
            if title in corpus.texts or not REGULATION_NAME.search(title):
                continue
            named.setdefault(title, set()).add(path.name)
    problems = []
    listed = set()
    for entry in entries:
        assert isinstance(entry, dict) and {"title", "rules", "official_copy"} <= set(entry), entry
        title = entry["title"]
        listed.add(title)
        if title in corpus.by_title:
            problems.append(f"{title}: is in the corpus; list it under regulations")
        if title not in named:
            problems.append(f"{title}: no card names it")
    for title, where in sorted(named.items()):
        if title not in listed:
            problems.append(f"《{title}》 named in {sorted(where)} but not in not_bundled")
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- (d)

GARBLES = [
    r"二个维护", r"二个确立", r"两个坚决维护", r"两个坚决确立", r"(?:两|二)个做到",
    r"[一二三五六七八九]个意识", r"[一二三五六七八九]个自信",
    r"[一三四五六七八九]个维护", r"[一三四五六七八九]个确立",
    r"四个坚定", r"四个增强", r"四个意思",
]
LISTS = {
    "四个意识": (r"[\u4e00-\u9fff]{2}意识", {"政治意识", "大局意识", "核心意识", "看齐意识"}),
    "四个自信": (r"[\u4e00-\u9fff]{2}自信", {"道路自信", "理论自信", "制度自信", "文化自信"}),
}
PHRASES = {
    "两个维护": ["坚决维护习近平总书记党中央的核心、全党的核心地位", "坚决维护党中央权威和集中统一领导"],
    "两个确立": ["确立习近平同志党中央的核心、全党的核心地位",
              "确立习近平新时代中国特色社会主义思想的指导地位"],
}
LIST_INTRO = re.compile(
    r"^[”」\"']?\s*(?:[（(:：=]|[，,]?\s*(?:即|是指|指的是|包括|就是)|——)")


def _list_segment(rest: str, stops: str) -> str:
    """The text of a list that follows a formulation's name."""
    r = rest.lstrip("”」\"' ")
    if r[:1] in "（(":
        return re.split(r"[）)]", r[1:], maxsplit=1)[0]
    return re.split("[" + stops + "]", r, maxsplit=1)[0]


def formulation_problems(text: str) -> list[str]:
    out = []
    for pat in GARBLES:
        for m in re.finditer(pat, text):
            out.append(f"garbled formulation {m.group(0)!r}")
    for term, (pat, members) in LISTS.items():
        for m in re.finditer(term, text):
            rest = text[m.end():m.end() + 80]
            if not LIST_INTRO.match(rest):
                continue
            seg = _list_segment(rest, "。；;\n")
            got = re.findall(pat, seg)
            if set(got) != members or len(got) != len(members):
                out.append(f"{term} list wrong or incomplete: {seg!r}")
    for term, phrases in PHRASES.items():
        for m in re.finditer(term, text):
            rest = text[m.end():m.end() + 120]
            if not LIST_INTRO.match(rest):
                continue
            seg = _list_segment(rest, "。\n")
            for ph in phrases:
                if ph not in seg:
                    out.append(f"{term} list lacks the exact wording {ph!r}: {seg!r}")
    # a bare enumeration such as 政治意识、大局意识、服从意识、看齐意识 (no name before it)
    for term, (pat, members) in LISTS.items():
        for m in re.finditer(f"(?:{pat}[、，,和及与]){{2,}}{pat}", text):
            got = re.findall(pat, m.group(0))
            if set(got) & members and (set(got) != members or len(got) != len(members)):
                out.append(f"{term} enumeration wrong or incomplete: {m.group(0)!r}")
    for m in re.finditer("坚决维护习近平", text):
        if not text.startswith(PHRASES["两个维护"][0], m.start()):
            out.append(f"inexact wording: {text[m.start():m.start() + 30]!r}")
    for m in re.finditer("确立习近平", text):
        if not any(text.startswith(ph, m.start()) for ph in PHRASES["两个确立"]):
            out.append(f"inexact wording: {text[m.start():m.start() + 30]!r}")
    return out


def test_formulation_checker_catches_known_mistakes():
    bad = [
        "要做到二个维护",
        "做到“两个坚决维护”",
        "“四个意识”（政治意识、大局意识、核心意识、服从意识）",
        "“四个意识”即政治意识、大局意识、看齐意识",
        "四个自信：道路自信、理论自信、制度自信、文明自信",
        "“两个维护”：坚决维护习近平总书记的核心地位，坚决维护党中央权威",
        "两个确立，即确立习近平同志党中央的核心地位、确立习近平思想的指导地位",
        "三个自信",
        "牢固树立政治意识、大局意识、服从意识、看齐意识",
        "坚定道路自信、理论自信、制度自信",
    ]
    for s in bad:
        assert formulation_problems(s), f"checker missed: {s}"
    good = [
        "增强“四个意识”、坚定“四个自信”、做到“两个维护”，深刻领悟“两个确立”",
        "“四个意识”（政治意识、大局意识、核心意识、看齐意识）",
        "“四个自信”即道路自信、理论自信、制度自信、文化自信。",
        "增强政治意识、大局意识、核心意识、看齐意识，提高安全意识",
        "“两个维护”：一是坚决维护习近平总书记党中央的核心、全党的核心地位；"
        "二是坚决维护党中央权威和集中统一领导。",
        "“两个确立”：确立习近平同志党中央的核心、全党的核心地位，"
        "以及确立习近平新时代中国特色社会主义思想的指导地位。",
    ]
    for s in good:
        assert not formulation_problems(s), f"false alarm on: {s} -> {formulation_problems(s)}"


@pytest.mark.parametrize("path", knowledge_text_files(),
                         ids=[str(p.relative_to(REPO_ROOT)) for p in knowledge_text_files()])
def test_fixed_formulations_exact(path: Path):
    problems = formulation_problems(path.read_text(encoding="utf-8"))
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- (e)

def _nows(text: str) -> str:
    return re.sub(r"\s+", "", text)


@lru_cache(maxsize=1)
def _copy_index() -> tuple[frozenset, tuple]:
    c = _corpus()
    texts = tuple((name, _nows(t)) for name, t in c.copy_texts(CORPUS_DIR.resolve()))
    hashes = set()
    for _, t in texts:
        for i in range(len(t) - COPY_RUN + 1):
            hashes.add(hash(t[i:i + COPY_RUN]))
    return frozenset(hashes), texts


def copied_runs(text: str) -> list[tuple[str, str]]:
    hashes, texts = _copy_index()
    t = _nows(text)
    out, i = [], 0
    while i <= len(t) - COPY_RUN:
        w = t[i:i + COPY_RUN]
        if hash(w) in hashes:
            src = next((name for name, ct in texts if w in ct), None)
            if src:
                out.append((w, src))
                i += COPY_RUN
                continue
        i += 1
    return out


def test_copy_checker_catches_a_copied_sentence(corpus: Corpus):
    art = corpus.article_text("中国共产党支部工作条例（试行）", "第十七条")
    sample = "我们自己的话。" + art[10:60] + "结尾。"
    assert copied_runs(sample), "copy checker missed a verbatim run"
    assert not copied_runs("支委会原则上每个月开一回，有事可以随时加开。")


BINARY_SUFFIXES = {".npz"}  # knowledge/vectors/: the cards' embeddings, not text
KNOWLEDGE_FILES = ([p for p in sorted(KNOWLEDGE_DIR.rglob("*")) if p.is_file() and p.suffix not in BINARY_SUFFIXES]
                   if KNOWLEDGE_DIR.is_dir() else [])
# the question sets we write hold our words too: a key or a must_contain is a short phrase, not a quoted sentence
OUR_TEXT_FILES = KNOWLEDGE_FILES + sorted((REPO_ROOT / "bench").glob("*.jsonl"))


@pytest.mark.parametrize("path", OUR_TEXT_FILES,
                         ids=[str(p.relative_to(REPO_ROOT)) for p in OUR_TEXT_FILES])
def test_no_copied_runs(path: Path, corpus: Corpus):
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        pytest.skip(f"{path.name} is not UTF-8 text")
    runs = copied_runs(text)
    assert not runs, "runs of 30+ characters copied from the corpus:\n" + "\n".join(
        f"[{src}] {w}" for w, src in runs)


# --------------------------------------------------------------------------- FAQ cards
FAQ_DIR = KNOWLEDGE_DIR / "faq"
FAQ_FILES = sorted(FAQ_DIR.glob("*.md"))
FAQ_ANSWER_CITATION = re.compile(r"（《([^》]+)》((?:第[" + CN_NUM + r"]+(?:条|部分|点))|序言)）。?$")


def enumerated_items(article: str) -> int:
    """How many items an article enumerates as （一）（二）… (an answer may say 共五种)."""
    found = [cn_label_to_int(m) for m in re.findall(r"[（(]([" + CN_NUM + r"]+)[）)]", article)]
    return max(found, default=0)


def faq_pairs(body: str) -> list[tuple[str, str, str]]:
    """(## label, question, answer) for every 问/答 pair of an FAQ card."""
    out, label, question = [], "", ""
    for line in body.splitlines():
        line = line.strip()
        if line.startswith("## "):
            label = line[3:].strip()
        elif line.startswith("问："):
            question = line[2:]
        elif line.startswith("答："):
            out.append((label, question, line[2:]))
    return out


def test_faq_cards_exist_for_the_regulations_with_phrasings():
    questions = {p.stem for p in (KNOWLEDGE_DIR / "questions").glob("*.yaml")} - {"fazhan-dangyuan-gongzuo-xize-2014"}
    assert questions <= {p.stem for p in FAQ_FILES}, "every current regulation we write phrasings for has an FAQ card"


@pytest.mark.parametrize("path", FAQ_FILES, ids=lambda p: p.stem)
def test_faq_answers_cite_their_article_and_state_its_numbers(path: Path, corpus: Corpus):
    meta, body = parse_card(path)
    assert meta.get("kind") == "faq" and str(meta["title"]).startswith("常见问答：")
    title = str(meta["title"]).removeprefix("常见问答：")
    pairs = faq_pairs(body)
    assert len(pairs) >= 20, "an FAQ card answers the regulation's frequent questions"
    labels = list(dict.fromkeys(label for label, _, _ in pairs))
    assert [s["article"] for s in meta["sources"]] == labels and all(s["doc"] == title for s in meta["sources"])
    problems = []
    for label, question, answer in pairs:
        m = FAQ_ANSWER_CITATION.search(answer)
        if not m or (m.group(1), m.group(2)) != (title, label):
            problems.append(f"{label} {question}: the answer must end with （《{title}》{label}）")
            continue
        if err := corpus.resolve(title, label):
            problems.append(f"{label}: {err}")
        stated = numbers_in(ORDINAL_OR_TITLE.sub(" ", answer[:m.start()]))
        article = corpus.article_text(title, label)
        missing = stated - numbers_in(article) - {float(enumerated_items(article))}
        if missing:
            problems.append(f"{label} {question}: {sorted(missing)} not in the article")
    assert not problems, "\n".join(problems[:20])


class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses a key written twice in one mapping (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node, deep=False):
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        twice = sorted({str(k) for k in keys if keys.count(k) > 1})
        if twice:
            raise yaml.constructor.ConstructorError(None, None, f"written twice: {twice}", node.start_mark)
        return super().construct_mapping(node, deep=deep)


@pytest.mark.parametrize("path", sorted(KNOWLEDGE_DIR.glob("*.yaml")) + sorted((KNOWLEDGE_DIR / "questions").glob("*.yaml")),
                         ids=lambda p: p.name)
def test_no_key_written_twice(path: Path):
    """A word given twice in the lexicon (or an article twice in a phrasing file) loses its first entry unseen."""
    yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)
