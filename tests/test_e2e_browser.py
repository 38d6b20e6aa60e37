"""The web app in a real browser: Debian's chromium driven by Playwright, offline.

One app process and one browser per module, over a small knowledge base built once.
Screenshots go to test-artifacts/ (kept by CI). What is checked: a question gets a cited
answer with expandable source cards; a meeting plan downloads as .docx; an uploaded
document is found by the next question; document text with <script>/<img onerror> is shown
as text (no dialog, no injected element); the page works at phone width; Chinese renders as
glyphs, not boxes; the page asks nothing of any host but the app.
"""
from __future__ import annotations

import os
import re
import time
import zipfile
from pathlib import Path

import pytest
from playwright import sync_api

from assistant.devtools import appserver

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CORPUS_DIR = Path(os.environ.get("ASSISTANT_CORPUS_DIR") or REPO_ROOT.parent / "shared" / "corpus")
KB_FILES = [
    CORPUS_DIR / "zhibu-gongzuo-tiaoli-2018.txt",
    CORPUS_DIR / "dangfei-shoujiao-shiyong-guanli-guiding-2008.txt",
    REPO_ROOT / "knowledge" / "cards" / "zhiweihui.md",
]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
TIMEOUT_MS = 60_000

if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (/usr/bin/chromium): apt-get install -y chromium fonts-noto-cjk",
                allow_module_level=True)


# --------------------------------------------------------------------------- app and browser

@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    missing = [p for p in KB_FILES if not p.is_file()]
    if missing:
        pytest.skip(f"corpus not found ({', '.join(map(str, missing))}); set ASSISTANT_CORPUS_DIR")
    data = tmp_path_factory.mktemp("kb")
    appserver.build_kb(data, KB_FILES, timeout=300)
    with appserver.AppServer(data, tmp_path_factory.mktemp("app")) as app:
        yield app.url


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


class Watch:
    """Everything a page did that a test may want to look at afterwards."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        self.errors: list[str] = []


@pytest.fixture
def page(browser, app_url, request):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    watch = Watch()
    pg.on("request", lambda r: watch.requests.append(r.url))
    pg.on("dialog", lambda d: (watch.dialogs.append(d.message), d.dismiss()))
    pg.on("pageerror", lambda e: watch.errors.append(str(e)))
    pg.watch = watch
    pg.goto(app_url, wait_until="load")
    pg.locator("#question textarea").wait_for()
    settled(pg)
    yield pg
    try:
        pg.screenshot(path=str(ARTIFACTS / f"{request.node.name}-end.png"), full_page=True)
    finally:
        ctx.close()
    external = [u for u in watch.requests if not u.startswith((app_url, "data:", "blob:"))]
    assert not external, f"the page asked other hosts: {external[:5]}"


SETTLED = """() => {
    const trackers = [...document.querySelectorAll('[data-testid="status-tracker"]')];
    return trackers.length > 0 && trackers.every(t => t.classList.contains('hide'));
}"""


def settled(pg) -> None:
    """Wait until the page reports no event in progress: every status tracker Gradio shows over a
    component while an event runs for it (the page's own load events, a tab's first display) is hidden."""
    pg.wait_for_function(SETTLED, timeout=TIMEOUT_MS)


PLAN_REPORTED = """() => {
    const toasts = [...document.querySelectorAll('.toast-body')].map(t => t.innerText.trim()).filter(Boolean);
    if (toasts.length) return 'notice: ' + toasts.join(' / ');
    const preview = document.querySelector('#plan-preview');
    return preview && preview.innerText.includes('会议议程') ? 'done' : false;
}"""


def ask(pg, question: str) -> None:
    """Type a question, send it, wait until the answer with its source cards has arrived."""
    before = pg.locator("#chat .bot-row").count()
    pg.locator("#question textarea").fill(question)
    pg.locator("#send").click()
    pg.wait_for_function(ANSWERED, arg=before, timeout=TIMEOUT_MS)


ANSWERED = """n => { const rows = document.querySelectorAll('#chat .bot-row');
    return rows.length > n && !!rows[rows.length - 1].querySelector('.thought-group'); }"""


def open_tab(pg, name: str) -> None:
    pg.get_by_role("tab", name=name).click()


def fill(pg, field, value: str) -> None:
    """Fill a field, and again if the page replaced it meanwhile (a tab shown for the first time can
    still be mounting its fields when the status trackers report it settled; seen once under load)."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while True:
        field.fill(value)
        pg.wait_for_timeout(200)
        if field.input_value() == value:
            return
        assert time.monotonic() < deadline, f"the field kept losing {value!r}"


