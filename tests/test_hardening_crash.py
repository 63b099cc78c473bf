"""Hardening, crashes and concurrency: an ingest SIGKILLed at any point and re-run gives exactly the index a
clean run builds; the previous index answers queries while a re-ingest runs; a second writer fails fast.

The ingest runs in a child interpreter (fake embedder, real embedded Chroma) that kills itself with SIGKILL
at a hook point (after the N-th call of a store method) or after a delay; reruns and checks happen here.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from assistant import retrieval
from assistant.retrieval import HybridSearch
from ingest.chunking import chunk_id
from ingest.pipeline import IndexBusyError, ingest_paths
from tests.conftest import FakeEmbeddings
from vectorstore.settings import Settings
from vectorstore.store import CorpusIndex

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "data" / "corpus"
FILES = [
    "cress-occitanie_ess-nouveau-pacte-economique-et-social_2020.txt",
    "ess-france_focus-nouvelles-alliances-interet-general_2022.md",
    "anct_webinaire-ess-relance-territoires-fragiles_2021.txt",
]
NEW_FILE = "tiers-lieux_2024.md"
QUERIES = ["coopération entre collectivités et ESS", "relance des territoires fragiles", "tiers-lieux ruraux"]

# The child: ingest the folder argv[1] into $ESS_INDEX_DIR with the fake embedder; KILL_AT="Class.method:N"
# SIGKILLs it right after the N-th call of that method, KILL_AFTER_S after a delay; SLOW_ADD_S slows writes.
# It prints "locked" once it holds the index's writer lock (its first manifest read happens under the lock).
CHILD = r"""
import os, signal, sys, threading, time
from pathlib import Path
from vectorstore.settings import Settings
from ingest.pipeline import ingest_paths
from tests.conftest import FakeEmbeddings
from vectorstore import lexical, store

def die():
    os.kill(os.getpid(), signal.SIGKILL)

if os.environ.get("KILL_AT"):
    target, n = os.environ["KILL_AT"].split(":")
    owner, name = target.split(".")
    cls = {"CorpusIndex": store.CorpusIndex, "LexicalIndex": lexical.LexicalIndex}[owner]
    original, calls = getattr(cls, name), [0]
    def hooked(*args, **kwargs):
        result = original(*args, **kwargs)
        calls[0] += 1
        if calls[0] == int(n):
            die()
        return result
    setattr(cls, name, hooked)
if os.environ.get("SLOW_ADD_S"):
    add = store.CorpusIndex.add_chunks
    def slow_add(self, chunks):
        time.sleep(float(os.environ["SLOW_ADD_S"]))
        add(self, chunks)
    store.CorpusIndex.add_chunks = slow_add
if os.environ.get("KILL_AFTER_S"):
    threading.Timer(float(os.environ["KILL_AFTER_S"]), die).start()
read_manifest = store.CorpusIndex.read_manifest
def announce(self):
    print("locked", flush=True)
    store.CorpusIndex.read_manifest = read_manifest
    return read_manifest(self)
