"""The branch as it really is (支部情况): its posts and who holds them, its members, who is in the
pipeline, and how many hours a week the worker has.

Saved as ``<data_dir>/profile.yaml`` (``python -m assistant profile set …`` / ``profile show``, or the
form in the app); ``plan-tasks`` and ``checklist`` read it, and ``--profile FILE`` overrides it.
The file's keys (Chinese aliases in ``KEYS``)::

    branch_type: 机关            # 支部类型
    branch_name: 第一党支部      # 支部名称
    members: 20                  # 正式党员人数
    probationary: 2              # 预备党员人数 (also: probationary_members)
    committee: true              # 是否设支委会 (unset: by the rule, 正式党员 7 人以上才设)
    roles: {书记: 王芳, 组织委员: 李强, 宣传委员: {name: 张敏, hours: 2}}
    worker_role: 书记            # 我的职务
    hours_per_week: 3            # 我每周可用于党务的小时数
    party_groups: 2              # 党小组个数
    activists: 0                 # 入党积极分子人数
    candidates: 0                # 发展对象人数

``Profile.assignee(role)`` says who does a duty's work in this branch (a vacant post's work falls to
the worker, a branch without a 支委会 has only its 书记); ``excluded(profile, duty, conditions)`` says
whether a duty applies, with the rule (the ``conditions:`` block of knowledge/obligations.yaml).
"""
from __future__ import annotations

import dataclasses
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from ..errors import InputError
from ..inputs import is_text, parse_hours, parse_int, shorten
from .obligations import BRANCH_TYPES, Condition, Duty, basis_text

__all__ = [
    "ROLES", "COMMITTEE_ROLES", "WORKER_ROLES", "KEYS", "PROFILE_FILE", "Profile", "NotApplicable",
    "parse_profile", "profile_from_mapping", "load_profile", "saved_profile", "save_profile", "profile_path",
    "excluded", "not_applicable", "sources_text",
]

ROLES = ("书记", "副书记", "组织委员", "宣传委员", "纪检委员")  # the posts of a branch (支部工作条例第二十条)
COMMITTEE_ROLES = ("组织委员", "宣传委员", "纪检委员")  # only a branch with a 支委会 has them
WORKER_ROLES = ROLES + ("党小组长",)
PROFILE_FILE = "profile.yaml"

# canonical key → (Chinese label, aliases)
KEYS: dict[str, tuple[str, tuple[str, ...]]] = {
    "branch_type": ("支部类型", ("类型",)),
    "branch_name": ("支部名称", ("名称", "支部")),
    "members": ("正式党员人数", ("正式党员", "党员人数")),
    "probationary": ("预备党员人数", ("预备党员", "probationary_members")),
    "committee": ("是否设支委会", ("支委会", "设支委会", "支部委员会")),
    "roles": ("分工", ("职务分工", "支委", "委员")),
    "worker_role": ("我的职务", ("本人职务", "我的角色", "role")),
    "hours_per_week": ("每周可用小时", ("每周工时", "每周小时")),
    "party_groups": ("党小组个数", ("党小组", "党小组数")),
    "activists": ("入党积极分子人数", ("入党积极分子", "积极分子")),
    "candidates": ("发展对象人数", ("发展对象",)),
    "combine_meetings": ("合并召开", ("合并会议",)),
    "delegate": ("总是交办", ("交办",)),
}
_ALIAS = {alias: key for key, (label, aliases) in KEYS.items() for alias in (key, label, *aliases)}
_ROLE_ALIAS = {"支部书记": "书记", "支部副书记": "副书记", "党小组组长": "党小组长"}
_TRUE = {"true", "yes", "y", "1", "是", "有", "设", "设立", "对", "true."}
_FALSE = {"false", "no", "n", "0", "否", "无", "没有", "不设", "未设"}


def label(key: str) -> str:
    return KEYS[key][0] if key in KEYS else key


@dataclass(frozen=True)
class NotApplicable:
    """A duty (or step) the profile removes, once, with the reason and the rule."""

    name: str
    reason: str
    basis: str
    duty_id: str = ""

    def text(self) -> str:
        return f"{self.reason}（{self.basis}）" if self.basis else self.reason

    def to_dict(self) -> dict:
        return {"name": self.name, "reason": self.text(), "basis": self.basis}


