"""The evaluation's scoring: quote matching robust to OCR and clean-up, and the recall/MRR arithmetic."""

from __future__ import annotations

import json

import pytest

from assistant.evaluation import evaluate_retrieval, first_hit_rank, load_gold
from tests.conftest import make_passage
from vectorstore.text import contains_quote, normalize_for_match


@pytest.mark.parametrize(
    ("passage", "quote"),
    [
        ("Les entreprises de l'ESS de 1 à 10 salariés.", "entreprises de I'ESS de 1 a 10 salariés"),
        ("La **RSE** est une démarche volontaire.", "La RSE est une **démarche volontaire**"),
        ("Il faut co-construire les politiques publiques.", "co- construire les politiques"),
        ("Le développement local », dit-elle.", "Le dévelop-\npement local"),
        ("Sur |'expertise sociale des acteurs", "sur l’expertise sociale des acteurs"),
    ],
)
def test_quote_survives_ocr_and_cleanup_differences(passage, quote):
    assert contains_quote(passage, quote)


def test_quote_cut_by_a_chunk_boundary_counts_by_a_long_half():
    quote = (
        "les décideurs publics locaux doivent être en capacité de s'appuyer sur l'expertise sociale "
        "et environnementale des entreprises de l'ESS et sur leur ingénierie"
    )
    first_half_only = "… les décideurs publics locaux doivent être en capacité de s'appuyer sur l'expertise sociale"
    assert contains_quote(first_half_only, quote)
    assert not contains_quote("l'expertise sociale", quote)
    assert not contains_quote("les décideurs publics", "les décideurs publics locaux doivent agir vite")


def test_different_words_do_not_match():
    assert not contains_quote("Plus de 400 personnes se sont impliquées.", "Plus de 500 personnes")
    assert normalize_for_match("Écoles  d’été!") == "ecoles ete"


def test_recall_and_mrr_arithmetic():
    rows = [
        {"question": "q1", "evidence": ["alpha beta gamma"], "type": "factual"},
        {"question": "q2", "evidence": ["delta epsilon"], "type": "list"},
        {"question": "q3", "evidence": ["absent quote"], "type": "list"},
        {"question": "q4", "evidence": [], "type": "unanswerable"},
    ]
    ranked = {
        "q1": [make_passage("alpha beta gamma ici", 1)],
        "q2": [make_passage(f"bruit {i}", i) for i in range(1, 4)] + [make_passage("delta epsilon", 4)],
        "q3": [make_passage("rien", 1)],
    }
    result = evaluate_retrieval(rows, lambda q, k: ranked[q][:k])
    assert result["questions"] == 3
    assert result["r@1"] == pytest.approx(1 / 3, abs=1e-3)
    assert result["r@5"] == pytest.approx(2 / 3, abs=1e-3)
    assert result["mrr@10"] == pytest.approx((1 + 1 / 4) / 3, abs=1e-3)
    assert result["by_type"]["list"]["n"] == 2
    assert [m["question"] for m in result["misses@5"]] == ["q3"]
    assert first_hit_rank(ranked["q2"], ["delta epsilon"]) == 4


def test_load_gold_reports_bad_lines(tmp_path):
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps({"question": "q"}) + "\n{oops\n", encoding="utf-8")
    with pytest.raises(ValueError, match="Ligne 2"):
        load_gold(path)
