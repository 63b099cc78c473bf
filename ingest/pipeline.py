"""Incremental ingest: files → clean blocks → chunks → index, one file at a time, crash-safe.

A file is identified by its name (the ``source`` shown in citations, cleaned of control and bidi
characters). A file never replaces a document of the same name indexed from another place unless asked
to (``replace``): it is reported as failed instead, so a stray upload or a second folder cannot hijack a
document. Unchanged files (same content hash, same embedding model) are skipped; a changed file's new
chunks are added before its stale ones are deleted; files gone from an ingested folder are removed. The
manifest is rewritten atomically after each file, and a re-run first reconciles the store with it, so a
killed ingest leaves nothing behind that a clean run would not build. One writer at a time: a second
ingest on the same index fails at once.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Literal

from filelock import FileLock, Timeout
from tqdm import tqdm

from ingest.chunking import chunk_blocks
from ingest.clean import CLEAN_VERSION, clean_label, clean_text, strip_repeated_lines
from ingest.errors import IngestError
from ingest.loaders import SUPPORTED_SUFFIXES, load_file
from ingest.ocr import OCR_VERSION, correct_blocks
from vectorstore.dense import DENSE_FORMAT
from vectorstore.lexical import ANALYZER_VERSION, LEXICAL_FORMAT
from vectorstore.settings import Settings
from vectorstore.store import CorpusIndex

logger = logging.getLogger(__name__)

CATALOG_NAME = "catalog.json"
EMBED_BATCH = 256  # passages embedded between two progress reports / cancel checks
Status = Literal["ingested", "unchanged", "removed", "failed"]
Progress = Callable[[str, int, int], None]
ABOUT_FIELDS = ("title", "publisher", "year")  # what the catalog says of a document, copied on each chunk


class IndexBusyError(IngestError):
    """Another ingest holds the index."""


class IngestCancelled(IngestError):
    """The ingest was cancelled on request; what it had added was taken out again."""


@dataclass
class FileOutcome:
    source: str
    status: Status
    chunks: int = 0
    reason: str | None = None
    ocr_corrections: int = 0


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def summary(self) -> str:
        """A French summary for the CLI and the UI."""
        lines = [
            f"{self.count('ingested')} fichier(s) indexé(s), {self.count('unchanged')} inchangé(s), "
            f"{self.count('removed')} retiré(s), {self.count('failed')} en échec "
            f"({sum(o.chunks for o in self.outcomes if o.status == 'ingested')} passages, {self.seconds:.1f} s)."
        ]
        lines += [
            f"  OCR : {o.ocr_corrections} mot(s) mal lu(s) corrigé(s) dans {o.source}"
            for o in self.outcomes
            if o.status == "ingested" and o.ocr_corrections
        ]
        lines += [f"  ✗ {o.source} : {o.reason}" for o in self.outcomes if o.status == "failed"]
        return "\n".join(lines)


def discover(paths: Iterable[Path]) -> list[Path]:
    """Supported files under the given files and folders (hidden files and the catalog skipped)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p
                for p in path.rglob("*")
                if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in SUPPORTED_SUFFIXES
            )
        else:
            found.append(path)
    return found


def _catalog(folder: Path) -> dict:
    """The folder's catalog, re-read when it changes (the web app writes the uploads folder's one)."""
    path = folder / CATALOG_NAME
    try:
        return _read_catalog(path, path.stat().st_mtime_ns)
    except FileNotFoundError:
        return {}


@cache
def _read_catalog(path: Path, mtime_ns: int) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        logger.warning("Unreadable catalog %s ignored", path)
        return {}


def document_name(path: Path) -> str:
    """The document's identity and citation label: its file name, readable and free of control characters."""
    return clean_label(path.name) or "document"


def document_metadata(path: Path) -> dict:
    """Title, publisher and year from the folder's catalog.json, else guessed from the file name."""
    entry = _catalog(path.parent.resolve()).get(path.name, {})
    year = entry.get("year")
    if year is None and (m := re.search(r"(?<!\d)(19|20)\d\d(?!\d)", path.stem)):
        year = int(m.group())
    title = clean_label(str(entry.get("title") or "")) or clean_label(path.stem.replace("_", " ").replace("-", " "))
    return {
        "source": document_name(path),
        "title": title or document_name(path),
        "publisher": clean_label(str(entry["publisher"])) if entry.get("publisher") else None,
        "year": year,
    }


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def prepare_chunks(path: Path, *, ocr: bool = True) -> list:
    """Load, clean and chunk one file (raises IngestError subclasses on bad input)."""
    return prepare_document(path, ocr=ocr)[0]


