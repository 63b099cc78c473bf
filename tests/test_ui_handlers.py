"""The web chat's event handlers, called directly with the fake answerer (no server)."""

from __future__ import annotations

import dataclasses
import warnings
from pathlib import Path

import gradio as gr
import pytest

from assistant.types import AnswerEvent
from tests.ui_fixtures.fakes import FakeAnswerer, fake_documents, fake_ingest, fake_neighbours
from ui.app import ERROR_ANSWER, MAX_QUESTION_CHARS, ChatHandlers, build_app
from ui.common import mode_choices
from vectorstore.settings import Settings

QUESTION = "Que proposent les acteurs pour un nouveau pacte ?"


@pytest.fixture()
def handlers(tmp_path: Path) -> ChatHandlers:
    settings = dataclasses.replace(Settings.from_env(), index_dir=tmp_path / "index", llm_provider=None)
    return ChatHandlers(FakeAnswerer(), fake_ingest, fake_neighbours, fake_documents, settings)


def _run(h: ChatHandlers, question: str, turns=None, **kw):
    return list(h.respond(question, [], turns or [], **kw))


def test_answer_streams_then_shows_verified_text_and_sources(handlers):
    updates = _run(handlers, QUESTION)
    streamed = [u[0][-1]["content"] for u in updates[1:-1]]
    assert len(streamed) > 3 and all(s.endswith("▌") for s in streamed)
    assert len(streamed[0]) < len(streamed[-1])  # the bubble grows token by token
    chat, box, turns, sources, picks, context = updates[-1]
    assert chat[0] == {"role": "user", "content": QUESTION}
    assert "[**[1]**](#ess-source-1)" in chat[-1]["content"] and "▌" not in chat[-1]["content"]
    assert updates[0][1] == ""  # question box cleared at once
    assert len(turns) == 1 and turns[0][1].citations
    assert "<mark>" in sources and 'id="ess-source-1"' in sources
    assert picks.choices[0][1] == "0:1" and context == ""


def test_settings_filters_and_history_reach_the_answerer(handlers):
    first = _run(handlers, QUESTION)[-1][2]
    _run(handlers, "Et la coopération ?", turns=first, k=3, mode="extractive",
         f_sources=["pactes.txt"], f_publishers=["CRESS Test"], f_years=["2020"])
    call = handlers.ask_stream.calls[-1]
    assert call["k"] == 3 and call["mode"] == "extractive"
    assert call["source"] == ["pactes.txt"] and call["publisher"] == ["CRESS Test"] and call["year"] == [2020]
    assert [m["role"] for m in call["history"]] == ["user", "assistant"]
    assert call["history"][0]["content"] == QUESTION
    assert "publisher" not in handlers.ask_stream.calls[0]  # empty filters are not sent


def test_user_markup_is_shown_as_text(handlers):
    chat = _run(handlers, "<img src=x onerror=alert(1)> pacte ?")[-1][0]
    assert chat[0]["content"].startswith("&lt;img src=x onerror=alert(1)&gt;")


def test_failure_gives_a_french_message_and_keeps_the_conversation(handlers):
    def broken(question, history=None, **kw):
        yield AnswerEvent(kind="token", text="Début ")
        raise RuntimeError("index corrupted: Traceback ...")

    ok_turns = _run(handlers, QUESTION)[-1][2]
    fake = handlers.ask_stream
    handlers.ask_stream = broken
    chat, _, turns, *_ = _run(handlers, "Autre question ?", turns=ok_turns)[-1]
    assert chat[-1]["content"] == ERROR_ANSWER and "Traceback" not in chat[-1]["content"]
    assert turns == [*ok_turns, ("Autre question ?", None)]
    with pytest.raises(gr.Error, match="Désolé"):
        handlers.api_ask("Autre question ?")
    handlers.ask_stream = fake
    _run(handlers, "Et la coopération ?", turns=turns)
    assert len(fake.calls[-1]["history"]) == 2  # the failed exchange is not sent as history


