"""Read PDF, plain-text and Markdown files into raw-text Documents with a stable location.

PDFs are parsed in a child process with a time and memory bound, so a hostile or broken file can
fail one ingest but never hang or exhaust the whole run. Every failure a user can act on is raised as
one of the ``IngestError`` subclasses with a French message.
"""

from __future__ import annotations

import codecs
import json
import logging
import os
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from langchain_core.documents import Document

from ingest.errors import (
    CorruptFileError,
    EncryptedFileError,
    FileTooLargeError,
    IngestError,
    NoTextError,
    UnsupportedFileError,
)

if TYPE_CHECKING:
    from pypdf import PdfReader

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES: frozenset[str] = frozenset({".pdf", ".txt", ".md", ".markdown"})

# Documented limits. A real report is far below them; beyond them the file is refused, not truncated.
MAX_PDF_BYTES = 200 * 1024 * 1024
MAX_TEXT_BYTES = 50 * 1024 * 1024
MAX_PDF_PAGES = 5000
# A plain-text heading names at most this much of the text after it.
MAX_TEXT_SECTION_CHARS = 6000
PDF_PARSE_TIMEOUT_S = 120.0
# Address-space cap of the PDF child process (a decompression bomb fails there, not in our process).
PDF_WORKER_MEMORY_BYTES = 4 * 1024 * 1024 * 1024
# At most this many distinct pypdf warnings are relayed to our log per file.
MAX_RELAYED_WARNINGS = 20

