"""Brief exports: Markdown footnotes and escaping, DOCX footnotes (PDF through LibreOffice), safe writes."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from docx import Document
from pypdf import PdfReader

from assistant.brief_export import (
    BriefExportError,
    footnote_texts,
    safe_filename,
    tidy,
    to_markdown,
    write_brief,
)
from assistant.briefing import Brief, BriefBullet, BriefSection
from assistant.types import Citation, Passage

HOSTILE = "Le PTCE publie [un lien](http://mal.invalid) <script>alert(1)</script> **gras** [^9] & <w:p> au 1er janvier."


def _passage(cid: str, text: str, page: int | None = 4, section: str | None = None) -> Passage:
    return Passage(
        text=text,
        source=f"{cid}.md",
        title=f"Document {cid}",
        page=page,
        section=section,
        score=1.0,
        chunk_id=cid,
        publisher="CRESS Occitanie",
        year=2021,
    )


def make_brief() -> Brief:
    p1 = _passage("a", "Le premier appel à projets PTCE représente 2 millions d'euros sur deux ans.")
    p2 = _passage("b", HOSTILE, page=None, section="Propositions")
    p3 = _passage("c", "Il faut pérenniser le financement des PTCE. Ils regroupent des entreprises de l'ESS.")
    c1 = Citation(1, p1, p1.text)
    c2 = Citation(2, p2, p2.text)
    c3 = Citation(3, p3, "Ils regroupent des entreprises de l'ESS.")
    sections = [
        BriefSection(
            "chiffres",
            "Chiffres clés",
            [BriefBullet(p1.text, [c1], figure="2 millions d'euros", date="2013")],
        ),
        BriefSection(
            "propositions",
            "Propositions et leviers d'action",
            [
                BriefBullet(HOSTILE, [c2]),
                BriefBullet("Les PTCE associent entreprises et collectivités.", [c3, c1]),
            ],
        ),
    ]
    return Brief("les PTCE", "Note de synthèse : Les PTCE", "Note établie sur « les PTCE ».", sections)


def test_markdown_has_sections_footnotes_and_sources() -> None:
    md = to_markdown(make_brief())
    assert md.startswith("# Note de synthèse : Les PTCE\n")
    assert "## Chiffres clés" in md and "## Propositions et leviers d'action" in md and "## Sources" in md
    assert "| Chiffre | Ce qu'il mesure | Date | Source |\n| --- | --- | --- | --- |\n" in md
    assert "| 2 millions d'euros | Le premier appel à projets PTCE représente 2 millions d'euros sur deux ans. " \
           "| 2013 | CRESS Occitanie, 2021[^1] |" in md
    sources = md.split("## Sources\n\n")[1].split("\n\n")[0].splitlines()
    assert sources == [
        "- Document a, CRESS Occitanie, 2021, p. 4",
        "- Document b, CRESS Occitanie, 2021, Propositions",
        "- Document c, CRESS Occitanie, 2021, p. 4",
    ]
    assert re.findall(r"^\[\^(\d+)\]: ", md, re.M) == ["1", "2", "3"]
    assert md.count("[^1]") == 3  # two references and the definition
    assert "[^3][^1]" in md
    # The footnote of a synthesised bullet shows the quote it rests on; a quoted bullet does not repeat it.
    note3 = next(line for line in md.splitlines() if line.startswith("[^3]:"))
    assert "Document c, CRESS Occitanie, 2021, p. 4." in note3 and "« Ils regroupent" in note3
    note1 = next(line for line in md.splitlines() if line.startswith("[^1]:"))
    assert "«" not in note1
    assert "section « Propositions »" in next(line for line in md.splitlines() if line.startswith("[^2]:"))


def test_markdown_escapes_corpus_text() -> None:
    md = to_markdown(make_brief())
    for raw in (r"(?<!\\)<script", r"(?<!\\)\]\(http", r"(?<!\\)\*\*gras", r"(?<!\\)<w:p"):
        assert not re.search(raw, md), raw
    assert "\\[^9\\]" not in md and "\\[\\^9\\]" in md
    # Only our own footnotes are real footnote references.
    assert set(re.findall(r"(?<!\\)\[\^(\d+)\](?!:)", md)) == {"1", "2", "3"}


def test_markdown_without_footnotes_for_the_web_ui() -> None:
    md = to_markdown(make_brief(), footnotes=False)
    assert "[^" not in md.replace("\\[\\^9\\]", "")
    assert "\\[1\\]" in md and "### Notes" in md and re.search(r"^\\\[3\\\] Document c", md, re.M)


def test_docx_reopens_with_headings_bullets_and_real_footnotes(tmp_path: Path) -> None:
    path = write_brief(make_brief(), tmp_path / "note.docx")
    doc = Document(str(path))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith(("Heading", "Title"))]
    assert headings == [
        "Note de synthèse : Les PTCE",
        "Chiffres clés",
        "Propositions et leviers d'action",
        "Sources",
    ]
    bullets = [p.text for p in doc.paragraphs if p.style.name == "List Bullet"]
    assert len(bullets) == 5 and HOSTILE in bullets[0]  # two points, then the three sources
    assert bullets[2].startswith("Document a, CRESS Occitanie, 2021, p. 4")
    (table,) = doc.tables  # the key figures
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0] == ["Chiffre", "Ce qu'il mesure", "Date", "Source"]
    assert rows[1][:3] == ["2 millions d'euros", make_brief().sections[0].bullets[0].text, "2013"]
    assert rows[1][3].startswith("CRESS Occitanie, 2021")
    assert doc.core_properties.title == "Note de synthèse : Les PTCE"
    with zipfile.ZipFile(path) as z:
        notes = z.read("word/footnotes.xml").decode()
        body = z.read("word/document.xml").decode()
        styles = z.read("word/styles.xml").decode()
    assert '<w:lang w:val="fr-FR"' in styles and '<w:sz w:val="18"/>' in notes  # French, 9 pt notes
    ids = re.findall(r'<w:footnote w:id="(\d+)"', notes)
    assert ids == ["1", "2", "3"]
    assert re.findall(r'<w:footnoteReference w:id="(\d+)"/>', body) == ["1", "2", "3", "1"]
    assert "&lt;w:p&gt;" in body and "<script>" not in body  # corpus text is XML-escaped


@pytest.mark.skipif(not (shutil.which("soffice") or shutil.which("libreoffice")), reason="LibreOffice absent")
def test_docx_converts_to_pdf_with_libreoffice(tmp_path: Path) -> None:
    path = write_brief(make_brief(), tmp_path / "note.docx")
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{tmp_path}/lo", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(path)],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    text = "".join(page.extract_text() for page in PdfReader(str(tmp_path / "note.pdf")).pages)
    flat = " ".join(text.split())
    assert "Note de synthèse" in flat and "Chiffres clés" in flat
    assert "Document c, CRESS Occitanie, 2021, p. 4." in flat  # a footnote made it to the page


def test_write_brief_picks_the_format_from_the_suffix(tmp_path: Path) -> None:
    md = write_brief(make_brief(), tmp_path / "Note.MD")
    assert md.read_text(encoding="utf-8").startswith("# Note de synthèse")
    with pytest.raises(BriefExportError, match=r"\.md ou \.docx"):
        write_brief(make_brief(), tmp_path / "note.pdf")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Note.MD"]  # no temporary file left behind


def test_write_brief_into_a_directory_uses_a_safe_name(tmp_path: Path) -> None:
    path = write_brief(make_brief(), tmp_path)
    assert path == tmp_path / "note-les-ptce.md" and path.is_file()


def test_safe_filename_keeps_only_plain_characters() -> None:
    name = safe_filename("l'ESS / dans les territoires ruraux ../../etc/passwd", ".docx")
    assert name == "note-l-ess-dans-les-territoires-ruraux-etc-passwd.docx"
    assert safe_filename("«»", ".md") == "note-sujet.md"
    assert len(safe_filename("x" * 500)) <= 70


def test_write_brief_refuses_symlinks(tmp_path: Path) -> None:
    victim = tmp_path / "victim.md"
    victim.write_text("ne pas écraser", encoding="utf-8")
    link = tmp_path / "note.md"
    link.symlink_to(victim)
    with pytest.raises(BriefExportError, match="lien symbolique"):
        write_brief(make_brief(), link)
    assert victim.read_text(encoding="utf-8") == "ne pas écraser"


def test_write_brief_stays_inside_its_root(tmp_path: Path) -> None:
    root = tmp_path / "exports"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "escape").symlink_to(outside, target_is_directory=True)
    for bad in (root / ".." / "note.md", root / "escape" / "note.md"):
        with pytest.raises(BriefExportError, match="sort du dossier"):
            write_brief(make_brief(), bad, root=root)
    assert list(outside.iterdir()) == [] and not (tmp_path / "note.md").exists()
    assert write_brief(make_brief(), root / "note.docx", root=root) == (root / "note.docx").resolve()


def test_write_brief_reports_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(BriefExportError, match="n'existe pas"):
        write_brief(make_brief(), tmp_path / "absent" / "note.md")


def _cite(n: int, cid: str, title: str, page: int | None = None, section: str | None = None) -> Citation:
    p = Passage(text=f"Texte {cid}.", source=f"{title}.md", title=title, page=page, section=section, score=1.0,
                chunk_id=cid, publisher="RTES", year=2013)
    return Citation(n, p, p.text)


def test_repeated_sources_get_ibid_or_a_short_title_with_their_place() -> None:
    long_title = "Rencontres « Territoires & ESS » 2013 — actes des journées régionales de Poitiers"
    cites = [
        _cite(1, "a", long_title, page=4),
        _cite(2, "b", long_title, page=4),
        _cite(3, "c", long_title, page=7),
        _cite(4, "d", "Carnet des Agoras", section="Comment renforcer l'ESS dans les territoires ruraux ?"),
        _cite(5, "e", long_title, page=9),
    ]
    bullets = [BriefBullet(f"Point {c.n}, etc..", [c]) for c in cites]
    note = Brief("l'ESS", "Note de synthèse : L'ESS", "Note.", [BriefSection("contexte", "Contexte", bullets)])
    notes = footnote_texts(note)
    assert notes[1] == f"{long_title}, RTES, 2013, p. 4. « Texte a. »"
    assert notes[2].startswith("Ibid. «")
    assert notes[3].startswith("Ibid., p. 7. «")
    assert notes[4].startswith(
        "Carnet des Agoras, RTES, 2013, section « Comment renforcer l'ESS dans les territoires ruraux ? ». «")
    assert notes[5].startswith("Rencontres « Territoires & ESS » 2013, op. cit., p. 9. «")
    md = to_markdown(note)
    assert "etc.." not in md and "Point 1, etc.[^1]" in md
    assert "?." not in md and ".." not in md.replace("...", "")
    assert sum(long_title in text for text in notes.values()) == 1  # the full reference once, not at every note


def test_tidy_keeps_ellipses_and_drops_doubled_end_marks() -> None:
    assert tidy("zones rurales, etc.. En") == "zones rurales, etc. En"
    assert tidy("territoires ruraux ?.") == "territoires ruraux ?"
    assert tidy("et ainsi de suite...") == "et ainsi de suite..."
    assert tidy("voir  p. 4") == "voir p. 4"