def prepare_document(path: Path, *, ocr: bool = True) -> tuple[list, int]:
    """The chunks of one file and the number of OCR misreadings corrected in it (``ocr``: correct them)."""
    blocks = load_file(path)
    if len(blocks) > 1 and all(b.metadata.get("page") for b in blocks):
        for block, text in zip(blocks, strip_repeated_lines([b.page_content for b in blocks]), strict=True):
            block.page_content = text
    for block in blocks:
        block.page_content = clean_text(block.page_content)
    corrections = 0
    if ocr:
        texts, corrections = correct_blocks([b.page_content for b in blocks])
        for block, text in zip(blocks, texts, strict=True):
            block.page_content = text
    chunks = chunk_blocks([b for b in blocks if b.page_content.strip()], document_metadata(path))
    return chunks, corrections


def ingest_paths(
    paths: Sequence[Path] | None = None,
    *,
    settings: Settings | None = None,
    index: CorpusIndex | None = None,
    progress: Progress | None = None,
    rebuild: bool = False,
    show_progress: bool = False,
    replace: bool = False,
    max_chunks: int | None = None,
    cancel: Callable[[], bool] | None = None,
) -> IngestReport:
    """Bring the index up to date with ``paths`` (default: the bundled corpus).

    ``max_chunks`` refuses any file that would give more passages (the web page's per-file limit).
    ``cancel`` is polled between files and between embedding batches; once it says yes, the documents this
    run added are taken out, the manifest is put back, and IngestCancelled is raised (the search indexes
    were not rebuilt yet, so the index is as it was; a changed file already re-indexed keeps its new text).

    ``replace=True`` lets these files replace same-named documents indexed from elsewhere: only for an
    explicit, confirmed replacement (the corpus panel's « remplacer »), never for a plain upload or ingest.
    """
    settings = settings or (index.settings if index else Settings.from_env())
    index = index or CorpusIndex(settings)
    roots = [Path(p) for p in (paths or [settings.corpus_dir])]
    with _sole_writer(settings):
        return _ingest_locked(roots, index, progress, rebuild, show_progress, replace, max_chunks, cancel)


@contextmanager
def _sole_writer(settings: Settings) -> Iterator[None]:
    """Hold the index's writer lock, or fail at once in French when another ingest or removal holds it."""
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(settings.index_dir / "ingest.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise IndexBusyError(
            f"Une autre indexation est en cours sur {settings.index_dir} ; réessayez quand elle sera terminée."
        ) from None
    try:
        yield
    finally:
        lock.release()


def remove_documents(
    sources: Sequence[str], *, settings: Settings | None = None, index: CorpusIndex | None = None
) -> IngestReport:
    """Take documents out of the index: their chunks, their manifest entries, and BM25 is rebuilt.

    A later ingest of their folder skips them (the bundled corpus would otherwise bring them back at the next
    ``make run``); an ingest naming the file itself adds it again.
    """
    settings = settings or (index.settings if index else Settings.from_env())
    index = index or CorpusIndex(settings)
    started = time.perf_counter()
    report = IngestReport()
    with _sole_writer(settings):
        manifest = index.read_manifest()
        files: dict = manifest["files"]
        excluded: dict = manifest.setdefault("excluded", {})
        for source in sources:
            entry = files.pop(source, None)
            if entry is None:
                report.outcomes.append(FileOutcome(source, "failed", reason="ce document n'est pas dans l'index."))
                continue
            index.delete_chunks(entry["chunk_ids"])
            excluded[source] = entry["path"]
            report.outcomes.append(FileOutcome(source, "removed", len(entry["chunk_ids"])))
        _publish(index, manifest, changed=bool(report.count("removed")))
    report.seconds = time.perf_counter() - started
    logger.info("Removal done: %s", report.summary())
    return report


