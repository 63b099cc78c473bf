"""The learned-ranking machinery: LambdaMART on fixed features, model files, grouped CV, `train`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant import ranking
from assistant.cli import main
from assistant.ranking import FeatureSet, Groups, Ranker, RankerError, RankerSpec

TOY = FeatureSet("toy", 1, ("signal", "noise"))


def _toy_groups(n: int = 60, seed: int = 0) -> Groups:
    """Ten candidates per question; the relevant one has the highest ``signal``, ``noise`` says nothing."""
    rng = np.random.default_rng(seed)
    groups = Groups()
    for q in range(n):
        signal = rng.normal(size=10)
        labels = (signal == signal.max()).astype(int)
        groups.add(np.column_stack([signal, rng.normal(size=10)]), labels, key=f"evidence-{q % 20}")
    return groups


def _toy_spec(groups: Groups) -> RankerSpec:
    return RankerSpec("toy", TOY, lambda rows: groups, params={"num_iterations": 30, "min_data_in_leaf": 5})


def test_a_trained_ranker_orders_unseen_candidates_by_what_it_learned():
    ranker, report = ranking.train(_toy_spec(_toy_groups()), _toy_groups())
    unseen = np.array([[-1.0, 3.0], [2.0, -3.0], [0.5, 0.0]])
    assert int(np.argmax(ranker.score(unseen))) == 1
    probability = ranker.probability(unseen)
    assert ((probability > 0) & (probability < 1)).all() and probability[1] > probability[0]
    assert report.cross_validated["r@1"] >= 0.8 and report.in_sample["r@1"] >= report.cross_validated["r@1"] - 0.1


def test_a_ranker_refuses_features_of_the_wrong_shape():
    ranker, _ = ranking.train(_toy_spec(_toy_groups()), _toy_groups())
    with pytest.raises(ValueError):
        ranker.score(np.zeros((3, 5)))


def test_model_file_round_trips_and_training_is_reproducible(tmp_path):
    first, _ = ranking.train(_toy_spec(_toy_groups()), _toy_groups())
    again, _ = ranking.train(_toy_spec(_toy_groups()), _toy_groups())
    assert first.to_json() == again.to_json()
    loaded = Ranker.load(first.save(tmp_path / "toy.json"), TOY)
    features = _toy_groups(5, seed=1).features[0]
    assert np.allclose(loaded.score(features), first.score(features))
    assert np.allclose(loaded.probability(features), first.probability(features))


@pytest.mark.parametrize(
    "expected",
    [FeatureSet("toy", 2, TOY.names), FeatureSet("toy", 1, ("signal", "autre")), FeatureSet("autre", 1, TOY.names)],
)
def test_a_model_made_for_other_features_is_refused_in_french(tmp_path, expected):
    path = ranking.train(_toy_spec(_toy_groups()), _toy_groups())[0].save(tmp_path / "toy.json")
    with pytest.raises(RankerError, match="réentraînez-le avec « ess-assistant train"):
        Ranker.load(path, expected)


def test_missing_or_broken_model_files_are_plain_french_errors(tmp_path):
    with pytest.raises(RankerError, match="introuvable"):
        Ranker.load(tmp_path / "absent.json", TOY)
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(RankerError, match="illisible"):
        Ranker.load(tmp_path / "broken.json", TOY)


def test_folds_keep_questions_on_the_same_evidence_together():
    groups = _toy_groups()
    folds = {key: ranking.fold_of(key, 5) for key in groups.keys}
    assert len(set(folds.values())) == 5  # twenty keys spread over every fold
    assert ranking.fold_of("evidence-3", 5) == folds["evidence-3"]
    scores = ranking.out_of_fold_scores(groups, {"num_iterations": 10, "min_data_in_leaf": 5})
    assert [len(s) for s in scores] == [len(y) for y in groups.labels]


def test_ranking_metrics_count_questions_without_a_relevant_candidate_as_misses():
    scores = [np.array([0.9, 0.1, 0.5]), np.array([0.2, 0.8]), np.array([0.3, 0.4])]
    labels = [np.array([1, 0, 0]), np.array([1, 0]), np.array([0, 0])]
    assert ranking.ranking_metrics(scores, labels, ks=(1, 2)) == {"r@1": 0.333, "r@2": 0.667, "mrr@10": 0.5}


def test_train_command_writes_every_registered_model(fake_index, tmp_path, monkeypatch, capsys):
    from assistant import retrieval

    key = (str(fake_index.settings.index_dir), None, fake_index.settings.embedding_model)
    monkeypatch.setitem(retrieval._searches, key, retrieval.HybridSearch(fake_index))
    seen: list[list[dict]] = []
    groups = _toy_groups()
    spec = _toy_spec(groups)
    monkeypatch.setattr(ranking, "PROVIDERS", ())  # only the toy: the shipped rankers need a real index
    monkeypatch.setattr(ranking, "_REGISTRY", {"toy": RankerSpec("toy", TOY, lambda rows: seen.append(rows) or groups,
                                                                 spec.params)})  # fmt: skip
    qa = tmp_path / "questions.jsonl"
    qa.write_text(json.dumps({"question": "Qu'est-ce qu'une SCIC ?", "evidence": ["La SCIC est…"]}) + "\n")
    assert main(["train", "--qa", str(qa), "-o", str(tmp_path / "models")]) == 0
    out = capsys.readouterr().out
    assert "toy : 60 questions" in out and "validation croisée" in out and "query-centroid : 1 questions" in out
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["query-centroid.json", "toy.json"]
    assert seen == [[{"question": "Qu'est-ce qu'une SCIC ?", "evidence": ["La SCIC est…"]}]]
    monkeypatch.setenv("ESS_MODELS_DIR", str(tmp_path / "models"))
    assert ranking.load_ranker("toy", TOY).features == TOY
    assert main(["train", "--qa", str(qa), "--model", "inconnu"]) == 1
    assert "Modèle inconnu : inconnu" in capsys.readouterr().err
