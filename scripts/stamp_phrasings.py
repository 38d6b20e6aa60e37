"""Maintainers: write each article's opening digest into phrasing files (knowledge/questions/).

    python scripts/stamp_phrasings.py ../shared/corpus

For every phrasing file whose title names a document of the folder (its manifest.json titles,
or the titles read from the files), the `digests:` block at the end of the file is replaced by
the digests of that document's articles. The phrasings themselves are left as written; a file
whose articles differ from the document's is reported and left alone.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistant.knowledge import Knowledge  # noqa: E402
from assistant.qa.ingest import collect_files  # noqa: E402
from assistant.qa.load import load_file, read_manifest  # noqa: E402
from assistant.qa.phrasings import article_digests, title_key  # noqa: E402
from assistant.qa.split import split_document  # noqa: E402

PHRASINGS_DIR = Knowledge.bundled().folder / "questions"


def main(folder: Path) -> int:
    manifest = read_manifest(folder)
    docs = {}
    for path in collect_files([folder]):
        doc = load_file(path, manifest)
        docs[title_key(doc.title)] = (path.name, split_document(doc.text, doc.title))
    status = 0
    for yml in sorted(PHRASINGS_DIR.glob("*.yaml")):
        text = yml.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        name, chunks = docs.get(title_key(data["title"]), (None, None))
        if chunks is None:
            print(f"{yml.name}: 《{data['title']}》 不在 {folder} 中，跳过")
            continue
        digests = article_digests(chunks)
        if list(digests) != list(data["articles"]):
            print(f"{yml.name}: 条目与 {name} 不一致，未写入", file=sys.stderr)
            status = 1
            continue
        body = re.split(r"(?m)^digests:", text)[0].rstrip("\n")
        block = "\n".join(["digests:  # 各条开头文字的摘要（scripts/stamp_phrasings.py 生成）"]
                          + [f"  {a}: {d}" for a, d in digests.items()])
        yml.write_text(f"{body}\n{block}\n", encoding="utf-8")
        print(f"{yml.name}: {len(digests)} 条 ← {name}")
    return status


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/corpus")))
