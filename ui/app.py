"""The Gradio web chat (``ess-assistant serve``): ask, read the streamed answer, open every source.

Safe by default: bound to 127.0.0.1, no share link, analytics off, every text from documents, answers
and users escaped before it reaches the page, upload size capped, no extra file routes, a queue with a
concurrency limit, and French messages instead of tracebacks. The answer, ingestion and retrieval
functions are injectable so the UI can be tested with fakes; by default they are the project's own.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import gradio as gr
from starlette.middleware import Middleware

from assistant.types import ANSWER_PASSAGES, MAX_QUESTION_CHARS, Answer, AnswerEvent, Citation, Passage, RequestError
from ui.api_args import checked_api_args
from ui.brief_tab import build_brief_tab
from ui.common import (
    ERROR_TITLE,
    DocumentsFn,
    default_documents,
    filter_choices,
    filter_kwargs,
    french_errors,
    mode_choices,
    refusal,
    safe_documents,
    user_message,
    warn,
)
from ui.corpus_tab import CorpusPanel, RemoveFn, ReplaceFn, build_corpus_tab, parse_year
from ui.export import Turn, write_conversation
from ui.filespace import EXPORT_MAX_AGE_S, discard, export_dir, private_space
from ui.guard import SessionGuard, check_owned, give, request_token
from ui.render import answer_markdown, chat_text, citation_label, context_html, draft_markdown, sources_html
from ui.uploads import LIMITS_FR, MAX_UPLOAD_MB, MAX_UPLOAD_PASSAGES, UPLOAD_TYPES, Cancels, add_uploads
from vectorstore.settings import Settings

log = logging.getLogger(__name__)

AskStream = Callable[..., Iterator[AnswerEvent]]
IngestFn = Callable[..., Any]
NeighboursFn = Callable[..., list[Passage]]

CONCURRENCY_LIMIT = 4
QUEUE_MAX_SIZE = 64
DEFAULT_K = ANSWER_PASSAGES
# The question box takes more than we answer: cutting silently in the browser would hide the shortening.
MAX_TYPED_CHARS = 100_000
_LIMIT = f"{MAX_QUESTION_CHARS:,}".replace(",", "\u202f")  # « 2 000 »
SHORTENED = (
    f"_Votre question dépassait {_LIMIT} caractères : elle a été raccourcie, seuls ses {_LIMIT} premiers "
    "caractères ont été pris en compte._"
)

ERROR_ANSWER = (
    "Désolé, une erreur est survenue pendant la préparation de la réponse. Réessayez dans un instant ; "
    "si le problème persiste, vérifiez que les documents ont bien été indexés (`ess-assistant ingest`)."
)

# A few generic questions per bundled document (not the evaluation set's), shown as examples.
EXAMPLES: dict[str, list[str]] = {
    "cress-occitanie_carnet-des-agoras_2021.md": [
        "Quels thèmes ont été abordés lors des Agoras de l'ESS en Occitanie ?",
        "Que propose la démarche de la République de l'ESS ?",
    ],
    "cress-occitanie_ess-nouveau-pacte-economique-et-social_2020.txt": [
        "Quel rôle l'ESS peut-elle jouer dans un nouveau pacte économique et social ?",
        "Quelles leçons les acteurs de l'ESS tirent-ils de la crise sanitaire ?",
    ],
    "anct_webinaire-ess-relance-territoires-fragiles_2021.txt": [
        "Comment l'ESS contribue-t-elle à la relance des territoires fragiles ?",
        "Quels leviers les collectivités ont-elles pour soutenir l'ESS dans les quartiers et zones rurales ?",
    ],
    "ess-france_focus-nouvelles-alliances-interet-general_2022.md": [
        "Qu'entend ESS France par les nouvelles alliances de l'intérêt général ?",
        "Comment l'ESS peut-elle coopérer avec l'État et les collectivités ?",
    ],
    "rtes_rencontres-territoires-et-ess_2013.txt": [
        "Que recouvrent les circuits courts financiers évoqués lors des rencontres ?",
        "Comment organiser la transversalité de l'ESS au sein d'une collectivité ?",
    ],
}

CSS = """
.ess-source { border: 1px solid var(--border-color-primary); border-radius: 6px; padding: 6px 10px;
  margin-bottom: 8px; }
