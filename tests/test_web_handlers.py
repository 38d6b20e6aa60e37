"""The web app's handlers in-process: what the page does that needs no browser and no server.

The handlers (assistant/web/handlers) are plain functions over an App: questions and the chat,
meeting plans, checklists, task plans, imports, removal and re-indexing; a user's mistake is an
InputError naming the field. The page itself (build_app) is built once here too, to check what
it adds: errors as notices, downloads in a private folder of the data dir, a fresh data dir
answering from our cards. What only a served page or a browser shows is in test_app.py and
test_e2e_browser.py.
"""
from __future__ import annotations

import functools
import json
import os
import re
import stat
import zipfile
from datetime import date, timedelta
from pathlib import Path

import gradio as gr
import openpyxl
import pytest

from assistant.errors import InputError, StoreError
from assistant.inputs import safe_filename
from assistant.root import App
from assistant.settings import Settings
from assistant.web.handlers import kb, plans, qa
from assistant.web.layout import build_app
from assistant.web.outputs import Outputs
from assistant.web.render import answer_markdown, badge_html, esc, esc_literal, esc_md, source_messages

REPO_ROOT = Path(__file__).resolve().parents[1]
CORPUS_DIR = Path(os.environ.get("ASSISTANT_CORPUS_DIR") or REPO_ROOT.parent / "shared" / "corpus")
KB_FILES = [
    CORPUS_DIR / "zhibu-gongzuo-tiaoli-2018.txt",
    CORPUS_DIR / "dangfei-shoujiao-shiyong-guanli-guiding-2008.txt",
    REPO_ROOT / "knowledge" / "cards" / "zhiweihui.md",
]
IN_A_MONTH = (date.today() + timedelta(days=30)).isoformat()


@pytest.fixture(scope="module")
def kb_app(tmp_path_factory: pytest.TempPathFactory) -> App:
    """支部工作条例, 党费规定 and the 支委会 card, imported through the page's own import handler
    (the files staged into the data dir's uploads, as a user's upload is)."""
    missing = [p for p in KB_FILES if not p.is_file()]
    if missing:
        pytest.skip(f"corpus not found ({', '.join(map(str, missing))}); set ASSISTANT_CORPUS_DIR")
    app = App(Settings.from_env(data_dir=tmp_path_factory.mktemp("web-kb")))
    *_, (status, rows) = kb.ingest_files(app, [str(p) for p in KB_FILES])
    assert status.startswith("导入完成"), (status, rows)
    return app


def assert_cited(result: dict) -> None:
    assert isinstance(result, dict), result
    assert not result["abstained"], result["answer"]
    assert result["sources"], result
    assert "[1]" in result["answer"] and "依据：" in result["answer"], result["answer"]
    for s in result["sources"]:
        assert s["title"] and s["text"] and s["status"] in ("current", "superseded", "reference")


def last_of(steps):
    """The last value a streaming handler yields."""
    *_, last = steps
    return last


# --------------------------------------------------------------------------- 问答

def test_ask_returns_a_cited_answer(kb_app: App) -> None:
    result = qa.ask(kb_app, "支委会多久开一次？")
    assert_cited(result)
    assert result["mode"] == "offline"
    assert "每月" in result["answer"]
    assert any("支部工作条例" in s["title"] or "支委会" in s["title"] for s in result["sources"])


def test_ask_follow_up_with_history(kb_app: App) -> None:
    first = qa.ask(kb_app, "党员每月应交多少党费？")
    assert_cited(first)
    second = qa.ask(kb_app, "学生党员呢？", [["党员每月应交多少党费？", first["answer"]]])
    assert_cited(second)
    assert "0.2" in second["answer"]


@pytest.mark.parametrize("question, words", [("   ", "请输入问题"), ("问" * (qa.MAX_QUESTION + 1), "问题太长")])
def test_ask_refuses_an_empty_or_over_long_question(kb_app: App, question: str, words: str) -> None:
    with pytest.raises(InputError, match=words) as info:
        qa.ask(kb_app, question)
    assert info.value.field == "question"


