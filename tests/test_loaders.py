"""Loaders on real sample PDFs, the corpus and generated bad files: Documents or a named IngestError."""

from __future__ import annotations

import io
import logging
import os
import random
import re
import time
from pathlib import Path

import pytest
from pypdf import PdfWriter

from ingest import loaders
from ingest.errors import (
    CorruptFileError,
    EncryptedFileError,
    FileTooLargeError,
    IngestError,
    NoTextError,
    UnsupportedFileError,
)
from ingest.loaders import load_file
from tests.pdfs import encrypted_pdf, text_pdf

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
SAMPLES = SHARED / "pdf-samples"
CORPUS = ROOT / "data" / "corpus"
needs_samples = pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/pdf-samples absent")


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- real sample PDFs -------------------------------------------------------------------------------


@needs_samples
@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", sorted(p.name for p in SAMPLES.glob("*.pdf")) if SAMPLES.is_dir() else [])
def test_every_sample_pdf_gives_documents_or_a_named_ingest_error(name: str) -> None:
    try:
        docs = load_file(SAMPLES / name)
    except IngestError as exc:
        assert type(exc) is not IngestError, "raise a named subclass"
        assert str(exc) and name in str(exc)
        return
    assert docs
    pages = [d.metadata["page"] for d in docs]
    assert pages == sorted(set(pages)) and pages[0] >= 1
    assert all(d.page_content.strip() for d in docs)


@needs_samples
@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["encrypted-file.pdf", "crazyones-encrypted-256.pdf"])
def test_samples_needing_a_user_password_raise_encrypted(name: str) -> None:
    # Both need a real user password (pypdf's test suite opens them with "test" / "openpassword").
    with pytest.raises(EncryptedFileError, match="mot de passe"):
        load_file(SAMPLES / name)


@needs_samples
@pytest.mark.timeout(60)
def test_r6_sample_opens_with_its_empty_owner_password() -> None:
    # Its user password is "asdfzxcv" but its owner password is empty, so any reader may open it.
    docs = load_file(SAMPLES / "r6-user-password.pdf")
    assert "pdf encryption test" in docs[0].page_content


@needs_samples
@pytest.mark.timeout(60)
def test_multi_page_sample_keeps_page_numbers() -> None:
    docs = load_file(SAMPLES / "Seige_of_Vicksburg_Sample_OCR.pdf")
    assert [d.metadata for d in docs] == [{"page": n} for n in range(1, 7)]
    assert "VICKSBURG" in docs[0].page_content


@needs_samples
@pytest.mark.timeout(60)
def test_pypdf_warnings_go_to_logging(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="ingest.loaders"):
        docs = load_file(SAMPLES / "issue-297.pdf")
    assert docs[0].page_content.strip() == "test example"
    assert any("pypdf" in r.getMessage() for r in caplog.records)
    assert capfd.readouterr().err == ""


# --- generated PDFs ---------------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_generated_pdf_one_document_per_page_with_text(tmp_path: Path) -> None:
    path = write(tmp_path, "r.pdf", text_pdf(["Première page : l'économie sociale", "", "Troisième page"]))
    docs = load_file(path)
    assert [d.metadata for d in docs] == [{"page": 1}, {"page": 3}]
    assert "Première page : l'économie sociale" in docs[0].page_content


@pytest.mark.timeout(60)
def test_pdf_encrypted_with_empty_user_password_loads(tmp_path: Path) -> None:
    docs = load_file(write(tmp_path, "aes.pdf", encrypted_pdf("")))
    assert "Rapport chiffré sur l'ESS" in docs[0].page_content


@pytest.mark.timeout(60)
def test_pdf_with_user_password_raises_encrypted(tmp_path: Path) -> None:
    with pytest.raises(EncryptedFileError, match="protégé par un mot de passe"):
        load_file(write(tmp_path, "secret.pdf", encrypted_pdf("secret")))


@pytest.mark.timeout(60)
def test_pdf_without_text_layer_raises_no_text(tmp_path: Path) -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(NoTextError, match="scanné sans couche texte"):
        load_file(write(tmp_path, "scan.pdf", buffer.getvalue()))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.95])
def test_truncated_pdf_raises_corrupt(tmp_path: Path, keep: float) -> None:
    data = text_pdf(["Un texte qui sera coupé", "Deuxième page"])
    with pytest.raises(CorruptFileError, match="endommagé ou tronqué"):
        load_file(write(tmp_path, "cut.pdf", data[: int(len(data) * keep)]))


@pytest.mark.timeout(60)
def test_random_bytes_named_pdf_raise_corrupt(tmp_path: Path) -> None:
    data = random.Random(7).randbytes(4096)
    with pytest.raises(CorruptFileError):
        load_file(write(tmp_path, "bruit.pdf", data))


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", ["vide.pdf", "vide.txt", "vide.md"])
def test_zero_byte_file_raises_corrupt(tmp_path: Path, name: str) -> None:
    with pytest.raises(CorruptFileError, match="vide"):
        load_file(write(tmp_path, name, b""))


