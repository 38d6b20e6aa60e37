"""任务规划 and 工作清单 in a real browser (Debian's chromium driven by Playwright, offline).

One app process (python app.py on a fresh data directory) and one browser for the module. Checked:
the task table has fixed columns, a visible 添加一行 button and a ✕ per row that deletes it, its cell
menu offers no column operations, its headers stay on one line (desktop and phone); the 支部情况 form
is saved and comes back after a reload; the plan shows the weekly focus and hand-off tables and its
hand-off .xlsx downloads; the checklist wraps its text on a desktop, is one card per duty at 390 px,
and its .xlsx has the 遇事即办 sheet the page promises. Screenshots go to test-artifacts/.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.devtools import appserver

REPO_ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO_ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-extensions", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
TIMEOUT_MS = 60_000

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed")
if not CHROMIUM.exists():
    pytest.skip("Debian's chromium is not installed (/usr/bin/chromium): apt-get install -y chromium fonts-noto-cjk",
                allow_module_level=True)

NAMES = "() => Array.from(document.querySelectorAll('#tasks [role=gridcell][data-col=\"0\"]')).map(e => e.innerText.trim())"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    base = tmp_path_factory.mktemp("planner-app")
    with appserver.AppServer(base / "data", base / "work") as app:
        yield app.url


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _page(browser, url, width, height, **kw):
    ctx = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN", accept_downloads=True, **kw)
    pg = ctx.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    requests: list[str] = []
    pg.on("request", lambda r: requests.append(r.url))
    pg.goto(url, wait_until="load")
    pg.locator("#question textarea").wait_for()
    return ctx, pg, requests


def open_tab(pg, name: str) -> None:
    """Click a tab; at phone width some tabs sit behind the "More tabs" button."""
    tab = pg.get_by_role("tab", name=name)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
        return
    pg.get_by_role("button", name="More tabs").click()
    pg.locator("button:visible", has_text=name).last.click()


def cell(pg, row: int, col: int):
    return pg.locator(f'#tasks [role=gridcell][data-row="{row}"][data-col="{col}"]')


def header_lines(pg) -> dict[str, float]:
    """Each task-table header's height in lines of its own text (1.0 = one line)."""
    return pg.evaluate("""() => Object.fromEntries(Array.from(document.querySelectorAll('#tasks th')).map(th => {
        const s = th.querySelector('span'); const r = s.getBoundingClientRect();
        const lh = parseFloat(getComputedStyle(s).lineHeight) || parseFloat(getComputedStyle(s).fontSize) * 1.4;
        return [s.innerText.trim(), r.height / lh]; }))""")


def type_into(pg, row: int, col: int, text: str) -> None:
    """Edit one cell as a user does (double-click, type, Enter); retried while the table is re-rendering."""
    for _ in range(4):
        pg.wait_for_timeout(300)
        cell(pg, row, col).dblclick()
        pg.wait_for_timeout(200)
        pg.keyboard.press("Control+A")
        pg.keyboard.type(text)
        pg.keyboard.press("Enter")
        try:
            pg.wait_for_function("([r, c, t]) => { const e = document.querySelector(`#tasks [role=gridcell][data-row=\"${r}\"][data-col=\"${c}\"]`);"
                                 " return e && e.innerText.includes(t); }", arg=[row, col, text], timeout=5000)
            return
        except sync_api.TimeoutError:
            pg.keyboard.press("Escape")
    pg.screenshot(path=str(ARTIFACTS / "type-failed.png"))
    raise AssertionError(f"could not type into row {row}, column {col}")