def test_chat_streams_a_cited_answer_with_source_cards(kb_app: App) -> None:
    steps = [(list(m), list(p), b) for m, p, b in qa.chat(kb_app, "支委会多久开一次？", [], [])]
    assert steps[0][0][-1]["content"] == "正在检索知识库…"
    messages, pairs, badge = steps[-1]
    assert messages[0] == {"role": "user", "content": "支委会多久开一次？"}
    answer = messages[1]["content"]
    assert answer.startswith("答：") and "每月" in answer and "[1]" in answer
    assert "依据：" not in answer, "the sources are shown once, as the cards below"
    cards = [m for m in messages[2:] if "parent_id" not in m["metadata"]]
    assert cards and all(c["metadata"]["title"].startswith(f"[{n}] ") for n, c in enumerate(cards, 1))
    assert all("来源文件：" in c["content"] for c in cards)
    # the exports and the history keep the 依据 block
    assert pairs == [("支委会多久开一次？", pairs[0][1])] and pairs[0][1].startswith("答：") and "依据：" in pairs[0][1]
    assert "离线模式" in badge


def test_source_cards_say_what_a_source_is(kb_app: App) -> None:
    """A 知识卡 source says it is our card (its section and the articles it rests on); under it, the
    article of each cited regulation that is imported, nested; a regulation not imported is named
    as such. A 法规原文 source is the imported article with its file."""
    from assistant.qa.answer import Answer, Source

    card = Source(1, "支委会", "", "current", "zhiweihui.md", "支委会一般每月召开一次。", chapter="会议频次",
                  kind="card", basis="《中国共产党支部工作条例（试行）》第十二条；《中国共产党章程》第三十条")
    reg = Source(2, "中国共产党支部工作条例（试行）", "第十二条", "current", "zhibu-gongzuo-tiaoli-2018.txt",
                 "第十二条 党支部委员会会议一般每月召开1次", kind="document")
    messages = source_messages(Answer("答：每月一次。[1][2]", "offline", False, sources=[card, reg]),
                               kb_app.store.provenance(), qa.article_lookup(kb_app), "t")
    head, nested, regulation = messages
    assert head["metadata"]["title"].startswith("[1] 知识卡：《支委会》·会议频次 · 依据《中国共产党支部工作条例（试行）》第十二条")
    assert "我们自己的话" in head["content"] and "本卡依据：" in head["content"]
    assert "原文未导入：《中国共产党章程》第三十条" in head["content"], "党章 is not imported here"
    assert nested["metadata"]["parent_id"] == head["metadata"]["id"]
    assert nested["metadata"]["title"] == "法规原文：《中国共产党支部工作条例（试行）》第十二条 · 现行"
    assert "第十二条" in nested["content"] and "每月" in nested["content"]
    assert regulation["metadata"]["title"].startswith("[2] 法规原文：《中国共产党支部工作条例（试行）》第十二条 · 现行")
    assert "来源文件：zhibu\\-gongzuo" in regulation["content"] and "parent_id" not in regulation["metadata"]
    assert qa.article_lookup(kb_app)("中国共产党章程", "第三十条") is None


def test_a_question_during_an_import_is_answered_at_once_and_says_so(kb_app: App, tmp_path: Path) -> None:
    """An import holds the knowledge base one batch at a time: a question asked meanwhile is
    answered from what is committed, without waiting, with a notice that an import is running."""
    import threading

    doc = tmp_path / "daoru-zhong.txt"
    doc.write_text("机关书法小组办法\n\n第一条 书法小组每季度活动一次，由宣传委员召集。\n", encoding="utf-8")
    embedding, release = threading.Event(), threading.Event()

    def hold(name, done, total):
        embedding.set()
        release.wait(120)

    worker = threading.Thread(target=lambda: kb_app.ingest([doc], on_progress=hold), daemon=True)
    worker.start()
    try:
        assert embedding.wait(120), "the import did not start"
        *_, (messages, _, badge) = qa.chat(kb_app, "支委会多久开一次？", [], [])
        assert "每月" in messages[1]["content"] and qa.IMPORTING_NOTICE in messages[1]["content"]
        assert "正在导入" in badge
        assert qa.IMPORTING_NOTICE in qa.ask(kb_app, "支委会多久开一次？")["notice"], "the API says so too"
    finally:
        release.set()
        worker.join(120)
    *_, (messages, _, _) = qa.chat(kb_app, "支委会多久开一次？", [], [])
    assert qa.IMPORTING_NOTICE not in messages[1]["content"]
    kb_app.store.remove_document(doc.name)


