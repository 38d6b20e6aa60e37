"""Distinct cases of one thing (knowledge/cases.yaml): a sentence that names only another case
of a group than the question names does not answer it (诫勉 → a rule for 警告处分; 积极分子 →
a rule for 预备党员)."""
from __future__ import annotations

from pathlib import Path

import yaml

Group = dict[str, tuple[str, ...]]  # a case → the names it goes by


def load_cases(path: Path) -> list[Group]:
    """The groups of cases.yaml; none when the file is absent."""
    if not path.is_file():
        return []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return [{str(case): tuple(str(n) for n in names) for case, names in group.items()} for group in data.values()]


def named(group: Group, text: str) -> set[str]:
    """The cases of a group a text names, the longest name first (严重警告 is not 警告)."""
    found = set()
    for name, case in sorted(((n, c) for c, ns in group.items() for n in ns), key=lambda x: -len(x[0])):
        if name in text:
            found.add(case)
            text = text.replace(name, "\u3000")
    return found


def another_case(groups: list[Group], question: str, text: str) -> bool:
    """Whether the text names only other cases of a group than the question names."""
    for group in groups:
        asked = named(group, question)
        if asked and (stated := named(group, text)) and not asked & stated:
            return True
    return False


def same_case(groups: list[Group], question: str, text: str) -> bool:
    """Whether the text names a case the question names (警告 in 受警告处分的1年内…)."""
    return any((asked := named(group, question)) and asked & named(group, text) for group in groups)
