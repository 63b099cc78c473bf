"""The « Ajouter des documents » action: per-request limits, safe staging, and one report line per file.

The limits apply to the whole request, not only to each file (Gradio's ``max_file_size`` is per file):
a request carries at most MAX_FILES files and MAX_REQUEST_MB in total, and each file at most
MAX_UPLOAD_PASSAGES passages (larger documents go through ``ess-assistant ingest``). Naming, staging and
removal of rejected files are ingest.uploads'.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ingest.clean import clean_label
from ingest.corpus import describe_uploads, forget_uploads
from ingest.pipeline import IngestCancelled
from ingest.uploads import discard_rejected, indexed_files, stage_uploads, upload_dir
from ui.common import refusal
from vectorstore.settings import Settings

log = logging.getLogger(__name__)

MAX_UPLOAD_MB = 50
MAX_FILES = 20
MAX_REQUEST_MB = 100
MAX_UPLOAD_PASSAGES = 3000
UPLOAD_TYPES = [".pdf", ".txt", ".md"]

STATUS_FR = {
    "ingested": "ajouté",
    "unchanged": "déjà présent, inchangé",
    "removed": "retiré",
    "failed": "non ajouté",
    "cancelled": "annulé",
}
CANCELLED = "**Indexation annulée** : aucun document n'a été ajouté, l'index est resté tel qu'il était."
LIMITS_FR = (
    f"Formats acceptés : PDF, TXT et Markdown ({MAX_UPLOAD_MB} Mo au plus par fichier, {MAX_FILES} fichiers "
    f"et {MAX_REQUEST_MB} Mo au plus par envoi, {MAX_UPLOAD_PASSAGES} passages au plus par fichier). "
)


def check_request(paths: Sequence[Path]) -> None:
    """Refuse, in French, a request over the per-request limits (before anything is copied or indexed)."""
    if not paths:
        raise refusal("Choisissez d'abord un ou plusieurs fichiers (PDF, TXT ou MD).")
    if len(paths) > MAX_FILES:
        raise refusal(f"Trop de fichiers dans un seul envoi ({len(paths)}) : {MAX_FILES} au plus.")
    total = sum(p.stat().st_size for p in paths)
    if total > MAX_REQUEST_MB * 2**20:
        raise refusal(
            f"Envoi trop volumineux ({total / 2**20:.0f} Mo au total) : {MAX_REQUEST_MB} Mo au plus par envoi."
        )


class Cancels:
    """One cancel flag per page session: « Annuler l'indexation » sets it, the running ingest polls it."""

    def __init__(self) -> None:
        self._flags: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def start(self, key: str) -> threading.Event:
        with self._lock:
            flag = self._flags[key] = threading.Event()
            return flag

    def request(self, key: str) -> bool:
        """Ask the session's running ingest to stop; False when none is running."""
        with self._lock:
            flag = self._flags.get(key)
        if flag is None:
            return False
        flag.set()
        return True

    def finish(self, key: str) -> None:
        with self._lock:
            self._flags.pop(key, None)


def add_uploads(
    files: Sequence[str],
    settings: Settings,
    ingest: Callable[..., Any],
    on_progress: Callable[[str, int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    about: dict[str, Any] | None = None,
) -> tuple[str, list[list[Any]]]:
    """Stage, index and report the uploaded ``files`` (Gradio temporary paths).

    ``about`` (title, publisher, year typed on the page) labels the staged files before they are indexed.
    Returns the summary (Markdown) and rows [file, result, passages, detail], one per uploaded file. A
    cancelled ingest has put the index back; its staged copies are removed and every file reads « annulé ».
    """
    paths = [Path(f) for f in files]
    check_request(paths)
    rows: list[list[Any]] = []
    accepted: list[tuple[str, Path]] = []
    for path in paths:
        if path.suffix.lower() not in UPLOAD_TYPES:
            rows.append([clean_label(path.name), STATUS_FR["failed"], 0, "Format non pris en charge (PDF, TXT ou MD)."])
        else:
            accepted.append((path.name, path))
    staged = stage_uploads(accepted, upload_dir(settings), indexed_files(settings))
    for item in staged:
        if item.path is None:
            rows.append([clean_label(item.original), STATUS_FR["unchanged"], 0, item.note])
    to_ingest = [item for item in staged if item.path is not None]
    if to_ingest:
        names = [item.name for item in to_ingest]
        describe_uploads(names, settings, **(about or {}))
        try:
            report = ingest([item.path for item in to_ingest], progress=on_progress, cancel=cancel)
        except IngestCancelled:
            forget_uploads(names, settings)
            for item in to_ingest:
                item.path.unlink(missing_ok=True)
            return CANCELLED, [[clean_label(s.original), STATUS_FR["cancelled"], 0, ""] for s in staged]
        discard_rejected(to_ingest, report)
        forget_uploads([o.source for o in report.outcomes if o.status == "failed" and o.source in names], settings)
        by_name = {item.name: item for item in to_ingest}
        for o in report.outcomes:
            item = by_name.get(o.source)
            shown = clean_label(item.original) if item else o.source
            note = item.note if item and o.status != "failed" else ""
            detail = " ".join(x for x in (note, o.reason or "") if x)
            rows.append([shown, STATUS_FR.get(o.status, o.status), o.chunks, detail])
    added = sum(1 for r in rows if r[1] == STATUS_FR["ingested"])
    summary = f"**{added} document(s) ajouté(s)** sur {len(paths)} fichier(s)."
    if added:
        summary += " Ils sont dès maintenant interrogeables."
    return summary, rows