def test_empty_question_is_refused_politely(handlers):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        updates = _run(handlers, "   ")
    assert len(updates) == 1 and updates[0][2] == []
    assert any("Saisissez une question" in str(w.message) for w in caught)
    with pytest.raises(gr.Error, match="vide"):
        handlers.api_ask("   ")
    assert handlers.ask_stream.calls == []


def test_a_long_question_is_shortened_and_the_chat_says_so(handlers):
    question = "Que proposent les acteurs pour un nouveau pacte ? " + "x" * 5000
    chat = _run(handlers, question)[-1][0]
    asked = handlers.ask_stream.calls[-1]["question"]
    assert len(asked) == MAX_QUESTION_CHARS and question.startswith(asked)
    assert chat[-1]["content"].startswith("_Votre question dépassait 2\u202f000 caractères : elle a été raccourcie")
    assert "[1]" in chat[-1]["content"]  # and it is answered
    with pytest.raises(gr.Error, match="trop longue"):  # a script gets an explicit refusal instead
        handlers.api_ask(question)


def test_context_on_demand_uses_neighbours(handlers):
    turns = _run(handlers, "coopération territoriale collectivités")[-1][2]
    html = handlers.show_context("0:1", turns)
    assert "Introduction du pacte" in html and "Conclusion" in html and "<mark>" in html

    def down(*a, **k):
        raise ConnectionError("chroma down")

    handlers.neighbours = down
    assert "Le texte voisin n'est pas disponible" in handlers.show_context("0:1", turns)
    assert handlers.show_context(None, turns) == "" and handlers.show_context("3:1", turns) == ""


def test_clicking_an_older_message_shows_its_sources(handlers):
    turns = _run(handlers, QUESTION)[-1][2]
    turns = _run(handlers, "coopération territoriale collectivités", turns=turns)[-1][2]
    sources, picks, _ = handlers.select_turn(turns, gr.SelectData(None, {"index": 1, "value": ""}))
    assert "Les acteurs de l'ESS proposent" in sources
    assert [v for _, v in picks.choices][0] == "0:1"
    sources, picks, _ = handlers.select_turn(turns, gr.SelectData(None, {"index": 2, "value": ""}))
    assert "La coopération territoriale réunit" in sources and picks.choices[0][1] == "1:1"


def test_export_and_new_conversation(handlers):
    turns = _run(handlers, QUESTION)[-1][2]
    update = handlers.export(turns)
    text = Path(update.value["path"] if isinstance(update.value, dict) else update.value).read_text("utf-8")
    assert QUESTION in text and "### Sources" in text
    chat, new_turns, sources, picks, context, _ = handlers.new_conversation()
    assert chat == [] and new_turns == [] and "s'afficheront ici" in sources and context == ""


def test_upload_reports_each_file_and_refreshes_filters(handlers, tmp_path):
    good = tmp_path / "note.txt"
    good.write_text("Une note sur l'ESS.", encoding="utf-8")
    bad = tmp_path / "abîmé <x>.pdf"
    bad.write_bytes(b"not a pdf at all")
    other = tmp_path / "image.png"
    other.write_bytes(b"\x89PNG")
    summary, rows, *filters = handlers.add_documents([str(good), str(bad), str(other)])
    by_name = {r[0]: r for r in rows}
    assert by_name["note.txt"][1] == "ajouté"
    assert by_name["abîmé <x>.pdf"][1] == "non ajouté" and "endommagé" in by_name["abîmé <x>.pdf"][3]
    assert by_name["image.png"][1] == "non ajouté" and "Format" in by_name["image.png"][3]
    assert summary.startswith("**1 document(s) ajouté(s)** sur 3")
    uploads = handlers.settings.index_dir / "uploads"
    assert sorted(uploads.iterdir()) == [uploads / "note.txt"]  # the rejected PDF is not kept
    assert ("Pacte ESS", "pactes.txt") in filters[0].choices
    with pytest.raises(gr.Error, match="Choisissez"):
        handlers.add_documents([])