@dataclass(frozen=True)
class Profile:
    branch_type: str = "机关"
    branch_name: str = ""
    members: int | None = None  # 正式党员
    probationary: int | None = None  # 预备党员
    committee: bool | None = None  # None: by the rule (正式党员 7 人以上设支委会)
    roles: Mapping[str, str] = field(default_factory=dict)  # post → name of whoever holds it
    role_hours: Mapping[str, float] = field(default_factory=dict)  # post → that person's hours a week
    worker_role: str = "书记"
    hours_per_week: float | None = None
    party_groups: int | None = None
    activists: int | None = None
    candidates: int | None = None
    combine_meetings: bool = True
    delegate: bool = False  # hand the other posts' work to them even when the worker has time

    # ------------------------------------------------------------------ facts
    @property
    def has_committee(self) -> bool:
        if self.committee is not None:
            return self.committee
        return self.members is None or self.members >= 7

    @property
    def total_members(self) -> int | None:
        if self.members is None and self.probationary is None:
            return None
        return (self.members or 0) + (self.probationary or 0) or None

    def fact(self, condition_id: str) -> bool | None:
        """Whether the branch has what the condition names (None: the profile does not say)."""
        if condition_id == "committee":
            return self.has_committee
        value = {"activists": self.activists, "candidates": self.candidates,
                 "probationary": self.probationary, "party_groups": self.party_groups}.get(condition_id)
        return None if value is None else value > 0

    # ------------------------------------------------------------------ people
    def name_of(self, role: str) -> str:
        return str(self.roles.get(role) or "")

    def who(self, role: str) -> str:
        """组织委员李强, or just 组织委员 when no name is known."""
        return role + self.name_of(role)

    def filled(self, role: str) -> bool:
        return role in ("书记", self.worker_role, "全体党员", "党小组长") or bool(self.name_of(role))

    def assignee(self, role: str) -> tuple[str, str]:
        """The post that does ``role``'s work in this branch, and why when it is not ``role`` itself."""
        if role in ("全体党员", self.worker_role):
            return (self.worker_role if role == "全体党员" else role), ""
        if role in COMMITTEE_ROLES and not self.has_committee:
            doer = self.worker_role if self.worker_role in ("书记", "副书记") else "书记"
            return doer, f"未设支委会，委员的分工由{doer}承担"
        if self.filled(role):
            return role, ""
        return self.worker_role, f"支部情况中没有填写{role}，暂由你（{self.worker_role}）承担"

    def hours_of(self, role: str) -> float | None:
        return self.role_hours.get(role)

    # ------------------------------------------------------------------ checks and output
    def warnings(self) -> list[str]:
        """Where the profile and the rules disagree (not errors: the worker may know better)."""
        out = []
        if self.committee is True and self.members is not None and self.members < 7:
            out.append(f"正式党员{self.members}人：按《中国共产党支部工作条例（试行）》第二十条，不足7人的党支部一般不设支委会，只设书记")
        if self.committee is False and self.members is not None and self.members >= 7:
            out.append(f"正式党员{self.members}人：按《中国共产党支部工作条例（试行）》第二十条，7人以上的党支部应当设立支委会")
        if not self.has_committee:
            extra = [r for r in COMMITTEE_ROLES if self.name_of(r)]
            if extra:
                out.append(f"未设支委会，但填写了{'、'.join(extra)}：这些分工按书记承担处理")
        return out

    def to_dict(self) -> dict:
        """The canonical keys with what is set (what ``save_profile`` writes)."""
        out: dict[str, Any] = {"branch_type": self.branch_type}
        if self.branch_name:
            out["branch_name"] = self.branch_name
        for key in ("members", "probationary", "committee"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        roles: dict[str, Any] = {}
        for role in WORKER_ROLES:
            name = self.name_of(role)
            hours = self.role_hours.get(role)
            if hours is not None:
                roles[role] = {"name": name, "hours": hours}
            elif name:
                roles[role] = name
        if roles:
            out["roles"] = roles
        out["worker_role"] = self.worker_role
        for key in ("hours_per_week", "party_groups", "activists", "candidates"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if not self.combine_meetings:
            out["combine_meetings"] = False
        if self.delegate:
            out["delegate"] = True
        return out

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False)

    def describe(self) -> str:
        """One line: 机关党支部 · 正式党员20名、预备党员2名 · 设支委会 · 你是书记，每周3小时."""
        parts = [f"{self.branch_name or self.branch_type + '党支部'}"]
        if self.members is not None:
            parts.append(f"正式党员{self.members}名" + (f"、预备党员{self.probationary}名" if self.probationary else ""))
        parts.append("设支委会" if self.has_committee else "未设支委会")
        me = f"你是{self.worker_role}" + (f"（{self.name_of(self.worker_role)}）" if self.name_of(self.worker_role) else "")
        if self.hours_per_week is not None:
            me += f"，每周{self.hours_per_week:g}小时"
        parts.append(me)
        return " · ".join(parts)

    def replace(self, **changes: Any) -> "Profile":
        """A copy with ``changes`` (None values are ignored)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


# --------------------------------------------------------------------------- reading

def _where(source: str, key: str) -> str:
    return f"{source}：{label(key)}（{key}）"


def _int(value: Any, key: str, source: str) -> int | None:
    try:
        return parse_int(value, key, 0, 100000, required=False)
    except InputError:
        raise InputError(key, f"{_where(source, key)}应为 0–100000 的整数，收到“{shorten(value)}”") from None


def _bool(value: Any, key: str, source: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("", "-", "—", "~", "null", "none", "按人数", "按规定"):
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InputError(key, f"{_where(source, key)}应为 是/否（true/false），收到“{shorten(value)}”")


def _role(value: Any, key: str, source: str) -> str:
    text = _ROLE_ALIAS.get(str(value).strip(), str(value).strip())
    if text not in WORKER_ROLES:
        raise InputError(key, f"{_where(source, key)}应为 {' / '.join(WORKER_ROLES)} 之一，收到“{shorten(value)}”")
    return text


def _name(value: Any, key: str, source: str) -> str:
    """A name (or the branch's name): one line of text, no control characters, not too long."""
    limit = 60 if key == "branch_name" else 40
    what = "" if key == "branch_name" else "中的姓名"
    raw = str(value if value is not None else "")
    if not is_text(raw):
        raise InputError(key, f"{_where(source, key)}{what}含有控制字符或无法识别的字符，请删除后重试")
    text = " ".join(raw.split())
    if len(text) > limit:
        raise InputError(key, f"{_where(source, key)}{what}太长（{len(text)} 字），请控制在 {limit} 字以内")
    return text


def _roles(value: Any, source: str) -> tuple[dict[str, str], dict[str, float]]:
    if value is None:
        return {}, {}
    if not isinstance(value, Mapping):
        raise InputError("roles", f"{_where(source, 'roles')}应为“职务: 姓名”的映射，如 {{书记: 王芳, 组织委员: 李强}}")
    names: dict[str, str] = {}
    hours: dict[str, float] = {}
    for raw_role, raw in value.items():
        role = _role(raw_role, "roles", source)
        if isinstance(raw, Mapping):
            extra = [k for k in raw if str(k) not in ("name", "姓名", "hours", "每周工时", "每周可用小时")]
            if extra:
                raise InputError("roles", f"{_where(source, 'roles')}：{role} 的未知字段“{extra[0]}”（可用 name、hours）")
            name = raw.get("name", raw.get("姓名"))
            h = raw.get("hours", raw.get("每周工时", raw.get("每周可用小时")))
            if h is not None:
                try:
                    hours[role] = parse_hours(h, "hours", 0, 168)
                except InputError:
                    raise InputError("roles", f"{_where(source, 'roles')}：{role} 的每周工时应为 0–168 的小时数，收到“{shorten(h)}”") from None
        else:
            name = raw
        if name is not None and _name(name, "roles", source):
            names[role] = _name(name, "roles", source)
    return names, hours


def profile_from_mapping(raw: Any, source: str = "支部情况", base: Profile | None = None) -> Profile:
    """A Profile from a mapping with the keys of ``KEYS`` (canonical or Chinese); unknown keys are refused."""
    if raw is None:
        return base or Profile()
    if not isinstance(raw, Mapping):
        raise InputError("profile", f"{source}：应为“键: 值”的映射（如 members: 5），收到 {type(raw).__name__}")
    values: dict[str, Any] = {}
    given: dict[str, str] = {}
    for key, value in raw.items():
        canon = _ALIAS.get(str(key).strip()) or _ALIAS.get(str(key).strip().lower())
        if canon is None:
            known = "、".join(KEYS)
            raise InputError(str(key), f"{source}：未知字段“{shorten(key)}”（可用：{known}，或其中文名称）")
        if canon in values and values[canon] != value:
            raise InputError(canon, f"{source}：{label(canon)} 同时写成了“{given[canon]}”和“{key}”，且值不同")
        values[canon] = value
        given[canon] = str(key)
    p = base or Profile()
    changes: dict[str, Any] = {}
    if "branch_type" in values:
        bt = str(values["branch_type"] or "").strip().removesuffix("党支部") or "机关"
        if bt not in BRANCH_TYPES:
            raise InputError("branch_type", f"{_where(source, 'branch_type')}应为 {' / '.join(BRANCH_TYPES)} 之一，收到“{shorten(bt)}”")
        changes["branch_type"] = bt
    if "branch_name" in values:
        changes["branch_name"] = _name(values["branch_name"], "branch_name", source)
    for key in ("members", "probationary", "party_groups", "activists", "candidates"):
        if key in values:
            changes[key] = _int(values[key], key, source)
    if "committee" in values:
        changes["committee"] = _bool(values["committee"], "committee", source)
    for key in ("combine_meetings", "delegate"):
        if key in values:
            v = _bool(values[key], key, source)
            changes[key] = getattr(Profile(), key) if v is None else v
    if "roles" in values:
        changes["roles"], changes["role_hours"] = _roles(values["roles"], source)
    if "worker_role" in values:
        changes["worker_role"] = _role(values["worker_role"], "worker_role", source)
    if "hours_per_week" in values:
        try:
            changes["hours_per_week"] = parse_hours(values["hours_per_week"], "hours_per_week", 0.5, 168, required=False)
        except InputError:
            raise InputError("hours_per_week", f"{_where(source, 'hours_per_week')}应为 0.5–168 的小时数，收到“{shorten(values['hours_per_week'])}”") from None
    return dataclasses.replace(p, **changes)


def parse_profile(text: str, source: str = "支部情况文件") -> Profile:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source} 第{mark.line + 1}行" if mark is not None else source
        raise InputError("profile", f"{where}：不是合法的 YAML（{getattr(exc, 'problem', exc)}）") from None
    return profile_from_mapping(data, source)


def load_profile(path: Path | str) -> Profile:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError("profile", f"找不到支部情况文件 {path}") from None
    except IsADirectoryError:
        raise InputError("profile", f"支部情况文件 {path} 是一个目录") from None
    except UnicodeDecodeError:
        raise InputError("profile", f"支部情况文件 {path} 不是 UTF-8 文本") from None
    return parse_profile(text, path.name)


def profile_path(data_dir: Path | str) -> Path:
    return Path(data_dir) / PROFILE_FILE


def saved_profile(data_dir: Path | str) -> Profile | None:
    """The profile saved in the data directory, or None when none has been saved."""
    path = profile_path(data_dir)
    if not path.is_file():
        return None
    return load_profile(path)


def save_profile(profile: Profile, data_dir: Path | str) -> Path:
    """Write ``<data_dir>/profile.yaml`` atomically (a reader never sees half a file)."""
    path = profile_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".profile-", suffix=".yaml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("# 支部情况（党务助手）：python -m assistant profile show 查看，profile set 修改\n")
            fh.write(profile.to_yaml())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# --------------------------------------------------------------------------- applicability

def sources_text(sources) -> str:
    grouped: dict[str, list[str]] = {}
    for s in sources:
        grouped.setdefault(s.doc, [])
        if s.article not in grouped[s.doc]:
            grouped[s.doc].append(s.article)
    return "；".join(f"《{doc}》" + "、".join(arts) for doc, arts in grouped.items())


def excluded(profile: Profile, d: Duty, conditions: Mapping[str, Condition]) -> NotApplicable | None:
    """Why ``d`` does not apply to this branch (the first unmet condition), or None when it does."""
    for cid in d.requires:
        cond = conditions.get(cid)
        if cond is None:
            continue
        has = profile.fact(cid)
        if has is None:
            present = cond.unknown == "present"
            if cid == "party_groups" and not profile.has_committee:
                present = False  # a branch of fewer than 7 正式党员 is too small to divide into 党小组
            if present:
                continue
            what = {"committee": "是否设支委会", "party_groups": "党小组个数"}.get(
                cid, cond.absent.removeprefix("没有") + "人数")
            why = f"支部情况中没有填写{what}，按{cond.absent}处理"
        elif has:
            continue
        else:
            why = cond.absent
        return NotApplicable(name=d.name, reason=f"{why}：{cond.reason}", basis=sources_text(cond.sources), duty_id=d.id)
    return None


def not_applicable(profile: Profile, duties, conditions: Mapping[str, Condition]) -> list[NotApplicable]:
    """Every duty of ``duties`` the profile removes, once each, in file order."""
    out = []
    for d in duties:
        na = excluded(profile, d, conditions)
        if na is not None:
            out.append(na)
    return out


def step_not_needed(d: Duty, step_name: str, conditions: Mapping[str, Condition]) -> NotApplicable:
    """A preparation step a branch without a 支委会 does not need (its business goes to the 党员大会)."""
    cond = conditions.get("committee")
    basis = sources_text(cond.sources) if cond else basis_text(d)
    return NotApplicable(name=f"{d.name}准备：{step_name}",
                         reason="未设支部委员会：这一步不再单独进行，相关事项直接提交支部党员大会", basis=basis, duty_id=d.id)