def test_task_table_rows_profile_form_and_plan(browser, app_url, tmp_path):
    ctx, pg, requests = _page(browser, app_url, 1280, 900)
    try:
        open_tab(pg, "任务规划")
        pg.wait_for_function(f"() => ({NAMES})().length === 3")  # the example rows, set when the page loads
        pg.wait_for_timeout(500)
        before = pg.evaluate(NAMES)
        # headers on one line, the columns fixed: the cell menu adds or deletes rows, never columns
        assert all(lines < 1.6 for lines in header_lines(pg).values()), header_lines(pg)
        cell(pg, 0, 0).click()
        pg.locator("#tasks button.cell-menu-button").first.click()
        menu = pg.get_by_text("删除行")
        menu.first.wait_for()
        assert pg.get_by_text("添加列").count() == 0 and pg.get_by_text("删除列").count() == 0
        assert pg.get_by_text(re.compile("column", re.I)).count() == 0
        pg.keyboard.press("Escape")
        # a visible 添加一行 button, and a ✕ per row that deletes that row
        pg.locator("#add-row").click()
        pg.wait_for_function(f"() => ({NAMES})().length === 4")
        cell(pg, 1, 4).click()
        pg.wait_for_function(f"() => ({NAMES})().length === 3")
        assert pg.evaluate(NAMES) == [before[0], before[2], ""]
        type_into(pg, 2, 0, "筹备年度组织生活会")
        type_into(pg, 2, 2, "6")
        cell(pg, 2, 3).click()  # leave the edited cell, as a user does before pressing a button
        pg.wait_for_timeout(300)
        # the branch profile
        pg.wait_for_function("() => document.querySelector('#profile-hours input').value !== ''")  # form filled on load
        pg.locator("#profile-members input").fill("20")
        pg.locator("#profile-hours input").fill("3")
        pg.locator("#profile-name-0 textarea, #profile-name-0 input").first.fill("王芳")
        pg.locator("#profile-name-2 textarea, #profile-name-2 input").first.fill("李强")
        pg.locator("#profile-name-3 textarea, #profile-name-3 input").first.fill("张敏")
        pg.locator("#make-tasks").click()
        try:
            pg.locator("#plan-focus").get_by_text("第1周").first.wait_for(timeout=30_000)
        except sync_api.TimeoutError:
            pg.screenshot(path=str(ARTIFACTS / "planner-no-plan.png"), full_page=True)
            notices = pg.locator(".toast-body, .toast-wrap").all_inner_texts()
            raise AssertionError(f"no plan after 30 s; notices: {notices}; table: {pg.evaluate(NAMES)}") from None
        pg.locator("#plan-handoff").get_by_text("交给组织委员（李强）").first.wait_for()
        weeks = pg.evaluate("() => Array.from(document.querySelectorAll('#plan-focus ol')).map(ol => ol.children.length)")
        assert len(weeks) == 4 and all(1 <= n <= 5 for n in weeks), weeks  # one screen a week: at most five lines
        # the typed row reached the planner, merged with the duty it names
        with pg.expect_download() as dl:
            pg.locator("#plan-md a").first.click()
        md = tmp_path / "plan.md"
        dl.value.save_as(md)
        assert "合并了你的任务“筹备年度组织生活会”" in md.read_text(encoding="utf-8")
        pg.screenshot(path=str(ARTIFACTS / "planner-plan.png"), full_page=True)
        with pg.expect_download() as dl:
            pg.locator("#plan-xlsx a").first.click()
        path = tmp_path / "handoff.xlsx"
        dl.value.save_as(path)
        import openpyxl

        wb = openpyxl.load_workbook(path)
        assert wb.sheetnames[0] == "汇总" and "组织委员" in wb.sheetnames
        assert "李强" in wb["组织委员"]["A1"].value
        # saved back: a new visit shows the same profile
        pg.reload(wait_until="load")
        pg.locator("#question textarea").wait_for()
        open_tab(pg, "任务规划")
        pg.wait_for_function("() => document.querySelector('#profile-members input').value === '20'")
        assert pg.locator("#profile-name-2 textarea, #profile-name-2 input").first.input_value() == "李强"
    finally:
        ctx.close()
    assert not [u for u in requests if not u.startswith((app_url, "data:", "blob:"))]


