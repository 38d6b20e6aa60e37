"""Meeting plans: numbers (quorum arithmetic, prep dates), structure, Word/Markdown output, citations, errors, CLI.

Two kinds of tests:
* unit tests pass a small fake duty list (``duties=``), so the plan logic is checked
  independently of the numbers in knowledge/obligations.yaml;
* integration tests use the real knowledge/obligations.yaml through assistant.plans.obligations
  and the real corpus in ASSISTANT_CORPUS_DIR or <repo>/../shared/corpus (skipped with a
  reason if absent).
"""
from __future__ import annotations

import json
import os
import re
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from assistant.cli import main
from assistant.errors import InputError
from assistant.inputs import label
from assistant.plans import meeting, obligations
from assistant.plans.meeting import add_months, count_back, make_meeting_plan, meeting_types, needed_count

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = Path(os.environ.get("ASSISTANT_CORPUS_DIR") or REPO_ROOT / ".." / "shared" / "corpus")
MEETINGS_YAML = REPO_ROOT / "knowledge" / "meetings.yaml"
TODAY = date(2026, 11, 27)

REQUIRED_TYPES = [
    "支部党员大会", "支委会", "党小组会", "党课", "主题党日", "组织生活会", "民主评议党员",
    "接收预备党员的支部党员大会", "预备党员转正的支部党员大会",
]
SECTION_HEADINGS = ["一、会议主题", "二、时间地点", "三、参加人员", "四、会前准备", "五、会议议程",
                    "六、会后工作", "七、注意事项", "八、依据"]


# --------------------------------------------------------------------------- fixtures

def _step(name, offset, owner="书记", hours=1.0):
    return SimpleNamespace(name=name, offset_days=offset, owner=owner, hours=hours)


def _duty(id, name, prep, quorum=None):
    return SimpleNamespace(
        id=id, name=name, prep=tuple(prep), quorum=quorum, timing="测试用时限说明",
        standard="测试用合格标准。",
        sources=(SimpleNamespace(doc="中国共产党支部工作条例（试行）", article="第十一条"),),
    )


FAKE_DUTIES = [
    _duty("zhibu_dangyuan_dahui", "支部党员大会", [_step("通知党员", 5)],
          quorum="表决时到会的有表决权党员须达半数以上，赞成人数超过应到会有表决权党员的半数方为通过"),
    _duty("zhiweihui", "支部委员会会议", [_step("商定议题", 3)], quorum="须有半数以上委员到会方可开会"),
    _duty("zuzhi_shenghuohui", "组织生活会", [
        _step("印发会议通知", 5, "组织委员", 0.5),
        _step("开展会前谈心谈话", 14, "书记", 3.0),
        _step("征求党员和群众意见", 21, "纪检委员", 2.0),
    ]),
    _duty("jieshou_yubei_dangyuan", "接收预备党员（支部党员大会）", [_step("通知党员参会", 5)],
          quorum="实到的有表决权党员须超过应到会有表决权党员的半数"),
    _duty("odd_three", "测试三分之二", [], quorum="到会须超过三分之二"),
]


@pytest.fixture
def fake_duties():
    return list(FAKE_DUTIES)


@pytest.fixture(scope="module")
def real_obligations():
    return obligations


@pytest.fixture(scope="module")
def corpus_dir() -> Path:
    if not (CORPUS_DIR / "manifest.json").is_file():
        pytest.skip(f"corpus not present: looked for manifest.json in {CORPUS_DIR} "
                    "(set ASSISTANT_CORPUS_DIR to point elsewhere)")
    return CORPUS_DIR


@pytest.fixture(scope="module")
def manifest(corpus_dir) -> dict[str, dict]:
    rows = json.loads((corpus_dir / "manifest.json").read_text(encoding="utf-8"))
    return {r["title"]: r for r in rows}