_TEXT_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
_ATX_HEADING_RE = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE_RE = re.compile(r"^ {0,3}(```|~~~)")
_HEADING_MARKUP_RE = re.compile(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)|`|<[^<>\n]+>")


def load_file(path: Path) -> list[Document]:
    """Return the file's raw text as Documents: one per PDF page, per Markdown section, or one for a .txt."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UnsupportedFileError(
            f"Le fichier « {path.name} » n'est pas pris en charge : seuls les formats PDF, TXT et Markdown sont lus."
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise CorruptFileError(f"Le fichier « {path.name} » est illisible ({exc.strerror}).") from exc
    if not path.is_file():
        raise CorruptFileError(f"« {path.name} » n'est pas un fichier ordinaire.")
    limit = MAX_PDF_BYTES if suffix == ".pdf" else MAX_TEXT_BYTES
    if size > limit:
        raise FileTooLargeError(
            f"Le fichier « {path.name} » fait {size / 2**20:.1f} Mo, au-delà de la limite de {limit / 2**20:.0f} Mo."
        )
    if size == 0:
        raise CorruptFileError(f"Le fichier « {path.name} » est vide (0 octet).")
    if suffix == ".pdf":
        return _load_pdf(path)
    text = _read_text(path)
    if not text.strip():
        raise NoTextError(f"Le fichier « {path.name} » ne contient aucun texte.")
    if suffix == ".txt":
        return _split_plain_text(text)
    return _split_markdown(text)


def _encodings(data: bytes) -> tuple[str, ...]:
    """Encodings to try, in order: a UTF-16/32 byte order mark decides (Windows Notepad saves UTF-16)."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return ("utf-32", *_TEXT_ENCODINGS)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return ("utf-16", *_TEXT_ENCODINGS)
    return _TEXT_ENCODINGS


def _read_text(path: Path) -> str:
    """Decode UTF-8 (BOM accepted), UTF-16/32 with a BOM, else Windows-1252, else Latin-1 (any byte)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorruptFileError(f"Le fichier « {path.name} » est illisible ({exc.strerror}).") from exc
    for encoding in _encodings(data):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding not in ("utf-8-sig", "utf-16", "utf-32"):
            logger.info("%s is not UTF-8, decoded as %s", path.name, encoding)
        return text.replace("\r\n", "\n").replace("\r", "\n")
    raise AssertionError("latin-1 decodes any byte sequence")


# A plain-text heading: a short line naming a proposal/part/workshop…, or a line in capitals.
_TEXT_HEADING_RE = re.compile(
    r"^(?:proposition|partie|chapitre|axe|titre|annexe|atelier|table[ -]ronde|objectif|mesure|priorité|enjeu|"
    r"recommandation|préconisation|fiche|focus)s?\s*(?:n°\s*)?(?:[0-9]+|[IVX]+)?\s*[:–—-]\s*\S",
    re.IGNORECASE,
)
_MAX_TEXT_HEADING = 90


def _is_text_heading(line: str) -> bool:
    line = line.strip()
    if not 4 <= len(line) <= _MAX_TEXT_HEADING or line[-1] in ".,;:…!":
        return False
    if _TEXT_HEADING_RE.match(line):
        return True
    # A line in capitals, whole words of it (OCR debris such as "Eﬁ" or "(Dl)" is not a title).
    words = unicodedata.normalize("NFKC", line).split()
    return (
        len(words) >= 2
        and sum(c.isalpha() for c in line) >= 8
        and line[0].isalnum()
        and (line[-1].isalnum() or line[-1] in ")?»")
        and not any(c.islower() for w in words if len(w) > 1 for c in w)
    )


def _split_plain_text(text: str) -> list[Document]:
    """Sections of a .txt file at the headings its layout shows (see _is_text_heading), so a list is
    found under the title that names it. Text before the first heading, and text more than
    MAX_TEXT_SECTION_CHARS past a heading (OCR misses most headings), gets no section rather than a wrong one."""
    docs: list[Document] = []
    section: str | None = None
    lines: list[str] = []
    size = 0
    body = False  # whether the current block has text beyond its heading lines

    def flush() -> None:
        docs.append(Document(page_content="\n".join(lines), metadata={"section": section} if section else {}))

    for line in text.split("\n"):
        if _is_text_heading(line):
            heading = " ".join(line.split())
            if body:
                flush()
                lines, size, body, section = [], 0, False, heading
            else:  # a heading continued on the next line, or a title right above a subtitle
                section = f"{section} {heading}" if section and lines else heading
        elif line.strip():
            if section and size > MAX_TEXT_SECTION_CHARS and not line[:1].islower():
                flush()
                lines, size, section = [], 0, None
            body = True
        lines.append(line)
        size += len(line) + 1
    if any(x.strip() for x in lines):
        flush()
    return docs


def heading_text(raw: str) -> str:
    """Heading text without Markdown emphasis, code ticks or inline tags."""
    return " ".join(_HEADING_MARKUP_RE.sub("", raw).split())


def _split_markdown(text: str) -> list[Document]:
    """One Document per ATX-heading section, prefixed with its heading as plain text to stay searchable.

    A heading with no body of its own (a part title right above a chapter title) is carried into the
    next block's prefix rather than becoming a block of its own.
    """
    docs: list[Document] = []
    section: str | None = None
    titles: list[str] = []  # headings not yet attached to a block
    lines: list[str] = []
    in_fence = False

    def flush() -> None:
        body = "\n".join(lines).strip()
        if body:
            prefix = "\n".join(titles)
            content = f"{prefix}\n\n{body}" if prefix else body
            docs.append(Document(page_content=content, metadata={"section": section} if section else {}))
            titles.clear()
        lines.clear()

    for line in text.split("\n"):
        if _FENCE_RE.match(line):
            in_fence = not in_fence
        match = None if in_fence else _ATX_HEADING_RE.match(line)
        if match is None:
            lines.append(line)
            continue
        title = heading_text(match.group(2))
        if not title:
            continue
        flush()
        section = title
        titles.append(title)
    flush()
    if titles:
        docs.append(Document(page_content="\n".join(titles), metadata={"section": section}))
    return docs


def _load_pdf(path: Path) -> list[Document]:
    """Extract page texts in a bounded child process and map its outcome to our errors."""
    result = _run_pdf_worker(path)
    for message in result.get("warnings", [])[:MAX_RELAYED_WARNINGS]:
        logger.info("pypdf on %s: %s", path.name, message)  # -v shows them; the outcome says what matters
    error = result.get("error")
    if error:
        raise _worker_error(path, error, result.get("detail", ""))
    docs = [Document(page_content=text, metadata={"page": number}) for number, text in result["pages"] if text.strip()]
    if not docs:
        raise NoTextError(
            f"Le PDF « {path.name} » ne contient aucun texte extractible (document scanné sans couche texte ?)."
        )
    return docs


def _run_pdf_worker(path: Path) -> dict:
    """Run ``_pdf_worker`` in a fresh interpreter; killed beyond ``PDF_PARSE_TIMEOUT_S``."""
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    worker = "from ingest.loaders import _pdf_worker; _pdf_worker()"
    cmd = [sys.executable, "-c", worker, str(path), str(MAX_PDF_PAGES), str(PDF_WORKER_MEMORY_BYTES)]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=PDF_PARSE_TIMEOUT_S, env=env, check=False)
    except subprocess.TimeoutExpired as exc:
        raise CorruptFileError(
            f"La lecture du PDF « {path.name} » a dépassé {PDF_PARSE_TIMEOUT_S:.0f} secondes et a été "
            "interrompue (fichier probablement malformé)."
        ) from exc
    try:
        return json.loads(proc.stdout)
    except ValueError:
        stderr = proc.stderr[-2000:].decode(errors="replace")
        logger.warning("PDF worker for %s exited with %s: %s", path.name, proc.returncode, stderr)
        return {"error": "crash", "detail": f"code {proc.returncode}"}


def _worker_error(path: Path, kind: str, detail: str) -> IngestError:
    name = path.name
    if kind == "encrypted":
        return EncryptedFileError(
            f"Le PDF « {name} » est protégé par un mot de passe : retirez la protection puis réessayez."
        )
    if kind == "memory":
        return FileTooLargeError(
            f"La lecture du PDF « {name} » demande plus de {PDF_WORKER_MEMORY_BYTES / 2**30:.0f} Go de mémoire."
        )
    if kind == "too_many_pages":
        return FileTooLargeError(
            f"Le PDF « {name} » compte {detail} pages, au-delà de la limite de {MAX_PDF_PAGES} pages."
        )
    logger.info("PDF %s unreadable (%s): %s", name, kind, detail)
    return CorruptFileError(f"Le fichier « {name} » n'est pas un PDF lisible (fichier endommagé ou tronqué ?).")


def _pdf_worker() -> None:
    """Child-process entry point (argv: path, max pages, memory cap): print the result as JSON on stdout.

    The result is {"pages": [[n, text], ...]} or {"error": kind, "detail": ...}, plus "warnings".
    """
    import resource
    import warnings

    from pypdf import PasswordType, PdfReader

    path, max_pages, memory = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    if hard != resource.RLIM_INFINITY:
        memory = min(memory, hard)
    resource.setrlimit(resource.RLIMIT_AS, (memory, hard))
    collected: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if len(collected) < MAX_RELAYED_WARNINGS and message not in collected:
                collected.append(message)

    logging.captureWarnings(True)
    warnings.simplefilter("default")
    for name in ("pypdf", "py.warnings"):
        log = logging.getLogger(name)
        log.addHandler(_Collect())
        log.propagate = False
    result: dict = {}
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            result = {"error": "encrypted"}
        elif len(reader.pages) > max_pages:
            result = {"error": "too_many_pages", "detail": str(len(reader.pages))}
        else:
            result = {"pages": list(_page_texts(reader, collected))}
    except MemoryError:
        result = {"error": "memory"}
    except Exception as exc:  # noqa: BLE001 - any parser failure means the file is unreadable
        result = {"error": "corrupt", "detail": f"{type(exc).__name__}: {exc}"[:500]}
    result["warnings"] = collected
    sys.stdout.write(json.dumps(result))


def _page_texts(reader: PdfReader, collected: list[str]) -> Iterator[tuple[int, str]]:
    """Yield (1-based page number, text); a page that fails is skipped, not fatal."""
    failures = 0
    for index, page in enumerate(reader.pages):
        try:
            yield index + 1, page.extract_text() or ""
        except MemoryError:
            raise
        except Exception as exc:  # noqa: BLE001 - one bad page must not lose the others
            failures += 1
            collected.append(f"page {index + 1} skipped: {type(exc).__name__}: {exc}"[:300])
    if failures == len(reader.pages):
        raise ValueError("no page could be read")
