"""The branch profile (支部情况): YAML with Chinese aliases, bad keys, saving, who does a post's work,
the rules behind what it rules out (checked against the corpus), and the profile commands."""
from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

import pytest
import yaml

from assistant.cli import main as cli_main
from assistant.errors import InputError, KnowledgeError
from assistant.numerals import cn_to_int
from assistant.plans.obligations import load_conditions, load_obligations, parse_obligations
from assistant.plans.profile import (
    Profile,
    excluded,
    load_profile,
    parse_profile,
    profile_path,
    save_profile,
    saved_profile,
)
from assistant.resources import knowledge_dir

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = Path(os.environ.get("ASSISTANT_CORPUS_DIR", REPO_ROOT / ".." / "shared" / "corpus"))

CANONICAL = """
branch_type: 机关
branch_name: 第一党支部
members: 20
probationary: 2
committee: true
roles: {书记: 王芳, 组织委员: 李强, 宣传委员: {name: 张敏, hours: 2}}
worker_role: 书记
hours_per_week: 3
party_groups: 2
activists: 1
candidates: 0
"""
CHINESE = """
支部类型: 机关
支部名称: 第一党支部
正式党员: 20
probationary_members: 2
支委会: 是
分工: {支部书记: 王芳, 组织委员: 李强, 宣传委员: {姓名: 张敏, 每周工时: 2h}}
我的职务: 书记
每周工时: 3小时
党小组: 2
入党积极分子: 1
发展对象: 0
"""


def test_yaml_keys_and_chinese_aliases_read_the_same():
    a, b = parse_profile(CANONICAL), parse_profile(CHINESE)
    assert a == b
    assert a.members == 20 and a.probationary == 2 and a.total_members == 22 and a.has_committee
    assert a.name_of("组织委员") == "李强" and a.hours_of("宣传委员") == 2 and a.hours_per_week == 3
    assert a.activists == 1 and a.candidates == 0 and a.party_groups == 2
    assert parse_profile(a.to_yaml()) == a  # what is written reads back the same


@pytest.mark.parametrize("text, field", [
    ("members: 5\ncolour: red\n", "colour"),
    ("members: -1\n", "members"),
    ("members: 很多\n", "members"),
    ("committee: 也许\n", "committee"),
    ("worker_role: 主任\n", "worker_role"),
    ("roles: [王芳, 李强]\n", "roles"),
    ("roles: {局长: 王芳}\n", "roles"),
    ("roles: {书记: {name: 王芳, phone: 123}}\n", "roles"),
    ("hours_per_week: 0\n", "hours_per_week"),
    ("branch_type: 农村\n", "branch_type"),
    ("members: 5\n正式党员: 6\n", "members"),
    ("- members: 5\n", "profile"),
    ("members: [5\n", "profile"),
])
def test_bad_profiles_name_the_field(text, field):
    with pytest.raises(InputError) as info:
        parse_profile(text, "p.yaml")
    assert info.value.field == field
    assert str(info.value).startswith("p.yaml")
    assert "--" not in str(info.value)  # the library never names a command-line flag


def test_save_and_read_back(tmp_path):
    assert saved_profile(tmp_path) is None
    p = parse_profile(CANONICAL)
    path = save_profile(p, tmp_path)
    assert path == profile_path(tmp_path) == tmp_path / "profile.yaml"
    assert saved_profile(tmp_path) == p
    assert load_profile(path) == p
    assert not [f for f in tmp_path.iterdir() if f.name.startswith(".profile-")]
    with pytest.raises(InputError, match="找不到"):
        load_profile(tmp_path / "none.yaml")


def test_committee_by_the_rule_and_who_does_a_posts_work():
    assert Profile(members=7).has_committee and not Profile(members=6).has_committee
    assert Profile().has_committee  # not said: the usual case
    small = Profile(members=5)
    assert small.assignee("组织委员") == ("书记", "未设支委会，委员的分工由书记承担")
    full = Profile(members=20, roles={"组织委员": "李强"})
    assert full.assignee("组织委员") == ("组织委员", "")
    doer, why = full.assignee("纪检委员")  # vacant: the worker takes it, and is told
    assert doer == "书记" and "纪检委员" in why
    assert Profile(members=5, committee=True).warnings() and Profile(members=9, committee=False).warnings()
    assert not Profile(members=9).warnings()


