"""Exports of a brief: Markdown with footnotes, Word (.docx) with real footnotes, written safely.

Officials paste the note into their own documents, so every point keeps its source in a form their tools
understand: ``[^n]`` footnotes in Markdown, Word footnotes in the .docx. Corpus text is escaped so a
passage can never inject markup, links or fake footnotes, and files are only ever written where asked.
"""

from __future__ import annotations

import io
import logging
import os
import re
import tempfile
from datetime import date
from pathlib import Path

from docx import Document
from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import XmlPart
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from assistant.briefing import Brief, BriefBullet
from assistant.types import Passage
from vectorstore.text import fold, normalize_for_match

log = logging.getLogger(__name__)

FOOTNOTE_POINTS = 9
FORMATS = {".md": "markdown", ".markdown": "markdown", ".docx": "docx"}
_MD_SPECIAL_RE = re.compile(r"([\\`*_\[\]{}<>#|~^!&])")
_SLUG_RE = re.compile(r"[^a-z0-9]+")
# A doubled end mark (« etc.. », « ruraux ?. »), an ellipsis « ... » aside.
_DOUBLED_END_RE = re.compile(r"(?<!\.)([.?!…])\.(?!\.)")
_SUBTITLE_RE = re.compile(r"\s[—–:]\s|\s:\s")
SHORT_TITLE_WORDS = 8
FIGURE_COLUMNS = ("Chiffre", "Ce qu'il mesure", "Date", "Source")
_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_EMPTY_FOOTNOTES = (
    f'<w:footnotes xmlns:w="{_W_NS}">'
    '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
    '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p>'
    "</w:footnote></w:footnotes>"
)


class BriefExportError(ValueError):
    """The note cannot be written there (message in French, shown to users)."""


def escape_markdown(text: str) -> str:
    """Corpus text as literal Markdown: no emphasis, link, image, HTML, entity, heading or footnote can come
    from it (every CommonMark punctuation that starts one is backslash-escaped; lines are joined)."""
    return _MD_SPECIAL_RE.sub(r"\\\1", " ".join(text.split()))


def safe_filename(topic: str, suffix: str = ".md") -> str:
    """An ASCII file name for a note on ``topic``: 'note-les-ptce.docx'."""
    slug = _SLUG_RE.sub("-", fold(topic)).strip("-")[:60].rstrip("-") or "sujet"
    return f"note-{slug}{suffix}"


def tidy(text: str) -> str:
    """One space between words and one end mark: « etc.. » → « etc. », « ruraux ?. » → « ruraux ? »."""
    return _DOUBLED_END_RE.sub(r"\1", " ".join(text.split()))


def _closed(text: str) -> str:
    """``text`` ending with a full stop, unless it already ends a sentence."""
    return text if text.endswith((".", "?", "!", "…")) else text + "."


def short_title(title: str) -> str:
    """A title's short form for repeated references: before its subtitle, about eight words at most."""
    short = _SUBTITLE_RE.split(title, maxsplit=1)[0].strip() or title
    words = short.split()
    return short if len(words) <= SHORT_TITLE_WORDS else " ".join(words[:SHORT_TITLE_WORDS]) + "…"


def _where(p: Passage) -> str:
    """The place cited: « p. 4 », or « section « … » » when the document has sections but no pages."""
    if p.page is not None:
        return f"p. {p.page}"
    return f"section « {tidy(p.section)} »" if p.section else ""


def footnote_texts(brief: Brief) -> dict[int, str]:
    """Each citation's note, in reading order: the full reference the first time a document is cited,
    « Ibid. » when it is cited again right after, its short title later on; the page or section when known,
    and the quote when the bullet does not reproduce it."""
    bullet_text: dict[int, str] = {}
    for section in brief.sections:
        for bullet in section.bullets:
            for c in bullet.citations:
                bullet_text.setdefault(c.n, bullet.text)  # the first bullet citing it
    notes: dict[int, str] = {}
    previous: Passage | None = None
    cited: set[str] = set()
    for c in brief.citations():
        p = c.passage
        where = _where(p)
        if previous is not None and previous.source == p.source:
            parts = ["Ibid."] + ([where] if where and where != _where(previous) else [])
        elif p.source in cited:
            parts = [short_title(p.title or p.source), "op. cit."] + ([where] if where else [])
        else:
            parts = [p.title or p.source, p.publisher, str(p.year) if p.year else None, where]
        text = _closed(tidy(", ".join(x for x in parts if x)))
        if normalize_for_match(c.quote) not in normalize_for_match(bullet_text.get(c.n, "")):
            text += f" « {tidy(c.quote)} »"
        notes[c.n] = text
        previous = p
        cited.add(p.source)
    return notes