def _plan(kind, **kw):
    kw.setdefault("today", TODAY)
    return make_meeting_plan(kind, kw.pop("branch", "XX党支部"), kw.pop("date", "2026-12-18"), **kw)


# --------------------------------------------------------------------------- arithmetic

@pytest.mark.parametrize("total, need", [(1, 1), (2, 2), (3, 2), (5, 3), (20, 11), (23, 12), (50, 26)])
def test_needed_count_is_strictly_more_than_half(total, need):
    assert needed_count(total) == need
    assert need > total / 2 and need - 1 <= total / 2


def test_needed_count_other_fraction():
    assert needed_count(9, (2, 3)) == 7
    assert needed_count(10, (4, 5)) == 9


@pytest.mark.parametrize("start, months, expected", [
    (date(2026, 12, 31), -1, date(2026, 11, 30)),
    (date(2026, 3, 31), -1, date(2026, 2, 28)),
    (date(2026, 12, 31), 3, date(2027, 3, 31)),
    (date(2026, 11, 30), 3, date(2027, 2, 28)),
    (date(2027, 1, 15), -1, date(2026, 12, 15)),
    (date(2027, 8, 31), 6, date(2028, 2, 29)),
])
def test_add_months(start, months, expected):
    assert add_months(start, months) == expected


# --------------------------------------------------------------------------- plan numbers (fake duties)

def test_prep_dates_counted_back_across_year_end(fake_duties):
    plan = _plan("组织生活会", duties=fake_duties, date="2027-01-05", today=date(2026, 12, 1))
    by_name = {p.name: p for p in plan.prep}
    assert by_name["开展会前谈心谈话"].date == date(2026, 12, 22)
    assert by_name["征求党员和群众意见"].date == date(2026, 12, 15)
    assert by_name["印发会议通知"].date == date(2026, 12, 31)
    assert [p.date for p in plan.prep] == sorted(p.date for p in plan.prep)
    md = plan.to_markdown()
    assert "2026年12月22日" in md and "提前14天" in md
    assert not any(p.overdue for p in plan.prep)


def test_prep_step_already_past_is_flagged(fake_duties):
    plan = _plan("组织生活会", duties=fake_duties, date="2027-01-05", today=date(2026, 12, 20))
    overdue = {p.name for p in plan.prep if p.overdue}
    assert overdue == {"征求党员和群众意见"}
    assert any("已经过去" in w for w in plan.warnings)
    assert "已过，请尽快补做" in plan.to_markdown()


def test_quorum_arithmetic_odd(fake_duties):
    plan = _plan("支部党员大会", duties=fake_duties, members=23)
    assert plan.required_members == 12 and plan.required_votes == 12
    md = plan.to_markdown()
    assert "23 ÷ 2 = 11.5，超过半数即至少 12 人到会" in md
    assert "至少 12 票赞成" in md
    assert "表决时到会的有表决权党员须达半数以上" in md  # the rule text itself


def test_quorum_arithmetic_even_mentions_exact_half(fake_duties):
    md = _plan("支部党员大会", duties=fake_duties, members=20).to_markdown()
    assert "20 ÷ 2 = 10，超过半数即至少 11 人到会" in md
    assert "恰好 10 人" in md


def test_quorum_for_committee_counts_members_of_committee(fake_duties):
    plan = _plan("支委会", duties=fake_duties, members=5)
    assert plan.required_members == 3 and plan.required_votes is None
    assert "5 ÷ 2 = 2.5，超过半数即至少 3 名委员到会" in plan.to_markdown()
    assert not plan.warnings


def test_committee_member_count_out_of_range_warns(fake_duties):
    plan = _plan("支委会", duties=fake_duties, members=23)
    assert any("委员人数" in w for w in plan.warnings)


def test_no_quorum_rule_says_so(fake_duties):
    plan = _plan("组织生活会", duties=fake_duties, members=23)
    assert plan.required_members is None
    md = plan.to_markdown()
    assert "没有规定最低到会人数" in md and "本次应参加 23 人" in md
    assert "超过半数即至少" not in md