@pytest.mark.timeout(60)
def test_pdf_over_page_limit_raises_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loaders, "MAX_PDF_PAGES", 2)
    with pytest.raises(FileTooLargeError, match="3 pages"):
        load_file(write(tmp_path, "long.pdf", text_pdf(["a", "b", "c"])))


@pytest.mark.timeout(30)
def test_pdf_parse_past_the_time_bound_is_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loaders, "PDF_PARSE_TIMEOUT_S", 0.001)
    started = time.monotonic()
    with pytest.raises(CorruptFileError, match="interrompue"):
        load_file(write(tmp_path, "lent.pdf", text_pdf(["texte"])))
    assert time.monotonic() - started < 10


# --- text and Markdown ------------------------------------------------------------------------------


def test_latin1_txt_keeps_accents(tmp_path: Path) -> None:
    text = "L'économie sociale et solidaire à Besançon : coopératives, mutuelles, « été », où ça ?\n"
    docs = load_file(write(tmp_path, "latin.txt", text.encode("latin-1")))
    assert len(docs) == 1
    assert docs[0].page_content == text
    assert docs[0].metadata == {}


def test_cp1252_and_utf8_bom_txt(tmp_path: Path) -> None:
    text = "Pacte économique – l’ESS… « œuvre »"
    assert load_file(write(tmp_path, "w.txt", text.encode("cp1252")))[0].page_content == text
    assert load_file(write(tmp_path, "u.txt", text.encode("utf-8-sig")))[0].page_content == text


def test_txt_crlf_normalised(tmp_path: Path) -> None:
    docs = load_file(write(tmp_path, "dos.txt", b"ligne un\r\nligne deux\r\n"))
    assert docs[0].page_content == "ligne un\nligne deux\n"


def test_whitespace_only_txt_raises_no_text(tmp_path: Path) -> None:
    with pytest.raises(NoTextError):
        load_file(write(tmp_path, "blanc.txt", b" \n\n\t\n"))


def test_text_over_size_limit_raises_too_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(loaders, "MAX_TEXT_BYTES", 1000)
    with pytest.raises(FileTooLargeError, match="limite"):
        load_file(write(tmp_path, "gros.md", b"x" * 1001))
    assert load_file(write(tmp_path, "juste.md", b"x" * 1000))


@pytest.mark.timeout(60)
def test_huge_single_line_txt_loads_and_cleans_quickly(tmp_path: Path) -> None:
    from ingest.clean import clean_text

    line = ("L'économie sociale **et** solidaire I'ESS co-\nconstruit <b>des</b> " * 60_000).replace("\n", " ")
    started = time.monotonic()
    docs = load_file(write(tmp_path, "ligne.txt", line.encode()))
    cleaned = clean_text(docs[0].page_content)
    assert time.monotonic() - started < 20
    assert "\n" not in cleaned and "**" not in cleaned and "<b>" not in cleaned
    assert cleaned.count("l'ESS") == 60_000


def test_unknown_suffix_raises_unsupported(tmp_path: Path) -> None:
    with pytest.raises(UnsupportedFileError, match="PDF, TXT et Markdown"):
        load_file(write(tmp_path, "note.docx", b"PK\x03\x04"))


def test_missing_file_or_directory_raises_corrupt(tmp_path: Path) -> None:
    with pytest.raises(CorruptFileError, match="illisible"):
        load_file(tmp_path / "absent.txt")
    (tmp_path / "dossier.pdf").mkdir()
    with pytest.raises(CorruptFileError, match="pas un fichier"):
        load_file(tmp_path / "dossier.pdf")


def test_markdown_sections(tmp_path: Path) -> None:
    md = (
        "Avant-propos sans titre.\n\n"
        "# Les **nouvelles** alliances de l'*intérêt* général\n\nPremier bloc.\n\n"
        "```\n# pas un titre\n```\n"
        "## Deuxième partie ##\nSecond bloc.\n"
        "### \n"
        "#sansespace n'est pas un titre\n"
        "# Partie vide\n## Chapitre\nTexte du chapitre.\n# Fin"
    )
    docs = load_file(write(tmp_path, "doc.md", md.encode()))
    assert [d.metadata for d in docs] == [
        {},
        {"section": "Les nouvelles alliances de l'intérêt général"},
        {"section": "Deuxième partie"},
        {"section": "Chapitre"},
        {"section": "Fin"},
    ]
    assert docs[0].page_content == "Avant-propos sans titre."
    assert docs[1].page_content.startswith("Les nouvelles alliances de l'intérêt général\n\nPremier bloc.")
    assert "# pas un titre" in docs[1].page_content
    assert docs[2].page_content == "Deuxième partie\n\nSecond bloc.\n#sansespace n'est pas un titre"
    assert docs[3].page_content == "Partie vide\nChapitre\n\nTexte du chapitre."
    assert docs[4].page_content == "Fin"