def _figure_source(bullet: BriefBullet) -> str:
    """The « Source » cell of a key figure: who published it and when, in short."""
    p = bullet.citations[0].passage
    return ", ".join(x for x in (p.publisher or short_title(p.title or p.source), str(p.year) if p.year else "") if x)


def _bullet_lead(bullet: BriefBullet) -> str:
    """Prefix of a key-figure bullet: the figure and its date."""
    if not bullet.figure:
        return ""
    return bullet.figure + (f" ({bullet.date})" if bullet.date else "")


def _md_row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def to_markdown(brief: Brief, *, footnotes: bool = True) -> str:
    """The note in Markdown; ``footnotes=False`` gives [n] markers and a notes list instead of [^n].

    The second form is for renderers without footnote support (the web UI); its notes carry their number in
    the text (« [10] »), not as list markers a renderer may clip. « Chiffres clés » is a table.
    """
    lines = [f"# {escape_markdown(brief.title)}", "", f"*{escape_markdown(brief.scope)}*", ""]
    lines += [f"> {escape_markdown(w)}" for w in brief.warnings] + ([""] if brief.warnings else [])
    notes = footnote_texts(brief)
    for section in brief.sections:
        lines += [f"## {escape_markdown(section.title)}", ""]
        if section.key == "chiffres":
            lines += [_md_row(list(FIGURE_COLUMNS)), _md_row(["---"] * len(FIGURE_COLUMNS))]
        for bullet in section.bullets:
            markers = "".join(f"[^{c.n}]" if footnotes else f" \\[{c.n}\\]" for c in bullet.citations)
            if section.key == "chiffres":
                cells = [bullet.figure or "—", tidy(bullet.text), bullet.date or "s. d.", _figure_source(bullet)]
                lines.append(_md_row([escape_markdown(x) for x in cells[:-1]] + [escape_markdown(cells[-1]) + markers]))
                continue
            lead = _bullet_lead(bullet)
            head = f"**{escape_markdown(lead)}** — " if lead else ""
            lines.append(f"- {head}{escape_markdown(tidy(bullet.text))}{markers}")
        lines.append("")
    sources = brief.sources()
    if sources:
        lines += ["## Sources", ""]
        # Bulleted, not numbered: the numbers belong to the notes.
        lines += [f"- {escape_markdown(s.label())}" for s in sources]
        lines.append("")
    if notes:
        if footnotes:
            lines += [f"[^{n}]: {escape_markdown(notes[n])}" for n in sorted(notes)]
            lines.append("")
        else:
            lines += ["### Notes", ""]
            for n in sorted(notes):
                lines += [f"\\[{n}\\] {escape_markdown(notes[n])}", ""]
    return "\n".join(lines)


class _Footnotes:
    """Real Word footnotes: python-docx has no API for them, so the part is added by hand."""

    def __init__(self, document: Document) -> None:
        self.root = parse_xml(_EMPTY_FOOTNOTES)
        part = XmlPart(PackURI("/word/footnotes.xml"), CT.WML_FOOTNOTES, self.root, document.part.package)
        document.part.relate_to(part, RT.FOOTNOTES)
        self.ids: dict[int, int] = {}

    def reference(self, paragraph: Paragraph, n: int, text: str) -> None:
        """Append a footnote reference for citation ``n`` to ``paragraph`` (one footnote per citation)."""
        if n not in self.ids:
            self.ids[n] = len(self.ids) + 1
            self._add(self.ids[n], text)
        run = paragraph.add_run()
        run.font.superscript = True
        ref = OxmlElement("w:footnoteReference")
        ref.set(qn("w:id"), str(self.ids[n]))
        run._r.append(ref)

    def _add(self, footnote_id: int, text: str) -> None:
        note = OxmlElement("w:footnote")
        note.set(qn("w:id"), str(footnote_id))
        p = OxmlElement("w:p")
        mark = OxmlElement("w:r")
        rpr = OxmlElement("w:rPr")
        valign = OxmlElement("w:vertAlign")
        valign.set(qn("w:val"), "superscript")
        rpr.append(valign)
        mark.append(rpr)
        mark.append(OxmlElement("w:footnoteRef"))
        body = OxmlElement("w:r")
        body_rpr = OxmlElement("w:rPr")
        size = OxmlElement("w:sz")
        size.set(qn("w:val"), str(2 * FOOTNOTE_POINTS))
        body_rpr.append(size)
        body.append(body_rpr)
        t = OxmlElement("w:t")
        t.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        t.text = " " + text
        body.append(t)
        p.append(mark)
        p.append(body)
        note.append(p)
        self.root.append(note)


