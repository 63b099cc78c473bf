"""The `ess-assistant` command: plain French errors, JSON outputs that scripts can rely on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import retrieval
from assistant.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _fresh_searches():
    retrieval._searches.clear()
    yield
    retrieval._searches.clear()


def test_search_without_an_index_is_a_plain_sentence(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ESS_INDEX_DIR", str(tmp_path / "nothing"))
    assert main(["search", "coopératives"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Erreur : Aucun index") and "ess-assistant ingest" in err
    assert "Traceback" not in err


def test_brief_refuses_an_unknown_output_format_before_working(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ESS_INDEX_DIR", str(tmp_path / "nothing"))
    assert main(["brief", "les PTCE", "-o", str(tmp_path / "note.pdf")]) == 1
    assert "Format de sortie non pris en charge" in capsys.readouterr().err
    assert not (tmp_path / "note.pdf").exists()


@pytest.mark.integration
def test_ingest_reports_each_file(tmp_path, monkeypatch):
    monkeypatch.setenv("ESS_INDEX_DIR", str(tmp_path / "index"))
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "note.md").write_text("# Emploi\n\nLes SCOP emploient 60 000 salariés en France.\n", encoding="utf-8")
    (docs / "cassé.pdf").write_bytes(b"%PDF-1.7 truncated")
    # In a process of its own, as a user runs it: pytest's log capture would hide what logging prints.
    run = subprocess.run(
        [sys.executable, "-c", "from assistant.cli import main; raise SystemExit(main())", "ingest", "-q", str(docs)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert "1 fichier(s) indexé(s)" in run.stdout and "1 en échec" in run.stdout and "cassé.pdf" in run.stdout
    assert run.stderr == ""  # -q: no progress bar, no library's debug chatter


@pytest.mark.integration
def test_search_and_ask_json_contracts(corpus_index, monkeypatch, capsys):
    monkeypatch.setenv("ESS_INDEX_DIR", str(corpus_index))
    assert main(["search", "circuits courts financiers", "-k", "3", "--json", "--year", "2013"]) == 0
    passages = json.loads(capsys.readouterr().out)
    assert len(passages) == 3 and {p["year"] for p in passages} == {2013}
    assert {"text", "source", "title", "page", "section", "score", "chunk_id"} <= set(passages[0])

    assert main(["ask", "Combien de personnes se sont impliquées dans les Agoras de l'ESS ?", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert set(answer) == {"answer", "citations", "abstained"}
    for citation in answer["citations"]:
        assert {"n", "text", "source", "title", "page", "section", "chunk_id", "quote"} <= set(citation)
        assert f"[{citation['n']}]" in answer["answer"]


@pytest.mark.integration
def test_eval_prints_recall_figures(corpus_index, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("ESS_INDEX_DIR", str(corpus_index))
    gold = tmp_path / "gold.jsonl"
    gold.write_text(
        json.dumps({"question": "Qu'est-ce qu'un PTCE ?", "evidence": ["pôle territorial de coopération"]}) + "\n",
        encoding="utf-8",
    )
    assert main(["eval", "--qa", str(gold)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["questions"] == 1 and {"r@1", "r@5", "r@10", "mrr@10", "coverage@10"} <= set(result)
    assert main(["eval", "--qa", str(gold), "--min-recall5", "1.01"]) == 1
