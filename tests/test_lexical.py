"""The French analyzer and the persisted BM25 index."""

from __future__ import annotations

import numpy as np
import pytest

from vectorstore import lexical
from vectorstore.lexical import ChunkTerms, LexicalIndex, analyze


def test_elisions_accents_and_ocr_variants_meet():
    assert analyze("l'économie") == analyze("I'economie") == analyze("économies")
    assert "ess" in analyze("Les entreprises de I'ESS")
    assert analyze("réponse à des besoins") == analyze("reponse a des besoins")


def test_plurals_the_stemmer_keeps_meet_their_singular():
    assert analyze("emplois") == analyze("emploi")
    assert analyze("des lieux partagés") == analyze("un lieu partagé")
    assert analyze("conseils régionaux") == analyze("conseil régional")  # « -aux » is Snowball's own
    assert analyze("en 2015") == ["2015"]


def test_stop_words_and_question_words_are_dropped():
    assert analyze("Comment et pourquoi les collectivités ?") == analyze("collectivité")


def test_spelled_out_acronym_matches_the_acronym():
    assert "anct" in analyze("l'agence nationale chargée de la cohésion des territoires")
    assert "scic" in analyze("une société coopérative d'intérêt collectif")
    assert "anct" not in analyze("une agence régionale")


def test_search_ranks_filters_and_survives_save_load(tmp_path):
    ids = ["a", "b", "c"]
    texts = [
        "Les coopératives d'activité et d'emploi accompagnent des entrepreneurs.",
        "Le commerce équitable et les circuits courts alimentaires.",
        "Les coopératives agricoles et les circuits courts.",
    ]
    fields = {"source": ["x.md", "y.md", "y.md"], "publisher": ["P", "Q", "Q"], "year": [2020, 2021, 2021]}
    index = LexicalIndex.build(ids, texts, fields)
    assert {h.chunk_id for h in index.search("coopérative", 3)} == {"a", "c"}
    assert [h.chunk_id for h in index.search("circuits courts coopératives", 1)] == ["c"]
    assert [h.chunk_id for h in index.search("coopérative", 3, {"source": ["y.md"]})] == ["c"]
    assert index.search("mot absent", 3) == []
    index.save(tmp_path / "lex")
    index.save(tmp_path / "lex")  # replacing an existing index leaves no temp folder behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lex"]
    again = LexicalIndex.load(tmp_path / "lex")
    assert [h.chunk_id for h in again.search("circuits courts coopératives", 1)] == ["c"]
    assert [h.chunk_id for h in again.search("coopérative", 3, {"year": [2020]})] == ["a"]


def test_empty_index_searches_nothing(tmp_path):
    index = LexicalIndex.build([], [], {"source": []})
    assert index.search("coopérative", 5) == []
    index.save(tmp_path / "lex")
    assert LexicalIndex.load(tmp_path / "lex").search("coopérative", 5) == []


def test_a_rebuild_analyzes_only_new_texts_and_scores_like_a_fresh_build(tmp_path, monkeypatch):
    texts = [f"Le projet {n} réunit {n % 7} coopératives et une épicerie solidaire n°{n}." for n in range(400)]
    fields = {"source": ["a.md"] * 400}
    LexicalIndex.build([str(n) for n in range(400)], texts, fields).save(tmp_path / "lex")
    previous = ChunkTerms.load(tmp_path / "lex")
    analyzed: list[str] = []
    real_analyze = lexical.analyze
    monkeypatch.setattr(lexical, "analyze", lambda text: analyzed.append(text) or real_analyze(text))

    again = LexicalIndex.build([str(n) for n in range(400)], texts, fields, previous=previous)
    assert analyzed == []  # among 400 texts, digests ending in a NUL byte (once dropped by numpy) still match

    changed = [*texts[1:], "Une recyclerie associative dans un tiers-lieu rural."]  # first text gone, one new
    rebuilt = LexicalIndex.build([str(n) for n in range(1, 401)], changed, fields, previous=previous)
    assert analyzed == ["Une recyclerie associative dans un tiers-lieu rural."]
    fresh = LexicalIndex.build([str(n) for n in range(1, 401)], changed, fields)
    for query in ["recyclerie tiers-lieu", "épicerie solidaire coopératives", "projet 17"]:
        terms = real_analyze(query)
        assert np.allclose(rebuilt._bm25.get_scores(terms), fresh._bm25.get_scores(terms))
    assert set(rebuilt.terms.vocab) == set(fresh.terms.vocab)  # terms of removed texts are dropped
    assert [h.chunk_id for h in again.search("projet 17", 1)] == ["17"]


def test_saved_terms_of_another_analyzer_version_are_not_reused(tmp_path, monkeypatch):
    LexicalIndex.build(["a"], ["Les circuits courts."], {"source": ["a.md"]}).save(tmp_path / "lex")
    assert ChunkTerms.load(tmp_path / "lex") is not None
    monkeypatch.setattr(lexical, "ANALYZER_VERSION", lexical.ANALYZER_VERSION + 1)
    assert ChunkTerms.load(tmp_path / "lex") is None
    assert ChunkTerms.load(tmp_path / "missing") is None


def test_a_passage_shares_in_what_the_passage_before_it_names(tmp_path):
    """A speaker named in one passage and quoted in the next: the continuation gets a tenth of the score of the
    passage before it in its own document, never of a row of another document."""
    ids = ["intro", "suite", "ailleurs", "autre"]
    texts = [
        "Table ronde : intervention de Danièle Demoustier, socio-économiste à Grenoble.",
        "Elle estime qu'il faut décloisonner les services des collectivités.",
        "Les collectivités et leurs services, selon un élu de Grenoble.",
        "Un atelier sur les monnaies locales.",
    ]
    sources = ["a.md", "a.md", "b.md", "b.md"]
    question = "Selon Demoustier, que doivent faire les collectivités de leurs services ?"
    alone = {h.chunk_id: h.score for h in LexicalIndex.build(ids, texts, {"source": sources}).search(question, 4)}
    assert set(alone) == {"intro", "suite", "ailleurs"}
    index = LexicalIndex.build(ids, texts, {"source": sources, "position": [0, 1, 0, 1]})
    index.save(tmp_path / "lex")
    for searched in (index, LexicalIndex.load(tmp_path / "lex")):
        scores = {h.chunk_id: h.score for h in searched.search(question, 4)}
        assert scores["suite"] == pytest.approx(alone["suite"] + lexical.PRECEDING_WEIGHT * alone["intro"])
        assert scores["intro"] == pytest.approx(alone["intro"])  # first of its document
        assert scores["ailleurs"] == pytest.approx(alone["ailleurs"])  # the row before it is another document's
        assert scores["autre"] == pytest.approx(lexical.PRECEDING_WEIGHT * alone["ailleurs"])
    unknown = LexicalIndex.build(ids, texts, {"source": sources, "position": [0, None, 0, 1]})
    assert {h.chunk_id: h.score for h in unknown.search(question, 4)}["suite"] == pytest.approx(alone["suite"])
