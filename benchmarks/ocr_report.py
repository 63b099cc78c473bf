"""Measure ingest.ocr on the bundled corpus: non-words before/after, corrections, the misreadings of issue 12,
evidence quotes still found, time; and draw a sample of corrections to check by hand.

Usage: python benchmarks/ocr_report.py [--corpus DIR] [--eval DIR] [--sample N --sample-out FILE]
       python benchmarks/ocr_report.py --precision benchmarks/ocr_sample.tsv

The text measured is the pipeline's (loaded, cleaned, before chunking). A non-word is a word nothing vouches
for (not an acronym, a name with inner capitals, a figure) that wordfreq's French list does not know, or that a
known OCR confusion turns into a far more frequent word (``ingest.ocr.is_non_word``). The sample file holds one
correction per line with its context; its last column is the verdict given by hand (ok / wrong / unsure).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import statistics
import time
from pathlib import Path

from ingest.clean import clean_text, strip_repeated_lines
from ingest.loaders import load_file
from ingest.ocr import contains_evidence, correct_blocks, correct_ocr, is_damaged, non_word_rate, zipf
from ingest.pipeline import discover, prepare_document
from vectorstore.text import contains_quote

ROOT = Path(__file__).resolve().parents[1]
# The misreadings listed in issue 12 and what they must become.
LISTED = {
    "étre": "être",
    "réle": "rôle",
    "fagon": "façon",
    "pdle": "pôle",
    "a la": "à la",
    "endogeéne": "endogène",
    "chémage": "chômage",
    "AlaBPI": "À la BPI",
    "l'nvestissement": "l'investissement",
    "Lllustration": "Illustration",
}


def pipeline_blocks(path: Path) -> list[str]:
    """The cleaned blocks of one file, as ``prepare_document`` sees them before the OCR step."""
    blocks = [b.page_content for b in load_file(path)]
    if len(blocks) > 1 and path.suffix.lower() == ".pdf":
        blocks = strip_repeated_lines(blocks)
    return [clean_text(b) for b in blocks]


def occurrences(text: str, phrase: str) -> int:
    """Whole-word, case-insensitive occurrences (an I or l read for the l of an elision counts as l)."""
    text = re.sub(r"(?<!\w)[Il|](?=['’])", "l", text).replace("’", "'")
    return len(re.findall(rf"(?<![\w']){re.escape(phrase)}(?!\w)", text, re.I))


def report(corpus: Path, eval_dir: Path) -> None:
    started = time.perf_counter()
    zipf("être")
    print(f"wordfreq French list loaded in {time.perf_counter() - started:.2f} s (once per process)\n")
    paths = discover([corpus])
    before = {p.name: "\n\n".join(pipeline_blocks(p)) for p in paths}
    after: dict[str, str] = {}
    print(f"{'document':<44}{'words':>7}{'non-words/1000 before':>23}{'after':>7}{'corrections':>13}{'/10k words':>11}")
    for p in paths:
        texts, count = correct_blocks(pipeline_blocks(p))
        after[p.name] = "\n\n".join(texts)
        bad, words = non_word_rate(before[p.name])
        bad_after, _ = non_word_rate(after[p.name])
        print(
            f"{p.name[:43]:<44}{words:>7}{1000 * bad / words:>23.1f}{1000 * bad_after / words:>7.1f}"
            f"{count:>13}{10000 * count / words:>11.1f}"
        )

    print("\nmisreadings listed in issue 12 (occurrences in the two OCR documents: before -> after, fixed)")
    total = fixed = 0
    for wrong, right in LISTED.items():
        b = sum(occurrences(t, wrong) for t in before.values())
        a = sum(occurrences(t, wrong) for t in after.values())
        good = sum(occurrences(t, right) for t in after.values()) - sum(occurrences(t, right) for t in before.values())
        total += b
        fixed += min(b - a, good)
        print(f"  {wrong!r:<20} {b:>4} -> {a:<4} ({right!r} +{good})")
    print(f"  fixed: {fixed}/{total} occurrences ({fixed / total:.0%})")

    print("\nevidence quotes found in the corrected chunks (contains_quote / contains_evidence)")
    chunks = {p.name: [c.page_content for c in prepare_document(p)[0]] for p in paths}
    for name in ("dev", "train"):
        gold = eval_dir / f"{name}.jsonl"
        if not gold.exists():
            continue
        n = plain = evidence = 0
        for line in gold.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            sources = row["source"] if isinstance(row.get("source"), list) else [row.get("source")]
            texts = [c for s in sources for c in chunks.get(s, [])]
            for quote in row.get("evidence") or []:
                n += 1
                plain += any(contains_quote(c, quote) for c in texts)
                evidence += any(contains_evidence(c, quote) for c in texts)
        print(f"  {name}: {plain}/{n} / {evidence}/{n}")

    print("\ntime to load, clean and chunk the corpus (median of 3 runs)")
    for ocr in (False, True):
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            for p in paths:
                prepare_document(p, ocr=ocr)
            runs.append(time.perf_counter() - started)
        print(f"  OCR correction {'on ' if ocr else 'off'}: {statistics.median(runs):.2f} s")


def write_sample(corpus: Path, size: int, out: Path, seed: int = 12) -> None:
    """A random sample of ``size`` corrections from the corpus, with context, for verdicts given by hand."""
    rows = []
    for p in discover([corpus]):
        blocks = pipeline_blocks(p)
        if is_damaged("\n\n".join(blocks)):  # as correct_blocks decides
            rows += [(p.name, *change) for block in blocks for change in correct_ocr(block, force=True).changes]
    sample = sorted(random.Random(seed).sample(range(len(rows)), min(size, len(rows))))
    with open(out, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(["document", "misread", "corrected", "context", "verdict"])
        writer.writerows([*rows[i], ""] for i in sample)
    print(f"{len(sample)} of {len(rows)} corrections written to {out}")


def precision(sample: Path) -> None:
    with open(sample, encoding="utf-8", newline="") as fh:
        verdicts = [row["verdict"].strip() for row in csv.DictReader(fh, delimiter="\t")]
    ok, wrong = verdicts.count("ok"), verdicts.count("wrong")
    print(f"{len(verdicts)} corrections checked: {ok} ok, {wrong} wrong, {len(verdicts) - ok - wrong} unsure")
    print(f"precision {ok / len(verdicts):.1%} (unsure counted wrong), {ok / max(ok + wrong, 1):.1%} (unsure left out)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "data" / "corpus")
    parser.add_argument("--eval", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--sample", type=int, default=0, help="draw this many corrections to check by hand")
    parser.add_argument("--sample-out", type=Path, default=ROOT / "benchmarks" / "ocr_sample.tsv")
    parser.add_argument("--precision", type=Path, help="precision from a sample file with verdicts")
    args = parser.parse_args()
    if args.precision:
        precision(args.precision)
    elif args.sample:
        write_sample(args.corpus, args.sample, args.sample_out)
    else:
        report(args.corpus, args.eval)


if __name__ == "__main__":
    main()
