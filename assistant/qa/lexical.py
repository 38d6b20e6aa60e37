"""Chinese lexical search: rjieba (jieba's segmentation, in Rust) tokens scored by BM25 (bm25s)."""
from __future__ import annotations

import json
import math
import os
import re
import threading
import unicodedata
from pathlib import Path
from typing import Sequence

import numpy as np

STOPWORDS = frozenset(
    "的 了 是 在 和 与 或 及 等 吗 呢 啊 吧 呀 么 哪 哪些 什么 怎么 怎么办 怎样 如何 多久 多少 几 几个 几次 "
    "一次 有 没有 要 需要 能 能不能 可以 可不可以 应该 应当 该 我 我们 你 他 她 它 这 那 这个 那个 "
    "就 都 也 还 又 吗 呢 请问 一下 一般 是否 对 把 被 给 让 为 以 之 其 者 所 从 到 由 向 "
    "啥 咋 哪儿 哪天 哪个 多长 多长时间 多大 几年 几天 几回 几家 几个月 最多 最少 最长 最短 起码 至少 "
    "是不是 还是 能否 行不行 算不算 要不要 有没有 会不会 得 一共 到底 咱们 我们 单位 上面 之前 之后 以后 的话".split()
)
_PUNCT = re.compile(r"^[\W_]+$")
_DOMAIN_WORDS = (
    "支委会 党小组会 主题党日 组织生活会 民主评议 谈心谈话 三会一课 入党积极分子 发展对象 预备党员 正式党员 "
    "入党申请书 入党介绍人 政治审查 预备期 转正 党费 党组织关系 流动党员 失联党员 换届选举 机关党委 党支部书记 "
    "组织委员 宣传委员 纪检委员 党员大会 党支部委员会 对照检查 批评和自我批评 集中培训 学时 "
    # the founding article's words for the problems the product answers
    "先紧后松 上紧下松 外紧内松 眉毛胡子一把抓 主次不分 有规不依 有章不循 标准化 规范化 制度化 数智化 专业化 "
    "双重组织生活 停止党籍 失联党员 影响期 留党察看 撤销党内职务 严重警告"
).split()

_tokenizer = None
_tokenizer_lock = threading.Lock()
TOKENIZER_VERSION = 3  # bump whenever tokenize() changes: persisted tokens of another version are discarded


def _jieba():
    """rjieba with our domain words, set up once (concurrent first calls would clash in add_word)."""
    global _tokenizer
    if _tokenizer is None:
        with _tokenizer_lock:
            if _tokenizer is None:
                import rjieba

                for word in _DOMAIN_WORDS:
                    rjieba.add_word(word, None, None)
                _tokenizer = rjieba
    return _tokenizer


_CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")


def words(text: str) -> list[str]:
    """Search-mode words (with their sub-words), NFKC-folded, without stopwords or punctuation."""
    folded = unicodedata.normalize("NFKC", text).lower()
    return [t for t in _jieba().cut_for_search(folded) if t.strip() and not _PUNCT.match(t) and t not in STOPWORDS]


def char_pairs(text: str) -> list[str]:
    """The overlapping two-character pieces of a text, in order (党小组长 → 党小, 小组, 组长)."""
    return [text[i:i + 2] for i in range(len(text) - 1)]


def tokenize(text: str) -> list[str]:
    """Words plus the character bigrams of every Chinese run: bigrams catch paraphrases that
    the segmenter splits differently."""
    runs = _CJK_RUN.findall(unicodedata.normalize("NFKC", text).lower())
    return words(text) + [b for run in runs for b in char_pairs(run) if b not in STOPWORDS]


class LexicalIndex:
    """BM25 over chunk ids; persisted as tokens (the expensive part) plus the id order."""

    def __init__(self, ids: Sequence[str], tokens: Sequence[list[str]]) -> None:
        import bm25s

        self.ids = list(ids)
        self.tokens = list(tokens)
        self._bm25 = bm25s.BM25(method="lucene", k1=1.2, b=0.5)
        self.df: dict[str, int] = {}
        for toks in self.tokens:
            for t in set(toks):
                self.df[t] = self.df.get(t, 0) + 1
        if self.ids:
            self._bm25.index(self.tokens, show_progress=False)

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term over the chunks (highest for unseen terms)."""
        n, df = len(self.ids), self.df.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def absent(self, query: str, rows: Sequence[int], known: frozenset[str] = frozenset()) -> tuple[float, float]:
        """IDF-weighted shares of the question's words (known ones aside) that occur nowhere in
        the knowledge base (unseen: questions about what the documents never mention) and that
        the chunks at these rows do not use (missing: the best passages speak of something else)."""
        terms = [t for t in set(words(query)) if len(t) > 1 and not t.isdigit()]
        if not terms or not self.ids:
            return 1.0, 1.0
        idf = {t: self.idf(t) for t in terms}
        total = sum(idf.values())
        vocab = set().union(*(self.tokens[i] for i in rows))
        unseen = sum(v for t, v in idf.items() if t not in self.df and t not in known)
        missing = sum(v for t, v in idf.items() if t not in vocab and t not in known)
        return unseen / total, missing / total

    def rare_terms(self, query: str, max_share: float) -> list[str]:
        """The question's words of four characters or more that at most max_share of the
        passages use (and at least one does), longest first."""
        limit = max(1, int(max_share * len(self.ids)))
        found = {t for t in words(query) if len(t) >= 4 and 0 < self.df.get(t, 0) <= limit}
        return sorted(found, key=lambda t: (-len(t), t))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk, in id order (zeros for no overlap)."""
        if not self.ids:
            return np.zeros(0, dtype=np.float32)
        q = [t for t in tokenize(query) if t in self._bm25.vocab_dict]
        if not q:
            return np.zeros(len(self.ids), dtype=np.float32)
        return np.asarray(self._bm25.get_scores(q), dtype=np.float32)

    def save(self, folder: Path, generation: str) -> None:
        """Write atomically: readers see the old or the new index, never half of one."""
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"lexical.{os.getpid()}.tmp"
        tmp.write_text(
            json.dumps({"version": TOKENIZER_VERSION, "generation": generation, "ids": self.ids, "tokens": self.tokens},
                       ensure_ascii=False),
            encoding="utf-8",
        )
        os.replace(tmp, folder / "lexical.json")

    @staticmethod
    def load_tokens(folder: Path) -> tuple[str, dict[str, list[str]]]:
        """(generation, id → tokens) of the persisted index, or ("", {}) when absent or unreadable."""
        try:
            data = json.loads((folder / "lexical.json").read_text(encoding="utf-8"))
            if data.get("version") != TOKENIZER_VERSION:
                return "", {}
            return data["generation"], dict(zip(data["ids"], data["tokens"]))
        except (OSError, ValueError, KeyError):
            return "", {}