.ess-source summary { cursor: pointer; }
.ess-n { font-weight: bold; color: var(--color-accent); }
.ess-meta, .ess-file { color: var(--body-text-color-subdued); font-size: 0.9em; }
.ess-passage, .ess-context { white-space: pre-wrap; margin-top: 6px; }
.ess-quote { display: block; margin: 4px 0 0 1.2em; font-style: italic; }
.ess-ctx-near { color: var(--body-text-color-subdued); margin: 6px 0; }
.ess-ctx-main { border-left: 3px solid var(--color-accent); padding-left: 8px; margin: 6px 0; }
.ess-source:target { outline: 2px solid var(--color-accent); }
mark { background: #ffe58a; color: inherit; }
"""

# The page is French (Gradio's template says "en": screen readers and hyphenation would read it as English).
# Gradio 6's pop-ups show their type as title (« Error », « Warning ») whatever title the server sends, and the
# upload component writes its own English refusal and labels: they are translated as they appear.
# Clicking a [n] marker of an answer follows its #ess-source-n link; this also opens that source card,
# again a moment later in case the panel was just redrawn with the clicked answer's sources.
JS = """
() => {
  document.documentElement.lang = "fr";
  const titles = {Error: "Erreur", Warning: "Attention", Info: "Information", Success: "Succès"};
  // Keys Gradio's French catalogue lacks, read out by screen readers as they are.
  const keys = {"common.complete": "Terminé", "common.error": "Erreur"};
  const uploadRefusal = /^Invalid file types?: (.*?)(?: and (\\d+) more)?\\. Only (.*) allowed\\.$/;
  // Labels Gradio's components write in English whatever the language (read by screen readers, shown on hover).
  const labels = {"Click to upload or drop files": "Cliquez ou déposez des fichiers",
                  "File upload": "Envoi de fichiers", "Copy table data": "Copier le tableau",
                  "Copied to clipboard": "Copié", "Dataframe": "Tableau",
                  "Table actions": "Actions du tableau", "Open cell menu": "Menu de la cellule",
                  "Fullscreen": "Plein écran", "Exit fullscreen": "Quitter le plein écran",
                  "chatbot conversation": "Conversation", "More tabs": "Autres onglets",
                  "Gradio footer navigation": "Liens du pied de page"};
  const translate = (root) => {
    root.querySelectorAll("[aria-label], [title]").forEach((el) => {
      for (const name of ["aria-label", "title"]) {
        const french = labels[el.getAttribute(name)];
        if (french) el.setAttribute(name, french);
      }
    });
    root.querySelectorAll(".toast-title").forEach((el) => {
      const text = el.firstChild;
      if (text && text.nodeType === Node.TEXT_NODE && titles[text.data.trim()]) {
        text.data = titles[text.data.trim()] + " ";
      }
    });
    root.querySelectorAll("[role='status']").forEach((el) => {
      if (keys[el.textContent.trim()]) el.textContent = keys[el.textContent.trim()];
    });
    root.querySelectorAll("[data-testid='toast-text']").forEach((el) => {
      const m = el.textContent.trim().match(uploadRefusal);
      if (m) {
        const more = m[2] ? ` et ${m[2]} autre(s)` : "";
        el.textContent = `Type de fichier non accepté : ${m[1]}${more}. Formats acceptés : ${m[3]}.`;
      }
    });
  };
  new MutationObserver(() => translate(document.body))
    .observe(document.body, {childList: true, subtree: true, characterData: true, attributes: true,
                             attributeFilter: ["aria-label", "title"]});
  const openCard = (id) => {
    const card = document.getElementById(id);
    if (card) { card.open = true; card.scrollIntoView({block: "nearest"}); }
  };
  document.addEventListener("click", (event) => {
    const link = event.target.closest('a[href^="#ess-source-"]');
    if (!link) return;
    const id = link.getAttribute("href").slice(1);
    openCard(id);
    setTimeout(() => openCard(id), 700);
  });
}
"""


# --- default back-ends (imported lazily so the UI loads even before an index exists) ----------------


def _default_ask_stream(
    question: str, history: list[dict] | None = None, **kwargs: Any
) -> Iterator[AnswerEvent]:
    from assistant.answer import stream_ask

    return stream_ask(question, history, **kwargs)


def _default_ingest(
    paths: Sequence[Path],
    progress: Callable[[str, int, int], None] | None = None,
    settings: Settings | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Any:
    from ingest.pipeline import ingest_paths

    return ingest_paths(list(paths), settings=settings, progress=progress, max_chunks=MAX_UPLOAD_PASSAGES,
                        cancel=cancel)


def _default_neighbours(chunk_id: str, before: int = 1, after: int = 1) -> list[Passage]:
    from assistant.retrieval import get_neighbours

    return get_neighbours(chunk_id, before=before, after=after)


# --- helpers ------------------------------------------------------------------------------------------


def _example_questions(docs: list[dict]) -> list[str]:
    present = {d.get("source") for d in docs}
    chosen = [q for src, qs in EXAMPLES.items() if src in present for q in qs]
    return chosen or [q for qs in EXAMPLES.values() for q in qs]


def _history(turns: list[Turn]) -> list[dict]:
    hist: list[dict] = []
    for question, answer in turns:
        if answer is not None:
            hist += [{"role": "user", "content": question}, {"role": "assistant", "content": answer.text}]
    return hist


def _picks(answer: Answer | None, turn: int) -> Any:
    """The citation picker for one exchange; values are 'turn:n' so older answers stay reachable."""
    cites = answer.citations if answer else []
    return gr.Radio(choices=[(citation_label(c), f"{turn}:{c.n}") for c in cites], value=None,
                    visible=bool(cites))


def _session_key(request: gr.Request | None) -> str:
    """The page session an event belongs to (its cancel flag's key)."""
    return str(getattr(request, "session_hash", None) or request_token(request) or "local")


def _final_answer(events: Iterator[AnswerEvent]) -> Answer:
    for ev in events:
        if ev.kind == "final" and ev.answer is not None:
            return ev.answer
    raise RuntimeError("answer stream ended without a final event")


# --- event handlers -----------------------------------------------------------------------------------


class ChatHandlers:
    """The app's event handlers over injectable back-ends, kept apart from the layout so tests call them."""

    def __init__(
        self,
        ask_stream: AskStream | None = None,
        ingest: IngestFn | None = None,
        neighbours: NeighboursFn | None = None,
        documents: DocumentsFn | None = None,
        settings: Settings | None = None,
        remove: RemoveFn | None = None,
        replace: ReplaceFn | None = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self.ask_stream = ask_stream or _default_ask_stream
        self.ingest = ingest or functools.partial(_default_ingest, settings=self.settings)
        self.neighbours = neighbours or _default_neighbours
        self.documents = documents or default_documents
        self.cancels = Cancels()
        self.corpus = CorpusPanel(self.documents, self.settings, remove, replace)

    def filter_choices(self) -> tuple[list, list, list]:
        return filter_choices(safe_documents(self.documents))

    def respond(
        self,
        question: str,
        chat: list[dict],
        turns: list[Turn],
        k: float = DEFAULT_K,
        mode: str = "extractive",
        f_sources: list[str] | None = None,
        f_publishers: list[str] | None = None,
        f_years: list[str] | None = None,
    ) -> Iterator[tuple]:
        """Stream one answer into the chat, then show its verified text and its sources.

        Yields (chat, question box, turns, sources panel, citation picker, context panel).
        """
        question = (question or "").strip()
        if not question:
            warn("Saisissez une question avant d'envoyer.")
            yield chat, gr.skip(), turns, gr.skip(), gr.skip(), gr.skip()
            return
        note = ""
        if len(question) > MAX_QUESTION_CHARS:
            question, note = question[:MAX_QUESTION_CHARS].rstrip(), SHORTENED + "\n\n"
        chat = [*chat, {"role": "user", "content": chat_text(question + ("…" if note else ""))},
                {"role": "assistant", "content": note + "_Recherche dans les documents…_"}]
        yield chat, "", turns, gr.skip(), gr.skip(), gr.skip()
        streamed = ""
        answer: Answer | None = None
        try:
            events = self.ask_stream(question, _history(turns), k=int(k), mode=mode or "extractive",
                                     **filter_kwargs(f_sources, f_publishers, f_years))
            for ev in events:
                if ev.kind == "token":
                    streamed += ev.text
                    chat = [*chat[:-1], {"role": "assistant", "content": note + draft_markdown(streamed)}]
                    yield chat, gr.skip(), turns, gr.skip(), gr.skip(), gr.skip()
                elif ev.kind == "final" and ev.answer is not None:
                    answer = ev.answer
                    break
            if answer is None:
                raise RuntimeError("answer stream ended without a final event")
        except Exception as exc:
            log.exception("Answering failed for question %r", question[:200])
            chat = [*chat[:-1],
                    {"role": "assistant", "content": note + chat_text(user_message(exc, ERROR_ANSWER))}]
            yield chat, gr.skip(), [*turns, (question, None)], sources_html(None), _picks(None, 0), ""
            return
        chat = [*chat[:-1], {"role": "assistant", "content": note + answer_markdown(answer)}]
        turns = [*turns, (question, answer)]
        yield chat, gr.skip(), turns, sources_html(answer), _picks(answer, len(turns) - 1), ""

    @staticmethod
    def select_turn(turns: list[Turn], evt: gr.SelectData) -> tuple:
        """Clicking a message of the chat shows the sources of that exchange in the panel."""
        index = evt.index if isinstance(evt.index, int) else evt.index[0]
        t = int(index) // 2  # every exchange is one user message then one assistant message
        if not 0 <= t < len(turns):
            return gr.skip(), gr.skip(), gr.skip()
        answer = turns[t][1]
        return sources_html(answer), _picks(answer, t), ""

    def show_context(self, picked: str | None, turns: list[Turn]) -> str:
        """The chosen citation's passage between its neighbours (fetched only now, on demand)."""
        try:
            t, n = (int(x) for x in str(picked).split(":"))
            answer = turns[t][1]
        except (ValueError, IndexError):
            return ""
        citation: Citation | None = next((c for c in answer.citations if c.n == n), None) if answer else None
        if citation is None:
            return ""
        try:
            near = self.neighbours(citation.passage.chunk_id, before=1, after=1)
        except Exception:
            log.warning("Could not fetch neighbours of %s", citation.passage.chunk_id, exc_info=True)
            return context_html(citation, []) + "<p><em>Le texte voisin n'est pas disponible.</em></p>"
        return context_html(citation, near)

    @staticmethod
    def new_conversation() -> tuple:
        """Empty chat, conversation, sources, picker, context and export."""
        return (
            [], [], sources_html(None), gr.Radio(choices=[], value=None, visible=False), "",
            gr.File(value=None, visible=False),
        )

    @staticmethod
    @french_errors("L'export de la conversation")
    def export(turns: list[Turn], request: gr.Request | None = None) -> Any:
        """The conversation as a Markdown file in the private space, served to this session only."""
        if not turns:
            warn("La conversation est vide : posez d'abord une question.")
            return gr.File(value=None, visible=False)
        path = write_conversation(turns, export_dir())
        give(request, path)
        return gr.File(value=str(path), visible=True)

    def refresh_filters(self) -> tuple:
        t, p, y = self.filter_choices()
        return gr.Dropdown(choices=t), gr.Dropdown(choices=p), gr.Dropdown(choices=y)

    @french_errors("L'ajout des documents")
    def add_documents(
        self,
        files: list[str] | None,
        title: str = "",
        publisher: str = "",
        year: str = "",
        request: gr.Request | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008
    ) -> tuple:
        """Stage uploads under names that hijack nothing, label them with the title, publisher and year
        typed (if any), ingest them, report one line per file.

        Through the app, only files this session uploaded are taken (the API cannot index a file of another
        session by giving its path); they leave the private space once copied. Returns (summary, rows [file,
        result, passages, detail], then the three refreshed filters).
        """
        files = list(files or [])
        check_owned(request, files)
        about = {"title": title or "", "publisher": publisher or "", "year": parse_year(year)}
        progress((0, len(files)), desc="Préparation de l'indexation…")

        def on_progress(name: str, done: int, total: int) -> None:
            desc = f"Indexation : {name}" if name else "Mise à jour de l'index de recherche…"
            progress((done, total), desc=desc, unit="fichiers")

        key = _session_key(request)
        flag = self.cancels.start(key)
        try:
            summary, rows = add_uploads(files, self.settings, self.ingest, on_progress, flag.is_set, about)
        finally:
            self.cancels.finish(key)
            discard(files)
        return (summary, rows, *self.refresh_filters())

    def cancel_upload(self, request: gr.Request | None = None) -> None:
        """« Annuler l'indexation »: the session's running ingest stops at its next batch and is undone."""
        if self.cancels.request(_session_key(request)):
            gr.Info("Annulation demandée : l'indexation s'arrête et l'index reste tel qu'il était.",
                    title="Information")
        else:
            warn("Aucune indexation en cours à annuler.")

    @staticmethod
    def clear_upload_form() -> tuple:
        """After an upload, the form is emptied: the next files are not sent again with these labels."""
        return gr.File(value=None), "", "", ""

    def api_ask(
        self,
        question: str,
        k: int = DEFAULT_K,
        mode: str = "extractive",
        source: list[str] | None = None,
        publisher: list[str] | None = None,
        year: list[int] | None = None,
    ) -> dict:
        """Answer one question with its citations (JSON: answer, citations, abstained, mode, warnings, leads)."""
        try:
            question, k, mode, filters = checked_api_args(question, k, mode, source, publisher, year)
        except RequestError as exc:
            raise refusal(str(exc)) from None
        try:
            answer = _final_answer(self.ask_stream(question, None, k=k, mode=mode, **filters))
        except Exception as exc:
            log.exception("API answer failed")
            raise gr.Error(user_message(exc, ERROR_ANSWER), title=ERROR_TITLE) from exc
        return answer.to_dict()


# --- the app ------------------------------------------------------------------------------------------


def build_app(
    ask_stream: AskStream | None = None,
    ingest: IngestFn | None = None,
    neighbours: NeighboursFn | None = None,
    documents: DocumentsFn | None = None,
    settings: Settings | None = None,
    remove: RemoveFn | None = None,
    replace: ReplaceFn | None = None,
) -> gr.Blocks:
    """Build the Blocks app; pass fakes for ``ask_stream`` etc. in tests, defaults use the real pipeline."""
    private_space()  # Gradio's cache: before any component is built (they read GRADIO_TEMP_DIR then)
    h = ChatHandlers(ask_stream, ingest, neighbours, documents, settings, remove, replace)
    docs = safe_documents(h.documents)
    titles, publishers, years = filter_choices(docs)
    modes, mode_info = mode_choices(h.settings)

    # delete_cache: every 10 min, files the app put in its cache over an hour ago go; all of them at shutdown.
    with gr.Blocks(title="ESS Assistant", analytics_enabled=False, fill_width=True,
                   delete_cache=(600, EXPORT_MAX_AGE_S)) as demo:
        turns_state = gr.State([])
        gr.Markdown(
            "# ESS Assistant\nQuestions sur les documents de l'économie sociale et solidaire : chaque "
            "affirmation renvoie à un passage numéroté **[n]**, consultable dans le panneau des sources."
        )
        with gr.Tabs():
            with gr.Tab("Discussion"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(
                        label="Discussion", elem_id="ess-chat", height=480, sanitize_html=True,
                        render_markdown=True, allow_tags=False, latex_delimiters=[],
                        feedback_options=None, buttons=["copy"],
                        placeholder="Posez une question : la réponse cite ses sources.",
                    )
                    with gr.Row():
                        question = gr.Textbox(
                            show_label=False, placeholder="Votre question sur l'ESS…", scale=5,
                            max_length=MAX_TYPED_CHARS, elem_id="ess-question", submit_btn=False,
                        )
                        send = gr.Button("Envoyer", variant="primary", scale=1, elem_id="ess-send")
                    with gr.Row():
                        new_btn = gr.Button("Nouvelle conversation", elem_id="ess-new")
                        export_btn = gr.Button("Exporter en Markdown", elem_id="ess-export")
                    export_file = gr.File(label="Conversation exportée", visible=False,
                                          interactive=False, elem_id="ess-export-file")
                    examples = _example_questions(docs)
                    # All on one page: Gradio's pager is labelled in English (« Pages: 1 2 »).
                    gr.Examples(examples=[[q] for q in examples], inputs=[question],
                                label="Exemples de questions", examples_per_page=len(examples))
                    with gr.Accordion("Filtres et réglages (pour la prochaine question)", open=False):
                        f_sources = gr.Dropdown(choices=titles, multiselect=True, label="Documents",
                                                info="Vide : tous les documents.")
                        f_publishers = gr.Dropdown(choices=publishers, multiselect=True, label="Éditeurs")
                        f_years = gr.Dropdown(choices=years, multiselect=True, label="Années")
                        k = gr.Slider(1, 15, value=DEFAULT_K, step=1,
                                      label="Nombre de passages consultés")
                        mode = gr.Radio(choices=modes, value=modes[-1][1], label="Mode de réponse",
                                        info=mode_info, interactive=len(modes) > 1)
                with gr.Column(scale=2):
                    gr.Markdown(
                        "### Sources\nCliquez sur une réponse de la discussion pour revoir ses sources ; "
                        "ouvrez une source pour lire le passage, la phrase citée surlignée."
                    )
                    sources = gr.HTML(sources_html(None), elem_id="ess-sources", js_on_load=None)
                    pick = gr.Radio(choices=[], label="Voir un passage dans son contexte", visible=False,
                                    elem_id="ess-pick")
                    context = gr.HTML("", elem_id="ess-context", js_on_load=None)

            with gr.Tab("Ajouter des documents"):
                gr.Markdown(LIMITS_FR + "Les documents ajoutés sont interrogeables dès la fin de l'indexation.")
                files = gr.File(file_count="multiple", file_types=UPLOAD_TYPES, type="filepath",
                                label="Fichiers à ajouter", elem_id="ess-upload")
                with gr.Row():
                    up_title = gr.Textbox("", label="Titre (facultatif)", elem_id="ess-up-title", scale=3,
                                          info="Un seul fichier : son titre. Vide : tiré du nom du fichier.")
                    up_publisher = gr.Textbox("", label="Éditeur (facultatif)", elem_id="ess-up-publisher", scale=2)
                    up_year = gr.Textbox("", label="Année (facultatif)", elem_id="ess-up-year", max_length=4, scale=1)
                with gr.Row():
                    add_btn = gr.Button("Ajouter au corpus", variant="primary", elem_id="ess-add")
                    cancel_btn = gr.Button("Annuler l'indexation", variant="stop", elem_id="ess-cancel-add")
                add_summary = gr.Markdown(elem_id="ess-add-summary")
                add_table = gr.Dataframe(headers=["Fichier", "Résultat", "Passages", "Détail"],
                                         datatype=["str", "str", "number", "str"], interactive=False,
                                         wrap=True, elem_id="ess-add-table")

            with gr.Tab("Note de synthèse"):
                build_brief_tab()

            with gr.Tab("Corpus"):
                corpus = build_corpus_tab(h.corpus)

        gr.on(
            [question.submit, send.click], h.respond,
            inputs=[question, chatbot, turns_state, k, mode, f_sources, f_publishers, f_years],
            outputs=[chatbot, question, turns_state, sources, pick, context],
            api_visibility="private", concurrency_id="answer",
        )
        chatbot.select(h.select_turn, turns_state, [sources, pick, context], api_visibility="private")
        pick.change(h.show_context, [pick, turns_state], context, api_visibility="private")
        reset_outputs = [chatbot, turns_state, sources, pick, context, export_file]
        new_btn.click(h.new_conversation, None, reset_outputs, api_visibility="private")
        chatbot.clear(h.new_conversation, None, reset_outputs, api_visibility="private")
        export_btn.click(h.export, turns_state, export_file, api_visibility="private")
        filters = [f_sources, f_publishers, f_years]
        add_btn.click(h.add_documents, [files, up_title, up_publisher, up_year], [add_summary, add_table, *filters],
                      api_name="ajouter_documents", concurrency_limit=1, concurrency_id="ingest",
                      ).then(h.corpus.refresh, None, [corpus.table, corpus.picker], api_visibility="private",
                      ).success(h.clear_upload_form, None, [files, up_title, up_publisher, up_year],
                             api_visibility="private")
        cancel_btn.click(h.cancel_upload, None, None, api_visibility="private", concurrency_id="cancel")
        corpus.changed.then(h.refresh_filters, None, filters, api_visibility="private")
        demo.load(h.refresh_filters, None, filters, api_visibility="private")
        demo.load(h.corpus.refresh, None, [corpus.table, corpus.picker], api_visibility="private")
        gr.api(h.api_ask, api_name="ask", concurrency_id="answer")  # shares the chat's concurrency cap

    demo.queue(default_concurrency_limit=CONCURRENCY_LIMIT, max_size=QUEUE_MAX_SIZE)
    return demo


def launch_options(host: str = "127.0.0.1", port: int = 7860) -> dict[str, Any]:
    """launch() arguments that keep the app private and quiet; shared by serve() and the tests."""
    return {
        "server_name": host,
        "server_port": port,
        "share": False,
        "inbrowser": False,
        "show_error": False,  # gr.Error messages (French) still reach users; other errors' texts may hold paths
        "max_file_size": f"{MAX_UPLOAD_MB}mb",
        "allowed_paths": [],
        "app_kwargs": {"middleware": [Middleware(SessionGuard)]},
        "enable_monitoring": False,
        "mcp_server": False,
        "ssr_mode": False,
        "pwa": False,
        "run_history": False,
        "footer_links": ["api"],
        "strict_cors": True,
        "theme": gr.themes.Default(font=["ui-sans-serif", "system-ui", "sans-serif"],
                                   font_mono=["ui-monospace", "monospace"]),
        "css": CSS,
        "js": JS,
        "quiet": True,
    }


class ServeError(RuntimeError):
    """The web chat could not start (message in French)."""


def serve(host: str = "127.0.0.1", port: int = 7860) -> None:
    """Run the web chat until interrupted (what ``ess-assistant serve`` and ``make run`` open)."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        log.warning("Serving on %s: the app has no authentication, anyone on the network can use it", host)
    app = build_app()
    try:
        app.launch(prevent_thread_lock=True, **launch_options(host, port))
    except OSError as exc:  # Gradio's « Cannot find empty port in range… », or an address not on this machine
        raise ServeError(
            f"Impossible d'ouvrir le chat sur {host}:{port} : ce port est déjà utilisé (un autre ESS Assistant "
            "est peut-être ouvert) ou l'adresse n'est pas celle de cette machine. Choisissez un autre port : "
            "« ess-assistant serve --port 8080 » ou « make run PORT=8080 »."
        ) from exc
    print(f"ESS Assistant : http://{host}:{port}/", flush=True)  # only once the server really listens
    app.block_thread()