IMPORT_REPORTED = """name => {
    const status = document.querySelector('#kb-status'), rows = document.querySelector('#kb-progress');
    if (document.body.innerText.includes('请先选择要导入的文件')) return 'no-file';
    if (!status || !rows) return false;
    if (status.innerText.includes('导入失败')) return 'failed';
    return status.innerText.includes('导入完成') && rows.innerText.includes(name) ? 'done' : false;
}"""


def upload_to_kb(pg, path: Path) -> None:
    """Upload a file and import it, waiting on what the app reports at each step: the upload's
    response and the file's download link in the upload area (the server holds the file), then
    the import's status line and this file's row in the progress table."""
    open_tab(pg, "知识库")
    settled(pg)
    with pg.expect_response(lambda r: "/upload" in r.url and r.request.method == "POST") as uploaded:
        pg.locator("#kb-upload input[type=file]").set_input_files(str(path))
    assert uploaded.value.ok, uploaded.value.status
    pg.locator(f'#kb-upload a.download-link[download="{path.name}"]').wait_for()
    for _ in range(3):
        pg.locator("#kb-ingest").click()
        state = pg.wait_for_function(IMPORT_REPORTED, arg=path.name, timeout=TIMEOUT_MS).json_value()
        if state != "no-file":  # the click came before the component took the uploaded file: click again
            break
        pg.get_by_text("请先选择要导入的文件").first.wait_for(state="detached", timeout=TIMEOUT_MS)
    assert state == "done", (state, pg.locator("#kb-status").inner_text(), pg.locator("#kb-progress").inner_text())
    progress = pg.locator("#kb-progress").inner_text()  # this import's rows: the one file and its result
    assert "已导入" in progress or "未变" in progress, progress


SCROLL_TO_FIND = """async text => {
    const table = document.querySelector('#kb-docs');
    const view = table && table.querySelector('.virtual-table-viewport');
    if (!view) return !!table && table.innerText.includes(text);
    const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    for (let top = 0; top <= view.scrollHeight; top += Math.max(view.clientHeight / 2, 50)) {
        view.scrollTop = top;
        await frame();
        if (table.innerText.includes(text)) return true;
    }
    return false;
}"""