def test_conditions_rule_duties_out_with_their_reason():
    conditions = {c.id: c for c in load_conditions()}
    duties = {d.id: d for d in load_obligations()}
    empty = Profile()
    assert excluded(empty, duties["jiji_fenzi_kaocha"], conditions).reason.startswith("支部情况中没有填写入党积极分子人数")
    assert excluded(Profile(activists=0), duties["jiji_fenzi_kaocha"], conditions).reason.startswith("没有入党积极分子")
    assert excluded(Profile(activists=3), duties["jiji_fenzi_kaocha"], conditions) is None
    assert excluded(empty, duties["zhiweihui"], conditions) is None
    na = excluded(Profile(members=5), duties["zhiweihui"], conditions)
    assert na.reason.startswith("未设支部委员会") and "第二十条" in na.basis
    assert excluded(Profile(members=5), duties["dangxiaozu_hui"], conditions) is not None  # too small for 党小组
    assert excluded(Profile(members=30), duties["dangxiaozu_hui"], conditions) is None
    assert excluded(Profile(members=30, party_groups=0), duties["dangxiaozu_hui"], conditions) is not None


# --------------------------------------------------------------------------- the rules, against the corpus

@pytest.fixture(scope="module")
def corpus() -> dict:
    path = CORPUS_DIR / "manifest.json"
    if not path.is_file():
        pytest.skip(f"corpus not found at {CORPUS_DIR} (set ASSISTANT_CORPUS_DIR)")
    docs = {}
    header = re.compile(r"^(第[零一二三四五六七八九十百]+条)[ \u3000]")
    for entry in json.loads(path.read_text(encoding="utf-8")):
        articles: dict[str, str] = {}
        current = None
        for line in (CORPUS_DIR / entry["file"]).read_text(encoding="utf-8").splitlines():
            m = header.match(line)
            if m:
                current = m.group(1)
                articles[current] = line
            elif current:
                articles[current] += "\n" + line
        docs[entry["title"]] = {"status": entry["status"], "articles": articles}
    return docs


def _numbers(text: str, *, claimed: bool) -> set[float]:
    out = {float(x) for x in re.findall(r"\d+(?:\.\d+)?", text)}
    unit = r"(?=个月|个工作日|个学时|工作日|学时|年|月|天|人|名|次)" if claimed else ""
    for m in re.finditer(r"[零一二两三四五六七八九十百]+" + unit, text):
        if m.start() > 0 and text[m.start() - 1] == "第":
            continue
        n = cn_to_int(m.group(0))
        if n is not None:
            out.add(float(n))
    if "半年" in text:
        out.add(0.5)
    return out


def _cited(corpus, sources) -> str:
    for s in sources:
        assert s.doc in corpus, f"《{s.doc}》 is not a manifest title"
        assert corpus[s.doc]["status"] == "current", f"《{s.doc}》 is not current"
        assert s.article in corpus[s.doc]["articles"], f"《{s.doc}》 has no {s.article}"
    return "\n".join(corpus[s.doc]["articles"][s.article] for s in sources)


@pytest.mark.parametrize("cond", load_conditions(), ids=lambda c: c.id)
def test_every_condition_cites_real_articles_and_its_numbers_are_in_them(cond, corpus):
    text = _cited(corpus, cond.sources)
    missing = _numbers(cond.reason, claimed=True) - _numbers(text, claimed=False)
    assert not missing, f"{cond.id}: {sorted(missing)} not in the cited articles"


def test_combined_meetings_cite_real_articles(corpus):
    combos = [(d, c) for d in load_obligations() for c in d.combine]
    assert {(d.id, c.with_id) for d, c in combos} >= {("zuzhi_shenghuohui", "minzhu_pingyi_dangyuan")}
    for d, c in combos:
        text = _cited(corpus, c.sources)
        assert "结合" in text or "形式" in text or "一并" in text, (d.id, c.with_id)