def test_quorum_without_members_has_rule_but_no_count(fake_duties):
    plan = _plan("支部党员大会", duties=fake_duties)
    assert plan.required_members is None
    md = plan.to_markdown()
    assert "到会要求" in md and "超过半数即至少" not in md


def test_other_fraction_in_rule(fake_duties, monkeypatch):
    kb = meeting.load_meeting_knowledge()
    spec = dict(kb.types["支委会"], duty=["odd_three"])
    monkeypatch.setitem(kb.types, "支委会", spec)
    plan = _plan("支委会", duties=fake_duties, members=5)
    assert plan.required_members == 4
    assert "5 × 2/3 = 3.33333，超过即至少 4 名委员到会" in plan.to_markdown()


def test_jieshou_dates_from_cited_time_limits(fake_duties):
    md = _plan("接收预备党员的支部党员大会", duties=fake_duties, date="2026-12-31", members=23).to_markdown()
    assert "应不早于 2026年11月30日" in md          # 细则第十九条: 预审后一个月内
    assert "预备期自 2026年12月31日" in md           # 细则第三十一条
    assert "三个月期满为 2027年3月31日" in md        # 细则第二十五条
    assert "六个月期满为 2027年6月30日" in md


def test_type_without_duty_warns():
    plan = _plan("党课", duties=[])
    assert plan.prep == ()
    assert any("工作清单中没有找到" in w for w in plan.warnings)
    assert "四、会前准备" in plan.to_markdown()


def test_organisation_life_meeting_outside_q4_warns(fake_duties):
    plan = _plan("组织生活会", duties=fake_duties, date="2027-01-08")
    assert any("第四季度" in w for w in plan.warnings)
    assert plan.title == "XX党支部2026年度组织生活会方案"
    assert not any("第四季度" in w for w in _plan("组织生活会", duties=fake_duties, date="2026-12-08").warnings)


# --------------------------------------------------------------------------- structure

_LEVEL_OF = [(re.compile(r"^[一二三四五六七八九十]+、"), 1), (re.compile(r"^（[一二三四五六七八九十]+）"), 2),
             (re.compile(r"^\d+[．.]"), 3), (re.compile(r"^（\d+）"), 4)]


def _number_level(text: str) -> int:
    return next((lv for rx, lv in _LEVEL_OF if rx.match(text)), 0)


@pytest.mark.parametrize("kind", REQUIRED_TYPES)
def test_numbering_runs_in_order_and_the_plan_is_signed(kind, fake_duties, tmp_path):
    """一、→（一）→1．→（1）: a level is never skipped (no 1． straight under 一、), a （一） always has a
    （二）, headings keep with their text, and the plan ends with the branch and the day (落款)."""
    import docx

    plan = _plan(kind, duties=fake_duties, members=9 if kind != "支委会" else 5)
    doc = docx.Document(str(plan.write(tmp_path / "p.docx")))
    deepest, opened = 0, []
    for p in doc.paragraphs[1:]:
        level = _number_level(p.text)
        if not level:
            continue
        assert level <= deepest + 1, f"{p.text!r} skips a level after level {deepest}"
        deepest = level
        if level == 2:
            opened.append(p.text)
    firsts = [t for t in opened if t.startswith("（一）")]
    seconds = [t for t in opened if t.startswith("（二）")]
    assert len(firsts) == len(seconds), f"a （一） without a （二）: {opened}"
    for p in doc.paragraphs:
        if p.runs and p.text.startswith(("一、", "二、")) and len(p.text) < 20:
            assert p.paragraph_format.keep_with_next, p.text
    assert [p.text for p in doc.paragraphs[-2:]] == ["XX党支部", "2026年11月27日"]
    assert "<br>" not in plan.to_markdown()


