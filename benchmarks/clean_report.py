"""Measure ingest.clean on the bundled corpus: evidence quotes must survive, damage must go down.

Usage: python benchmarks/clean_report.py [--corpus DIR] [--dev FILE]
For every evidence quote of the dev set it checks ``contains_quote`` on the cleaned text of its source
file (whole file, and the way the pipeline sees it: per loaded block), then counts damage patterns left
in each file before and after ``clean_text``.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from ingest.clean import clean_text, strip_repeated_lines
from ingest.loaders import load_file
from vectorstore.text import contains_quote

ROOT = Path(__file__).resolve().parents[1]
DAMAGE = {
    "OCR I'/|' for l'": re.compile(r"(?<![\w'’|])[I|]['’][^\W\d_]"),
    "line-end hyphen": re.compile(r"[^\W\d_]-[ \t]*\n"),
    "dropped l ('ESS)": re.compile(r"(?<=\s)['’][A-ZÀ-Ý]"),
    "doubled apostrophe": re.compile(r"\w['’]['’]\w"),
    "markdown ** / __": re.compile(r"\*\*|__"),
    "html tag": re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>\n]*)?>"),
    "bare URL line": re.compile(r"^[ \t]*(?:https?://|www\.)\S*[ \t]*$", re.M),
    "md hard break": re.compile(r"[^\s] {2,}\n"),
}


def short_inner_lines(text: str, limit: int = 40) -> int:
    """Lines under ``limit`` chars whose neighbours are both non-blank: a paragraph broken into lines."""
    lines = text.split("\n")
    return sum(
        1
        for i in range(1, len(lines) - 1)
        if lines[i].strip() and len(lines[i].strip()) < limit and lines[i - 1].strip() and lines[i + 1].strip()
    )


def pipeline_text(path: Path) -> str:
    """The text the index gets: loaded blocks, headers stripped for PDFs, each block cleaned."""
    blocks = [b.page_content for b in load_file(path)]
    if path.suffix.lower() == ".pdf":
        blocks = strip_repeated_lines(blocks)
    return "\n\n".join(clean_text(b) for b in blocks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "data" / "corpus")
    parser.add_argument("--dev", type=Path, default=ROOT.parent / "shared" / "eval" / "dev.jsonl")
    args = parser.parse_args()

    files = sorted(p for p in args.corpus.iterdir() if p.suffix in {".txt", ".md", ".pdf"})
    raw = {p.name: p.read_text(encoding="utf-8") for p in files if p.suffix != ".pdf"}
    cleaned = {name: clean_text(text) for name, text in raw.items()}
    piped = {p.name: pipeline_text(p) for p in files}

    total = ok_raw = ok_clean = ok_pipe = 0
    for line in args.dev.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        sources = item["source"] if isinstance(item["source"], list) else [item["source"]]
        for quote in item.get("evidence", []):
            total += 1
            ok_raw += any(contains_quote(raw.get(s, ""), quote) for s in sources)
            hit_clean = any(contains_quote(cleaned.get(s, ""), quote) for s in sources)
            ok_clean += hit_clean
            ok_pipe += any(contains_quote(piped.get(s, ""), quote) for s in sources)
            if not hit_clean:
                print(f"LOST after clean_text: {item['id']}: {quote[:90]!r}")
    print(
        f"evidence quotes matched: raw {ok_raw}/{total}, clean_text(file) {ok_clean}/{total}, "
        f"pipeline blocks {ok_pipe}/{total}\n"
    )

    header = f"{'damage (before -> after)':<26}" + "".join(f"{n.split('_')[1][:18]:>22}" for n in raw)
    print(header)
    rows = {
        **{k: (lambda t, r=r: len(r.findall(t))) for k, r in DAMAGE.items()},
        "short lines in para": short_inner_lines,
    }
    for label, count in rows.items():
        cells = "".join(f"{f'{count(raw[n])} -> {count(cleaned[n])}':>22}" for n in raw)
        print(f"{label:<26}{cells}")
    sizes = "".join(f"{f'{len(raw[n])} -> {len(cleaned[n])}':>22}" for n in raw)
    print(f"{'characters':<26}{sizes}")


if __name__ == "__main__":
    main()