@pytest.mark.parametrize("d", [d for d in load_obligations() if d.timing_without_committee], ids=lambda d: d.id)
def test_wording_without_a_committee_claims_only_cited_numbers(d, corpus):
    text = _cited(corpus, d.sources)
    missing = _numbers(d.timing_without_committee, claimed=True) - _numbers(text, claimed=False)
    assert not missing, f"{d.id}: {sorted(missing)}"
    assert "支委" not in d.timing_without_committee


def test_no_committee_wording_never_mentions_the_committee():
    for d in load_obligations():
        v = d.for_committee(False)
        for text in (v.name, v.timing, v.standard):
            assert not re.search("支委会|支部委员会|支委之间", text) or d.requires == ("committee",), (d.id, text)
        for s in d.prep:
            t = s.for_committee(False)
            assert t is None or "支委会" not in t.name, (d.id, s.name)


# --------------------------------------------------------------------------- schema of the new fields

RAW = yaml.safe_load((knowledge_dir() / "obligations.yaml").read_text(encoding="utf-8"))


def _duty(data, duty_id):
    return next(d for d in data["duties"] if d["id"] == duty_id)


@pytest.mark.parametrize("mutate, duty_id, field", [
    (lambda d: _duty(d, "zhiweihui").update(requires=["money"]), "zhiweihui", "requires"),
    (lambda d: _duty(d, "zuzhi_shenghuohui")["combine"][0].update(with_="x") or
     _duty(d, "zuzhi_shenghuohui")["combine"][0].update({"with": "no_such"}), "zuzhi_shenghuohui", "combine[0]"),
    (lambda d: _duty(d, "zuzhi_shenghuohui")["combine"][1].update(skip_prep=["不存在的步骤"]), "zuzhi_shenghuohui",
     "combine[1].skip_prep"),
    (lambda d: _duty(d, "huanjie_xuanju").update(without_committee={"colour": "x"}), "huanjie_xuanju",
     "without_committee"),
    (lambda d: _duty(d, "zhiweihui")["prep"][0].update(essential="no"), "zhiweihui", "prep[0].essential"),
    (lambda d: _duty(d, "zhiweihui").update(aliases=["a+"]), "zhiweihui", "aliases"),
    (lambda d: d["conditions"][0].update(unknown="maybe"), "conditions.committee", "unknown"),
])
def test_broken_new_fields_name_duty_and_field(mutate, duty_id, field):
    data = copy.deepcopy(RAW)
    mutate(data)
    with pytest.raises(KnowledgeError) as info:
        parse_obligations(data)
    assert duty_id in str(info.value) and field in str(info.value)


# --------------------------------------------------------------------------- the commands

def _run(capsys, *argv):
    code = cli_main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_profile_set_and_show(capsys, tmp_path):
    d = str(tmp_path)
    code, out, _ = _run(capsys, "profile", "show", "--data-dir", d)
    assert code == 0 and "尚未保存支部情况" in out
    code, out, err = _run(capsys, "profile", "set", "--data-dir", d, "--members", "20", "--role", "书记=王芳",
                          "--role", "组织委员=李强", "--role-hours", "组织委员=2", "--worker-role", "书记",
                          "--hours-per-week", "3", "--activists", "0")
    assert code == 0, err
    code, out, _ = _run(capsys, "profile", "set", "--data-dir", d, "--role", "宣传委员=张敏")
    assert code == 0
    code, out, _ = _run(capsys, "profile", "show", "--data-dir", d, "--json")
    data = json.loads(out)
    assert data["members"] == 20 and data["roles"] == {"书记": "王芳", "组织委员": {"name": "李强", "hours": 2.0},
                                                       "宣传委员": "张敏"}
    assert data["activists"] == 0 and data["hours_per_week"] == 3
    code, out, _ = _run(capsys, "profile", "set", "--data-dir", d, "--clear-role", "宣传委员", "--committee", "否")
    assert saved_profile(tmp_path).name_of("宣传委员") == "" and saved_profile(tmp_path).committee is False