def _ingest_locked(
    roots: list[Path],
    index: CorpusIndex,
    progress: Progress | None,
    rebuild: bool,
    show_progress: bool,
    replace: bool = False,
    max_chunks: int | None = None,
    cancel: Callable[[], bool] | None = None,
) -> IngestReport:
    started = time.perf_counter()
    report = IngestReport()
    manifest = index.read_manifest()
    if rebuild:
        index.reset()
        manifest = index.read_manifest()
    index.check_model(manifest)  # changing the model takes an explicit --rebuild
    manifest["embedding_model"] = index.model_id
    files: dict = manifest["files"]
    changed = _reconcile(index, files)

    before = copy.deepcopy(manifest)  # what a cancelled run puts back
    excluded: dict = manifest.setdefault("excluded", {})
    named = {root.resolve() for root in roots if not root.is_dir()}
    for path in named:
        excluded.pop(document_name(path), None)  # a file named on purpose comes back
    found = [
        p for p in discover(roots)
        if (p.exists() or p.is_symlink()) and (document_name(p) not in excluded or p.resolve() in named)
    ]
    bar = tqdm(found, desc="Indexation", unit="fichier", disable=not show_progress)
    try:
        for done, path in enumerate(bar):
            _check_cancel(cancel)
            name = document_name(path)
            if progress:
                progress(name, done, len(found))

            def on_batch(k: int, n: int, name: str = name, done: int = done) -> None:
                if progress:
                    progress(f"{name} ({k}/{n} passages)", done, len(found))

            outcome = _ingest_file(
                index, files, path, ocr=index.settings.ocr_correction, replace=replace, max_chunks=max_chunks,
                cancel=cancel, on_batch=on_batch,
            )
            report.outcomes.append(outcome)
            if outcome.status == "ingested":
                changed = True
                index.write_manifest(manifest)
    except IngestCancelled:
        _roll_back(index, before)
        raise
    if progress:
        progress("", len(found), len(found))

    seen = {document_name(p) for p in found}
    removed_roots: set[Path] = set()
    for source, entry in list(files.items()):
        gone = source not in seen and not Path(entry["path"]).exists()
        under = [root for root in roots if _is_under(Path(entry["path"]), root)] if gone else []
        if under:
            index.delete_chunks(entry["chunk_ids"])
            del files[source]
            report.outcomes.append(FileOutcome(source, "removed"))
            removed_roots.update(under)
            changed = True
    for root in roots:
        if root not in removed_roots and not (root.exists() or root.is_symlink()):
            report.outcomes.append(
                FileOutcome(document_name(root), "failed", reason="fichier ou dossier introuvable.")
            )

    _publish(index, manifest, changed)
    report.seconds = time.perf_counter() - started
    logger.info("Ingest done: %s", report.summary())
    return report


def _publish(index: CorpusIndex, manifest: dict, changed: bool) -> None:
    """Write the manifest and, when the chunks changed (or BM25 is stale), a new BM25 generation."""
    lexical_stale = (
        manifest.get("lexical_generation") != manifest["generation"]
        or manifest.get("lexical_analyzer") != ANALYZER_VERSION
        or manifest.get("lexical_format") != LEXICAL_FORMAT
        or not index.lexical_dir.exists()
    )
    # An index from before the vector matrix (or of another format) gets one from its stored vectors: a plain
    # ingest migrates it, nothing is embedded again.
    dense_stale = (
        manifest.get("dense_generation") != manifest["generation"]
        or manifest.get("dense_format") != DENSE_FORMAT
        or not index.dense_dir.exists()
    )
    if changed or lexical_stale or dense_stale:
        manifest["generation"] += 1
        index.write_manifest(manifest)  # store first, then the derived indexes: a crash here only forces a rebuild
        index.rebuild_search_indexes(lexical=changed or lexical_stale, dense=changed or dense_stale)
        manifest["lexical_generation"] = manifest["dense_generation"] = manifest["generation"]
        manifest["lexical_analyzer"] = ANALYZER_VERSION
        manifest["lexical_format"] = LEXICAL_FORMAT
        manifest["dense_format"] = DENSE_FORMAT
    index.write_manifest(manifest)


def _reconcile(index: CorpusIndex, files: dict) -> bool:
    """Make the store agree with the manifest after a crash: orphan chunks go, damaged files are redone."""
    stored = index.stored_ids()
    known = {cid for entry in files.values() for cid in entry["chunk_ids"]}
    orphans = stored - known
    if orphans:
        logger.warning("Removing %d chunks left by an interrupted ingest", len(orphans))
        index.delete_chunks(orphans)
    damaged = [source for source, entry in files.items() if not set(entry["chunk_ids"]) <= stored]
    for source in damaged:
        files[source]["sha256"] = None  # forces a re-ingest of that file
    return bool(orphans or damaged)


def _check_cancel(cancel: Callable[[], bool] | None) -> None:
    if cancel is not None and cancel():
        raise IngestCancelled("Indexation annulée : l'index est resté tel qu'il était.")


def _roll_back(index: CorpusIndex, before: dict) -> None:
    """Take out every chunk added since ``before`` was read and write ``before`` back as the manifest."""
    known = {cid for entry in before["files"].values() for cid in entry["chunk_ids"]}
    added = index.stored_ids() - known
    index.delete_chunks(added)
    index.write_manifest(before)
    logger.info("Ingest cancelled: %d added chunks taken out, manifest restored", len(added))


def _indexed_elsewhere(entry: dict | None, path: Path) -> bool:
    """True when ``entry`` is a document of the same name that still exists at another path."""
    if not entry:
        return False
    other = Path(entry["path"])
    return other != path.resolve() and (other.exists() or other.is_symlink())


