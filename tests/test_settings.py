"""assistant/settings.py: every environment variable declared once, documented in the README,
read once; secrets never shown."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from assistant.errors import InputError
from assistant.qa.llm import ChatConfig
from assistant.root import App
from assistant.settings import SETTINGS, Settings
from assistant.web.server import parse_auth

README = Path(__file__).resolve().parents[1] / "README.md"
SECRETS = {"embed_api_key": "sk-embed-SECRET-1", "chat_api_key": "sk-chat-SECRET-2", "auth": "admin:pw-SECRET-3"}


def readme_table() -> list[list[str]]:
    """The variables of each row of the README's configuration table (## 配置), first column."""
    section = README.read_text(encoding="utf-8").split("\n## 配置\n", 1)[1].split("\n## ", 1)[0]
    rows = [ln for ln in section.splitlines() if ln.startswith("| `")]
    assert rows, "no configuration table under ## 配置"
    return [re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1]) for row in rows]


def test_every_setting_is_in_the_readme_table_and_every_row_is_a_setting() -> None:
    documented = [name for row in readme_table() for name in row]
    declared = [f.metadata["env"] for f in SETTINGS]
    assert len(declared) == len(set(declared)), "one variable, one field"
    assert sorted(set(declared) - set(documented)) == [], "add these to the README's configuration table"
    assert sorted(set(documented) - set(declared)) == [], "the README documents variables no setting reads"
    assert len(documented) == len(set(documented)), "a variable documented twice"


def test_every_setting_has_a_help_text_and_a_default_of_its_type() -> None:
    for f in SETTINGS:
        assert re.search(r"[\u4e00-\u9fff]", f.metadata["help"]), f.name
        default = Settings().__getattribute__(f.name)
        if default is not None and f.metadata["env"] != "ASSISTANT_DATA_DIR":
            assert f.metadata["parse"](str(default).lower() if isinstance(default, bool) else str(default)) == default, f.name


def test_from_env_reads_each_variable_and_overrides_win(tmp_path: Path) -> None:
    env = {"ASSISTANT_DATA_DIR": str(tmp_path / "from-env"), "CHROMA_PORT": "9000", "ASSISTANT_MAX_FILE_MB": "2.5",
           "ASSISTANT_CHUNK_CHARS": "200", "ASSISTANT_ALLOW_OPEN": "true", "GRADIO_SERVER_NAME": " 0.0.0.0 ",
           "ASSISTANT_LLM_RETRIES": "0", "ASSISTANT_CHAT_MODEL": "", "ASSISTANT_LOG_LEVEL": "debug"}
    s = Settings.from_env(env)
    assert (s.data_dir, s.chroma_port, s.max_file_mb, s.chunk_chars) == (tmp_path / "from-env", 9000, 2.5, 200)
    assert s.allow_open is True and s.server_name == "0.0.0.0" and s.llm_retries == 0 and s.log_level == "debug"
    assert s.chat_model is None, "an empty variable is not set"
    assert Settings.from_env(env, data_dir="rel", chunk_chars=300).data_dir == Path("rel").resolve()
    assert Settings.from_env(env, chunk_chars=300).chunk_chars == 300
    assert Settings.from_env({}) == Settings(data_dir=Path("data").resolve())


@pytest.mark.parametrize("name, value", [
    ("CHROMA_PORT", "eighty"), ("ASSISTANT_MAX_FILE_MB", "-1"), ("ASSISTANT_CHUNK_CHARS", "0"),
    ("ASSISTANT_ALLOW_OPEN", "maybe"), ("ASSISTANT_LLM_TIMEOUT", "soon"), ("GRADIO_SERVER_PORT", "0"),
])
def test_a_bad_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(InputError) as info:
        Settings.from_env({name: value})
    assert info.value.field == name and name in str(info.value) and "无效" in str(info.value)


def test_the_chunk_size_setting_reaches_the_split(make_app, tmp_path: Path) -> None:
    """ASSISTANT_CHUNK_CHARS is read once, into the settings, and the import splits by it."""
    doc = tmp_path / "长文.txt"
    doc.write_text("长文\n\n" + "支部应当按期开展组织生活，认真落实各项制度。" * 40, encoding="utf-8")
    small, large = make_app(tmp_path / "small", chunk_chars=120), make_app(tmp_path / "large", chunk_chars=600)
    for app in (small, large):
        assert not app.ingest([doc]).failed
    texts = {name: app.store.snapshot(max_age=0).texts for name, app in (("small", small), ("large", large))}
    assert max(map(len, texts["small"])) <= 120 < max(map(len, texts["large"]))
    assert len(texts["small"]) > len(texts["large"])


def test_secrets_are_never_in_a_repr() -> None:
    s = Settings(**SECRETS)
    chat = ChatConfig.from_settings(s)
    assert chat.api_key == SECRETS["chat_api_key"]
    for text in (repr(s), str(s), repr(chat), str(chat), repr(App(s).settings), f"{s!r} {chat}"):
        for secret in SECRETS.values():
            assert secret not in text and "SECRET" not in text, text
    assert sorted(s.secrets()) == sorted(SECRETS.values())
    assert "chat_model" in repr(s), "the other fields are shown"


def test_secrets_from_the_environment_stay_out_of_errors() -> None:
    env = {"OPENAI_API_KEY": "sk-env-SECRET", "ASSISTANT_AUTH": "nocolon-SECRET", "CHROMA_PORT": "x"}
    with pytest.raises(InputError) as info:
        Settings.from_env(env)
    assert "SECRET" not in str(info.value)
    with pytest.raises(InputError) as info:
        parse_auth(Settings.from_env({**env, "CHROMA_PORT": "8000"}).auth)
    assert "SECRET" not in str(info.value) and "ASSISTANT_AUTH" in str(info.value)
    assert parse_auth("a:b, c:d") == [("a", "b"), ("c", "d")] and parse_auth("") is None
