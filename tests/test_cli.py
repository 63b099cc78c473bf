"""The `ess-assistant` command: plain French errors, JSON outputs that scripts can rely on."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import retrieval
from assistant.argparse_fr import translate_error
from assistant.cli import EXIT_ALL_FAILED, EXIT_SOME_FAILED, main
from assistant.evaluation import EXAMPLE_QUESTIONS, load_gold
from assistant.types import RequestError
from ingest.pipeline import FileOutcome, IngestReport
from vectorstore.settings import BUNDLED_CORPUS
from vectorstore.text import contains_quote

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
    assert run.returncode == 3, run.stderr  # some files failed
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
    assert set(answer) == {"answer", "citations", "abstained", "mode", "warnings", "leads"}
    assert answer["mode"] == "extractive" and answer["leads"] == [] and not answer["abstained"]
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


@pytest.mark.parametrize("argv", [["ask", ""], ["ask", "   "], ["brief", ""], ["search", "ESS", "-k", "0"],
                                  ["ask", "Qu'est-ce qu'un PTCE ?", "-k", "-2"]])
def test_empty_requests_and_k_below_one_fail_in_french(tmp_path, monkeypatch, capsys, argv):
    monkeypatch.setenv("ESS_INDEX_DIR", str(tmp_path / "nothing"))
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith("Erreur : ") and ("vide" in err or "doit être un entier supérieur ou égal à 1" in err)
    assert "Aucun index" not in err  # refused before any work


@pytest.mark.parametrize("k", [0, -2, 2.5, True])
def test_retrieve_refuses_k_below_one(k, tmp_path, monkeypatch):
    monkeypatch.setenv("ESS_INDEX_DIR", str(tmp_path / "nothing"))
    with pytest.raises(RequestError, match="entier supérieur ou égal à 1"):
        retrieval.retrieve("coopératives", k=k)


@pytest.mark.parametrize(
    ("statuses", "code"),
    [(["ingested", "unchanged"], 0), (["ingested", "failed"], EXIT_SOME_FAILED),
     (["unchanged", "failed"], EXIT_SOME_FAILED), (["failed", "failed", "removed"], EXIT_ALL_FAILED), ([], 0)],
)
def test_ingest_exit_code_says_whether_files_failed(statuses, code, monkeypatch, capsys):
    report = IngestReport([FileOutcome(f"f{i}.pdf", s, reason="illisible" if s == "failed" else None)
                           for i, s in enumerate(statuses)])
    monkeypatch.setattr("ingest.pipeline.ingest_paths", lambda *a, **kw: report)
    assert main(["ingest", "-q", "x.pdf"]) == code
    assert "fichier(s) indexé(s)" in capsys.readouterr().out


def test_help_and_usage_errors_are_french(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage : ess-assistant") and "afficher cette aide et quitter" in out
    assert "show this help" not in out and "positional arguments" not in out and "Codes de sortie" in out
    assert "\noptions :\n" in out and "\ncommandes :\n" in out
    with pytest.raises(SystemExit):
        main(["ingest", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert f"{EXIT_SOME_FAILED} certains fichiers en échec" in out and f"{EXIT_ALL_FAILED} tous" in out
    with pytest.raises(SystemExit) as done:
        main(["search", "ESS", "-k", "beaucoup"])
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage : ") and "erreur : argument -k : valeur invalide (entier attendu) : 'beaucoup'" in err
    with pytest.raises(SystemExit):
        main(["search"])
    assert "arguments obligatoires manquants : RECHERCHE" in capsys.readouterr().err


def test_unknown_argparse_messages_pass_through():
    assert translate_error("argument -x: something new") == "argument -x : something new"
    assert translate_error("unrecognized arguments: --vite") == "arguments non reconnus : --vite"


def test_example_questions_ship_inside_the_package_with_verified_quotes():
    assert EXAMPLE_QUESTIONS.parent == Path(retrieval.__file__).parent  # installed with the package
    rows = load_gold(EXAMPLE_QUESTIONS)
    answerable = [r for r in rows if r.get("evidence")]
    assert len(answerable) >= 10 and any(r["type"] == "unanswerable" for r in rows)
    for row in answerable:
        text = (BUNDLED_CORPUS / row["source"]).read_text(encoding="utf-8")
        assert all(contains_quote(text, quote) for quote in row["evidence"]), row["id"]


def test_eval_without_argument_uses_the_example_questions(monkeypatch, capsys):
    monkeypatch.setattr(retrieval, "retrieve", lambda q, k: [])
    assert main(["eval"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["questions"] == len([r for r in load_gold(EXAMPLE_QUESTIONS) if r.get("evidence")])
    assert result["r@5"] == 0.0  # the fake search finds nothing: every question is a miss


def test_make_run_takes_port_and_host():
    if not shutil.which("make"):
        pytest.skip("make absent")
    run = subprocess.run(["make", "-n", "run", "PORT=8080", "HOST=0.0.0.0"], capture_output=True, text=True,
                         cwd=ROOT, timeout=60)
    assert "ess-assistant serve --host 0.0.0.0 --port 8080" in run.stdout
    assert "ess-assistant ingest || [ $? -eq 3 ]" in run.stdout  # some files failed: the chat still opens
    run = subprocess.run(["make", "-n", "run", "HOST="], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "ess-assistant serve --host 127.0.0.1 --port 7860" in run.stdout
