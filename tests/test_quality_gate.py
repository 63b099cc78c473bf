"""Quality gate on the gold questions: no change may silently lower recall or what answers show.

Uses the bundled corpus indexed with the real default model, through the public `retrieve` and `ask`.
"""

from __future__ import annotations

import pytest

from assistant import retrieval
from assistant.answer import ask
from assistant.answer_eval import evaluate_answers
from assistant.evaluation import evaluate_retrieval, load_gold
from tests.conftest import SHARED

pytestmark = pytest.mark.integration
GOLD = SHARED / "eval" / "dev.jsonl"


@pytest.mark.timeout(900)
def test_recall_at_5_stays_above_the_gate(corpus_index, monkeypatch):
    if not GOLD.exists():
        pytest.skip(f"gold questions not found at {GOLD}")
    monkeypatch.setenv("ESS_INDEX_DIR", str(corpus_index))
    result = evaluate_retrieval(load_gold(GOLD), lambda q, k: retrieval.retrieve(q, k))
    print(f"\nR@1 {result['r@1']} R@5 {result['r@5']} R@10 {result['r@10']} MRR@10 {result['mrr@10']}")
    assert result["questions"] >= 40
    # Measured R@5 0.843 (43 of 51) and R@1 0.647 (33 of 51) on 2026-12-02, on an index with OCR correction,
    # exact dense search, the preceding passage's BM25 share and the centred dense list (both chosen on the
    # training questions: the centred list took train + written R@1/R@5 0.503/0.708 → 0.518/0.738, dev R@5
    # 44 → 43). Issue 11 asks for R@1 0.78 / R@5 0.92, which the shipped retrieval does not reach; the gate leaves
    # one question of margin below what it does.
    assert result["r@5"] >= 42 / 51 - 1e-6, result
    assert result["r@1"] >= 32 / 51 - 1e-6, result


def test_every_passage_honours_the_contract(corpus_index, monkeypatch):
    monkeypatch.setenv("ESS_INDEX_DIR", str(corpus_index))
    passages = retrieval.retrieve("commande publique et clauses sociales", k=5)
    assert len(passages) == 5
    assert len({p.chunk_id for p in passages}) == 5
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
    for p in passages:
        assert p.text and p.source.endswith((".md", ".txt", ".pdf")) and p.title
        assert p.page is None or isinstance(p.page, int)
        assert p.section is None or isinstance(p.section, str)
    filtered = retrieval.retrieve("commande publique", k=5, publisher="ESS France")
    assert filtered and {p.publisher for p in filtered} == {"ESS France"}


@pytest.mark.timeout(900)
def test_answer_evidence_stays_above_the_gate(corpus_index, monkeypatch):
    if not GOLD.exists():
        pytest.skip(f"gold questions not found at {GOLD}")
    monkeypatch.setenv("ESS_INDEX_DIR", str(corpus_index))
    result = evaluate_answers(load_gold(GOLD), lambda q: ask(q, mode="extractive"))
    print(f"\nanswer evidence {result['answer_evidence']} citation precision {result['citation_precision']}")
    # Measured 0.588 (30 of 51 answerable questions) on 2026-12-02 (fifth session) with the sentence model trained on
    # train.jsonl and the 552 questions of data/questions/written.jsonl: 32 in the fourth session, one lost to the
    # year check (a figure asked « fin 2020 », its passage and document dated 2021 only), one to the retrained model.
    # Every change was chosen out of fold on train + written (887 questions: the session's checks took abstention on
    # unanswerable questions from 0.466 to 0.569, evidence 0.549 → 0.551), never on this file; one question of margin.
    # Seventh session (2026-12-03): 0.608 (31 of 51), once a document's title or a section's heading repeated in its
    # text was no longer a sentence to quote (out of fold on the 887 questions: evidence 0.554 → 0.567).
    # Ninth session (2026-12-03): 0.627 (32 of 51), once headings and programme lines were no longer quoted beside an
    # answer and « en France » no longer required a passage naming the country (out of fold 0.577 → 0.582).
    # Eleventh session (2026-12-03): 0.608 (31 of 51) with the model retrained for new figure checks (a year that
    # dates something is no figure, « une quarantaine » is one; out of fold 0.582 → 0.588): the list question lost
    # (« Quelles pistes… santé… ? ») is not one those checks read.
    # Twelfth session (2026-12-03): 0.627 (32 of 51), once a count of people or organisations was also answered by
    # a figure counting what they did (« 60 000 bénéficiaires »; out of fold 0.589 → 0.590), with the model
    # retrained. Seventeenth session (2026-12-04): 0.647 (33 of 51), once a list item of several sentences no longer
    # ended its list (out of fold 0.597 → 0.597, 65 answers moved). Gate: measured minus one question.
    assert result["answer_evidence"] >= 32 / 51 - 1e-6, result


@pytest.mark.parametrize(
    "question", ["Quel sera le prix de l'électricité en 2025 ?", "Quelle est la recette de la ratatouille ?"]
)
def test_questions_the_corpus_does_not_answer_are_refused(corpus_index, monkeypatch, question):
    monkeypatch.setenv("ESS_INDEX_DIR", str(corpus_index))
    answer = ask(question, mode="extractive")
    assert answer.abstained and not answer.citations, answer.text


def test_the_levers_question_lists_the_six_levers(corpus_index, monkeypatch):
    monkeypatch.setenv("ESS_INDEX_DIR", str(corpus_index))
    answer = ask("Quels leviers les collectivités ont-elles pour soutenir l'ESS ?", mode="extractive")
    assert not answer.abstained
    text = answer.text.lower()
    levers = ("partenariats financiers", "contributions en nature", "commande publique responsable",
              "accompagner les entreprises", "promouvoir les activités", "co-animer des dynamiques")  # fmt: skip
    assert all(lever in text for lever in levers), answer.text
    assert "6 leviers" in answer.text.split("\n")[0]  # the list opens the answer
    assert not answer.text.rstrip().endswith(":")


@pytest.mark.parametrize(
    ("question", "figure"),
    [
        ("Combien de personnes se sont impliquées dans les Agoras de l'ESS en Occitanie ?", "400 personnes"),
        ("Combien de départs à la retraite sont attendus dans l'ESS d'ici 2025 ?", "700 000 départs"),
    ],
)
def test_answerable_paraphrases_get_the_sentence_with_the_figure(corpus_index, monkeypatch, question, figure):
    monkeypatch.setenv("ESS_INDEX_DIR", str(corpus_index))
    answer = ask(question, mode="extractive")
    assert not answer.abstained and figure in answer.text, answer.text
