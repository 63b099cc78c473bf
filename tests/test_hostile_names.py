"""Names and texts a user may have: bidi overrides, terminal escapes, non-UTF-8 names, UTF-16 files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.clean import clean_label, clean_text
from ingest.loaders import load_file
from ingest.pipeline import document_metadata, ingest_paths

RLO = "\u202e"
ESCAPES = "\x1b]0;pwned\x07\x1b[31m"


def test_bidi_overrides_and_terminal_escapes_are_stripped_from_labels_and_text():
    assert clean_label(f"fdp{RLO}txt.exe") == "fdptxt.exe"
    assert clean_label(f"{ESCAPES}rapport\x1b[0m.txt") == "]0;pwned [31mrapport [0m.txt"
    assert "\x1b" not in clean_label(ESCAPES) and "\x9b" not in clean_label("a\x9b31mb")
    assert clean_text(f"Le texte {RLO}inversé\u2066 ici.\x1b[2J") == "Le texte inversé ici.[2J"


def test_ingested_titles_and_names_carry_no_bidi_override(tmp_path: Path, fake_index):
    path = tmp_path / f"fdp{RLO}txt.exe.txt"
    path.write_text(f"Un paragraphe {RLO}ordinaire sur les coopératives d'habitants.", encoding="utf-8")
    meta = document_metadata(path)
    assert RLO not in meta["title"] and RLO not in meta["source"]
    report = ingest_paths([path], index=fake_index)
    assert [o.status for o in report.outcomes] == ["ingested"]
    (source, entry), = fake_index.read_manifest()["files"].items()
    assert source == "fdptxt.exe.txt" and RLO not in entry["title"]
    assert all(RLO not in text for _, text, _ in fake_index.iter_all())


def test_a_non_utf8_file_name_is_read_as_windows_1252(tmp_path: Path, fake_index):
    raw = os.fsencode(tmp_path) + b"/compte-rendu-r\xe9union.txt"  # Latin-1 "réunion", invalid UTF-8
    try:
        Path(os.fsdecode(raw)).write_text("Compte rendu de la réunion du réseau.", encoding="utf-8")
    except (OSError, UnicodeError):
        pytest.skip("the file system refuses non-UTF-8 names")
    report = ingest_paths([tmp_path], index=fake_index)
    assert [(o.source, o.status) for o in report.outcomes] == [("compte-rendu-réunion.txt", "ingested")]
    assert "compte-rendu-réunion.txt" in fake_index.read_manifest()["files"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_utf16_and_bom_text_files_are_read_correctly(tmp_path: Path, encoding: str):
    text = "Économie sociale et solidaire : 42 coopératives réunies à Toulouse."
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path = tmp_path / "note.txt"
    path.write_bytes(data)
    content = " ".join(b.page_content for b in load_file(path))
    assert "Économie sociale" in content and "ÿþ" not in content and "\x00" not in content


def test_the_cli_prints_hostile_names_without_terminal_escapes(monkeypatch, capsys):
    from assistant.cli import main
    from ingest.pipeline import FileOutcome, IngestReport

    name = f"{ESCAPES}fdp{RLO}txt.exe\udce9.txt"  # as an old index or a raw exception may still hold it
    report = IngestReport([FileOutcome(name, "failed", reason=f"« {name} » est illisible.")])
    monkeypatch.setattr("ingest.pipeline.ingest_paths", lambda *a, **kw: report)
    main(["ingest", "-q", "x.txt"])
    out = capsys.readouterr().out
    assert "fdptxt.exe" in out and "\x1b" not in out and "\x07" not in out and RLO not in out
    out.encode("utf-8")  # no lone surrogate left: printing it cannot raise UnicodeEncodeError

    def broken(*args, **kwargs):
        raise ValueError(f"nom {ESCAPES}piégé")

    monkeypatch.setattr("ingest.pipeline.ingest_paths", broken)
    assert main(["ingest", "-q", "x.txt"]) == 1
    err = capsys.readouterr().err
    assert "Erreur : nom" in err and "\x1b" not in err


@pytest.mark.parametrize("command", ["ask", "search", "brief"])
def test_the_cli_caps_questions_like_the_web(command, tmp_path, monkeypatch, capsys):
    from assistant.cli import main

    monkeypatch.setenv("ESS_INDEX_DIR", str(tmp_path / "absent"))
    assert main([command, "coopérative " * 10_000]) == 1
    err = capsys.readouterr().err
    assert "trop longue" in err and "2000 caractères au plus" in err


def test_user_messages_shown_in_the_page_hold_no_server_folder():
    from ingest.pipeline import IndexBusyError
    from ui.common import user_message

    message = user_message(IndexBusyError("Une autre indexation est en cours sur /srv/ess/index ; réessayez."), "x")
    assert "/srv" not in message and message.startswith("Une autre indexation est en cours sur")
    assert user_message(RuntimeError("/srv/ess/secret"), "Erreur interne.") == "Erreur interne."
