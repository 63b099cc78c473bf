"""The « Note de synthèse » tab: a topic in, a sourced note out, downloadable as Markdown and Word.

Built inside the web app's gr.Tab by ``build_brief_tab()``. The note is shown as escaped Markdown (corpus
text cannot inject markup) and both files are written to a fresh private temporary folder per note.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.brief_export import safe_filename, to_markdown, write_brief
from assistant.briefing import Brief
from ui.common import (
    default_documents,
    filter_choices,
    filter_kwargs,
    french_errors,
    mode_choices,
    refusal,
    safe_documents,
)
from ui.filespace import private_space
from ui.guard import give
from vectorstore.settings import Settings

log = logging.getLogger(__name__)

BriefFn = Callable[..., Brief]
MAX_TOPIC_CHARS = 300
_EXPORT_ROOT = Path(tempfile.gettempdir()) / "ess-assistant-briefs"
_FOLDER_PREFIX = "note-"
KEEP_EXPORTS_S = 24 * 3600


def _prune(export_root: Path, now: float | None = None) -> None:
    """Delete our notes' folders older than a day, so a long-running server does not fill the disk."""
    limit = (now or time.time()) - KEEP_EXPORTS_S
    for folder in export_root.glob(_FOLDER_PREFIX + "*"):
        if folder.is_dir() and not folder.is_symlink() and folder.stat().st_mtime < limit:
            shutil.rmtree(folder, ignore_errors=True)


def _default_brief(topic: str, **kwargs: Any) -> Brief:
    from assistant.briefing import brief

    return brief(topic, **kwargs)


def generate_note(
    topic: str,
    sources: list[str] | None,
    publishers: list[str] | None,
    years: list[str] | None,
    mode: str,
    *,
    make_brief: BriefFn = _default_brief,
    export_root: Path = _EXPORT_ROOT,
) -> tuple[str, Path | None, Path | None]:
    """The note as Markdown for display and its .md and .docx files (None, None when there is no note)."""
    topic = " ".join((topic or "").split())
    if not topic:
        raise refusal("Indiquez le sujet de la note, par exemple « les PTCE ».")
    if len(topic) > MAX_TOPIC_CHARS:
        raise refusal(f"Le sujet est trop long (plus de {MAX_TOPIC_CHARS} caractères) : résumez-le.")
    note = make_brief(topic, extractive=mode != "llm", **filter_kwargs(sources, publishers, years))
    shown = to_markdown(note, footnotes=False)
    if not note.sections:
        return shown, None, None
    export_root.mkdir(mode=0o700, parents=True, exist_ok=True)
    _prune(export_root)
    folder = Path(tempfile.mkdtemp(prefix=_FOLDER_PREFIX, dir=export_root))
    md = write_brief(note, folder / safe_filename(note.topic, ".md"), root=folder)
    docx = write_brief(note, folder / safe_filename(note.topic, ".docx"), root=folder)
    log.info("brief %r exported to %s", topic, folder)
    return shown, md, docx


def build_brief_tab(
    make_brief: BriefFn | None = None,
    documents: Callable[[], list[dict]] | None = None,
    settings: Settings | None = None,
) -> None:
    """Lay out the tab's components (inside the caller's gr.Tab) and wire the generate button."""
    settings = settings or Settings.from_env()
    titles, publishers, years = filter_choices(safe_documents(documents or default_documents))
    modes, mode_info = mode_choices(settings)
    gr.Markdown(
        "Une note structurée sur un sujet (contexte, chiffres clés, acteurs, propositions, exemples, points "
        "de vigilance), où chaque point renvoie à sa source. Téléchargeable en Markdown et en Word."
    )
    with gr.Row():
        topic = gr.Textbox(
            label="Sujet de la note",
            placeholder="ex. les PTCE, ESS et commande publique…",
            max_length=MAX_TOPIC_CHARS,
            scale=5,
            elem_id="ess-brief-topic",
            submit_btn=False,
        )
        generate = gr.Button("Générer la note", variant="primary", scale=1, elem_id="ess-brief-generate")
    with gr.Accordion("Filtres et mode", open=False):
        f_sources = gr.Dropdown(choices=titles, multiselect=True, label="Documents", info="Vide : tous les documents.")
        f_publishers = gr.Dropdown(choices=publishers, multiselect=True, label="Éditeurs")
        f_years = gr.Dropdown(choices=years, multiselect=True, label="Années")
        mode = gr.Radio(
            choices=modes,
            value="extractive",
            label="Mode de rédaction",
            info=mode_info,
            interactive=len(modes) > 1,
        )
    with gr.Row():
        md_button = gr.DownloadButton("Télécharger (.md)", visible=False, elem_id="ess-brief-md")
        docx_button = gr.DownloadButton("Télécharger (.docx)", visible=False, elem_id="ess-brief-docx")
    note = gr.Markdown("", sanitize_html=True, elem_id="ess-brief-note", latex_delimiters=[])

    @french_errors("La note de synthèse")
    def on_generate(
        topic: str, sources: list[str], publishers: list[str], years: list[str], mode: str,
        request: gr.Request | None = None,
    ) -> tuple:
        # Written in the app's private space and served to this session only (ui.guard).
        shown, md, docx = generate_note(
            topic, sources, publishers, years, mode, make_brief=make_brief or _default_brief,
            export_root=private_space() / "notes",
        )
        give(request, md, docx)
        return (
            shown,
            gr.DownloadButton(value=md, visible=md is not None),
            gr.DownloadButton(value=docx, visible=docx is not None),
        )

    inputs = [topic, f_sources, f_publishers, f_years, mode]
    for trigger in (generate.click, topic.submit):
        trigger(on_generate, inputs, [note, md_button, docx_button], api_visibility="private", concurrency_limit=2)