def test_chat_refuses_an_over_long_message_as_ask_does(kb_app: App) -> None:
    """The same rule as /ask: a message over the limit is refused with the same words, never cut
    short and answered (an answer to half a question would look like an answer to all of it)."""
    long = "支委会多久开一次？" * 200
    with pytest.raises(InputError) as info:
        qa.ask(kb_app, long)
    before = [{"role": "user", "content": "早先的问题"}, {"role": "assistant", "content": "早先的回答"}]
    messages, pairs, badge = last_of(qa.chat(kb_app, long, before, [("早先的问题", "早先的回答")]))
    assert messages[:2] == before and len(messages) == 3
    assert messages[2] == {"role": "assistant", "content": str(info.value)}
    assert pairs == [("早先的问题", "早先的回答")] and badge is None
    assert last_of(qa.chat(kb_app, "   ", before, []))[0] == before  # nothing typed: nothing happens


def test_chat_engine_failure_is_a_general_message(make_app, tmp_path: Path) -> None:
    """A knowledge base that cannot be opened: the chat says so in one line, never a traceback."""
    blocked = tmp_path / "a-file"
    blocked.write_text("x", encoding="utf-8")
    app = make_app(blocked / "kb")
    messages, pairs, _ = last_of(qa.chat(app, "支委会多久开一次？", [], []))
    assert messages[-1]["content"].startswith("暂时无法回答：") and "Traceback" not in messages[-1]["content"]
    assert pairs == []
    assert "问答引擎未就绪" in qa.badge(app)


# --------------------------------------------------------------------------- 会议方案 · 工作清单 · 任务规划

def test_meeting_plan_returns_docx_and_markdown(fresh_app: App, tmp_path: Path) -> None:
    preview, docx_path, md_path = plans.meeting_plan(fresh_app, tmp_path, "支委会", "第一党支部", IN_A_MONTH, "", 5)
    assert "会议议程" in preview and "第一党支部" in preview
    docx = Path(docx_path)
    assert docx.suffix == ".docx" and docx.stat().st_size > 1000 and docx.parent == tmp_path
    with zipfile.ZipFile(docx) as z:
        xml = z.read("word/document.xml").decode("utf-8")
    assert "第一党支部" in xml and "会议议程" in xml
    md = Path(md_path).read_text(encoding="utf-8")
    assert md.startswith("# 第一党支部") and "支部工作条例" in md


@pytest.mark.parametrize("typed", ["2027-01-18", "2027/1/18", "2027年1月18日"])
def test_meeting_date_in_the_forms_people_type(fresh_app: App, tmp_path: Path, typed: str) -> None:
    if date(2027, 1, 18) < date.today():
        pytest.skip("the date is in the past")
    preview, _, _ = plans.meeting_plan(fresh_app, tmp_path, "党课", "第一党支部", typed)
    assert "2027年1月18日" in preview


def test_meeting_plan_escapes_user_input_and_names_bad_fields(fresh_app: App, tmp_path: Path) -> None:
    preview, _, _ = plans.meeting_plan(fresh_app, tmp_path, "支部党员大会", "<img src=x onerror=alert(1)>党支部", IN_A_MONTH)
    assert "<img" not in preview and "&lt;img" in preview
    with pytest.raises(InputError, match="会议日期") as info:
        plans.meeting_plan(fresh_app, tmp_path, "支委会", "第一党支部", "明天")
    assert info.value.field == "date"
    with pytest.raises(InputError, match="会议类型"):
        plans.meeting_plan(fresh_app, tmp_path, "联欢会", "第一党支部", IN_A_MONTH)
    with pytest.raises(InputError, match="人数"):
        plans.meeting_plan(fresh_app, tmp_path, "支委会", "第一党支部", IN_A_MONTH, "", "很多")


def test_checklist_table_xlsx_and_ics(fresh_app: App, tmp_path: Path) -> None:
    summary, rows, xlsx_path, ics_path = plans.checklist(fresh_app, tmp_path, 2027, "第一季度", "机关", 23)
    assert "2027年第1季度党支部工作清单" in summary
    assert rows and all(r[0].startswith("2027-0") for r in rows) and all(len(r) == 5 for r in rows)
    assert any("支部委员会会议" in r[1] for r in rows)
    wb = openpyxl.load_workbook(xlsx_path)
    assert wb.sheetnames
    ics = Path(ics_path).read_text(encoding="utf-8")
    assert ics.startswith("BEGIN:VCALENDAR") and "BEGIN:VEVENT" in ics
    with pytest.raises(InputError, match="期间"):
        plans.checklist(fresh_app, tmp_path, 2027, "第五季度", "机关")
    with pytest.raises(InputError, match="年份"):
        plans.checklist(fresh_app, tmp_path, "明年", "全年", "机关")


