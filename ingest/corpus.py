"""What the web app's corpus panel does to the corpus: describe an upload, take a document out.

An upload's title, publisher and year go into the uploads folder's catalog.json, read by the ingest like
the bundled corpus's catalog. Removing a document takes it out of the index (chunks, manifest, BM25); a
file that only existed as an upload is deleted with its catalog entry, so nothing unindexed lingers.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from pathlib import Path

from filelock import FileLock

from ingest.pipeline import CATALOG_NAME, IngestReport, remove_documents
from ingest.uploads import upload_dir
from vectorstore.settings import Settings

log = logging.getLogger(__name__)

ABOUT_KEYS = ("title", "publisher", "year")


def _update_catalog(folder: Path, changes: dict[str, dict | None]) -> None:
    """Apply {file name: entry, or None to drop it} to ``folder``'s catalog, written atomically."""
    path = folder / CATALOG_NAME
    if not path.exists() and all(entry is None for entry in changes.values()):
        return
    folder.mkdir(parents=True, exist_ok=True)
    with FileLock(str(folder.with_name(f".{folder.name}-catalog.lock"))):  # beside the folder, not in it
        try:
            catalog = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            catalog = {}
        except ValueError:
            log.warning("Unreadable catalog %s replaced", path)
            catalog = {}
        for name, entry in changes.items():
            if entry is None:
                catalog.pop(name, None)
            else:
                catalog[name] = entry
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{CATALOG_NAME}.")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(catalog, fh, ensure_ascii=False, indent=2)
        os.replace(tmp, path)


def describe_uploads(
    names: list[str], settings: Settings, *, title: str = "", publisher: str = "", year: int | None = None
) -> None:
    """Record the title (single file only: one title for several files would mislabel them), publisher and
    year given for uploaded files, before they are indexed; empty values leave the guesses from the name."""
    about = {"title": " ".join(title.split()) if len(names) == 1 else "", "publisher": " ".join(publisher.split()),
             "year": year}
    entry = {key: value for key, value in about.items() if value}
    if entry:
        _update_catalog(upload_dir(settings), dict.fromkeys(names, entry))


def forget_uploads(names: list[str], settings: Settings) -> None:
    """Drop the catalog entries of uploads that were not indexed (their files are gone)."""
    if names:
        _update_catalog(upload_dir(settings), dict.fromkeys(names))


def remove_document(source: str, settings: Settings, *, remove=remove_documents) -> IngestReport:
    """Take ``source`` out of the index; an uploaded file is deleted too (a corpus folder's file is kept,
    and skipped by later ingests of that folder)."""
    report = remove(sources=[source], settings=settings)
    if report.count("removed"):
        folder = upload_dir(settings)
        uploaded = folder / source
        if uploaded.parent == folder and uploaded.is_file():
            uploaded.unlink()
            forget_uploads([source], settings)
    return report
