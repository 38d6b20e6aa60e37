"""Installable: a wheel built from the checkout holds knowledge/ and prompts/, installs into a
fresh venv, and its `dangwu` command answers from the bundled cards, run from an empty folder.

Nothing is downloaded: the wheel is built without an isolated build env (hatchling comes with
the test dependencies), and the fresh venv takes the wheel's dependencies from the test venv
through a .pth file; the wheel itself is installed with --no-deps.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
QUESTION = "支委会多久开一次？"


def _run(*argv: str | Path, cwd: Path, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess:
    r = subprocess.run([str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, (argv, r.stdout[-2000:], r.stderr[-3000:])
    return r


@pytest.fixture(scope="module")
def clean_env() -> dict[str, str]:
    """No PYTHONPATH (the checkout must not be importable) and no pip configuration that could fetch."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return {**env, "PIP_NO_INDEX": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory, clean_env: dict[str, str]) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", out, REPO, cwd=REPO, env=clean_env)
    (path,) = out.glob("dangwu_assistant-*.whl")
    return path


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path, clean_env: dict[str, str]) -> Path:
    """A new venv with only the wheel installed in it; its dependencies are the test venv's."""
    root = tmp_path_factory.mktemp("venv") / "fresh"
    _run(getattr(sys, "_base_executable", sys.executable), "-m", "venv", "--without-pip", root, cwd=root.parent,
         env=clean_env)
    python = root / "bin" / "python"
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=root,
                     env=clean_env).stdout.strip())
    (site / "test_venv_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel,
         cwd=root.parent, env=clean_env)
    return root


def test_the_wheel_holds_the_bundled_knowledge(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    cards = {p.relative_to(REPO / "knowledge").as_posix() for p in (REPO / "knowledge").rglob("*") if p.is_file()}
    prompts = {p.name for p in (REPO / "prompts").glob("*.md")}
    assert {f"assistant/_bundled/knowledge/{c}" for c in cards} <= names
    assert {f"assistant/_bundled/prompts/{p}" for p in prompts} <= names
    assert "assistant/_bundled/knowledge/vectors/e5small.npz" in names, "the cards' vectors ship"
    assert not any(n.startswith(("tests/", "bench/", "knowledge/", "prompts/")) for n in names)
    entry = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "dangwu = assistant.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()


def test_the_installed_package_finds_its_own_knowledge(venv: Path, tmp_path: Path, clean_env: dict[str, str]) -> None:
    code = ("import json, assistant, assistant.resources as r; "
            "print(json.dumps([assistant.__file__, str(r.knowledge_dir()), str(r.prompts_dir())]))")
    empty = tmp_path / "empty"
    empty.mkdir()
    module, knowledge, prompts = json.loads(_run(venv / "bin" / "python", "-c", code, cwd=empty, env=clean_env).stdout)
    package = Path(module).parent
    assert venv in package.parents, f"imported {module}, not the installed wheel"
    assert Path(knowledge) == package / "_bundled" / "knowledge" and Path(prompts) == package / "_bundled" / "prompts"
    assert (Path(knowledge) / "cards" / "zhiweihui.md").is_file() and (Path(prompts) / "no_basis.md").is_file()
    assert not (REPO / "assistant") in Path(module).parents


def test_dangwu_ask_from_an_empty_folder_answers_from_the_bundled_cards(venv: Path, tmp_path: Path,
                                                                       clean_env: dict[str, str]) -> None:
    empty, data = tmp_path / "empty", tmp_path / "data"
    empty.mkdir()
    r = _run(venv / "bin" / "dangwu", "ask", QUESTION, "--json", "--data-dir", data, cwd=empty, env=clean_env)
    ans = json.loads(r.stdout)
    assert not ans["abstained"] and ans["mode"] == "offline", ans
    first = ans["answer"].splitlines()[0]
    assert "每月" in first and first.endswith("[1]"), first
    assert ans["sources"][0]["source"].endswith(".md") and "第十二条" in ans["answer"]
    assert "Traceback" not in r.stderr and "DEBUG" not in r.stderr
    assert list(empty.iterdir()) == [], "nothing is written into the folder it was run from"
    assert (data / "bundled.json").is_file()