@pytest.mark.skipif(not CORPUS.is_dir(), reason="bundled corpus absent")
@pytest.mark.parametrize("name", [p.name for p in sorted(CORPUS.glob("*.md"))])
def test_corpus_markdown_gives_sections(name: str) -> None:
    raw = (CORPUS / name).read_text(encoding="utf-8")
    docs = load_file(CORPUS / name)
    sections = [d.metadata["section"] for d in docs if "section" in d.metadata]
    assert len(sections) >= 20
    assert all("#" not in s and "**" not in s and s == s.strip() for s in sections)
    for doc in docs:
        if "section" in doc.metadata:
            assert doc.metadata["section"] in doc.page_content.split("\n\n")[0].split("\n")
    heading_lines = [line for line in raw.splitlines() if line.startswith("#")]
    assert 0 < len(set(sections)) <= len(heading_lines)
    assert not any(re.match(r"#{1,6}\s", line) for d in docs for line in d.page_content.splitlines())
    # Every word of the file is still somewhere in the blocks.
    assert sum(len(d.page_content.split()) for d in docs) >= len(raw.split()) - 2 * len(heading_lines)


@pytest.mark.skipif(not CORPUS.is_dir(), reason="bundled corpus absent")
def test_focus_markdown_title_section() -> None:
    docs = load_file(CORPUS / "ess-france_focus-nouvelles-alliances-interet-general_2022.md")
    assert "Les nouvelles alliances de l'intérêt général" in [d.metadata.get("section") for d in docs]
    assert "section" not in docs[0].metadata


def test_supported_suffixes() -> None:
    assert {".pdf", ".txt", ".md"} <= loaders.SUPPORTED_SUFFIXES
    assert all(s.startswith(".") and s == s.lower() for s in loaders.SUPPORTED_SUFFIXES)


def test_worker_runs_without_inherited_pythonpath(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PYTHONPATH", raising=False)
    monkeypatch.chdir(tmp_path)
    assert os.getcwd() == str(tmp_path)
    assert load_file(write(tmp_path, "a.pdf", text_pdf(["Bonjour"])))[0].page_content.startswith("Bonjour")


def test_txt_headings_become_sections(tmp_path: Path) -> None:
    text = (
        "Avant-propos sans titre.\n\n"
        "UNE CRISE QUI NOUS BOULEVERSE\n\n"
        "C'est une crise sans précédent.\n"
        "PERIMETRES DES CONTRATS DE RELANCE ET\n"
        "DE TRANSITION ECOLOGIQUE (CRTE)\n"
        "Les contrats couvrent le territoire.\n"
        "objectifs. Il suit et évalue les actions.\n"
        "Proposition 4 : Promouvoir un « green new deal » régional\n\n"
        "- 1. Donner aux entreprises de l'ESS les moyens d'agir\n"
    )
    path = tmp_path / "note.txt"
    path.write_text(text, encoding="utf-8")
    docs = load_file(path)
    assert [d.metadata.get("section") for d in docs] == [
        None,
        "UNE CRISE QUI NOUS BOULEVERSE",
        "PERIMETRES DES CONTRATS DE RELANCE ET DE TRANSITION ECOLOGIQUE (CRTE)",
        "Proposition 4 : Promouvoir un « green new deal » régional",
    ]
    assert "\n".join(d.page_content for d in docs) == text  # nothing lost or reordered
    assert docs[3].page_content.startswith("Proposition 4")


def test_corpus_txt_proposals_are_sections() -> None:
    docs = load_file(CORPUS / "cress-occitanie_ess-nouveau-pacte-economique-et-social_2020.txt")
    sections = [d.metadata.get("section") for d in docs]
    assert "Proposition 4 : Promouvoir un « green new deal » régional" in sections
    assert sum(1 for s in sections if s and s.startswith("Axe ")) == 5


def test_txt_heading_does_not_label_the_rest_of_a_long_document(tmp_path: Path) -> None:
    paragraph = "Les acteurs de l'ESS coopèrent avec les collectivités du territoire.\n"
    path = tmp_path / "long.txt"
    path.write_text("Table ronde : Coopérer\n" + paragraph * 200, encoding="utf-8")
    docs = load_file(path)
    assert docs[0].metadata["section"] == "Table ronde : Coopérer"
    assert len(docs[0].page_content) <= loaders.MAX_TEXT_SECTION_CHARS + 2 * len(paragraph)
    assert all("section" not in d.metadata for d in docs[1:]) and len(docs) == 2
    assert "\n".join(d.page_content for d in docs) == path.read_text(encoding="utf-8")