def test_periods() -> None:
    assert plans.parse_period("全年") == (None, None)
    assert plans.parse_period("第三季度") == plans.parse_period("Q3") == plans.parse_period("第3季度") == (3, None)
    assert plans.parse_period("11月") == (None, 11)
    with pytest.raises(InputError, match="期间"):
        plans.parse_period("13月")


def test_plan_tasks_with_reasons_and_overload_advice(fresh_app: App, tmp_path: Path) -> None:
    tasks = {"headers": plans.TASK_HEADERS,
             "data": [["撰写年度总结", "2027-01-20", "6", "重要"], ["整理学习笔记", "", "3", "可延后"], ["", "", "", ""]]}
    start = "2027-01-04" if date(2027, 1, 4) >= date.today() else plans.next_monday().isoformat()
    plan, md_path, ics_path = plans.plan_tasks(fresh_app, tmp_path, tasks, start, 3, 2, "机关", None)
    # the worker's own 撰写年度总结 is the duty 书记述职与年度工作总结: planned once, merged with it
    assert "第1周" in plan and "安排理由" in plan and "书记述职与年度工作总结" in plan
    assert "放不下的任务" in plan  # 2 hours a week cannot hold it all: the advice section lists what to move
    deferred = plan.split("放不下的任务", 1)[1]
    assert "|" in deferred and ("延后" in deferred or "拆分" in deferred or "交" in deferred)
    assert Path(md_path).read_text(encoding="utf-8").startswith("# 任务规划")
    assert Path(ics_path).read_text(encoding="utf-8").startswith("BEGIN:VCALENDAR")
    bad = {"headers": tasks["headers"], "data": [["写总结", "2027-01-20", "很多", ""]]}
    with pytest.raises(InputError, match="工时"):
        plans.plan_tasks(fresh_app, tmp_path, bad, start, 3, 4)
    with pytest.raises(InputError, match="开始日期"):
        plans.plan_tasks(fresh_app, tmp_path, tasks, "下周一", 3, 4)
    with pytest.raises(InputError, match="每周可用小时"):
        plans.plan_tasks(fresh_app, tmp_path, tasks, start, 3, 500)


# --------------------------------------------------------------------------- 知识库

