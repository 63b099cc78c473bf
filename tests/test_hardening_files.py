"""Hardening, bad files: every odd file of a folder gets one clear outcome in a single ingest run, the good
ones are indexed, and a hostile PDF (slow to parse, decompression bomb) is bounded, never hangs the run."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pypdf import PdfWriter

from ingest import loaders
from ingest.pipeline import discover, ingest_paths
from tests.conftest import SHARED
from tests.pdfs import encrypted_pdf, pdf_with_stream, text_pdf

SAMPLES = SHARED / "pdf-samples"
ROOT = Path(__file__).resolve().parents[1]

GOOD_MD = """# Les coopératives

Les sociétés coopératives d'intérêt collectif associent salariés, usagers et collectivités locales.
"""
LATIN1 = "Les mutuelles de Besançon : économie sociale, « été » solidaire, où ça ?\n"


def slow_pdf() -> bytes:
    """9 KB on disk, 300k text-showing operators: ~11 s of pypdf text extraction on an idle 2-core machine,
    more under load, so always well past the 3 s bound the test sets."""
    return pdf_with_stream(b"BT /F1 1 Tf " + b"(a) Tj 1 0 Td " * 300_000 + b"ET")


def bomb_pdf(megabytes: int = 128) -> bytes:
    """~130 KB on disk, ``megabytes`` once decompressed (beyond pypdf's own decompression limit)."""
    return pdf_with_stream(b" " * (megabytes << 20))


def blank_pdf() -> bytes:
    """Two pages without any text layer, as a scan without OCR."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def one_line_txt(size: int) -> bytes:
    """French prose on a single line, numbered so no two sentences (hence chunks) are identical."""
    unit = "L'économie sociale et solidaire réunit {} coopératives, mutuelles et associations en région. "
    parts, total, i = [], 0, 0
    while total < size:
        piece = unit.format(i).encode()
        parts.append(piece)
        total += len(piece)
        i += 1
    return b"".join(parts)[:size]


def build_bad_folder(folder: Path) -> dict[str, str | None]:
    """Shared samples plus generated bad and good files.

    Returns, per file, the fragment its failure reason must contain: None when it must be ingested, "" when
    either outcome is fine (a sample pypdf may or may not read) as long as it is reported.
    """
    folder.mkdir()
    expected: dict[str, str | None] = {}
    for sample in sorted(SAMPLES.glob("*.pdf")) if SAMPLES.is_dir() else []:
        (folder / sample.name).write_bytes(sample.read_bytes())
        expected[sample.name] = "mot de passe" if "encrypted" in sample.name else ""  # "": either outcome
    full = text_pdf(["Un rapport sur les coopératives", "Deuxième page du rapport"])
    generated: dict[str, tuple[bytes, str | None]] = {
        "vide.pdf": (b"", "vide"),
        "vide.txt": (b"", "vide"),
        "tronque.pdf": (full[: len(full) // 2], "endommagé ou tronqué"),
        "bruit.pdf": (random.Random(6).randbytes(8192), "endommagé ou tronqué"),
        "scan.pdf": (blank_pdf(), "sans couche texte"),
        "secret.pdf": (encrypted_pdf("secret"), "mot de passe"),
        "bombe.pdf": (bomb_pdf(), "endommagé ou tronqué"),
        "latin1.txt": (LATIN1.encode("latin-1"), None),
        "bon.md": (GOOD_MD.encode(), None),
        "ligne-courte.txt": (one_line_txt(300_000), None),
    }
    for name, (data, reason) in generated.items():
        (folder / name).write_bytes(data)
        expected[name] = reason
    # 50 MB on one line, one byte over the documented limit: refused from its size, never read.
    with open(folder / "ligne-50mo.txt", "wb") as fh:
        fh.write(one_line_txt(loaders.MAX_TEXT_BYTES + 1))
    expected["ligne-50mo.txt"] = "au-delà de la limite"
    return expected


@pytest.mark.timeout(300)
def test_bad_files_together_each_get_an_outcome_and_the_rest_is_ingested(fake_index, tmp_path):
    folder = tmp_path / "en-vrac"
    expected = build_bad_folder(folder)
    report = ingest_paths([folder], index=fake_index)

    outcomes = {o.source: o for o in report.outcomes}
    assert len(report.outcomes) == len(outcomes) == len(discover([folder])) == len(expected)
    reported = [o for o in report.outcomes if o.status == "ingested" or (o.status == "failed" and o.reason)]
    print(f"\nbad files reported: {len(reported)}/{len(expected)} = {100 * len(reported) / len(expected):.0f} %")
    assert len(reported) == len(expected)
    for name, fragment in expected.items():
        outcome = outcomes[name]
        if fragment is None:
            assert outcome.status == "ingested" and outcome.chunks > 0, (name, outcome)
        elif fragment:
            assert outcome.status == "failed" and fragment in outcome.reason, (name, outcome)
    if SAMPLES.is_dir():
        assert outcomes["Seige_of_Vicksburg_Sample_OCR.pdf"].status == "ingested"
    for outcome in report.outcomes:
        assert outcome.status in ("ingested", "failed")
        if outcome.status == "failed":
            assert outcome.reason and "Traceback" not in outcome.reason and outcome.chunks == 0
    summary = report.summary()
    assert all(f"✗ {o.source} : {o.reason}" in summary for o in report.outcomes if o.status == "failed")

    # The index holds exactly the chunks of the ingested files, and BM25 agrees with the store.
    manifest = fake_index.read_manifest()
    ingested = {o.source for o in report.outcomes if o.status == "ingested"}
    assert set(manifest["files"]) == ingested
    stored = fake_index.stored_ids()
    assert stored == {cid for entry in manifest["files"].values() for cid in entry["chunk_ids"]}
    assert set(fake_index.load_lexical().ids) == stored
    assert {meta["source"] for _, _, meta in fake_index.iter_all()} == ingested
    latin = next(text for _, text, meta in fake_index.iter_all() if meta["source"] == "latin1.txt")
    assert "Besançon" in latin and "« été »" in latin

    # A second run over the same folder: the failures are reported again, nothing is re-embedded.
    before = fake_index.embeddings.embedded
    again = ingest_paths([folder], index=fake_index)
    assert {o.source: o.status for o in again.outcomes} == {
        s: "unchanged" if s in ingested else "failed" for s in expected
    }
    assert fake_index.embeddings.embedded == before


def _workers_on(path: Path) -> list[int]:
    """PIDs of live processes whose command line names ``path`` (our PDF workers)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(path).encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


@pytest.mark.timeout(120)
def test_a_slow_pdf_is_cut_at_the_parse_timeout_and_the_run_goes_on(fake_index, tmp_path, monkeypatch):
    folder = tmp_path / "lent"
    folder.mkdir()
    (folder / "lent.pdf").write_bytes(slow_pdf())
    (folder / "bon.md").write_text(GOOD_MD, encoding="utf-8")
    monkeypatch.setattr(loaders, "PDF_PARSE_TIMEOUT_S", 3.0)
    started = time.monotonic()
    report = ingest_paths([folder], index=fake_index)
    elapsed = time.monotonic() - started
    outcomes = {o.source: o for o in report.outcomes}
    assert outcomes["lent.pdf"].status == "failed" and "interrompue" in outcomes["lent.pdf"].reason
    assert "3 secondes" in outcomes["lent.pdf"].reason
    assert outcomes["bon.md"].status == "ingested"
    assert elapsed < 30, f"the 3 s bound took {elapsed:.0f} s"
    assert _workers_on(folder / "lent.pdf") == [], "the timed-out PDF worker is still running"


def test_parse_limits_are_documented_constants():
    """The bounds a user can read in ingest/loaders.py: sizes, pages, time and memory of one PDF parse."""
    assert loaders.MAX_PDF_BYTES >= 50 * 2**20 and loaders.MAX_TEXT_BYTES == 50 * 2**20
    assert 0 < loaders.PDF_PARSE_TIMEOUT_S <= 300 and 0 < loaders.MAX_PDF_PAGES <= 10_000
    assert 0 < loaders.PDF_WORKER_MEMORY_BYTES <= 8 * 2**30
    source = Path(loaders.__file__).read_text(encoding="utf-8")
    assert "# Documented limits." in source


# Cleans and chunks the file argv[1] in a fresh interpreter, printing counts, time and peak memory (also used by
# benchmarks/bench_large_file.py, which gives the figures at the 50 MB limit itself).
# The peak is read from /proc (VmHWM, this program's own): ru_maxrss also counts the parent it was forked from, and
# a test suite that has loaded models is itself several hundred megabytes.
PREPARE_SCRIPT = (
    "import json, resource, sys, time\nfrom pathlib import Path\nfrom ingest.pipeline import prepare_chunks\n"
    "t = time.monotonic(); chunks = prepare_chunks(Path(sys.argv[1])); seconds = time.monotonic() - t\n"
    "try:\n"
    "    peak = next(int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM:')) / 1024\n"
    "except OSError:\n"
    "    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
    "print(json.dumps({'chunks': len(chunks), 'seconds': seconds, "
    "'max_chars': max(len(c.page_content) for c in chunks), 'rss_mb': peak}))"
)


@pytest.mark.integration
@pytest.mark.timeout(300)
def test_ten_megabytes_on_one_line_prepare_in_bounded_memory(tmp_path):
    """A fifth of the 50 MB limit on one line: every chunk bounded, memory far from the file's multiple."""
    path = tmp_path / "ligne.txt"
    path.write_bytes(one_line_txt(loaders.MAX_TEXT_BYTES // 5))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", PREPARE_SCRIPT, str(path)], capture_output=True, env=env, timeout=280)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    print(f"\n10 MB one-line txt: {result}")
    assert result["chunks"] > 10_000 and result["max_chars"] <= 1000
    assert result["rss_mb"] < 512