store.CorpusIndex.read_manifest = announce
index = store.CorpusIndex(Settings.from_env(), embeddings=FakeEmbeddings())
ingest_paths([Path(sys.argv[1])], index=index)
print("done", flush=True)
"""


def child(folder: Path, **env: str) -> subprocess.Popen:
    full = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder)], env=full, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


def version_a(folder: Path) -> None:
    folder.mkdir(exist_ok=True)
    shutil.copy(BUNDLED / "catalog.json", folder / "catalog.json")
    for name in FILES:
        shutil.copy(BUNDLED / name, folder / name)


def version_b(folder: Path) -> None:
    """A changed file (new first paragraph, appended paragraph), a deleted file, a new file."""
    pacte = folder / FILES[0]
    text = pacte.read_text(encoding="utf-8")
    pacte.write_text(
        "Préambule révisé : la coopération entre collectivités et ESS est au cœur du pacte.\n\n"
        + text.split("\n\n", 1)[1]
        + "\n\nAnnexe : un tiers-lieu par canton d'ici 2030.\n",
        encoding="utf-8",
    )
    (folder / FILES[2]).unlink()
    (folder / NEW_FILE).write_text(
        "# Tiers-lieux\n\nLes tiers-lieux ruraux accueillent des ateliers partagés et des cafés associatifs.\n",
        encoding="utf-8",
    )


def snapshot(index_dir: Path) -> dict:
    """Everything a clean run determines: chunks (ids, texts, metadata), manifest files, BM25 results."""
    index = CorpusIndex(replace(Settings.from_env(), index_dir=index_dir), embeddings=FakeEmbeddings())
    manifest = index.read_manifest()
    chunks = sorted(index.iter_all())
    lexical = index.load_lexical()
    assert manifest["lexical_generation"] == manifest["generation"]
    assert set(lexical.ids) == {cid for cid, _, _ in chunks}, "BM25 disagrees with the store"
    assert set(lexical.ids) == {cid for e in manifest["files"].values() for cid in e["chunk_ids"]}
    return {
        "chunks": chunks,
        # When each file was indexed is the one thing a clean run does not determine.
        "files": {name: {k: v for k, v in entry.items() if k != "indexed_at"}
                  for name, entry in manifest["files"].items()},
        "embedding_model": manifest["embedding_model"],
        "bm25": {q: [(h.chunk_id, round(h.score, 6)) for h in lexical.search(q, 10)] for q in QUERIES},
    }


def differences(got: dict, ref: dict) -> str:
    """A short account of how two snapshots differ (for the assertion message)."""
    mine, theirs = {c[0]: c for c in got["chunks"]}, {c[0]: c for c in ref["chunks"]}
    changed = [(mine[k][2], theirs[k][2]) for k in mine.keys() & theirs.keys() if mine[k] != theirs[k]]
    return (
        f"extra {[(mine[k][2]['source'], mine[k][2].get('position')) for k in mine.keys() - theirs.keys()][:5]}, "
        f"missing {[(theirs[k][2]['source'], theirs[k][2].get('position')) for k in theirs.keys() - mine.keys()][:5]}, "
        f"changed {changed[:2]}, files equal: {got['files'] == ref['files']}"
    )


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """The corpus folder and two index folders: the crash victim (ESS_INDEX_DIR) and the clean reference."""
    monkeypatch.setenv("ESS_INDEX_DIR", str(tmp_path / "victim"))
    monkeypatch.delenv("ESS_CHROMA_URL", raising=False)
    corpus = tmp_path / "corpus"
    version_a(corpus)
    return {"corpus": corpus, "victim": tmp_path / "victim", "clean": tmp_path / "clean"}


def ingest_into(index_dir: Path, corpus: Path) -> None:
    settings = replace(Settings.from_env(), index_dir=index_dir)
    ingest_paths([corpus], index=CorpusIndex(settings, embeddings=FakeEmbeddings()))


KILL_POINTS = [
    "CorpusIndex.add_chunks:1",  # a changed file's new chunks stored, manifest not yet written
    "CorpusIndex.delete_chunks:1",  # its stale chunks deleted, manifest not yet written
    "CorpusIndex.write_manifest:1",  # one file recorded, the others not reached
    "CorpusIndex.add_chunks:2",  # the new file's chunks stored
    "CorpusIndex.write_manifest:3",  # deletion of the removed file recorded, BM25 not rebuilt
    "LexicalIndex.save:1",  # BM25 published, manifest's lexical generation not written
]


QUICK = [{"KILL_AT": "CorpusIndex.add_chunks:1"}, {"KILL_AT": "LexicalIndex.save:1"}]
ALL = [{"KILL_AT": point} for point in KILL_POINTS] + [{"KILL_AFTER_S": d} for d in ("2.5", "3.5")]


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    "scenarios",
    [pytest.param(QUICK, id="two-points"), pytest.param(ALL, id="all-points", marks=pytest.mark.integration)],
)
def test_killed_reingest_then_rerun_equals_a_clean_run(folders, scenarios):
    corpus, victim, clean = folders["corpus"], folders["victim"], folders["clean"]
    ingest_into(victim, corpus)  # version A, complete
    version_b(corpus)
    ingest_into(clean, corpus)
    reference = snapshot(clean)
    assert reference["chunks"] and NEW_FILE in reference["files"] and FILES[2] not in reference["files"]

    # Each scenario starts from a copy of the complete version-A index, in its own folder (an embedded
    # Chroma must not see its files replaced under an open client).
    killed = 0
    for i, env in enumerate(scenarios):
        folder = victim.with_name(f"victim-{i}")
        shutil.copytree(victim, folder)
        proc = child(corpus, ESS_INDEX_DIR=str(folder), **env)
        _, err = proc.communicate(timeout=120)
        if "KILL_AT" in env:
            assert proc.returncode == -signal.SIGKILL, (env, err.decode()[-2000:])
        killed += proc.returncode == -signal.SIGKILL
        assert proc.returncode in (0, -signal.SIGKILL), (env, err.decode()[-2000:])
        ingest_into(folder, corpus)
        got = snapshot(folder)
        assert got == reference, f"after {env} then a rerun, not a clean index: {differences(got, reference)}"
    print(f"\nkill-and-rerun: {killed}/{len(scenarios)} runs killed, {len(scenarios)}/{len(scenarios)} equal to clean")
    assert killed >= sum("KILL_AT" in env for env in scenarios)


@pytest.mark.timeout(180)
def test_killed_first_ingest_then_rerun_equals_a_clean_run(folders):
    """Killed before any manifest exists (store written, nothing recorded): the rerun cleans the orphans."""
    corpus, victim, clean = folders["corpus"], folders["victim"], folders["clean"]
    ingest_into(clean, corpus)
    proc = child(corpus, KILL_AT="CorpusIndex.add_chunks:1")
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
    assert not (victim / "manifest.json").exists()
    assert CorpusIndex(Settings.from_env(), embeddings=FakeEmbeddings()).stored_ids()
    ingest_into(victim, corpus)
    assert snapshot(victim) == snapshot(clean)


@pytest.mark.timeout(180)
def test_queries_and_a_second_writer_during_a_reingest_in_another_process(folders):
    """While a child re-ingests (slowed), this process keeps answering from the index and is refused as a
    second writer at once, with the French message; after the child, the new version is searchable."""
    corpus, victim = folders["corpus"], folders["victim"]
    ingest_into(victim, corpus)
    version_b(corpus)
    retrieval._searches.clear()
    search = HybridSearch(CorpusIndex(Settings.from_env(), embeddings=FakeEmbeddings()))
    assert search.search(QUERIES[1], 3)

    proc = child(corpus, SLOW_ADD_S="1.5")
    assert proc.stdout.readline().strip() == b"locked"
    started = time.monotonic()
    with pytest.raises(IndexBusyError, match="Une autre indexation est en cours") as busy:
        ingest_into(victim, corpus)
    assert time.monotonic() - started < 2.0 and str(victim) in str(busy.value)

    answered, errors, mixed = 0, [], []
    while proc.poll() is None:
        query = QUERIES[answered % len(QUERIES)]
        try:
            hits = search.search(query, 5)
        except Exception as error:  # noqa: BLE001 - counted and reported below
            errors.append(repr(error))
        else:
            answered += bool(hits) or query == QUERIES[2]
            mixed += [p for p in hits if chunk_id(p.source, p.text) != p.chunk_id]
        time.sleep(0.05)
    assert proc.returncode == 0, proc.stderr.read().decode()[-2000:]
    print(
        f"\nqueries during a re-ingest in another process: {answered} answered, {len(errors)} errors, "
        f"{len(mixed)} passages whose text is not their chunk's"
    )
    assert not errors, errors[:3]
    assert answered >= 5
    after = search.search("tiers-lieux ruraux ateliers partagés", 5)
    mixed += [p for p in after if chunk_id(p.source, p.text) != p.chunk_id]
    assert not mixed, [(p.chunk_id, p.source, p.year, p.text[:60]) for p in mixed[:3]]
    assert NEW_FILE in {p.source for p in after}


@pytest.mark.timeout(180)
def test_a_long_running_reader_sees_all_vectors_after_another_process_ingests(folders):
    """A server process that opened the embedded store before a CLI ingest in another process must still
    find every nearest neighbour afterwards (the new file's chunks included), as a fresh process does."""
    corpus, victim = folders["corpus"], folders["victim"]
    ingest_into(victim, corpus)
    version_b(corpus)
    reader = HybridSearch(CorpusIndex(Settings.from_env(), embeddings=FakeEmbeddings()))
    assert reader.search(QUERIES[0], 3)
    proc = child(corpus)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()[-2000:]
    count = reader.index.collection.count()
    stale = {q: len(reader.index.dense_search(q, 40)) for q in QUERIES}
    assert stale == dict.fromkeys(QUERIES, min(40, count)), f"dense hits out of 40 after the ingest: {stale}"
    assert NEW_FILE in {p.source for p in reader.search("tiers-lieux ruraux ateliers partagés", 5)}


@pytest.mark.timeout(120)
def test_first_queries_arriving_together_all_open_the_store(folders):
    """A server's first questions arrive at once: every thread must get answers, none a Chroma start-up error."""
    proc = child(folders["corpus"])  # built by another process: this one has never opened the folder
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()[-2000:]
    index = CorpusIndex(Settings.from_env(), embeddings=FakeEmbeddings())
    barrier, errors, answered = threading.Barrier(8), [], []

    def first_query() -> None:
        barrier.wait()
        try:
            answered.append(len(index.dense_search(QUERIES[0], 5)))
        except Exception as error:  # noqa: BLE001 - collected and reported below
            errors.append(repr(error))

    threads = [threading.Thread(target=first_query) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors[:3]
    assert answered == [5] * 8
