"""The command line as one parser: Chinese help and errors for every subcommand, exit status 2
for a user's mistake, dates in the forms people type, the flag named only by the CLI, and no
library chatter on the terminal."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from assistant.cli import build_parser, main

REPO = Path(__file__).resolve().parents[1]
COMMANDS = sorted(build_parser()._subparsers._group_actions[0].choices)  # noqa: SLF001 - argparse has no public API
# commands with actions of their own are run through one of them (``ledger list --no-such-option``)
ACTION = {"ledger": ["list"], "candidates": ["list"], "profile": ["show"], "users": ["list"], "keys": ["list"]}
ENGLISH = re.compile(r"usage:|error:|unrecognized|required|invalid|expected|show this help|optional arguments")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_chinese_error(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("错误：") and re.search(r"[\u4e00-\u9fff]{2}", lines[0][3:]), lines[0]
    assert not ENGLISH.search(lines[0]), lines[0]
    assert "Traceback" not in err
    return lines[0]


def test_every_documented_command_is_there() -> None:
    assert set(COMMANDS) == {"ingest", "list", "remove", "search", "ask", "chat", "meeting-plan", "checklist",
                             "plan-tasks", "profile", "ledger", "candidates", "self-check", "serve", "users", "keys",
                             "eval", "eval-answers", "bench", "bench-serve"}


@pytest.mark.parametrize("command", COMMANDS)
def test_a_bad_option_is_one_chinese_line_and_exit_2(command: str, capsys) -> None:
    code, out, err = run(capsys, command, *ACTION.get(command, []), "--no-such-option", "x")
    assert code == 2, (out, err)
    assert "--no-such-option" in one_chinese_error(err)


@pytest.mark.parametrize("argv", [
    ["search", "问题", "--k", "五"], ["search", "问题", "--mode", "fuzzy"], ["eval", "q.jsonl", "--k", "x"],
    ["ingest"], ["remove"], ["frobnicate"], [], ["--data-dir"],
])
def test_bad_values_and_missing_arguments_are_chinese(argv: list[str], capsys) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2
    one_chinese_error(err)


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_help_is_chinese(command: str | None, capsys) -> None:
    code, out, err = run(capsys, *([command, *ACTION.get(command, [])] if command else []), "--help")
    assert code == 0 and not err
    assert out.startswith("用法：") and "显示帮助并退出" in out
    assert not ENGLISH.search(out), out
    assert "--data-dir" in out, "every command takes --data-dir"


@pytest.mark.parametrize("argv, flag", [
    (["checklist", "--year", "2027", "--out", "x.pdf"], "（--out）"),
    (["checklist", "--year", "2027", "--month", "13"], "（--month）"),
    (["checklist", "--year", "2027", "--branch-type", "农村"], "（--branch-type）"),
    (["meeting-plan", "--type", "党课", "--branch", "b", "--date", "明天"], "（--date）"),
])
def test_the_cli_names_the_flag_of_a_bad_value(argv: list[str], flag: str, capsys) -> None:
    code, _, err = run(capsys, *argv)
    assert code == 2 and one_chinese_error(err).endswith(flag), err


def test_a_field_that_is_no_flag_is_not_given_one(tmp_path: Path, capsys) -> None:
    tasks = tmp_path / "tasks.txt"
    tasks.write_text("写简报 | 2026-12-10 | 很多\n", encoding="utf-8")
    code, _, err = run(capsys, "plan-tasks", str(tasks), "--start", _in(10).isoformat(), "--hours-per-week", "4")
    line = one_chinese_error(err)
    assert code == 2 and "tasks.txt 第1行" in line and "hours" in line and "（--" not in line


def _in(days: int) -> date:
    return date.today() + timedelta(days=days)


def _forms(day: date) -> list[str]:
    return [day.isoformat(), f"{day.year}/{day.month}/{day.day}", f"{day.year}年{day.month}月{day.day}日"]


@pytest.mark.parametrize("form", range(3), ids=["2026-12-01", "2026/12/1", "2026年12月1日"])
def test_plan_tasks_start_in_the_three_forms(form: int, tmp_path: Path, capsys) -> None:
    start = _in(10)
    tasks = tmp_path / "tasks.yaml"
    tasks.write_text(f"- {{name: 写季度简报, deadline: {start + timedelta(days=9)}, hours: 3}}\n", encoding="utf-8")
    code, out, err = run(capsys, "plan-tasks", str(tasks), "--start", _forms(start)[form], "--weeks", "2",
                         "--hours-per-week", "4", "--json")
    assert code == 0, err
    assert json.loads(out)["weeks"][0]["start"] == start.isoformat()


@pytest.mark.parametrize("form", range(3), ids=["2026-12-01", "2026/12/1", "2026年12月1日"])
def test_meeting_plan_date_in_the_three_forms(form: int, capsys) -> None:
    day = _in(20)
    code, out, err = run(capsys, "meeting-plan", "--type", "党课", "--branch", "XX党支部", "--date", _forms(day)[form])
    assert code == 0, err
    assert f"{day.year}年{day.month}月{day.day}日" in out


def test_a_fresh_data_dir_answers_from_our_cards(tmp_path: Path, capsys) -> None:
    """No ingest: the first `ask` on a new data dir loads our cards (their vectors ship) and answers."""
    data = tmp_path / "fresh"
    code, out, err = run(capsys, "ask", "支委会多久开一次？", "--json", "--data-dir", str(data))
    assert code == 0, err
    ans = json.loads(out)
    assert not ans["abstained"] and ans["sources"][0]["source"].endswith(".md")
    assert "每月" in ans["answer"].splitlines()[0]
    code, out, _ = run(capsys, "list", "--json", "--data-dir", str(data))
    assert code == 0 and "zhiweihui.md" in {d["doc_id"] for d in json.loads(out)}


def _ask_in_a_child(data: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", "ask", "支委会多久开一次？", "--data-dir", str(data)],
                          cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO), **env})


def test_no_library_debug_lines_on_the_terminal(tmp_path: Path) -> None:
    """bm25s logs "Building index from tokens" at DEBUG on every rebuild: the terminal shows it
    only when ASSISTANT_LOG_LEVEL=DEBUG asks for it."""
    quiet = _ask_in_a_child(tmp_path / "kb")  # a new data dir: the cards are loaded, every index built
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stdout.startswith("答：") and "DEBUG" not in quiet.stderr and "bm25s" not in quiet.stderr, quiet.stderr
    asked = _ask_in_a_child(tmp_path / "kb2", ASSISTANT_LOG_LEVEL="DEBUG")
    assert asked.returncode == 0 and "DEBUG bm25s" in asked.stderr, "the opt-in shows them (so the check above can fail)"