@pytest.mark.parametrize("kind", REQUIRED_TYPES)
def test_every_type_renders(kind, fake_duties, tmp_path):
    plan = _plan(kind, duties=fake_duties, members=9 if kind != "支委会" else 5)
    md = plan.to_markdown()
    for heading in SECTION_HEADINGS:
        assert f"## {heading}" in md, heading
    assert "### （一）" in md
    assert plan.agenda and plan.after and plan.citations
    assert md.startswith(f"# {plan.title}\n")
    for suffix in (".docx", ".md"):
        out = plan.write(tmp_path / f"plan{suffix}")
        assert out.is_file() and out.stat().st_size > 0


def test_required_types_known():
    assert set(REQUIRED_TYPES) <= set(meeting_types())


def test_aliases_resolve(fake_duties):
    assert _plan("接收预备党员", duties=fake_duties).type == "接收预备党员的支部党员大会"
    assert _plan("转正", duties=fake_duties).type == "预备党员转正的支部党员大会"
    assert _plan("支部委员会会议", duties=fake_duties).type == "支委会"


def test_topic_default_and_given(fake_duties):
    assert _plan("支部党员大会", duties=fake_duties, date="2027-02-10").topic.startswith("2027年第1季度支部党员大会")
    assert _plan("党课", duties=fake_duties, topic="  学习党章  ").topic == "学习党章"


def test_topic_is_checked(fake_duties):
    plan = _plan("主题党日", duties=fake_duties, members=12, topic="重温入党誓词，坚定理想信念")
    assert plan.topic == "重温入党誓词，坚定理想信念"
    assert "会议主题：重温入党誓词，坚定理想信念" in plan.to_markdown()
    for bad in ("做到“二个维护”", "长" * 81, "主题\x00"):
        with pytest.raises(InputError) as exc:
            _plan("主题党日", duties=fake_duties, topic=bad)
        assert exc.value.field == "topic" and "会议主题" in str(exc.value)


def test_suggestions_are_labelled(fake_duties):
    md = _plan("组织生活会", duties=fake_duties).to_markdown()
    assert "（工作建议）" in md
    # every numbered line ends with a citation or the suggestion label
    for line in md.splitlines():
        if re.match(r"^\d+．", line) and "本次" not in line:
            assert line.endswith("）"), line


# --------------------------------------------------------------------------- Word output