@pytest.mark.parametrize("argv, hint", [
    (["--members", "abc"], "--members"),
    (["--role", "局长=王芳"], "--role"),
    (["--role", "王芳"], "--role"),
    (["--committee", "也许"], "--committee"),
    (["--hours-per-week", "0"], "--hours-per-week"),
])
def test_profile_set_refuses_bad_values_with_the_flag(capsys, tmp_path, argv, hint):
    code, out, err = _run(capsys, "profile", "set", "--data-dir", str(tmp_path), *argv)
    assert code == 2 and err.startswith("错误：") and hint in err and "Traceback" not in err
    assert saved_profile(tmp_path) is None


def test_profile_file_overrides_the_saved_one(capsys, tmp_path):
    save_profile(Profile(members=20, hours_per_week=3, activists=2), tmp_path)
    small = tmp_path / "small.yaml"
    small.write_text("正式党员: 5\n入党积极分子: 0\n每周工时: 4\n", encoding="utf-8")
    code, out, err = _run(capsys, "checklist", "--year", "2027", "--json", "--data-dir", str(tmp_path))
    saved = json.loads(out)
    assert code == 0 and any(i["name"] == "入党积极分子考察" for i in saved["items"])
    code, out, err = _run(capsys, "checklist", "--year", "2027", "--json", "--data-dir", str(tmp_path),
                          "--profile", str(small))
    data = json.loads(out)
    assert code == 0 and set(data) == {"items", "not_applicable"}
    assert not [i for i in data["items"] if "积极分子" in i["name"] or "支部委员会" in i["name"]]
    assert {"支部委员会会议", "入党积极分子考察"} <= {n["name"] for n in data["not_applicable"]}
    assert all(set(i) >= {"name", "due", "owner", "basis"} for i in data["items"])
    bad = tmp_path / "bad.yaml"
    bad.write_text("members: 5\npriority: high\n", encoding="utf-8")
    code, out, err = _run(capsys, "checklist", "--year", "2027", "--data-dir", str(tmp_path), "--profile", str(bad))
    assert code == 2 and "priority" in err and "未知字段" in err


def test_plan_tasks_json_with_a_profile_file(capsys, tmp_path):
    from datetime import date, timedelta

    start = date.today() + timedelta(days=7 - date.today().weekday())
    prof = tmp_path / "p.yaml"
    prof.write_text("members: 20\nroles: {书记: 王芳, 组织委员: 李强, 宣传委员: 张敏}\nworker_role: 书记\n"
                    "hours_per_week: 2\n", encoding="utf-8")
    tasks = tmp_path / "t.yaml"
    tasks.write_text("- {name: 筹备组织生活会, hours: 4}\n- {name: 看红色电影, hours: 2, optional: true}\n", encoding="utf-8")
    code, out, err = _run(capsys, "plan-tasks", str(tasks), "--start", start.isoformat(), "--weeks", "6",
                          "--profile", str(prof), "--json", "--data-dir", str(tmp_path))
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"weeks", "deferred", "handoff", "summary", "not_applicable"}
    assert all(set(it) == {"name", "hours", "deadline", "kind", "reason", "owner"} for w in data["weeks"] for it in w["items"])
    assert all(it["owner"] == "书记" for w in data["weeks"] for it in w["items"])
    assert all(len(w["focus"]) <= 5 for w in data["weeks"])
    assert data["handoff"] and all(set(h) >= {"name", "deadline", "hours", "reason"} for v in data["handoff"].values() for h in v)
    s = data["summary"]
    assert s["available_hours"] == 12 and s["needed_hours"] == pytest.approx(
        s["placed_hours"] + s["handed_off_hours"] + s["deferred_hours"])
    assert any(n["name"] == "入党积极分子考察" and "第十一条" in n["reason"] for n in data["not_applicable"])
    xlsx = tmp_path / "handoff.xlsx"
    code, out, err = _run(capsys, "plan-tasks", str(tasks), "--start", start.isoformat(), "--weeks", "6",
                          "--profile", str(prof), "--out", str(xlsx), "--data-dir", str(tmp_path))
    import openpyxl

    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames[0] == "汇总" and set(wb.sheetnames[1:]) == set(data["handoff"])
    assert code == 0 and "交办" in out
