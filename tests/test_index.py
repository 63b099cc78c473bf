"""Ingest → index → retrieve with a fake embedder and a real embedded Chroma: incremental behaviour,
crash recovery, model mismatch, filters, the public retrieve contract."""

from __future__ import annotations

import dataclasses
import functools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant import answer as answer_mod
from assistant import extractive, retrieval
from assistant.retrieval import HybridSearch, collapse_near_duplicates, normalize_filters
from ingest.pipeline import IndexBusyError, ingest_paths, remove_documents
from tests.conftest import FakeEmbeddings, make_passage
from vectorstore.dense import DENSE_FORMAT, DenseIndex
from vectorstore.lexical import ANALYZER_VERSION, LEXICAL_FORMAT, LexicalIndex
from vectorstore.store import FILTER_FIELDS, CorpusIndex, IndexMismatchError

CATALOG = {
    "pacte.md": {"title": "Un pacte pour l'ESS", "publisher": "CRESS Occitanie", "year": 2020},
    "rural.txt": {"title": "L'ESS rurale", "publisher": "RTES", "year": 2013},
}
PACTE = """# Santé

La CRESS propose de réinvestir dans le système de soins et de développer l'hospitalisation à domicile.

# Emploi

Les coopératives d'activité et d'emploi accompagnent 12 000 entrepreneurs salariés en France.
"""
RURAL = (
    "Dans les territoires ruraux, les épiceries solidaires maintiennent un commerce de proximité.\n\n"
    "La communauté de communes a mis à disposition un local pour une recyclerie associative."
)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "catalog.json").write_text(json.dumps(CATALOG), encoding="utf-8")
    (folder / "pacte.md").write_text(PACTE, encoding="utf-8")
    (folder / "rural.txt").write_text(RURAL, encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def _fresh_searches():
    retrieval._searches.clear()
    yield
    retrieval._searches.clear()


def search_over(index: CorpusIndex) -> HybridSearch:
    """Make ``index`` (with its fake embedder) the one the public retrieve() uses."""
    key = (str(index.settings.index_dir), None, index.settings.embedding_model)
    retrieval._searches[key] = HybridSearch(index)
    return retrieval._searches[key]


def test_ingest_then_retrieve_returns_cited_passages(fake_index, corpus):
    report = ingest_paths([corpus], index=fake_index)
    assert {o.source: o.status for o in report.outcomes} == {"pacte.md": "ingested", "rural.txt": "ingested"}
    search_over(fake_index)
    passages = retrieval.retrieve("épicerie solidaire en milieu rural", k=3)
    top = passages[0]
    assert top.source == "rural.txt"
    assert top.title == "L'ESS rurale" and top.publisher == "RTES" and top.year == 2013
    assert top.page is None and top.chunk_id and "épiceries solidaires" in top.text
    assert top.score > 0 and top.lexical_score is not None
    sante = retrieval.retrieve("hospitalisation à domicile", k=1)[0]
    assert sante.section == "Santé" and sante.source == "pacte.md"


def test_retrieve_orders_the_fusions_best_by_their_best_answer_sentence(fake_index, corpus, tmp_path, monkeypatch,
                                                                        caplog):
    ingest_paths([corpus], index=fake_index)
    search_over(fake_index)
    query = "Combien d'entrepreneurs salariés les coopératives d'activité et d'emploi accompagnent-elles ?"
    fused = retrieval.fused_passages(query, k=5)
    ordered = retrieval.retrieve(query, k=5)
    assert len(fused) >= 2
    assert [p.chunk_id for p in ordered] == [p.chunk_id for p in extractive.order_by_answers(query, fused)]
    assert "12 000 entrepreneurs" in ordered[0].text
    assert retrieval.retrieve(query, k=1) == ordered[:1]
    # Scores still decrease with the rank: the fusion's best scores, handed out in the new order.
    assert [p.score for p in ordered] == [p.score for p in fused]
    # The answerer reads the fusion's order, which its sentence model was trained on.
    assert answer_mod._default_retriever() is retrieval.fused_passages
    # A sentence model that cannot be loaded leaves the fusion's order, with a warning, rather than failing a script.
    monkeypatch.setenv("ESS_MODELS_DIR", str(tmp_path / "no-models"))
    assert retrieval.retrieve(query, k=5) == fused
    assert "fusion's order" in caplog.text


def test_reingest_unchanged_embeds_nothing(fake_index, corpus):
    ingest_paths([corpus], index=fake_index)
    before = fake_index.embeddings.embedded
    report = ingest_paths([corpus], index=fake_index)
    assert [o.status for o in report.outcomes] == ["unchanged", "unchanged"]
    assert fake_index.embeddings.embedded == before


def test_changed_file_replaces_its_chunks_and_deleted_file_is_removed(fake_index, corpus):
    ingest_paths([corpus], index=fake_index)
    (corpus / "rural.txt").write_text("Les tiers-lieux ruraux accueillent des ateliers partagés.", encoding="utf-8")
    (corpus / "pacte.md").unlink()
    report = ingest_paths([corpus], index=fake_index)
    assert {o.source: o.status for o in report.outcomes} == {"rural.txt": "ingested", "pacte.md": "removed"}
    texts = [text for _, text, _ in fake_index.iter_all()]
    assert texts == ["Les tiers-lieux ruraux accueillent des ateliers partagés."]
    manifest = fake_index.read_manifest()
    assert list(manifest["files"]) == ["rural.txt"]
    assert manifest["lexical_generation"] == manifest["generation"]
    search_over(fake_index)
    assert not any("épiceries" in p.text for p in retrieval.retrieve("épicerie solidaire", k=3))
    assert retrieval.retrieve("tiers-lieux ateliers", k=1)[0].source == "rural.txt"


def test_a_bad_file_is_reported_and_the_rest_ingested(fake_index, corpus):
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4\n garbage, not a pdf")
    report = ingest_paths([corpus], index=fake_index)
    outcome = {o.source: o for o in report.outcomes}
    assert outcome["broken.pdf"].status == "failed" and outcome["broken.pdf"].reason
    assert outcome["pacte.md"].status == outcome["rural.txt"].status == "ingested"
    assert "1 en échec" in report.summary() and "broken.pdf" in report.summary()


def test_a_path_that_does_not_exist_is_reported_not_dropped(fake_index, corpus):
    ingest_paths([corpus / "pacte.md"], index=fake_index)
    (corpus / "pacte.md").unlink()
    report = ingest_paths([corpus / "pacte.md", corpus / "typo.pdf", corpus / "rural.txt"], index=fake_index)
    outcome = {o.source: o for o in report.outcomes}
    assert outcome["pacte.md"].status == "removed"  # an indexed file given by name and now gone is a deletion
    assert outcome["typo.pdf"].status == "failed" and "introuvable" in outcome["typo.pdf"].reason
    assert outcome["rural.txt"].status == "ingested"
    assert "typo.pdf" in report.summary()


@pytest.mark.parametrize("key, current", [("lexical_analyzer", ANALYZER_VERSION), ("lexical_format", LEXICAL_FORMAT)])
def test_lexical_index_of_an_older_analyzer_or_format_is_rebuilt(fake_index, corpus, key, current):
    ingest_paths([corpus], index=fake_index)
    manifest = fake_index.read_manifest()
    manifest[key] = current - 1
    fake_index.write_manifest(manifest)
    # An old BM25 index with other terms: what it holds must not be what search uses.
    LexicalIndex.build(["x"], ["rien à voir"], {name: [None] for name in FILTER_FIELDS}).save(fake_index.lexical_dir)
    search_over(fake_index)
    hit = retrieval.retrieve("coopératives d'activité et d'emploi", k=1)[0]
    assert hit.source == "pacte.md" and hit.lexical_score  # found by BM25, not by the dense half alone
    assert LexicalIndex.load(fake_index.lexical_dir).ids == ["x"]  # readers rebuild in memory, never write

    report = ingest_paths([corpus], index=fake_index)
    assert {o.status for o in report.outcomes} == {"unchanged"}
    assert fake_index.read_manifest()[key] == current
    saved = LexicalIndex.load(fake_index.lexical_dir)
    assert len(saved) == len(fake_index.stored_ids())
    assert saved.fields["position"].tolist() == [
        fake_index.get_chunks([cid])[cid].metadata["position"] for cid in saved.ids
    ]


def exact_top(index: CorpusIndex, query: str, k: int, sources: set[str] | None = None) -> list[str]:
    """Brute force over the vectors Chroma stores, as numpy computes it."""
    stored = index.collection.get(include=["embeddings", "metadatas"])
    rows = [i for i, meta in enumerate(stored["metadatas"]) if sources is None or meta["source"] in sources]
    matrix = np.asarray(stored["embeddings"], dtype=np.float64)[rows]
    scores = matrix @ np.asarray(index.embeddings.embed_query(query)) / np.linalg.norm(matrix, axis=1)
    order = sorted(range(len(rows)), key=lambda i: (-round(scores[i], 9), rows[i]))[:k]
    return [stored["ids"][rows[i]] for i in order]


def test_dense_search_is_exact_with_and_without_filters(fake_index, corpus):
    ingest_paths([corpus], index=fake_index)
    query = "épiceries solidaires et coopératives"
    count = len(fake_index.stored_ids())
    assert [d.id for d, _ in fake_index.dense_search(query, count)] == exact_top(fake_index, query, count)
    only = fake_index.dense_search(query, 10, {"source": ["rural.txt"]})
    assert [d.id for d, _ in only] == exact_top(fake_index, query, 10, {"rural.txt"})
    assert {d.metadata["source"] for d, _ in only} == {"rural.txt"}
    assert fake_index.dense_search(query, 10, {"year": [1999]}) == []


def test_index_from_before_the_vector_matrix_is_searched_exactly_then_migrated_by_ingest(fake_index, corpus):
    ingest_paths([corpus], index=fake_index)
    manifest = fake_index.read_manifest()
    for key in ("dense_generation", "dense_format"):
        del manifest[key]
    fake_index.write_manifest(manifest)
    shutil.rmtree(fake_index.dense_dir)  # as an index built before the fix: Chroma and BM25 only
    reader = CorpusIndex(fake_index.settings, embeddings=FakeEmbeddings())
    query = "hospitalisation à domicile"
    assert [d.id for d, _ in reader.dense_search(query, 5)] == exact_top(fake_index, query, 5)
    assert not fake_index.dense_dir.exists()  # readers build the matrix in memory, never write

    embedded = fake_index.embeddings.embedded
    report = ingest_paths([corpus], index=fake_index)
    assert {o.status for o in report.outcomes} == {"unchanged"}
    assert fake_index.embeddings.embedded == embedded  # migrated from the stored vectors, nothing re-embedded
    assert fake_index.read_manifest()["dense_format"] == DENSE_FORMAT
    assert len(DenseIndex.load(fake_index.dense_dir)) == len(fake_index.stored_ids())
    assert [d.id for d, _ in reader.dense_search(query, 5)] == exact_top(fake_index, query, 5)


def test_index_built_with_another_model_is_refused(fake_index, corpus, tmp_path):
    ingest_paths([corpus], index=fake_index)
    other = FakeEmbeddings()
    other.model_id = "fake/another-model"
    with pytest.raises(IndexMismatchError, match="ess-assistant ingest --rebuild"):
        search_over(CorpusIndex(fake_index.settings, embeddings=other)).search("coopératives", 3)
    with pytest.raises(IndexMismatchError):
        ingest_paths([corpus], index=CorpusIndex(fake_index.settings, embeddings=other))
    rebuilt = ingest_paths([corpus], index=CorpusIndex(fake_index.settings, embeddings=other), rebuild=True)
    assert rebuilt.count("ingested") == 2


def test_crash_leftovers_are_reconciled_to_a_clean_index(fake_index, corpus, tmp_path):
    ingest_paths([corpus], index=fake_index)
    clean_ids = fake_index.stored_ids()
    # An ingest killed after adding a changed file's new chunks but before writing the manifest:
    from ingest.pipeline import prepare_chunks

    (corpus / "rural.txt").write_text("Un texte tout neuf sur les recycleries.", encoding="utf-8")
    fake_index.add_chunks(prepare_chunks(corpus / "rural.txt"))
    (corpus / "rural.txt").write_text(RURAL, encoding="utf-8")
    assert fake_index.stored_ids() > clean_ids
    ingest_paths([corpus], index=fake_index)
    assert fake_index.stored_ids() == clean_ids


def test_second_writer_fails_fast(fake_index, corpus):
    from filelock import FileLock

    fake_index.settings.index_dir.mkdir(parents=True, exist_ok=True)
    with FileLock(str(fake_index.settings.index_dir / "ingest.lock")), pytest.raises(IndexBusyError):
        ingest_paths([corpus], index=fake_index)


def test_filters_restrict_results(fake_index, corpus):
    ingest_paths([corpus], index=fake_index)
    search_over(fake_index)
    query = "coopératives territoires ruraux épiceries entrepreneurs"
    assert {p.source for p in retrieval.retrieve(query, k=5)} == {"pacte.md", "rural.txt"}
    assert {p.source for p in retrieval.retrieve(query, k=5, publisher="RTES")} == {"rural.txt"}
    assert {p.source for p in retrieval.retrieve(query, k=5, year=[2020])} == {"pacte.md"}
    assert {p.source for p in retrieval.retrieve(query, k=5, source="rural.txt", year=2020)} == set()
    with pytest.raises(ValueError, match="Filtre inconnu"):
        retrieval.retrieve(query, colour="bleu")


def test_neighbours_and_documents(fake_index, corpus):
    ingest_paths([corpus], index=fake_index)
    search_over(fake_index)
    first = retrieval.retrieve("hospitalisation à domicile", k=1)[0]
    around = retrieval.get_neighbours(first.chunk_id, before=0, after=1)
    assert [p.position for p in around] == [first.position, first.position + 1]
    assert {d["source"] for d in retrieval.list_documents()} == {"pacte.md", "rural.txt"}


def test_langchain_retriever(fake_index, corpus):
    ingest_paths([corpus], index=fake_index)
    search_over(fake_index)
    docs = retrieval.HybridRetriever(k=2, filters={"source": "pacte.md"}).invoke("coopératives d'activité")
    assert docs and all(d.metadata["source"] == "pacte.md" for d in docs)


def test_missing_index_says_how_to_build_it(fake_index):
    search_over(fake_index)
    with pytest.raises(Exception, match="ess-assistant ingest"):
        retrieval.retrieve("coopératives")


def test_near_duplicates_collapse_to_the_best():
    text = "Les coopératives d'activité et d'emploi accompagnent des entrepreneurs salariés partout en France."
    kept = collapse_near_duplicates(
        [make_passage(text, 1), make_passage(text + " Voir aussi.", 2), make_passage("Autre chose entière.", 3)]
    )
    assert [p.chunk_id for p in kept] == ["doc.md:1", "doc.md:3"]


def test_filter_normalisation():
    assert normalize_filters({"year": "2021", "source": None, "publisher": ["A", "B"]}) == {
        "year": [2021],
        "publisher": ["A", "B"],
    }


def test_bundled_corpus_ships_with_catalog():
    from vectorstore.settings import BUNDLED_CORPUS

    catalog = json.loads((BUNDLED_CORPUS / "catalog.json").read_text(encoding="utf-8"))
    files = {p.name for p in BUNDLED_CORPUS.iterdir() if p.name != "catalog.json"}
    assert files and files <= set(catalog)
    assert all({"title", "publisher", "year"} <= set(catalog[f]) for f in files)


def test_copy_of_index_folder_is_usable(fake_index, corpus, tmp_path):
    """The index is self-contained in its folder (manifest, Chroma, BM25): a copy answers the same."""
    ingest_paths([corpus], index=fake_index)
    copy = tmp_path / "copy"
    shutil.copytree(fake_index.settings.index_dir, copy)
    settings = dataclasses.replace(fake_index.settings, index_dir=copy)
    hits = HybridSearch(CorpusIndex(settings, embeddings=FakeEmbeddings())).search("recyclerie associative", 1)
    assert hits[0].source == "rural.txt"


def test_publisher_filter_accepts_the_short_name_of_any_spelling(fake_index, corpus):
    """The catalogue of a real corpus spelled one CRESS two ways: a person types the short name."""
    catalog = dict(CATALOG)
    catalog["pacte.md"] = {**CATALOG["pacte.md"], "publisher": "CRESS Occitanie (Chambre régionale de l'ESS)"}
    catalog["rural.txt"] = {**CATALOG["rural.txt"], "publisher": "Acteurs de l'ESS en Occitanie (CRESS Occitanie)"}
    (corpus / "catalog.json").write_text(json.dumps(catalog), encoding="utf-8")
    ingest_paths([corpus], index=fake_index)
    search_over(fake_index)
    query = "coopératives territoires ruraux épiceries entrepreneurs"
    for typed in ("CRESS Occitanie", "cress occitanie", "Cress  OCCITANIE", "occitanie"):
        assert {p.source for p in retrieval.retrieve(query, k=5, publisher=typed)} == {"pacte.md", "rural.txt"}
    assert {p.source for p in retrieval.retrieve(query, k=5, publisher="chambre regionale")} == {"pacte.md"}
    assert {p.source for p in retrieval.retrieve(query, k=5, publisher="Acteurs de l'ESS")} == {"rural.txt"}
    assert retrieval.retrieve(query, k=5, publisher="CRESS Bretagne") == []
    assert retrieval.retrieve(query, k=5, publisher="ESS") != []  # a whole word of a name, accents aside


def test_resolve_publishers_is_accent_and_case_blind():
    known = ["Réseau Économie Solidaire", "RTES", "ESS France"]
    assert retrieval.resolve_publishers(["reseau economie"], known) == ["Réseau Économie Solidaire"]
    assert retrieval.resolve_publishers(["rtes", "ESS FRANCE"], known) == ["RTES", "ESS France"]
    assert retrieval.resolve_publishers(["France Active"], known) == ["France Active"]
    assert retrieval.resolve_publishers(["RT"], known) == ["RT"]  # words, not letters


def test_catalog_edit_updates_metadata_without_re_embedding(fake_index, corpus):
    ingest_paths([corpus], index=fake_index)
    search_over(fake_index)
    embedded = fake_index.embeddings.embedded
    catalog = {**CATALOG, "rural.txt": {"title": "L'ESS à la campagne", "publisher": "Réseau rural", "year": 2014}}
    (corpus / "catalog.json").write_text(json.dumps(catalog), encoding="utf-8")
    report = ingest_paths([corpus], index=fake_index)
    assert {o.source: o.status for o in report.outcomes} == {"pacte.md": "unchanged", "rural.txt": "ingested"}
    assert fake_index.embeddings.embedded == embedded  # same text: no vector computed again
    hits = retrieval.retrieve("épiceries solidaires commerce de proximité", k=5, publisher="reseau rural")
    assert hits and {(p.source, p.title, p.year) for p in hits} == {("rural.txt", "L'ESS à la campagne", 2014)}
    assert retrieval.retrieve("épiceries solidaires", k=5, publisher="RTES") == []
    docs = {d["source"]: d for d in retrieval.list_documents()}
    assert docs["rural.txt"]["publisher"] == "Réseau rural"


def test_bundled_catalog_names_each_publisher_once():
    from vectorstore.settings import BUNDLED_CORPUS

    catalog = json.loads((BUNDLED_CORPUS / "catalog.json").read_text(encoding="utf-8"))
    cress = {entry["publisher"] for name, entry in catalog.items() if name.startswith("cress-occitanie")}
    assert cress == {"CRESS Occitanie"}
    names = sorted({entry["publisher"] for entry in catalog.values()})
    assert all(len(name) <= 30 for name in names), names  # short canonical names; the long one is publisher_full


def test_removed_document_leaves_index_and_bm25_and_stays_out_until_named(fake_index, corpus):
    from ingest.pipeline import remove_documents

    ingest_paths([corpus], index=fake_index)
    search = search_over(fake_index)
    query = "épiceries solidaires commerce de proximité"
    assert "rural.txt" in {p.source for p in retrieval.retrieve(query, k=5)}
    docs = {d["source"]: d for d in retrieval.list_documents()}
    assert docs["rural.txt"]["passages"] >= 1 and docs["rural.txt"]["indexed_at"]
    report = remove_documents(["rural.txt", "absent.md"], index=fake_index)
    assert [(o.source, o.status) for o in report.outcomes] == [("rural.txt", "removed"), ("absent.md", "failed")]
    assert "rural.txt" not in {p.source for p in retrieval.retrieve(query, k=5)}
    assert not [h for h in search.lexical().search("épiceries", 5) if "rural" in h.chunk_id]  # BM25 rebuilt
    assert {d["source"] for d in retrieval.list_documents()} == {"pacte.md"}
    # The folder's next ingest does not bring it back; naming the file does.
    report = ingest_paths([corpus], index=fake_index)
    assert {o.source for o in report.outcomes} == {"pacte.md"}
    report = ingest_paths([corpus / "rural.txt"], index=fake_index)
    assert [(o.source, o.status) for o in report.outcomes] == [("rural.txt", "ingested")]
    assert "rural.txt" in {p.source for p in retrieval.retrieve(query, k=5)}


def test_upload_labels_and_removal_of_an_uploaded_file(fake_index, tmp_path):
    from ingest.corpus import describe_uploads, remove_document
    from ingest.pipeline import document_metadata
    from ingest.uploads import upload_dir

    settings = fake_index.settings
    folder = upload_dir(settings)
    folder.mkdir(parents=True)
    (folder / "fiche.md").write_text("# PTCE\n\nLes PTCE regroupent des entreprises de l'ESS.\n", encoding="utf-8")
    (folder / "autre.md").write_text("# Autre\n\nUne autre fiche sur les coopératives.\n", encoding="utf-8")
    describe_uploads(["fiche.md"], settings, title=" Fiche  PTCE ", publisher="CRESS Occitanie", year=2019)
    describe_uploads(["autre.md", "fiche.md"], settings, title="Titre commun", publisher="", year=None)
    assert document_metadata(folder / "fiche.md") == {
        "source": "fiche.md", "title": "Fiche PTCE", "publisher": "CRESS Occitanie", "year": 2019}
    assert document_metadata(folder / "autre.md")["title"] == "autre"  # one title for two files: not applied
    ingest_paths([folder / "fiche.md"], index=fake_index)
    search_over(fake_index)
    hit = retrieval.retrieve("PTCE entreprises", k=1, publisher="cress occitanie")[0]
    assert (hit.title, hit.publisher, hit.year) == ("Fiche PTCE", "CRESS Occitanie", 2019)
    report = remove_document("fiche.md", settings, remove=functools.partial(remove_documents, index=fake_index))
    assert report.count("removed") == 1
    assert not (folder / "fiche.md").exists()
    assert "fiche.md" not in json.loads((folder / "catalog.json").read_text(encoding="utf-8"))
    assert retrieval.retrieve("PTCE entreprises", k=1) == []


def test_the_answerer_asks_the_index_whether_the_corpus_knows_a_name(fake_index, corpus):
    ingest_paths([corpus], index=fake_index)
    search_over(fake_index)
    adjacent, known_name = answer_mod._index_access(None)
    assert adjacent is retrieval.adjacent_passage and known_name is retrieval.mentioned_in_corpus
    assert retrieval.mentioned_in_corpus("épiceries") and retrieval.mentioned_in_corpus("Épicerie")
    assert not retrieval.mentioned_in_corpus("Bruxelles") and not retrieval.mentioned_in_corpus("")
    assert answer_mod._index_access(lambda q, k: []) == (None, None)  # passages from elsewhere: no index to ask