def test_ingest_makes_a_new_document_findable(kb_app: App, tmp_path: Path) -> None:
    doc = tmp_path / "机关读书 分享;会$(x).txt"
    doc.write_text("机关读书分享会办法\n\n第一条 机关党支部每季度组织一次青年读书分享会，由宣传委员负责召集并做好记录。\n",
                   encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    steps = list(kb.ingest_files(kb_app, [str(doc), str(empty)]))
    assert steps[0][0].startswith("已接收 2 个文件")
    status, rows = steps[-1]
    assert status.startswith("导入完成"), status
    results = {r[0].split(" → ")[0]: r[1] for r in rows}
    assert results[doc.name] == "已导入", rows
    assert results["empty.txt"].startswith("失败") and "空" in results["empty.txt"], rows
    staged = sorted(p.name for p in kb.uploads_dir(kb_app.settings).iterdir())
    assert all(re.fullmatch(r"[\w\u4e00-\u9fff.\-（）]+", n) for n in staged), staged
    assert not any(c in "".join(staged) for c in " ;$()/\\"), staged
    result = qa.ask(kb_app, "青年读书分享会由谁负责召集？")
    assert_cited(result)
    assert "宣传委员" in result["answer"]
    assert any(s["title"] == "机关读书分享会办法" for s in result["sources"])
    assert any(r[1] == "机关读书分享会办法" for r in kb.doc_rows(kb_app))
    with pytest.raises(InputError, match="请先选择"):
        list(kb.ingest_files(kb_app, []))


def test_uploads_are_checked_and_confined(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data, max_file_mb=0.001)  # about 1 KB
    names = ["a b;rm -rf ~ `x` $(y) |z&.txt", ".hidden.md", "..evil.md", "big.txt", "x.exe", "noext"]
    files = []
    for i, name in enumerate(names):
        folder = tmp_path / "incoming" / str(i)
        folder.mkdir(parents=True)
        f = folder / name
        f.write_text("第一条 内容。" * (400 if name == "big.txt" else 1), encoding="utf-8")
        files.append(str(f))
    staged, rows = kb.stage_uploads(files, settings)
    staging = kb.staging_dir(settings).resolve()
    assert len(staged) == 3
    for p in staged:
        assert p.resolve().parent.parent == staging  # a folder per batch; uploads/ only after the import
        assert not p.name.startswith(".") and not set(p.name) & set(" ;`$()|&~/\\")
    assert sorted(p.name for p in data.rglob("*") if p.is_file()) == sorted(p.name for p in staged)
    by_name = {r[0].split(" → ")[0]: r[1] for r in rows}
    assert by_name["big.txt"].startswith("失败：文件过大")
    assert by_name["x.exe"].startswith("失败：不支持的文件类型")
    assert by_name["noext"].startswith("失败：不支持的文件类型")
    assert by_name["a b;rm -rf ~ `x` $(y) |z&.txt"] == "等待导入…"


def test_remove_deletes_the_document_and_its_upload(make_app, tmp_path: Path) -> None:
    app = make_app()
    doc = tmp_path / "to-remove.txt"
    doc.write_text("临时通知\n\n第一条 本通知用于测试删除功能。\n", encoding="utf-8")
    assert last_of(kb.ingest_files(app, [str(doc)]))[0].startswith("导入完成")
    assert (kb.uploads_dir(app.settings) / "to-remove.txt").is_file()
    assert ("临时通知（to-remove.txt）", "to-remove.txt") in kb.doc_choices(app)
    assert kb.remove_docs(app, ["to-remove.txt"]).replace("\\", "").startswith("已删除：to-remove.txt（1 段）")
    assert not any(d.doc_id == "to-remove.txt" for d in app.store.documents())
    assert not (kb.uploads_dir(app.settings) / "to-remove.txt").exists()
    with pytest.raises(InputError, match="请先选择"):
        kb.remove_docs(app, [])


def test_reindex_rereads_uploads_only(make_app, tmp_path: Path) -> None:
    """Re-indexing re-reads a document from its file only when that file is in the data dir's
    uploads: a path recorded in the collection's metadata (which another tool, an older version or
    a tampered store may have put there) is never read, nor a symlink out of uploads."""
    app = make_app()
    uploads = kb.uploads_dir(app.settings)
    secret = tmp_path / "passwd"
    secret.write_text("root:x:0:0:SECRET-LINE:/root:/bin/bash\n", encoding="utf-8")
    uploaded = tmp_path / "notice.txt"
    uploaded.write_text("通知\n\n第一条 支部每月召开一次委员会会议。\n", encoding="utf-8")
    assert last_of(kb.ingest_files(app, [str(uploaded)]))[0].startswith("导入完成")
    outside = []
    for n in range(3):
        path = tmp_path / f"outside{n}.txt"
        path.write_text(f"外部文件{n}\n\n第一条 这份文件从命令行导入。\n", encoding="utf-8")
        outside.append(path)
    assert not app.ingest(outside).failed
    # plant: the collection says these documents live in /etc/passwd-like places
    (uploads / "linked.txt").symlink_to(secret)
    planted = {"outside0.txt": str(secret), "outside1.txt": str(uploads / "linked.txt"),
               "outside2.txt": str(uploads / ".." / ".." / secret.name)}
    store = app.store
    got = store.collection.get(include=["metadatas"])
    for cid, meta in zip(got["ids"], got["metadatas"]):
        if meta["doc_id"] in planted:
            store.collection.update(ids=[cid], metadatas=[{**meta, "path": planted[meta["doc_id"]]}])
    (uploads / "notice.txt").write_text("通知\n\n第一条 支部每两个月召开一次委员会会议。\n", encoding="utf-8")
    message = kb.reindex(app)
    assert message.startswith("索引已重建。") and "更新 1 篇" in message, message
    assert "3 篇文档不是经网页上传的" in message and all(name in message for name in planted), message
    texts = store.snapshot(max_age=0).texts
    assert not any("SECRET-LINE" in t for t in texts)
    assert any("每两个月" in t for t in texts), "the uploaded file was re-read"
    assert {d.doc_id for d in store.documents()} == {"notice.txt", *planted}


def test_outputs_are_private_and_inside_the_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    outputs = Outputs(data)
    folder = outputs.folder()
    assert folder.parent == outputs.root and outputs.root.parent == data / "outputs"
    for path in (outputs.root, folder):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, oct(path.stat().st_mode)
    assert outputs.folder() != folder
    # an old entry is pruned, a planted symlink is left alone (never followed into rmtree)
    old, target = data / "outputs" / "old-run", tmp_path / "victim"
    old.mkdir()
    target.mkdir()
    (target / "keep.txt").write_text("x", encoding="utf-8")
    planted = data / "outputs" / "planted"
    planted.symlink_to(target)
    for p in (old, planted, target):
        os.utime(p, (1, 1), follow_symlinks=False)
    Outputs(data).prune()
    assert not old.exists() and planted.is_symlink() and (target / "keep.txt").is_file()


# --------------------------------------------------------------------------- text helpers

@pytest.mark.parametrize("name, expected", [
    ("../../etc/passwd.txt", "passwd.txt"),
    ("..\\..\\windows\\evil.md", "evil.md"),
    ("a b;rm -rf $(x).txt", "a_b_rm_-rf_x.txt"),
    ("`touch x`|y&z>w.TXT", "touch_x_y_z_w.txt"),
    (".bashrc", "文件.bashrc"),
    ("...", "文件"),
    ("支部工作条例（2018）.docx", "支部工作条例（2018）.docx"),
    ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
])
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_escaping_helpers() -> None:
    assert esc('<img src=x onerror="a">') == "&lt;img src=x onerror=&quot;a&quot;&gt;"
    assert esc_md("**依据** <script>") == "**依据** &lt;script&gt;"
    literal = esc_literal("1. [点我](javascript:alert(1)) <b>*x*</b>")
    assert "<" not in literal and "](" not in literal and "\\*x\\*" in literal and literal.startswith("1\\.")
    text = "答：每月一次。[1]\n要点：\n1. 甲[1]\n依据：\n[1] 《条例》第十二条（现行）"
    md = answer_markdown(text, "注意")
    assert "依据" not in md, md
    assert md.endswith("> 提示：注意") and "甲[1]" in md
    kept = answer_markdown(text, "注意", basis=True)
    assert "\n\n依据：" in kept and kept.endswith("> 提示：注意")
    assert answer_markdown("答：见第十二条的依据：每月一次。[1]") == "答：见第十二条的依据：每月一次。[1]"


def test_badge_and_errors_are_escaped_and_general() -> None:
    assert ">离线模式<" in badge_html("离线模式")
    llm = badge_html("模型：qwen<script>", "模型服务不可用（<b>超时</b>），已改用离线模式")
    assert "模型：qwen&lt;script&gt;" in llm and "&lt;b&gt;超时" in llm and "<b>" not in llm
    assert qa.engine_error(StoreError("数据目录不可写：/x")) == "数据目录不可写：/x"
    secret = qa.engine_error(RuntimeError("Bearer sk-secret at /srv/data"))
    assert "sk-secret" not in secret and "/srv" not in secret


# --------------------------------------------------------------------------- the page, in-process

@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory):
    """build_app over a fresh, empty data dir (no ingest), and its functions by API name."""
    app = App(Settings.from_env(data_dir=tmp_path_factory.mktemp("page") / "data"))
    demo = build_app(app)
    # every function takes the caller's request first (its role is checked): the one local user here
    fns = {f.api_name: functools.partial(f.fn, gr.Request()) for f in demo.fns.values()}
    return app, fns


