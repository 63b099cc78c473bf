"""Files added from the web page: copied into the index's uploads folder under names that cannot hijack.

An upload never replaces a document it did not come from. A file whose cleaned name is already indexed (or
already taken by another file of the same request) is kept beside it under a free name (« note-2.txt »);
a file identical to the indexed document of that name is reported unchanged and not copied. Replacing a
document is a separate, explicit call (:func:`replace_document`, behind a confirmed « remplacer »). Files
the ingest rejects are removed from the uploads folder, so nothing unindexed accumulates there.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.clean import clean_label
from ingest.errors import IngestError
from ingest.pipeline import IngestReport, Progress, file_sha256, ingest_paths
from vectorstore.settings import Settings
from vectorstore.store import CorpusIndex

log = logging.getLogger(__name__)

UPLOADS_DIR = "uploads"
_UNSAFE_NAME_RE = re.compile(r"[^\w.-]+")

# Same signature as ingest.pipeline.ingest_paths restricted to what the page needs (tests pass fakes).
IngestFn = Callable[..., IngestReport]


def upload_dir(settings: Settings) -> Path:
    return settings.index_dir / UPLOADS_DIR


def upload_name(name: str) -> str:
    """A harmless file name for the uploads folder: no path part, control character or leading dot."""
    path = Path(clean_label(name).replace("\\", "/").rsplit("/", 1)[-1])
    stem = _UNSAFE_NAME_RE.sub("_", path.stem).strip("._") or "document"
    return f"{stem[:120]}{path.suffix.lower()}"


def indexed_files(settings: Settings) -> dict[str, str | None]:
    """Indexed document names and their content hashes, from the index manifest (empty without index)."""
    try:
        files = CorpusIndex(settings).read_manifest().get("files", {})
    except (OSError, ValueError):
        log.warning("Unreadable manifest in %s: uploads checked against the uploads folder only", settings.index_dir)
        return {}
    return {name: entry.get("sha256") for name, entry in files.items()}


@dataclass
class StagedUpload:
    """One uploaded file: the name the user gave, where it was copied (None: nothing to index), and a
    French note saying what happened to its name."""

    original: str
    path: Path | None
    note: str = ""

    @property
    def name(self) -> str:
        return self.path.name if self.path else upload_name(self.original)


def _free_name(name: str, taken: Collection[str]) -> str:
    stem, suffix = os.path.splitext(name)
    n = 2
    while f"{stem}-{n}{suffix}" in taken:
        n += 1
    return f"{stem}-{n}{suffix}"


def stage_uploads(
    files: Sequence[tuple[str, Path]], folder: Path, indexed: Mapping[str, str | None]
) -> list[StagedUpload]:
    """Copy each (original name, temporary path) into ``folder`` under a name no other document has."""
    folder.mkdir(parents=True, exist_ok=True)
    taken = set(indexed) | {p.name for p in folder.iterdir()}
    in_request: set[str] = set()
    staged: list[StagedUpload] = []
    for original, src in files:
        name = upload_name(original)
        sha = file_sha256(src)
        if name not in in_request and indexed.get(name) == sha:
            staged.append(StagedUpload(original, None, f"contenu identique au document « {name} » déjà indexé."))
            in_request.add(name)
            continue
        note = ""
        if name in taken:
            free = _free_name(name, taken)
            why = (
                "un autre fichier de cet envoi porte le même nom (après nettoyage)"
                if name in in_request
                else f"un document nommé « {name} » est déjà dans le corpus et n'a pas été remplacé"
            )
            note = f"{why} : ajouté sous le nom « {free} »."
            name = free
        dest = folder / name
        shutil.copyfile(src, dest)
        taken.add(name)
        in_request.add(name)
        staged.append(StagedUpload(original, dest, note))
    return staged


def discard_rejected(staged: Sequence[StagedUpload], report: IngestReport) -> None:
    """Delete the copies the ingest did not index (a rejected file must not linger in the uploads folder)."""
    failed = {o.source for o in report.outcomes if o.status == "failed"}
    for item in staged:
        if item.path is not None and item.path.name in failed:
            item.path.unlink(missing_ok=True)


def replace_document(
    upload: Path,
    source: str,
    *,
    settings: Settings | None = None,
    ingest: IngestFn = ingest_paths,
    progress: Progress | None = None,
) -> IngestReport:
    """Explicitly replace the indexed document ``source`` by the file ``upload`` (a confirmed « remplacer »).

    The new text is stored as uploads/<source> and indexed with ``replace=True``; if the ingest rejects it,
    the previous upload of that name (if any) is put back and the index keeps the old document.
    """
    settings = settings or Settings.from_env()
    if upload_name(source) != source:
        raise IngestError(f"« {clean_label(source)} » ne peut pas être remplacé depuis la page (nom inattendu).")
    folder = upload_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    dest = folder / source
    backup = folder / f".{source}.avant-remplacement"
    had_previous = dest.exists()
    if had_previous:
        os.replace(dest, backup)
    try:
        shutil.copyfile(upload, dest)
        report = ingest(paths=[dest], settings=settings, progress=progress, replace=True)
    except BaseException:
        _restore(dest, backup, had_previous)
        raise
    if any(o.source == source and o.status in ("ingested", "unchanged") for o in report.outcomes):
        backup.unlink(missing_ok=True)
    else:
        _restore(dest, backup, had_previous)
    return report


def _restore(dest: Path, backup: Path, had_previous: bool) -> None:
    if had_previous:
        os.replace(backup, dest)
    else:
        dest.unlink(missing_ok=True)
