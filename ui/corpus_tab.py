"""The « Corpus » tab: what the index holds, and taking a document out or replacing it, each confirmed.

Built inside the web app's gr.Tab by ``build_corpus_tab()``. Removing and replacing are two steps: the
button only asks (« Retirer « X » du corpus ? »), the confirmation does it; the table, the document
picker and the chat's filters are refreshed after. Replacing is the one way a file can take the place of
an indexed document of the same name (a plain upload never does).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import gradio as gr

from ingest.corpus import remove_document
from ingest.pipeline import IngestReport
from ui.common import DocumentsFn, french_errors, refusal, safe_documents
from ui.filespace import discard
from ui.guard import check_owned
from ui.render import chat_text
from vectorstore.settings import Settings

log = logging.getLogger(__name__)

RemoveFn = Callable[..., IngestReport]
ReplaceFn = Callable[..., IngestReport]
COLUMNS = ["Titre", "Éditeur", "Année", "Passages", "Indexé le", "Fichier"]
NONE_PENDING: tuple[str, str] = ("", "")


def _indexed_on(value: str | None) -> str:
    """« 02/12/2026 11:58 » from the manifest's ISO date (« — » for documents indexed before it was kept)."""
    if not value:
        return "—"
    try:
        return datetime.fromisoformat(value).strftime("%d/%m/%Y %H:%M")
    except ValueError:
        return "—"


def document_rows(docs: list[dict]) -> list[list[Any]]:
    """One table row per indexed document, by title."""
    rows = [
        [str(d.get("title") or d["source"]), str(d.get("publisher") or "—"), d.get("year") or "—",
         int(d.get("passages") or 0), _indexed_on(d.get("indexed_at")), str(d["source"])]
        for d in docs if d.get("source")
    ]
    return sorted(rows, key=lambda r: r[0].lower())


def document_choices(docs: list[dict]) -> list[tuple[str, str]]:
    """Picker choices (« title — file », file), by title."""
    return sorted(((f"{d.get('title') or d['source']} — {d['source']}", str(d["source"])) for d in docs
                   if d.get("source")), key=lambda c: c[0].lower())


def parse_year(text: str | None) -> int | None:
    """The year typed for an upload (empty: none), or a French refusal."""
    text = (text or "").strip()
    if not text:
        return None
    if not (text.isdigit() and len(text) == 4 and 1800 <= int(text) <= datetime.now().year + 1):
        raise refusal(f"Année invalide « {text} » : indiquez une année à quatre chiffres, par exemple 2021.")
    return int(text)


def _default_replace(upload: Path, source: str, *, settings: Settings, ingest: Any = None) -> IngestReport:
    from ingest.uploads import replace_document

    return replace_document(upload, source, settings=settings, **({"ingest": ingest} if ingest else {}))


