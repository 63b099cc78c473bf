"""The French analyzer and the persisted BM25 index."""

from __future__ import annotations

from vectorstore.lexical import LexicalIndex, analyze


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
