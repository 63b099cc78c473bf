"""The team's written questions (data/questions/written.jsonl, and heldout.jsonl, never trained on) stay usable:
every evidence quote is still in its source document and in one passage as the pipeline cuts it, so a broken quote or
a changed chunker fails here."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.evaluation import load_gold
from benchmarks.check_questions import check_rows
from vectorstore.settings import BUNDLED_CORPUS

QUESTIONS = Path(__file__).resolve().parents[1] / "data" / "questions"
SOURCE = "cress-occitanie_ess-nouveau-pacte-economique-et-social_2020.txt"


@pytest.mark.parametrize("name", ["written.jsonl", "heldout.jsonl"])
def test_written_questions_are_valid_against_the_bundled_corpus(name: str):
    rows = load_gold(QUESTIONS / name)
    problems, _ = check_rows(rows, BUNDLED_CORPUS)
    assert problems == []
    assert len({r["id"] for r in rows}) == len(rows) >= 60


def test_held_out_questions_are_not_training_questions():
    """heldout.jsonl measures the shipped models on questions they never saw: none may be in written.jsonl."""
    written = {r["question"] for r in load_gold(QUESTIONS / "written.jsonl")}
    assert not written & {r["question"] for r in load_gold(QUESTIONS / "heldout.jsonl")}


def _row(rid: str = "x-1", **fields) -> dict:
    row = {
        "id": rid,
        "question": "Combien d'adhérents compte la CRESS ?",
        "answer": "85.",
        "source": SOURCE,
        "evidence": ["La CRESS Occitanie, forte de ses 85 adhérents"],
        "type": "numeric",
        "difficulty": "easy",
    }
    return row | fields


def test_a_valid_row_passes():
    assert check_rows([_row()], BUNDLED_CORPUS)[0] == []


def test_a_changed_figure_in_a_quote_is_caught():
    problems, _ = check_rows([_row(evidence=["La CRESS Occitanie, forte de ses 58 adhérents"])], BUNDLED_CORPUS)
    assert len(problems) == 1 and "not in the source text" in problems[0]


def test_a_quote_from_another_document_is_caught():
    problems, _ = check_rows([_row(source="rtes_rencontres-territoires-et-ess_2013.txt")], BUNDLED_CORPUS)
    assert len(problems) == 1 and "not in the source text" in problems[0]


def test_structure_errors_are_caught():
    rows = [
        _row(),
        _row(),  # same id
        _row("x-2", type="figure"),
        _row("x-3", difficulty="unanswerable"),  # keeps its evidence and source
        _row("x-4", evidence=["85 adhérents"]),  # too short
        _row("x-5", source="absent.txt"),
    ]
    problems, _ = check_rows(rows, BUNDLED_CORPUS)
    assert [p.split(":")[0] for p in problems] == ["x-1", "x-2", "x-3", "x-4", "x-5"]


def test_a_quote_found_only_loosely_is_noted_without_failing():
    problems, notes = check_rows([_row(evidence=["la cress occitanie forte de ses 85 adherents"])], BUNDLED_CORPUS)
    assert problems == [] and len(notes) == 1