@dataclass
class CorpusPanel:
    """The tab's handlers over injectable back-ends (tests pass fakes)."""

    documents: DocumentsFn
    settings: Settings
    remove: RemoveFn | None = None
    replace: ReplaceFn | None = None

    def _docs(self) -> list[dict]:
        return safe_documents(self.documents)

    def _title(self, source: str) -> str:
        return next((str(d.get("title") or source) for d in self._docs() if d.get("source") == source), source)

    def refresh(self) -> tuple:
        """(table rows, document picker) as they are now."""
        docs = self._docs()
        return document_rows(docs), gr.Dropdown(choices=document_choices(docs), value=None)

    def ask_removal(self, source: str | None) -> tuple:
        """Show the confirmation for removing ``source``; nothing is removed yet."""
        if not source:
            raise refusal("Choisissez d'abord le document à retirer.")
        what = f"« {chat_text(self._title(source))} » ({chat_text(source)})"
        question = (f"Retirer {what} du corpus ? Ses passages ne seront plus cités ; vous pourrez l'ajouter à "
                    "nouveau plus tard.")
        return gr.Group(visible=True), question, ("remove", source)

    def ask_replacement(self, source: str | None, upload: str | None) -> tuple:
        """Show the confirmation for replacing ``source`` by the chosen file; nothing is replaced yet."""
        if not source:
            raise refusal("Choisissez d'abord le document à remplacer.")
        if not upload:
            raise refusal("Choisissez le fichier qui remplacera ce document.")
        what = f"« {chat_text(self._title(source))} » ({chat_text(source)})"
        question = f"Remplacer {what} par « {chat_text(Path(upload).name)} » ? L'ancienne version ne sera plus citée."
        return gr.Group(visible=True), question, ("replace", source)

    @staticmethod
    def cancel() -> tuple:
        return gr.Group(visible=False), "", NONE_PENDING, "Rien n'a été modifié."

    @french_errors("La modification du corpus")
    def confirm(
        self, pending: tuple[str, str] | list[str] | None, upload: str | None, request: gr.Request | None = None
    ) -> tuple:
        """Do the confirmed action; returns (summary, table, picker, confirmation box, pending, upload)."""
        action, source = tuple(pending or NONE_PENDING)
        title = self._title(source)
        if action == "remove":
            report = remove_document(source, self.settings, **({"remove": self.remove} if self.remove else {}))
            done = report.count("removed")
            summary = (f"**« {chat_text(title)} » a été retiré du corpus.**" if done
                       else f"Le document n'a pas été retiré : {chat_text(_reason(report))}")
        elif action == "replace":
            if not upload:
                raise refusal("Choisissez le fichier qui remplacera ce document.")
            check_owned(request, [upload])  # only a file this session uploaded; it leaves the cache once used
            replace = self.replace or _default_replace
            try:
                report = replace(Path(upload), source, settings=self.settings)
            finally:
                discard([upload])
            done = any(o.source == source and o.status in ("ingested", "unchanged") for o in report.outcomes)
            summary = (f"**« {chat_text(title)} » a été remplacé** ({sum(o.chunks for o in report.outcomes)} passages)."
                       if done else f"Le document n'a pas été remplacé : {chat_text(_reason(report))}")
        else:
            raise refusal("Aucune modification à confirmer.")
        log.info("corpus panel: %s %s (%s)", action, source, "done" if done else "refused")
        return (summary, *self.refresh(), gr.Group(visible=False), NONE_PENDING, gr.File(value=None))


def _reason(report: IngestReport) -> str:
    return next((o.reason for o in report.outcomes if o.reason), "raison inconnue.")


@dataclass
class CorpusTab:
    """The components other tabs refresh (after an upload) and the picker/table to update."""

    table: gr.Dataframe
    picker: gr.Dropdown
    changed: Any  # the confirmation's event: chain a refresh of other components with .then()


def build_corpus_tab(panel: CorpusPanel) -> CorpusTab:
    """Lay out the tab's components (inside the caller's gr.Tab) and wire its buttons."""
    docs = safe_documents(panel.documents)
    gr.Markdown("Les documents indexés, dans lesquels le chat et les notes cherchent leurs réponses.")
    table = gr.Dataframe(value=document_rows(docs), headers=COLUMNS,
                         datatype=["str", "str", "str", "number", "str", "str"], interactive=False, wrap=True,
                         elem_id="ess-corpus-table")
    picker = gr.Dropdown(choices=document_choices(docs), value=None, label="Document",
                         elem_id="ess-corpus-pick")
    with gr.Row():
        remove_btn = gr.Button("Retirer du corpus…", variant="stop", elem_id="ess-corpus-remove")
        replace_btn = gr.Button("Remplacer par un nouveau fichier…", elem_id="ess-corpus-replace")
    upload = gr.File(file_count="single", file_types=[".pdf", ".txt", ".md"], type="filepath",
                     label="Nouvelle version (pour « Remplacer »)", elem_id="ess-corpus-file")
    pending = gr.State(NONE_PENDING)
    with gr.Group(visible=False, elem_id="ess-corpus-confirm") as confirm_box:
        question = gr.Markdown(elem_id="ess-corpus-question")
        with gr.Row():
            confirm_btn = gr.Button("Confirmer", variant="stop", elem_id="ess-corpus-yes")
            cancel_btn = gr.Button("Annuler", elem_id="ess-corpus-no")
    summary = gr.Markdown(elem_id="ess-corpus-summary")

    private = {"api_visibility": "private"}
    remove_btn.click(panel.ask_removal, picker, [confirm_box, question, pending], **private)
    replace_btn.click(panel.ask_replacement, [picker, upload], [confirm_box, question, pending], **private)
    cancel_btn.click(panel.cancel, None, [confirm_box, question, pending, summary], **private)
    outputs = [summary, table, picker, confirm_box, pending, upload]
    changed = confirm_btn.click(panel.confirm, [pending, upload], outputs, concurrency_limit=1,
                                concurrency_id="ingest", **private)
    return CorpusTab(table, picker, changed)