def _ingest_file(
    index: CorpusIndex,
    files: dict,
    path: Path,
    *,
    ocr: bool,
    replace: bool = False,
    max_chunks: int | None = None,
    cancel: Callable[[], bool] | None = None,
    on_batch: Callable[[int, int], None] | None = None,
) -> FileOutcome:
    source = document_name(path)
    entry = files.get(source)
    ocr_version = OCR_VERSION if ocr else 0  # another correction step (or none) re-chunks the file
    try:
        sha = file_sha256(path)
        if entry and not replace and _indexed_elsewhere(entry, path):
            if entry["sha256"] != sha:
                return FileOutcome(source, "failed", reason=(
                    f"un autre document nommé « {source} » est déjà indexé : ce fichier ne le remplace pas "
                    "(renommez-le pour l'ajouter)."
                ))
            if _prepared_alike(entry, ocr_version):
                # The same text from another copy (another checkout, a moved corpus): nothing to do. Chunked by
                # another correction step, it goes on below and is re-chunked like the indexed copy would be.
                return FileOutcome(source, "unchanged", len(entry["chunk_ids"]),
                                   ocr_corrections=entry.get("ocr_corrections", 0))
        if entry and entry["sha256"] == sha and _prepared_alike(entry, ocr_version):
            about = {key: value for key, value in document_metadata(path).items() if key in ABOUT_FIELDS}
            if all(entry.get(key) == value for key, value in about.items()):
                corrections = entry["ocr_corrections"]
                return FileOutcome(source, "unchanged", len(entry["chunk_ids"]), ocr_corrections=corrections)
            # Same text, new title/publisher/year (catalog edited): metadata only, no re-embedding.
            index.update_about(entry["chunk_ids"], about)
            entry.update(about)
            return FileOutcome(source, "ingested", len(entry["chunk_ids"]))
        chunks, corrections = prepare_document(path, ocr=ocr)
    except IngestError as exc:
        logger.info("Skipped %s: %s", path, exc)  # the report tells the user, in French
        return FileOutcome(source, "failed", reason=clean_label(str(exc)))
    except OSError as exc:
        return FileOutcome(source, "failed", reason=f"fichier illisible ({exc.strerror or exc}).")
    except Exception as exc:  # a parser bug on one file must not stop the others
        logger.exception("Unexpected error on %s", path)
        return FileOutcome(source, "failed", reason=f"erreur inattendue pendant la lecture ({type(exc).__name__}).")
    if not chunks:
        return FileOutcome(source, "failed", reason="aucun texte exploitable dans ce fichier.")
    if max_chunks is not None and len(chunks) > max_chunks:
        return FileOutcome(source, "failed", reason=(
            f"ce fichier donnerait {len(chunks)} passages, au-delà de la limite de {max_chunks} par fichier "
            "ajouté depuis la page (indexez-le avec « ess-assistant ingest »)."
        ))
    old_ids = set(entry["chunk_ids"]) if entry else set()
    new_ids = [c.metadata["chunk_id"] for c in chunks]
    fresh = [c for c in chunks if c.metadata["chunk_id"] not in old_ids]
    for start in range(0, len(fresh), EMBED_BATCH):  # in batches: progress shows and a cancel is heard
        _check_cancel(cancel)
        index.add_chunks(fresh[start:start + EMBED_BATCH])
        if on_batch:
            on_batch(min(start + EMBED_BATCH, len(fresh)), len(fresh))
    index.update_metadata([c for c in chunks if c.metadata["chunk_id"] in old_ids])
    index.delete_chunks(old_ids - set(new_ids))
    about = {key: chunks[0].metadata[key] for key in ABOUT_FIELDS}
    files[source] = {
        "path": str(path.resolve()),
        "sha256": sha,
        "chunk_ids": new_ids,
        **about,
        "ocr_version": ocr_version,
        "clean_version": CLEAN_VERSION,
        "ocr_corrections": corrections,
        "indexed_at": datetime.now().astimezone().isoformat(timespec="seconds"),
    }
    return FileOutcome(source, "ingested", len(chunks), ocr_corrections=corrections)


def _prepared_alike(entry: dict, ocr_version: int) -> bool:
    """Whether an indexed file was cleaned and corrected as it would be now (else it is re-chunked: only the
    passages whose text changed are embedded again)."""
    return entry.get("ocr_version") == ocr_version and entry.get("clean_version", 0) == CLEAN_VERSION


def _is_under(path: Path, root: Path) -> bool:
    root = root.resolve()
    return path == root or root in path.parents