def test_llm_mode_offered_only_when_configured():
    base = Settings.from_env()
    modes, info = mode_choices(dataclasses.replace(base, llm_provider=None))
    assert [v for _, v in modes] == ["extractive"] and "Aucun LLM" in info
    modes, _ = mode_choices(dataclasses.replace(base, llm_provider="ollama", llm_model="mistral"))
    assert modes[1] == ("LLM configuré (ollama, mistral)", "llm")


def test_errors_meant_for_users_keep_their_french_message(handlers):
    from ingest.errors import IngestError
    from vectorstore.store import IndexMissingError

    def no_index(question, history=None, **kw):
        raise IndexMissingError("Aucun index : lancez d'abord « ess-assistant ingest ».")
        yield  # pragma: no cover - makes this a generator like stream_ask

    handlers.ask_stream = no_index
    chat = _run(handlers, QUESTION)[-1][0]
    assert chat[-1]["content"] == "Aucun index : lancez d'abord « ess-assistant ingest »."

    def busy(paths, progress=None, cancel=None):
        raise IngestError("Une autre indexation est en cours ; réessayez quand elle sera terminée.")

    handlers.ingest = busy
    note = Path(handlers.settings.index_dir.parent / "note.txt")
    note.write_text("Texte.", encoding="utf-8")
    with pytest.raises(gr.Error, match="Une autre indexation est en cours"):
        handlers.add_documents([str(note)])


@pytest.mark.parametrize(("provider", "value", "interactive"), [(None, "extractive", False), ("openai", "llm", True)])
def test_mode_setting_in_the_page(tmp_path, provider, value, interactive):
    settings = dataclasses.replace(Settings.from_env(), index_dir=tmp_path, llm_provider=provider)
    demo = build_app(FakeAnswerer(), fake_ingest, fake_neighbours, fake_documents, settings)
    radio = next(b for b in demo.blocks.values() if getattr(b, "label", None) == "Mode de réponse")
    assert radio.value == value and radio.interactive is interactive


def test_corpus_panel_asks_before_replacing_then_replaces(tmp_path):
    import functools

    from ingest.uploads import replace_document
    from tests.ui_fixtures.fakes import FakeCorpus
    from ui.corpus_tab import CorpusPanel, parse_year

    corpus = FakeCorpus()
    settings = dataclasses.replace(Settings.from_env(), index_dir=tmp_path / "index")
    panel = CorpusPanel(corpus.documents, settings, corpus.remove,
                        functools.partial(replace_document, ingest=corpus.ingest))
    new = tmp_path / "pacte-v2.txt"
    new.write_text("Nouvelle version du pacte.", encoding="utf-8")
    with pytest.raises(gr.Error, match="Choisissez d'abord le document"):
        panel.ask_replacement(None, str(new))
    with pytest.raises(gr.Error, match="Choisissez le fichier"):
        panel.ask_replacement("pactes.txt", None)
    box, question, pending = panel.ask_replacement("pactes.txt", str(new))
    assert "Remplacer « Pacte ESS » (pactes.txt) par « pacte-v2.txt » ?" in question
    assert corpus.docs["pactes.txt"]["indexed_at"].startswith("2026-01-05")  # nothing done before confirming
    summary, rows, *_ = panel.confirm(pending, str(new))
    assert "a été remplacé" in summary
    assert (settings.index_dir / "uploads" / "pactes.txt").read_text(encoding="utf-8") == "Nouvelle version du pacte."
    assert not corpus.docs["pactes.txt"]["indexed_at"].startswith("2026-01-05")
    assert parse_year(" 2019 ") == 2019 and parse_year("") is None
    for bad in ("20x1", "999", "3024"):
        with pytest.raises(gr.Error, match="Année invalide"):
            parse_year(bad)


def test_ordinary_refusals_log_one_french_line_and_no_traceback(caplog):
    from ui.brief_tab import generate_note

    with caplog.at_level("WARNING"), pytest.raises(gr.Error) as refused:
        generate_note("   ", None, None, None, "extractive")
    assert refused.value.print_exception is False and refused.value.title == "Erreur"
    lines = [r.getMessage() for r in caplog.records]
    assert lines == ["Demande refusée : Indiquez le sujet de la note, par exemple « les PTCE »."]
    assert all(r.exc_info is None for r in caplog.records)