def _figures_table(document: Document, bullets: list[BriefBullet], footnotes: _Footnotes, notes: dict) -> None:
    """« Chiffres clés » as a Word table: figure, what it measures, date, source (with its footnotes)."""
    table = document.add_table(rows=1, cols=len(FIGURE_COLUMNS))
    table.style = "Table Grid"
    for cell, name in zip(table.rows[0].cells, FIGURE_COLUMNS, strict=True):
        cell.paragraphs[0].add_run(name).bold = True
    for bullet in bullets:
        cells = table.add_row().cells
        for cell, text in zip(cells, (bullet.figure or "—", tidy(bullet.text), bullet.date or "s. d."), strict=False):
            cell.text = text
        source = cells[-1].paragraphs[0]
        source.add_run(_figure_source(bullet))
        for c in bullet.citations:
            footnotes.reference(source, c.n, notes[c.n])


def to_docx(brief: Brief) -> bytes:
    """The note as a .docx: title, scope, one heading per section, bullets with footnotes, sources list."""
    document = Document()
    props = document.core_properties
    props.title, props.subject, props.author, props.language = (
        brief.title,
        brief.topic,
        "ESS Assistant",
        "fr-FR",
    )
    # French proofing language for the whole text (the template's default is English).
    for lang in document.styles.element.findall(f"{{{_W_NS}}}docDefaults//{{{_W_NS}}}lang"):
        lang.set(qn("w:val"), "fr-FR")
    document.add_heading(brief.title, level=0)
    scope = document.add_paragraph()
    scope.add_run(brief.scope).italic = True
    scope.add_run(f" Note générée le {date.today().strftime('%d/%m/%Y')}.").italic = True
    for warning in brief.warnings:
        document.add_paragraph(warning)
    footnotes = _Footnotes(document)
    notes = footnote_texts(brief)
    for section in brief.sections:
        document.add_heading(section.title, level=1)
        if section.key == "chiffres":
            _figures_table(document, section.bullets, footnotes, notes)
            continue
        for bullet in section.bullets:
            paragraph = document.add_paragraph(style="List Bullet")
            lead = _bullet_lead(bullet)
            if lead:
                paragraph.add_run(lead).bold = True
                paragraph.add_run(" — ")
            paragraph.add_run(tidy(bullet.text))
            for c in bullet.citations:
                footnotes.reference(paragraph, c.n, notes[c.n])
    sources = brief.sources()
    if sources:
        document.add_heading("Sources", level=1)
        for s in sources:
            document.add_paragraph(s.label(), style="List Bullet")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def render(brief: Brief, suffix: str) -> bytes:
    """The note's bytes in the format named by a file suffix (.md, .markdown or .docx)."""
    fmt = FORMATS.get(suffix.lower())
    if fmt is None:
        raise BriefExportError(
            f"Format « {suffix or '(aucun)'} » non pris en charge : choisissez un fichier .md ou .docx."
        )
    return to_docx(brief) if fmt == "docx" else to_markdown(brief).encode("utf-8")


def write_brief(brief: Brief, path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None) -> Path:
    """Write the note to ``path`` (format from its suffix) and return the file written.

    A directory gets a safe file name for the topic (Markdown). The file is written atomically, never
    through a symbolic link, and, when ``root`` is given, only inside ``root`` (no ``..`` or link out).
    """
    path = Path(path).expanduser()
    if path.is_dir():
        path = path / safe_filename(brief.topic, ".md")
    if path.is_symlink():
        raise BriefExportError(f"« {path} » est un lien symbolique : la note n'y sera pas écrite.")
    try:
        parent = path.parent.resolve(strict=True)
    except OSError:
        raise BriefExportError(f"Le dossier « {path.parent} » n'existe pas.") from None
    target = parent / path.name
    if root is not None:
        base = Path(root).expanduser().resolve(strict=True)
        if not target.is_relative_to(base):
            raise BriefExportError(f"Chemin refusé : « {path} » sort du dossier autorisé.")
    if target.exists() and not target.is_file():
        raise BriefExportError(f"« {target} » existe et n'est pas un fichier.")
    data = render(brief, target.suffix)
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=".note-", suffix=target.suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.info("brief written to %s (%d bytes)", target, len(data))
    return target