def wait_for_listed(pg, text: str, listed: bool = True) -> None:
    """Wait until the document table lists TEXT (or no longer does). The table draws only the rows in
    view (a virtual table: with our cards it holds some forty documents), so each look scrolls it through."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while pg.evaluate(SCROLL_TO_FIND, text) != listed:
        assert time.monotonic() < deadline, f"{text!r} {'not ' if listed else 'still '}listed in #kb-docs"
        pg.wait_for_timeout(200)


# --------------------------------------------------------------------------- tests

def test_ask_shows_a_cited_answer_with_source_cards(page):
    page.locator("#mode-badge").get_by_text("离线模式").wait_for()
    page.get_by_role("button", name="支委会多久开一次？").click()  # an example question asks at once
    page.wait_for_function(ANSWERED, arg=0, timeout=TIMEOUT_MS)
    answer = page.locator("#chat .bot-row").last.inner_text()
    assert "[1]" in answer and "每月" in answer
    cards = page.locator("#chat .thought-group")
    assert cards.count() >= 1
    first = cards.first
    assert re.search(r"\[1\] (知识卡：《.+》|法规原文：《.+》.*(现行|已被修订|参考资料))", first.inner_text())
    first.locator(".title").click()  # expand: the passage and its file are shown
    page.get_by_text("来源文件：").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "qa-cited-answer.png"), full_page=True)
    page.get_by_role("button", name="新对话").click()
    page.wait_for_function("document.querySelectorAll('#chat .bot-row').length === 0")
    assert not page.watch.errors, page.watch.errors


def test_meeting_plan_preview_and_docx_download(page, tmp_path):
    open_tab(page, "会议方案")
    settled(page)
    branch = page.locator("#plan-branch textarea, #plan-branch input").first
    fill(page, branch, "机关第一党支部")
    fill(page, page.locator("#plan-members input"), "23")
    assert branch.input_value() == "机关第一党支部"
    page.locator("#make-plan").click()
    state = page.wait_for_function(PLAN_REPORTED, timeout=TIMEOUT_MS).json_value()  # the plan, or the app's notice
    assert state == "done", state
    assert "机关第一党支部" in page.locator("#plan-preview").inner_text()
    link = page.locator("#plan-docx a").first
    link.wait_for()
    with page.expect_download() as info:
        link.click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.suffix == ".docx"
    with zipfile.ZipFile(saved) as z:
        assert "机关第一党支部" in z.read("word/document.xml").decode("utf-8")
    page.screenshot(path=str(ARTIFACTS / "meeting-plan.png"), full_page=True)


def test_uploaded_document_is_found_by_asking(page, tmp_path):
    doc = tmp_path / "qingnian-dushu.txt"
    doc.write_text("机关青年读书会办法\n\n第一条 机关党支部每两个月组织一次青年读书会，由组织委员负责召集并做好记录。\n",
                   encoding="utf-8")
    upload_to_kb(page, doc)
    progress = page.locator("#kb-progress").inner_text()
    assert "qingnian-dushu.txt" in progress and "已导入" in progress
    wait_for_listed(page, "机关青年读书会办法")
    page.screenshot(path=str(ARTIFACTS / "kb-after-upload.png"), full_page=True)
    open_tab(page, "问答")
    ask(page, "青年读书会由谁负责召集？")
    answer = page.locator("#chat .bot-row").last.inner_text()
    assert "组织委员" in answer and "机关青年读书会办法" in answer
    page.screenshot(path=str(ARTIFACTS / "qa-uploaded-document.png"), full_page=True)


def test_remove_a_document_and_reindex(page, tmp_path):
    doc = tmp_path / "to-remove.txt"
    doc.write_text("临时通知\n\n第一条 本通知用于测试删除功能。\n", encoding="utf-8")
    upload_to_kb(page, doc)
    wait_for_listed(page, "to-remove.txt")
    select = page.locator("#kb-remove-select input")
    select.click()
    select.fill("to-remove")
    page.get_by_role("option", name=re.compile("to-remove.txt")).click()
    page.locator("#kb-remove").click()
    page.locator("#kb-remove-confirm").click()
    page.locator("#kb-message").get_by_text("已删除：to-remove.txt").wait_for()
    wait_for_listed(page, "to-remove.txt", listed=False)
    page.locator("#kb-reindex").click()
    page.locator("#kb-message").get_by_text("索引已重建").wait_for()
    wait_for_listed(page, "zhibu-gongzuo-tiaoli-2018.txt")
    page.screenshot(path=str(ARTIFACTS / "kb-remove-reindex.png"), full_page=True)


def test_document_text_is_escaped_never_run(page, tmp_path):
    doc = tmp_path / "xss-check.txt"
    doc.write_text(
        "<img src=x onerror=\"window.__xss=1;alert('img')\">公告栏管理办法\n\n"
        "第一条 公告栏中的代码 <script>window.__xss=2;alert('script')</script> 一律按原样显示，"
        "保密员每周检查一次公告栏。<b onmouseover=\"alert(3)\">粗</b> [点此](javascript:alert(4))\n",
        encoding="utf-8")
    upload_to_kb(page, doc)
    wait_for_listed(page, "<img src=x onerror=")  # the title is shown as typed
    open_tab(page, "问答")
    ask(page, "公告栏中的代码怎么显示？保密员多久检查一次公告栏？")
    page.locator("#chat .thought-group .title").first.click()
    page.get_by_text("来源文件：").first.wait_for()
    time.sleep(0.5)  # not a wait for the app: a moment for an injected handler to fire, if one had got in
    chat_text = page.locator("#chat").inner_text()
    assert "<script>window.__xss=2" in chat_text and "<img src=x onerror=" in chat_text
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert not page.watch.dialogs, page.watch.dialogs
    injected = page.evaluate("""() => ({
        img: document.querySelectorAll('img[src="x"]').length,
        onerror: document.querySelectorAll('[onerror]').length,
        onmouseover: document.querySelectorAll('[onmouseover]').length,
        js_links: document.querySelectorAll('a[href^="javascript"]').length,
        scripts_in_chat: document.querySelectorAll('#chat script, #kb-docs script').length,
    })""")
    assert injected == {"img": 0, "onerror": 0, "onmouseover": 0, "js_links": 0, "scripts_in_chat": 0}, injected
    page.screenshot(path=str(ARTIFACTS / "xss-escaped.png"), full_page=True)


def test_phone_width_and_chinese_glyphs(browser, app_url):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US", is_mobile=True,
                              has_touch=True, device_scale_factor=2)
    pg = ctx.new_page()
    try:
        pg.set_default_timeout(TIMEOUT_MS)
        pg.goto(app_url, wait_until="load")
        pg.locator("#question textarea").wait_for()
        settled(pg)
        overflow = pg.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"page is {overflow}px wider than the phone"
        for sel in ("#question textarea", "#send", "#chat"):
            box = pg.locator(sel).bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 391, (sel, box)
        ask(pg, "党员每月应交多少党费？")
        # Chinese is drawn with real glyphs: two different characters must not draw the same (a missing
        # glyph draws the same box for both), and a CJK font family is in the computed style
        same = pg.evaluate("""() => {
            const font = getComputedStyle(document.querySelector('#chat')).fontFamily;
            const draw = ch => { const c = document.createElement('canvas'); c.width = c.height = 40;
                const x = c.getContext('2d'); x.font = '32px ' + font; x.fillText(ch, 2, 34);
                return Array.from(x.getImageData(0, 0, 40, 40).data).join(','); };
            return {same: draw('党') === draw('务'), blank: draw('党') === draw(' '), font};
        }""")
        assert not same["same"] and not same["blank"], same
        assert "Noto Sans CJK SC" in same["font"] or "system-ui" in same["font"], same
        pg.screenshot(path=str(ARTIFACTS / "phone-qa.png"), full_page=True)
    finally:
        ctx.close()


def test_gradio_texts_are_chinese_in_an_english_browser(browser, app_url):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    pg = ctx.new_page()
    try:
        pg.set_default_timeout(TIMEOUT_MS)
        pg.goto(app_url, wait_until="load")
        pg.locator("#question textarea").wait_for()
        settled(pg)
        open_tab(pg, "知识库")
        upload = pg.locator("#kb-upload")
        upload.get_by_text("点击上传").wait_for()
        text = upload.inner_text()
        assert "将文件拖放到此处" in text and "Drop File Here" not in text and "Click to Upload" not in text
        pg.screenshot(path=str(ARTIFACTS / "kb-english-browser.png"), full_page=True)
    finally:
        ctx.close()


LINKED_DOC = ("---\ntitle: 党费缴纳须知\n---\n# 党费缴纳须知\n\n"
              "第一条 党员可登录[党费缴纳官方平台](https://evil.example/login)在线交纳党费，"
              "或访问 <https://evil.example/pay> 办理，收据在 https://evil.example/receipt 下载。\n")


def test_links_from_documents_are_text_not_links(page, tmp_path):
    """Issue 17: an imported .md with [党费缴纳官方平台](https://evil.example/login) made the answer show a
    clickable link with the attacker's wording. The answer and its cards show the address as text."""
    doc = tmp_path / "dangfei-pingtai.md"
    doc.write_text(LINKED_DOC, encoding="utf-8")
    upload_to_kb(page, doc)
    open_tab(page, "问答")
    ask(page, "党员可以在哪里在线交纳党费？")
    page.locator("#chat .thought-group .title").first.click()
    page.get_by_text("来源文件：").first.wait_for()
    chat = page.locator("#chat")
    text = chat.inner_text()
    assert "https://evil.example/login" in text, text
    links = page.evaluate("() => [...document.querySelectorAll('#chat a')].map(a => a.href + ' ' + a.innerText)")
    assert not [x for x in links if "evil.example" in x], links
    page.screenshot(path=str(ARTIFACTS / "links-as-text.png"), full_page=True)


CONFIRM_ASKED = """() => {
    const status = document.querySelector('#kb-status');
    if (!status) return false;
    if (status.innerText.includes('导入完成') || status.innerText.includes('导入失败')) return 'imported';
    return status.innerText.includes('需要确认') ? 'asked' : false;
}"""


def test_an_import_that_would_supersede_a_document_asks_first(page, tmp_path):
    """A text claiming to be a newer 支部工作条例 would make the real one 已被修订: the page says so and
    imports only when confirmed; the document list then shows who imported it and when."""
    doc = tmp_path / "zhibu-xinban.md"
    doc.write_text("---\ntitle: 中国共产党支部工作条例（试行）\neffective: 2024-01-01\n---\n"
                   "第一条 党支部每半年召开一次支部委员会会议。\n第二条 党员每月交纳党费一律为工资的百分之十。\n"
                   "第三条 本条例自2024年1月1日起施行。\n", encoding="utf-8")
    open_tab(page, "知识库")
    settled(page)
    with page.expect_response(lambda r: "/upload" in r.url and r.request.method == "POST"):
        page.locator("#kb-upload input[type=file]").set_input_files(str(doc))
    page.locator(f'#kb-upload a.download-link[download="{doc.name}"]').wait_for()
    for attempt in ("cancel", "confirm"):  # the file stays chosen: asked again the second time
        page.locator("#kb-ingest").click()
        assert page.wait_for_function(CONFIRM_ASKED, timeout=TIMEOUT_MS).json_value() == "asked"
        status = page.locator("#kb-status").inner_text()
        assert "将取代《中国共产党支部工作条例（试行）》（2018-10-28）" in status, status
        page.locator("#kb-confirm").wait_for()
        if attempt == "cancel":
            page.locator("#kb-cancel").click()
            page.locator("#kb-status").get_by_text("已取消导入").wait_for()
            wait_for_listed(page, "zhibu-xinban.md", listed=False)
    page.screenshot(path=str(ARTIFACTS / "kb-confirm.png"), full_page=True)
    page.locator("#kb-confirm").click()
    page.locator("#kb-status").get_by_text("导入完成").wait_for()
    assert "已被 zhibu-xinban.md 取代" in page.locator("#kb-status").inner_text()
    wait_for_listed(page, "zhibu-xinban.md")
    wait_for_listed(page, "网页上传（127.0.0.1，未登录）")
    # put the knowledge base back as the other tests expect it
    select = page.locator("#kb-remove-select input")
    select.click()
    select.fill("zhibu-xinban")
    page.get_by_role("option", name=re.compile("zhibu-xinban.md")).click()
    page.locator("#kb-remove").click()
    page.locator("#kb-remove-confirm").click()
    page.locator("#kb-message").get_by_text("已删除").wait_for()
    wait_for_listed(page, "zhibu-xinban.md", listed=False)



# --------------------------------------------------------------------------- issue 15: a new user's first hour

TONGZHI = CORPUS_DIR / "gaoxiao-biyesheng-dangyuan-zuzhiguanxi-tongzhi-2015.txt"
TONGZHI_TITLE = "中共中央组织部关于做好高校毕业生党员组织关系管理工作的通知"


ROW_OF = """async ([table_id, title, width]) => {
    const table = document.querySelector(table_id);
    const view = table && table.querySelector('.virtual-table-viewport');
    const frame = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
    const look = () => {
        const lines = table.innerText.split('\\n').map(x => x.trim()).filter(Boolean);
        const i = lines.findIndex(x => x.includes(title));
        return i < 0 ? '' : lines.slice(i, i + width).join(' | ');
    };
    if (!view) return table ? look() : '';
    for (let top = 0; top <= view.scrollHeight; top += Math.max(view.clientHeight / 2, 50)) {
        view.scrollTop = top;
        await frame();
        const row = look();
        if (row) return row;
    }
    return '';
}"""


def first_run_row(pg, title: str) -> str:
    """The 开始使用 list's row of one regulation, its cells joined by | (the table draws only the
    rows in view: scrolled through until it is found; a table just unfolded is drawn a moment later)."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not (row := pg.evaluate(ROW_OF, ["#first-run-list", title, 6])):
        assert time.monotonic() < deadline, f"{title!r} not in the 开始使用 list"
        pg.wait_for_timeout(200)
    return row


def remove_document(pg, doc_id: str) -> None:
    """Delete one document on the 知识库 tab, through its confirmation."""
    open_tab(pg, "知识库")
    settled(pg)
    select = pg.locator("#kb-remove-select input")
    select.click()
    select.fill(doc_id.split(".")[0])
    pg.get_by_role("option", name=re.compile(re.escape(doc_id))).click()
    pg.locator("#kb-remove").click()
    pg.locator("#kb-remove-confirm").click()
    pg.locator("#kb-message").get_by_text("已删除").wait_for()
    wait_for_listed(pg, doc_id, listed=False)


def test_first_run_panel_lists_the_regulations_and_imports_several_files(page):
    """The 问答 tab opens with 开始使用: our cards come with the app, the texts do not; the regulations
    our cards cite, which are imported; several files (a text and the folder's manifest.json) imported
    at once from the panel with progress; the list then shows it imported, with the manifest's date."""
    if not TONGZHI.is_file():
        pytest.skip(f"{TONGZHI} not found")
    panel = page.locator("#first-run")
    panel.get_by_text("开始使用：自带知识卡，法规原文需自行导入").wait_for()
    summary = page.locator("#first-run-summary")
    # the page's load fills it in: two of the texts are imported in this knowledge base, so it is folded
    page.wait_for_function("t => document.querySelector('#first-run-summary').textContent.includes(t)", arg="已导入 2 部")
    page.wait_for_function("() => !document.querySelector('#first-run-summary').checkVisibility()")
    panel.get_by_text("开始使用：自带知识卡，法规原文需自行导入").click()
    summary.wait_for()
    assert "自带知识卡" in summary.inner_text() and "法规原文需自行导入" in summary.inner_text(), summary.inner_text()
    assert "已导入" in first_run_row(page, "中国共产党支部工作条例（试行）")
    row = first_run_row(page, TONGZHI_TITLE)
    assert "组通字〔2015〕33号" in row and "未导入" in row and "12371" in row, row
    page.screenshot(path=str(ARTIFACTS / "first-run-panel.png"), full_page=True)
    with page.expect_response(lambda r: "/upload" in r.url and r.request.method == "POST") as uploaded:
        page.locator("#first-run-upload input[type=file]").set_input_files([str(TONGZHI), str(CORPUS_DIR / "manifest.json")])
    assert uploaded.value.ok
    page.locator(f'#first-run-upload a.download-link[download="{TONGZHI.name}"]').wait_for()
    page.locator("#first-run-ingest").click()
    page.locator("#first-run-status").get_by_text("导入完成").wait_for()
    page.wait_for_function("""() => { const t = document.querySelector('#first-run-progress').innerText;
        return t.includes('manifest.json') && t.includes('清单：16 项') && t.includes('已导入'); }""")
    page.wait_for_function("t => document.querySelector('#first-run-summary').innerText.includes(t)", arg="已导入 3 部")
    row = first_run_row(page, TONGZHI_TITLE)
    assert f"已导入（{TONGZHI.name}）" in row, row
    page.screenshot(path=str(ARTIFACTS / "first-run-imported.png"), full_page=True)
    open_tab(page, "知识库")  # the 知识库 list: 法规原文 first, with the manifest's 生效日期
    settled(page)
    wait_for_listed(page, TONGZHI.name)
    row = page.evaluate(ROW_OF, ["#kb-docs", TONGZHI_TITLE, 5])
    assert row.split(" | ")[1:4] == [TONGZHI.name, "现行", "2015"], row  # manifest.json: "effective": "2015"
    head = page.locator("#kb-docs").inner_text().split("导入时间", 1)[1].strip()
    assert head.startswith("法规原文"), head[:200]
    remove_document(page, TONGZHI.name)  # the knowledge base as the other tests expect it


def test_a_card_source_and_a_regulation_source_when_expanded(page):
    """Under an answer each source says what it is: a 知识卡 (our words, the articles it rests on, and
    the imported article itself nested under it) or 法规原文 (the article with its file)."""
    ask(page, "支委会多久开一次？")
    answer = page.locator("#chat .bot-row").last
    text = page.evaluate("""() => { const rows = document.querySelectorAll('#chat .bot-row');
        const row = rows[rows.length - 1].cloneNode(true);
        row.querySelectorAll('.thought-group').forEach(g => g.remove());
        return row.textContent; }""")
    assert "每月" in text and "依据：" not in text, "the sources are shown once, as cards: " + text
    titles = [t.strip() for t in answer.locator(".thought-group .title").all_inner_texts()]
    assert any("知识卡：" in t for t in titles) and any(re.search(r"^\[\d+\] 法规原文：", t) for t in titles), titles
    card = answer.locator(".thought-group").filter(has_text="知识卡：").first
    card.locator(".title").first.click()
    card.get_by_text("我们自己的话").first.wait_for()
    assert "本卡依据：" in card.inner_text()
    nested = card.locator(".title").filter(has_text="法规原文：《中国共产党支部工作条例（试行）》")
    nested.first.wait_for()
    nested.first.click()
    card.get_by_text("第十二条 党支部委员会是党支部日常工作的领导机构").first.wait_for()  # the article itself, nested
    page.screenshot(path=str(ARTIFACTS / "source-card-expanded.png"), full_page=True)
    regulation = answer.locator(".thought-group").filter(has_text=re.compile(r"^\s*\[\d+\] 法规原文：")).first
    regulation.locator(".title").first.click()
    regulation.get_by_text("来源文件：").first.wait_for()
    assert "zhibu" in regulation.inner_text() or "dangfei" in regulation.inner_text()
    page.screenshot(path=str(ARTIFACTS / "source-regulation-expanded.png"), full_page=True)


TAB_NAMES = ["问答", "会议方案", "工作清单", "任务规划", "台账与自查", "知识库"]


def test_every_tab_is_one_tap_away_at_phone_width(browser, app_url):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True,
                              has_touch=True, device_scale_factor=2)
    pg = ctx.new_page()
    try:
        pg.set_default_timeout(TIMEOUT_MS)
        pg.goto(app_url, wait_until="load")
        pg.locator("#question textarea").wait_for()
        settled(pg)
        assert not pg.get_by_label("More tabs").is_visible(), "tabs hidden behind the … menu"
        for name in TAB_NAMES:
            tab = pg.get_by_role("tab", name=name)
            box = tab.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 391, (name, box)
            tab.tap()
            assert tab.get_attribute("aria-selected") == "true", name
        overflow = pg.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, f"page is {overflow}px wider than the phone"
        pg.screenshot(path=str(ARTIFACTS / "phone-tabs.png"))
    finally:
        ctx.close()


def test_delete_asks_first_naming_the_documents(page, tmp_path):
    doc = tmp_path / "shanchu-queren.txt"
    doc.write_text("删除确认测试通知\n\n第一条 本通知用于测试删除前的确认。\n", encoding="utf-8")
    upload_to_kb(page, doc)
    wait_for_listed(page, doc.name)
    remove = page.locator("#kb-remove")
    assert "secondary" in remove.get_attribute("class") and "stop" not in remove.get_attribute("class")
    select = page.locator("#kb-remove-select input")
    select.click()
    select.fill("shanchu")
    page.get_by_role("option", name=re.compile(doc.name)).click()
    page.keyboard.press("Escape")
    for attempt in ("cancel", "confirm"):  # the choice stays made after a cancel: asked again
        remove.click()
        message = page.locator("#kb-message")
        message.get_by_text("需要确认：将删除 1 篇文档").wait_for()
        assert "《删除确认测试通知》" in message.inner_text() and doc.name in message.inner_text()
        wait_for_listed(page, doc.name)  # nothing deleted yet
        if attempt == "cancel":
            page.screenshot(path=str(ARTIFACTS / "kb-delete-confirm.png"), full_page=True)
            page.locator("#kb-remove-cancel").click()
            message.get_by_text("已取消删除").wait_for()
            wait_for_listed(page, doc.name)
    page.locator("#kb-remove-confirm").click()
    page.locator("#kb-message").get_by_text(f"已删除：{doc.name}").wait_for()
    wait_for_listed(page, doc.name, listed=False)