def test_task_table_headers_fit_at_phone_width(browser, app_url):
    ctx, pg, _ = _page(browser, app_url, 390, 844, is_mobile=True)
    try:
        open_tab(pg, "任务规划")
        pg.locator("#add-row").wait_for()
        assert pg.locator("#add-row").is_visible()
        lines = {k: v for k, v in header_lines(pg).items() if k}
        assert set(lines) == {"任务名称", "截止日期", "工时", "类型", "删除"}
        assert all(v < 1.6 for v in lines.values()), lines
        widths = pg.evaluate("""() => Array.from(document.querySelectorAll('#tasks th span')).map(s => [s.innerText.trim(),
            s.scrollWidth - s.clientWidth])""")
        assert all(over <= 1 for name, over in widths if name), widths  # no header cut off
        pg.screenshot(path=str(ARTIFACTS / "phone-planner.png"), full_page=True)
    finally:
        ctx.close()


def _make_checklist(pg):
    open_tab(pg, "工作清单")
    pg.locator("#make-checklist").click()
    pg.locator("#checklist-cards tr.cl-card").first.wait_for()


def test_checklist_one_card_per_duty_at_phone_width_and_event_sheet(browser, app_url, tmp_path):
    ctx, pg, _ = _page(browser, app_url, 390, 844, is_mobile=True)
    try:
        _make_checklist(pg)
        summary = pg.locator("#checklist-summary").inner_text()
        n = int(re.search(r"共 (\d+) 项", summary)[1])
        info = pg.evaluate("""() => { const rows = Array.from(document.querySelectorAll('#checklist-cards tr.cl-card'));
            const vw = document.documentElement.clientWidth;
            return {n: rows.length, block: rows.every(r => getComputedStyle(r).display === 'block'),
                    inside: rows.every(r => r.getBoundingClientRect().right <= vw + 1 && r.getBoundingClientRect().left >= -1),
                    head: getComputedStyle(document.querySelector('#checklist-cards thead')).display,
                    cut: Array.from(document.querySelectorAll('#checklist-cards td')).filter(td => td.scrollWidth > td.clientWidth + 1).length,
                    page: document.documentElement.scrollWidth - vw,
                    labels: getComputedStyle(document.querySelector('#checklist-cards td.c-std'), '::before').content}; }""")
        assert info["n"] == n > 0 and info["block"] and info["inside"] and info["head"] == "none"
        assert info["cut"] == 0 and info["page"] <= 1, info
        assert "合格标准" in info["labels"]
        pg.locator("#checklist-cards tr.cl-card").first.screenshot(path=str(ARTIFACTS / "phone-checklist-card.png"))
        pg.screenshot(path=str(ARTIFACTS / "phone-checklist.png"), full_page=True)
        events = int(re.search(r"另有 (\d+) 项按事件触发", summary)[1])
        with pg.expect_download() as dl:
            pg.locator("#checklist-xlsx a").first.click()
        path = tmp_path / "checklist.xlsx"
        dl.value.save_as(path)
        import openpyxl

        wb = openpyxl.load_workbook(path)
        assert "遇事即办" in wb.sheetnames and wb["遇事即办"].max_row == events + 1
    finally:
        ctx.close()


def test_checklist_wraps_text_on_a_desktop(browser, app_url):
    ctx, pg, _ = _page(browser, app_url, 1280, 900)
    try:
        _make_checklist(pg)
        info = pg.evaluate("""() => { const t = document.querySelector('#checklist-cards table');
            const vw = document.documentElement.clientWidth;
            const std = Array.from(document.querySelectorAll('#checklist-cards td.c-std'));
            const basis = Array.from(document.querySelectorAll('#checklist-cards td.c-basis'));
            const lh = parseFloat(getComputedStyle(std[0]).lineHeight) || 20;
            return {right: t.getBoundingClientRect().right, vw,
                    basisInside: basis.every(td => td.getBoundingClientRect().right <= vw + 1),
                    cut: std.concat(basis).filter(td => td.scrollWidth > td.clientWidth + 1).length,
                    wrapped: std.filter(td => td.getBoundingClientRect().height > 2.5 * lh).length,
                    head: getComputedStyle(document.querySelector('#checklist-cards thead')).display}; }""")
        assert info["right"] <= info["vw"] + 1 and info["basisInside"] and info["cut"] == 0, info
        assert info["wrapped"] > 0 and info["head"] != "none"
        pg.screenshot(path=str(ARTIFACTS / "checklist-desktop.png"), full_page=False)
    finally:
        ctx.close()