def test_a_fresh_data_dir_answers_from_our_cards(page) -> None:
    """No import: the first question is answered from the bundled cards (their vectors ship)."""
    app, fns = page
    result = fns["ask"]("支委会多久开一次？")
    assert_cited(result)
    assert result["sources"][0]["source"].endswith(".md") and "每月" in result["answer"].splitlines()[0]
    assert (app.settings.data_dir / "bundled.json").is_file()
    *_, (messages, *_rest) = fns["stream_turn"]("党费怎么算？", [], [], "", {}, gr.Request())
    assert "依据：" not in messages[1]["content"] and "[1]" in messages[1]["content"]
    card = messages[2]
    assert card["metadata"]["title"].startswith("[1] 知识卡：") and "我们自己的话" in card["content"]
    assert "原文未导入" in card["content"], "no regulation imported: the card says its text is not there"


def test_the_page_shows_input_errors_as_notices(page) -> None:
    _, fns = page
    with pytest.raises(gr.Error) as info:
        fns["meeting_plan"]("支委会", "第一党支部", "明天")
    assert info.value.title == "输入有误" and "会议日期" in info.value.message
    with pytest.raises(gr.Error, match="请输入问题"):
        fns["ask"]("  ")


def test_the_page_writes_downloads_into_a_private_folder_of_the_data_dir(page) -> None:
    app, fns = page
    _, docx, md = fns["meeting_plan"]("支委会", "第一党支部", IN_A_MONTH, "", 5)
    summary, _, xlsx, ics = fns["checklist"](2027, "全年", "机关", None)
    outputs = (app.settings.data_dir / "outputs").resolve()
    for path in map(Path, (docx, md, xlsx, ics)):
        assert path.is_file() and outputs in path.resolve().parents, path
        run = path.resolve().parent.parent
        assert run.parent == outputs and stat.S_IMODE(run.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert Path(docx).parent != Path(xlsx).parent, "one folder per request"


def test_the_page_lists_documents_and_reports_an_empty_import(page) -> None:
    app, fns = page
    app.ensure_bundled()
    rows, choices = fns["refresh_docs"]()
    assert any(r[2] == "zhiweihui.md" and r[0] == "知识卡" for r in rows), "the cards are listed once loaded"
    assert json.loads(json.dumps(rows))  # plain values for the Dataframe
    with pytest.raises(gr.Error, match="请先选择要导入的文件"):
        list(fns["ingest"](None))


# --------------------------------------------------------------------------- 开始使用, the document list, delete

def test_first_run_lists_the_cited_regulations_and_which_are_imported(kb_app: App) -> None:
    """The list is knowledge/regulations.yaml's, matched against the store by title: 支部工作条例
    and 党费规定 are imported in kb_app, 党章 is not; the welcome text promises the texts only then."""
    from assistant.web.handlers import firstrun

    listed = {r.title: r for r in firstrun.regulations(kb_app)}
    assert list(listed) == [r["title"] for r in kb_app.knowledge.regulations()] and len(listed) >= 10
    assert [d.doc_id for d in listed["中国共产党支部工作条例（试行）"].imported] == ["zhibu-gongzuo-tiaoli-2018.txt"]
    assert listed["关于中国共产党党费收缴、使用和管理的规定"].imported
    assert listed["中国共产党章程"].held == "未导入"
    rows = {r[0]: r for r in firstrun.rows(kb_app)}
    tongzhi = rows["《中共中央组织部关于做好高校毕业生党员组织关系管理工作的通知》"]
    assert firstrun.HEADERS == ["法规", "本库", "生效日期", "状态", "发文字号", "正式文本"]
    assert tongzhi[1] == "未导入" and tongzhi[2] == "2015-07-23" and tongzhi[3] == "现行"
    assert tongzhi[4] == "组通字〔2015〕33号" and "12371" in tongzhi[5]
    assert rows["《中国共产党支部工作条例（试行）》"][1].startswith("已导入")
    text = firstrun.summary(kb_app)
    assert "自带知识卡" in text and "法规原文需自行导入" in text and f"已导入 **2** 部" in text


def test_first_run_on_a_fresh_data_dir_promises_only_the_cards(fresh_app: App) -> None:
    from assistant.web.handlers import firstrun

    fresh_app.ensure_bundled()
    assert not firstrun.any_imported(fresh_app), "our cards are not the regulations' texts"
    assert "只有知识卡" in firstrun.summary(fresh_app)
    assert "导入后可在来源卡片中展开条文" in firstrun.WELCOME and "点击可展开原文" not in firstrun.WELCOME
    assert all(r[1] == "未导入" for r in firstrun.rows(fresh_app))


def test_a_manifest_uploaded_with_the_files_gives_their_dates_and_status(fresh_app: App, tmp_path: Path,
                                                                        corpus_dir: Path) -> None:
    """Several files at once with the folder's manifest.json: each file's title, effective date and
    status are read from it (also after a reindex); a file it does not list is not imported; the
    document list puts the regulations first with their 生效日期."""
    from assistant.web.handlers import firstrun

    folder = tmp_path / "fagui"
    folder.mkdir()
    (folder / "dangfei.txt").write_text(
        (corpus_dir / "dangfei-shoujiao-shiyong-guanli-guiding-2008.txt").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "SOURCES.md").write_text("# 来源说明\n\n本文件夹的文本从网上转载。\n", encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps([
        {"file": "dangfei.txt", "title": "关于中国共产党党费收缴、使用和管理的规定", "effective": "2008-04-01",
         "status": "current"}], ensure_ascii=False), encoding="utf-8")
    fresh_app.ensure_bundled()
    steps = list(kb.ingest_files(fresh_app, [str(p) for p in sorted(folder.iterdir())]))
    status, rows = steps[-1]
    assert status.startswith("导入完成"), (status, rows)
    by_file = {r[0]: r[1] for r in rows}
    assert by_file["manifest.json"].startswith("清单：1 项")
    assert by_file["SOURCES.md"].startswith("未导入：manifest.json 没有列出")
    assert by_file["dangfei.txt"] == "已导入"
    assert any("正在导入" in s for s, _ in steps[:-1]) or len(steps) > 2, "progress is reported as it goes"
    docs = kb.doc_rows(fresh_app)
    assert docs[0][:5] == ["法规原文", "关于中国共产党党费收缴、使用和管理的规定", "dangfei.txt", "现行", "2008-04-01"]
    assert {r[0] for r in docs[1:]} <= {"知识卡", "地方实践", "常见问题"} and "SOURCES.md" not in {r[2] for r in docs}
    assert firstrun.any_imported(fresh_app)
    kb.reindex(fresh_app)
    assert kb.doc_rows(fresh_app)[0][4] == "2008-04-01", "reindex reads the kept manifest"


def test_delete_asks_first_naming_the_documents(kb_app: App, tmp_path: Path) -> None:
    doc = tmp_path / "shanchu-ceshi.txt"
    doc.write_text("临时通知\n\n第一条 本通知用于测试删除前的确认。\n", encoding="utf-8")
    last_of(kb.ingest_files(kb_app, [str(doc)]))
    question = kb.removal_question(kb_app, ["shanchu-ceshi.txt"])
    assert question.startswith("需要确认：将删除 1 篇文档") and "《临时通知》" in question
    assert "shanchu\\-ceshi.txt" in question and "确认删除" in question
    assert any(r[2] == "shanchu-ceshi.txt" for r in kb.doc_rows(kb_app)), "asking deletes nothing"
    with pytest.raises(InputError, match="请先选择要删除的文档"):
        kb.removal_question(kb_app, [])
    with pytest.raises(InputError, match="知识库中没有这些文档"):
        kb.removal_question(kb_app, ["meiyou.txt"])
    assert kb.remove_docs(kb_app, ["shanchu-ceshi.txt"]).startswith("已删除")


def test_the_readme_lists_the_regulations_of_the_knowledge_files() -> None:
    """The README's list of the regulations our cards cite is knowledge/regulations.yaml's, not a
    hand-kept copy: regenerate it with assistant.web.handlers.firstrun.readme_table when this fails."""
    from assistant.knowledge import Knowledge
    from assistant.web.handlers.firstrun import readme_table

    table = readme_table(Knowledge.bundled())
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert table in readme, "README's regulation list differs from knowledge/regulations.yaml:\n" + table
    assert table.count("\n") - 1 == len(Knowledge.bundled().regulations()) >= 10
    assert "自带知识卡（我们自己的话，附条款）" in readme and "法规原文需自行导入" in readme


def test_first_run_tells_another_edition_from_the_one_our_cards_cite(kb_app: App, tmp_path: Path) -> None:
    """A text of the same title with another effective date (an older 党章) is 其他版本, not the one cited."""
    from assistant.web.handlers import firstrun

    old = tmp_path / "dangzhang-2017.md"
    old.write_text("---\ntitle: 中国共产党章程\neffective: 2017-10-24\nstatus: superseded\n---\n"
                   "第一条 年满十八岁的中国工人……可以申请加入中国共产党。\n", encoding="utf-8")
    last_of(kb.ingest_files(kb_app, [str(old)], confirm=True))
    try:
        dangzhang = {r.title: r for r in firstrun.regulations(kb_app)}["中国共产党章程"]
        assert not dangzhang.imported and dangzhang.held == "已导入其他版本（dangzhang-2017.md，2017-10-24）"
    finally:
        kb.remove_docs(kb_app, [old.name])