def test_docx_opens_with_fonts_and_page(fake_duties, tmp_path):
    import docx
    from docx.oxml.ns import qn
    from docx.shared import Cm

    path = _plan("接收预备党员的支部党员大会", duties=fake_duties, members=23).write(tmp_path / "p.docx")
    doc = docx.Document(str(path))
    sec = doc.sections[0]
    assert abs(sec.page_width - Cm(21)) < Cm(0.01) and abs(sec.page_height - Cm(29.7)) < Cm(0.01)
    assert abs(sec.top_margin - Cm(3.7)) < Cm(0.01) and abs(sec.bottom_margin - Cm(3.5)) < Cm(0.01)
    assert abs(sec.left_margin - Cm(2.8)) < Cm(0.01) and abs(sec.right_margin - Cm(2.6)) < Cm(0.01)
    title = doc.paragraphs[0]
    # a long title breaks between words (after the branch's name), inside one paragraph
    assert title.text == "XX党支部\n接收预备党员的支部党员大会方案"
    assert all(r._r.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体" for r in title.runs)
    body_fonts = set()
    for part in [doc.element.body] + [s.footer._element for s in doc.sections]:
        for r in part.iter(qn("w:r")):
            text = "".join(t.text or "" for t in r.iter(qn("w:t")))
            if not text.strip():
                continue
            fonts = r.find(qn("w:rPr")).find(qn("w:rFonts"))
            assert fonts is not None and fonts.get(qn("w:eastAsia")), f"no w:eastAsia on run {text!r}"
            body_fonts.add(fonts.get(qn("w:eastAsia")))
    assert "仿宋_GB2312" in body_fonts and "黑体" in body_fonts and "楷体_GB2312" in body_fonts
    texts = [p.text for p in doc.paragraphs]
    assert "一、会议主题" in texts and "（二）到会和表决要求" in texts
    assert len(doc.tables) == 1 and doc.tables[0].rows[0].cells[2].text == "完成时间"


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("kwargs, field, fragment", [
    ({"type": "开大会"}, "type", "支部党员大会"),            # lists the known types
    ({"type": ""}, "type", "可选"),
    ({"date": "2026-11-26"}, "date", "已经过去"),
    ({"date": "2026-13-01"}, "date", "不是有效日期"),
    ({"date": "next week"}, "date", "2026年12月1日"),       # says how to write a date
    ({"members": 0}, "members", "收到 0"),
    ({"members": -5}, "members", "收到 -5"),
    ({"members": "abc"}, "members", "整数"),
    ({"members": 2.5}, "members", "整数"),
    ({"members": True}, "members", "整数"),
    ({"branch": "  "}, "branch", "不能为空"),
    ({"topic": "二个维护"}, "topic", "两个维护"),
])
def test_bad_input_names_the_field(kwargs, field, fragment, fake_duties):
    args = {"type": "支部党员大会", "branch": "XX党支部", "date": "2026-12-18", "today": TODAY,
            "duties": fake_duties, **kwargs}
    with pytest.raises(InputError) as exc:
        make_meeting_plan(args.pop("type"), args.pop("branch"), args.pop("date"), **args)
    assert exc.value.field == field
    message = str(exc.value)
    # the field by its Chinese name (never a command-line flag), then what is wrong with it
    assert message.startswith(label(field)) and fragment in message, message
    assert "--" not in message


@pytest.mark.parametrize("typed", ["2026-12-18", "2026/12/18", "2026年12月18日", "2026.12.18", "２０２６年１２月１８日"])
def test_dates_in_the_forms_people_type(typed, fake_duties):
    assert _plan("党课", duties=fake_duties, date=typed).date == date(2026, 12, 18)


def test_today_is_allowed(fake_duties):
    assert _plan("党课", duties=fake_duties, date=TODAY.isoformat()).date == TODAY


def test_bad_out_extension(fake_duties, tmp_path):
    with pytest.raises(InputError) as exc:
        _plan("党课", duties=fake_duties).write(tmp_path / "plan.pdf")
    assert exc.value.field == "out"


# --------------------------------------------------------------------------- CLI

def test_cli_writes_docx_and_md(tmp_path, capsys):
    unused = tmp_path / "unused-data"
    for name in ("plan.docx", "plan.md"):
        out = tmp_path / name
        rc = main(["meeting-plan", "--type", "组织生活会", "--branch", "XX党支部", "--date", "2026-12-18",
                   "--members", "23", "--out", str(out), "--today", "2026-11-27", "--data-dir", str(unused)])
        assert rc == 0 and out.is_file()
    assert "已生成会议方案" in capsys.readouterr().out
    assert "## 一、会议主题" in (tmp_path / "plan.md").read_text(encoding="utf-8")
    assert not unused.exists(), "a meeting plan needs no knowledge base: nothing is opened or created"


def test_cli_prints_markdown_without_out(capsys):
    rc = main(["meeting-plan", "--type", "党课", "--branch", "XX党支部", "--date", "2026-12-18",
               "--today", "2026-11-27"])
    assert rc == 0
    assert "## 五、会议议程" in capsys.readouterr().out


@pytest.mark.parametrize("argv, option", [
    (["--type", "开会", "--branch", "b", "--date", "2026-12-18"], "--type"),
    (["--branch", "b", "--date", "2026-12-18"], "--type"),
    (["--type", "党课", "--date", "2026-12-18"], "--branch"),
    (["--type", "党课", "--branch", "b", "--date", "2026-01-01"], "--date"),
    (["--type", "党课", "--branch", "b", "--date", "18/12/2026"], "--date"),
    (["--type", "党课", "--branch", "b", "--date", "2026-12-18", "--members", "0"], "--members"),
    (["--type", "党课", "--branch", "b", "--date", "2026-12-18", "--members", "二十"], "--members"),
    (["--type", "党课", "--branch", "b", "--date", "2026-12-18", "--out", "x.pdf"], "--out"),
])
def test_cli_bad_input_one_chinese_line_exit_2(argv, option, capsys):
    rc = main(["meeting-plan", *argv, "--today", "2026-11-27"])
    err = capsys.readouterr().err
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert option in lines[0] and lines[0].startswith("错误：")
    assert "Traceback" not in err


def test_cli_unknown_option_is_one_line(capsys):
    assert main(["meeting-plan", "--colour", "red"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("错误：")


def test_cli_data_dir_before_the_command(tmp_path):
    out = tmp_path / "p.md"
    assert main(["--data-dir", str(tmp_path / "x"), "meeting-plan", "--type", "支委会", "--branch", "XX党支部",
                 "--date", "2026-12-18", "--members", "5", "--out", str(out), "--today", "2026-11-27"]) == 0
    assert out.is_file()


# --------------------------------------------------------------------------- real obligations.yaml

@pytest.mark.parametrize("kind", REQUIRED_TYPES)
def test_every_type_maps_to_a_duty(kind, real_obligations):
    plan = _plan(kind, date="2027-01-05", today=date(2026, 11, 1))
    assert plan.duty_id, f"{kind}: no duty in obligations.yaml matches {meeting.load_meeting_knowledge().types[kind]['duty']}"
    d = real_obligations.duty(plan.duty_id)
    assert len(plan.prep) == len(d.prep)
    for item in plan.prep:
        step = next(s for s in d.prep if s.name == item.name)
        assert (date(2027, 1, 5) - item.date).days == step.offset_days


def test_real_zuzhi_shenghuohui_tanxin_date(real_obligations):
    plan = _plan("组织生活会", date="2027-01-05", today=date(2026, 11, 1))
    talks = [p for p in plan.prep if "谈心谈话" in p.name]
    assert talks, "组织生活会 has no 谈心谈话 preparation step in obligations.yaml"
    d = real_obligations.duty(plan.duty_id)
    offset = next(s.offset_days for s in d.prep if "谈心谈话" in s.name)
    assert talks[0].date == count_back(date(2027, 1, 5), offset)
    if offset == 14:
        assert talks[0].date == date(2026, 12, 22)


@pytest.mark.parametrize("kind", ["支部党员大会", "接收预备党员的支部党员大会", "预备党员转正的支部党员大会"])
def test_real_quorum_23_members(kind, real_obligations):
    plan = _plan(kind, members=23)
    assert plan.required_members == 12 and plan.required_votes == 12
    md = plan.to_markdown()
    assert "23 ÷ 2 = 11.5，超过半数即至少 12 人到会" in md
    assert "至少 12 票赞成" in md


def test_real_committee_quorum(real_obligations):
    plan = _plan("支委会", members=5)
    assert plan.required_members == 3


def test_meetings_yaml_leaves_prep_numbers_to_obligations(real_obligations):
    data = yaml.safe_load(MEETINGS_YAML.read_text(encoding="utf-8"))
    for name, spec in data["types"].items():
        if spec.get("prep"):
            plan = _plan(name)
            assert plan.duty_id is None, f"{name}: prep given in meetings.yaml although obligations.yaml has it"


# --------------------------------------------------------------------------- corpus: citations, no copying

_ARTICLE_LINE = re.compile(r"^(第[零一二三四五六七八九十百]+条)", re.M)


def _articles(path: Path) -> set[str]:
    return set(_ARTICLE_LINE.findall(path.read_text(encoding="utf-8")))


def _all_yaml_citations():
    kb = meeting.load_meeting_knowledge()
    cites = set()
    for spec in kb.types.values():
        cites.update(kb._all_srcs(spec))
    return cites


def test_citations_resolve_to_real_articles(fake_duties, corpus_dir, manifest):
    cites = set(_all_yaml_citations())
    for kind in REQUIRED_TYPES:
        cites.update(_plan(kind, duties=fake_duties, members=23 if kind != "支委会" else 5).citations)
    assert cites
    cache: dict[str, set[str]] = {}
    for c in sorted(cites, key=str):
        assert c.doc in manifest, f"{c}: title not in manifest.json"
        entry = manifest[c.doc]
        assert entry["status"] == "current", f"{c}: cites a {entry['status']} document"
        arts = cache.setdefault(c.doc, _articles(corpus_dir / entry["file"]))
        assert c.article in arts, f"{c}: no such article in {entry['file']}"


def test_real_plan_citations_resolve(real_obligations, corpus_dir, manifest):
    for kind in REQUIRED_TYPES:
        for c in _plan(kind).citations:
            entry = manifest.get(c.doc)
            assert entry, f"{kind}: {c} not in manifest"
            assert c.article in _articles(corpus_dir / entry["file"]), f"{kind}: {c} not found"


def test_short_names_match_manifest(corpus_dir, manifest):
    data = yaml.safe_load(MEETINGS_YAML.read_text(encoding="utf-8"))
    for short, title in data["documents"].items():
        assert title in manifest, title
        assert manifest[title]["short"] == short


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _copied_runs(text: str, corpus: str, k: int = 30) -> list[str]:
    s = _squash(text)
    hits = []
    i = 0
    while i + k <= len(s):
        if s[i:i + k] in corpus:
            hits.append(s[i:i + k])
            i += k
        else:
            i += 1
    return hits


@pytest.fixture(scope="module")
def corpus_text(corpus_dir) -> str:
    return "\n".join(_squash(p.read_text(encoding="utf-8")) for p in sorted(corpus_dir.glob("*.txt")))


def test_meetings_yaml_does_not_copy_corpus(corpus_text):
    data = yaml.safe_load(MEETINGS_YAML.read_text(encoding="utf-8"))
    strings: list[str] = []

    def walk(node):
        if isinstance(node, str):
            strings.append(node)
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(data["types"])
    copied = [run for s in strings for run in _copied_runs(s, corpus_text)]
    assert not copied, f"30+ characters copied from the corpus: {copied}"


def test_rendered_plans_do_not_copy_corpus(fake_duties, corpus_text):
    for kind in REQUIRED_TYPES:
        md = _plan(kind, duties=fake_duties, members=23 if kind != "支委会" else 5).to_markdown()
        md = re.sub(r"^## 八、依据.*", "", md, flags=re.S)  # full titles are quoted on purpose
        assert not _copied_runs(md, corpus_text), kind


def test_fixed_formulations():
    text = MEETINGS_YAML.read_text(encoding="utf-8")
    for wrong in ("二个维护", "二个确立", "三个意识", "三个自信"):
        assert wrong not in text
    # if a list is spelled out it must be complete
    checks = {
        "四个意识": ["政治意识", "大局意识", "核心意识", "看齐意识"],
        "四个自信": ["道路自信", "理论自信", "制度自信", "文化自信"],
    }
    for name, parts in checks.items():
        if any(p in text for p in parts):
            assert all(p in text for p in parts), f"{name} listed incompletely"


def test_real_rendered_plans_do_not_copy_corpus(real_obligations, corpus_text):
    for kind in REQUIRED_TYPES:
        md = _plan(kind, members=23 if kind != "支委会" else 5).to_markdown()
        md = re.sub(r"^## 八、依据.*", "", md, flags=re.S)
        assert not _copied_runs(md, corpus_text), kind
