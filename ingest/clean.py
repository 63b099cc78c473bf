"""Repair what PDF conversion and OCR did to the corpus text, without rewording it.

Citations quote the cleaned text, so every step only removes layout (line wraps, markup, page furniture)
or undoes a known OCR confusion (``I'``/``|'`` read for ``l'``). Every regex here is linear in the input
(bounded repetitions), so a huge single-line file cannot make clean-up quadratic.
See benchmarks/clean_report.py for the measured effect on the corpus.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from rapidfuzz import fuzz

from vectorstore.text import ELIDED_WORDS

# Bump when what clean_text() returns changes: the ingest manifest records it, so documents cleaned by another
# version are re-chunked by the next ``ingest`` (content-hash ids: only the passages that changed are embedded).
CLEAN_VERSION = 1

# Lines shorter than this are titles, captions or labels: they are not joined to a capitalised next line.
WRAPPED_LINE_MIN_CHARS = 50
# A header/footer must sit in the first/last EDGE_LINES lines of at least this share of the pages.
EDGE_LINES = 3
REPEATED_MIN_SHARE = 0.5

_NON_LETTERS_RE = re.compile(r"[\W\d_]+")
# Invisible characters: C0/C1 controls (terminal escapes), soft hyphen, zero-width ones, and bidi overrides
# and isolates, which make "fdp.exe.txt" display as "txt.exe.pdf".
_INVISIBLE = r"\u00ad\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff"
_CONTROL_RE = re.compile(rf"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f{_INVISIBLE}]")
_LABEL_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_TERMINAL_RE = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f{_INVISIBLE}]")
_LABEL_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]+")
_HTML_COMMENT_RE = re.compile(r"<!--.{0,5000}?-->", re.S)
_IMAGE_RE = re.compile(r"!\[[^\]\n]{0,1000}\]\([^)\n]{0,2000}\)")
_LINK_RE = re.compile(r"\[([^\]\n]{1,1000})\]\([^)\n]{0,2000}\)")
_AUTOLINK_RE = re.compile(r"<((?:https?://|www\.|mailto:)[^<>\s]{1,2000})>")
_SUPERSCRIPT_NUMBER_RE = re.compile(r"<su[pb]>[ \t]*(\d{1,4})[ \t]*</su[pb]>", re.I)
_HTML_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9-]{0,30}(?:\s[^<>\n]{0,500})?/?>")
_BOLD_RE = re.compile(r"\*\*(?=[^\s*])([^*\n]{1,3000})(?<=\S)\*\*|__(?=[^\s_])([^_\n]{1,3000})(?<=\S)__")
_ITALIC_RE = re.compile(r"(?<![\w*\\])\*(?=[^\s*])([^*\n]{1,3000}?)(?<=[^\s*])\*(?![\w*])")
_STRAY_MARKUP_RE = re.compile(r"\*\*|(?<!\w)__|__(?!\w)")
_RULE_RE = re.compile(r"^[ \t]*(?:[-*_][ \t]*){3,}$", re.M)
_HEADING_RE = re.compile(r"^ {0,3}#{1,6}[ \t]+")

# OCR reads the elided article l' as I' or |' ("I'ESS", "|'expertise"), sometimes with a doubled
# apostrophe ("I’'ESS"); English "I'm/I'll/I've/I'd" and roman numerals ("II'") are left alone.
_OCR_ELISION_RE = re.compile(r"(?<![\w'’|])[I|](['’])['’]?(?=[^\W\d_])(?!(?:m|ll|ve|d|re|s)\b)")
# OCR also drops the l altogether: "de 'ESS", "de ’ANCT", "fait 'objet".
_DROPPED_L_RE = re.compile(
    r"(?<=[ \t\n(])(['’])(?!https?:|www\.)(?=[A-ZÀÂÉÈÊÎÔÛ]|[aeiouyhàâéèêîôû]\w)(?!\w{0,40}['’](?!\w))"
)
# "|l" read for "Il"/"Ils".
_PIPE_IL_RE = re.compile(r"(?<![\w|])\|(?=ls?\b)")
# Doubled apostrophe after an elided word: "d’'un" -> "d’un".
_DOUBLE_APOSTROPHE_RE = re.compile(rf"(?<!\w)({ELIDED_WORDS}['’])['’]+(?=\w)", re.I)

_URL_LINE_RE = re.compile(r"^[ \t]*(?:[-*+•][ \t]+)?(?:https?://|www\.)\S{0,3000}[ \t]*$", re.I)
_BARE_NUMBER_RE = re.compile(r"^\d{1,3}$")
_PAGE_MARK_RE = re.compile(
    r"^(?:page[ \t]+\d{1,4}(?:[ \t]*(?:/|sur)[ \t]*\d{1,4})?|[-–—][ \t]*\d{1,4}(?:[ \t]*[-–—])?|\d{1,4}[ \t]*[-–—])$",
    re.I,
)
_LABEL_RE = re.compile(r"^[^a-zà-ÿ]*[A-ZÀ-Þ]{2}[^a-zà-ÿ]*$")
# A key figure alone on its line, as infographics come out of PDF and Word conversions: « 20 000 », « 21 M€ »,
# « 85% », « 2/3 », « 1 milliard »; not a year (« 2017 » ending a label, « 2020 » over a title).
_KEY_FIGURE_RE = re.compile(
    r"^(?!(?:19|20)\d\d$)\d[\d  .,/]{0,12}(?: ?(?:%|€|[kKM]€|Md€|[Mm]illions?|[Mm]illiards?|MILLIONS?|MILLIARDS?))?$"
)

_HYPHEN_BREAK_RE = re.compile(
    r"(?P<left>(?:[^\W\d_]{1,50}-){0,4}[^\W\d_]{1,50})-[ \t]*\n(?:[ \t]*\n)?[ \t]*"
    r"(?P<right>[^\W\d_]\w{0,50})"
)
_WORD_RE = re.compile(r"[^\W\d_]{1,80}(?:-[^\W\d_]{1,80}){0,5}")
# Hyphenated French compounds whose halves also stand alone: a line-end hyphen after them is kept.
_COMPOUND_PREFIXES = frozenset(
    {
        "co",
        "vice",
        "sous",
        "socio",
        "médico",
        "medico",
        "pluri",
        "mieux",
        "non",
        "auto",
        "anti",
        "ex",
        "semi",
        "demi",
        "mi",
        "quasi",
        "néo",
        "neo",
        "post",
        "pré",
        "arrière",
        "avant",
        "contre",
        "après",
        "grand",
        "grande",
        "bien",
        "extra",
        "ultra",
        "tiers",
        "porte",
        "garde",
        "chef",
        "eco",
        "éco",
        "franco",
        "euro",
        "inter",
        "intra",
        "micro",
        "macro",
        "multi",
        "trans",
        "sur",
    }
)
_PRONOUN_SUFFIXES = frozenset({"il", "elle", "on", "ils", "elles", "même", "mêmes", "là", "ci", "t"})

_SENTENCE_END_RE = re.compile(r"[.!?:;…][\"»”’)\]\s]*$")
_DASH_CONTINUATION_RE = re.compile(r"^[-–—] [a-zà-ÿ]")
_LIST_ITEM_RE = re.compile(r"^(?:[^\w\s«»“”\"'’(\[\]).,;:!?…%]|\d{1,3}[.)]|[a-z][.)])\s")


def clean_text(text: str) -> str:
    """Return ``text`` with layout damage repaired and its wording unchanged."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n").replace("\t", " ")
    text = _CONTROL_RE.sub("", text)
    text = _strip_markdown(text)
    text = _DOUBLE_APOSTROPHE_RE.sub(r"\1", text)
    text = _OCR_ELISION_RE.sub(_elided_article, text)
    text = _DROPPED_L_RE.sub(_elided_article, text)
    text = _PIPE_IL_RE.sub("I", text)
    lines = [line.strip() for line in text.split("\n")]
    lines = _join_key_figures(_drop_furniture(lines))
    text = _join_hyphenated("\n".join(lines))
    text = _join_wrapped_lines(text.split("\n"))
    text = re.sub(r"[ \t]{2,}", " ", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def clean_label(text: str) -> str:
    """A one-line label (title, file name) with no control, bidi or invisible character and no surrogate.

    File names that are not valid UTF-8 reach Python as surrogate escapes; their bytes are read as
    Windows-1252 (what a zip made on Windows gives) so the name stays readable and can be written as JSON.
    """
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        raw = text.encode("utf-8", "surrogateescape")
        text = raw.decode("cp1252", "replace")
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates of other origins
    return " ".join(_LABEL_CONTROL_RE.sub(" ", _LABEL_INVISIBLE_RE.sub("", text)).split())


def terminal_safe(text: str) -> str:
    """Text a terminal shows as is: line breaks and tabs kept, escapes, carriage returns, bidi and lone
    surrogates gone (a file name must not retitle the window, recolour the screen or reverse itself)."""
    return _TERMINAL_RE.sub("", text).encode("utf-8", "replace").decode("utf-8")


def strip_repeated_lines(pages: list[str]) -> list[str]:
    """Drop running headers/footers: lines at a page edge on at least half the pages.

    Lines are compared without digits (page numbers change) and, when long enough, fuzzily, since OCR
    reads the same header differently from page to page ("VICKSBURG" / "VICKSBUEG").
    """
    if len(pages) < 3:
        return list(pages)
    split_pages = [page.split("\n") for page in pages]
    edges = [_edge_indices(lines) for lines in split_pages]
    clusters = _FurnitureClusters()
    labels = [{i: clusters.label(lines[i]) for i in indices} for lines, indices in zip(split_pages, edges, strict=True)]
    counts = Counter(label for page_labels in labels for label in set(page_labels.values()))
    needed = max(3, math.ceil(REPEATED_MIN_SHARE * len(pages)))
    repeated = {label for label, n in counts.items() if n >= needed}
    return [
        "\n".join(line for i, line in enumerate(lines) if page_labels.get(i) not in repeated)
        for lines, page_labels in zip(split_pages, labels, strict=True)
    ]


def _edge_indices(lines: list[str]) -> set[int]:
    """Indices of the first and last non-blank lines of a page; at most a quarter of a short page per side."""
    content = [i for i, line in enumerate(lines) if line.strip()]
    edge = min(EDGE_LINES, max(1, len(content) // 4))
    return set(content[:edge] + content[-edge:])


class _FurnitureClusters:
    """Groups edge lines that are the same header up to digits and OCR noise; labels are small ints."""

    MAX_FUZZY = 64  # bounded fuzzy comparisons per line keep this linear in the number of pages
    MIN_FUZZY_CHARS = 8
    SIMILARITY = 85

    def __init__(self) -> None:
        self._exact: dict[str, int] = {}
        self._fuzzy: list[tuple[str, int]] = []

    def label(self, line: str) -> int:
        letters = " ".join(_NON_LETTERS_RE.sub(" ", line).split()).casefold()
        key = letters or re.sub(r"\d+", "#", "".join(line.split()))
        if key in self._exact:
            return self._exact[key]
        label = len(self._exact)
        if len(key) >= self.MIN_FUZZY_CHARS:
            for known, known_label in self._fuzzy:
                if fuzz.ratio(key, known) >= self.SIMILARITY:
                    label = known_label
                    break
            else:
                if len(self._fuzzy) < self.MAX_FUZZY:
                    self._fuzzy.append((key, label))
        self._exact[key] = label
        return label


def _strip_markdown(text: str) -> str:
    """Remove Markdown/HTML markup, keeping the visible words (link text, emphasised text, autolink URL)."""
    text = _HTML_COMMENT_RE.sub("", text)
    text = _IMAGE_RE.sub("", text)
    text = _LINK_RE.sub(r"\1", text)
    text = _AUTOLINK_RE.sub(r"\1", text)
    text = _SUPERSCRIPT_NUMBER_RE.sub(_detached_number, text)
    text = _HTML_TAG_RE.sub("", text)
    text = _RULE_RE.sub("", text)
    text = _BOLD_RE.sub(lambda m: m.group(1) or m.group(2), text)
    text = _ITALIC_RE.sub(r"\1", text)
    text = _STRAY_MARKUP_RE.sub("", text)
    return text.replace("\\\n", "\n")


def _detached_number(match: re.Match[str]) -> str:
    """A superscript number (footnote call, "CIVAM<sup>31</sup>") must not glue onto the word before or after."""
    text = match.string
    before = " " if match.start() > 0 and text[match.start() - 1].isalpha() else ""
    after = " " if match.end() < len(text) and text[match.end()].isalpha() else ""
    return f"{before}{match.group(1)}{after}"


def _elided_article(match: re.Match[str]) -> str:
    """``l'`` with the matched apostrophe; ``L'`` when it starts a sentence or a quotation."""
    apostrophe = match.group(1)
    before = match.string[max(0, match.start() - 40) : match.start()].rstrip()
    starts_sentence = not before or before[-1] in '.!?…«“"'
    return ("L" if starts_sentence else "l") + apostrophe


def _drop_furniture(lines: list[str]) -> list[str]:
    """Blank bare URL lines and page numbers (a number next to an upper-case label is a key figure)."""
    content = [i for i, line in enumerate(lines) if line.strip()]
    out = list(lines)
    for pos, i in enumerate(content):
        stripped = lines[i].strip()
        if _URL_LINE_RE.match(stripped) or _PAGE_MARK_RE.match(stripped):
            out[i] = ""
        elif _BARE_NUMBER_RE.match(stripped):
            neighbours = [lines[content[j]].strip() for j in (pos - 1, pos + 1) if 0 <= j < len(content)]
            if not any(_LABEL_RE.match(n) for n in neighbours):
                out[i] = ""
    return out


def _join_key_figures(lines: list[str]) -> list[str]:
    """A key figure set apart from its upper-case label (« 20 000 », then « CLIENTS / ASSOCIATIONS ET /
    ENTREPRISES DE L'ESS. ») becomes one line: quoted alone, « 20 000 » says nothing, and a question on the
    number of clients finds no sentence giving it."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line, i = lines[i], i + 1
        if _KEY_FIGURE_RE.match(line):
            j = i + (i < len(lines) and not lines[i])  # one blank line between them at most
            label: list[str] = []
            while j < len(lines) and lines[j] and _LABEL_RE.match(lines[j]):
                label.append(lines[j])
                j += 1
            if label:
                line, i = " ".join([line, *label]), j
        out.append(line)
    return out


def _join_hyphenated(text: str) -> str:
    """Undo line-end hyphenation ("dévelop-\\npement"), keeping real compounds ("co-\\nconstruire")."""
    if "-\n" not in text:
        return text
    words = set()
    compounds = set()
    for token in _WORD_RE.findall(text):
        token = token.lower()
        (compounds if "-" in token else words).add(token)

    def repl(match: re.Match[str]) -> str:
        left, right = match.group("left"), match.group("right")
        line_start = match.string.rfind("\n", 0, match.start()) + 1
        last_token = match.string[line_start : match.start("left")].rsplit(None, 1)
        if (
            last_token
            and not match.string[match.start("left") - 1].isspace()
            and ("/" in last_token[-1] or "www." in last_token[-1])
        ):
            return f"{left}-{right}"  # a URL cut at a hyphen
        head = left.rsplit("-", 1)[-1].lower()
        joined = (head + right).lower()
        if right[0].isupper() or right.lower() in _PRONOUN_SUFFIXES:
            keep = True
        elif joined in words:
            keep = False
        else:
            keep = f"{head}-{right}".lower() in compounds or head in _COMPOUND_PREFIXES or "-" in left
        return f"{left}-{right}" if keep else f"{left}{right}"

    return _HYPHEN_BREAK_RE.sub(repl, text)


def _join_wrapped_lines(lines: list[str]) -> str:
    """Turn line wraps inside a paragraph into spaces; keep paragraph breaks, headings and list items."""
    out: list[list[str]] = []  # output lines, each a list of joined pieces (joining stays linear)
    hard: set[int] = set()  # indices in ``out`` of headings, which never absorb the next line
    last = -1  # index in ``out`` of the last non-blank line
    for line in lines:
        if not line.strip():
            out.append([])
            continue
        heading = _HEADING_RE.match(line)
        if heading:
            out.extend([[], [line[heading.end() :].strip()], []])
            hard.add(len(out) - 2)
            last = len(out) - 2
            continue
        if last >= 0 and last not in hard and _continues(out[last], line, gap=len(out) - 1 - last):
            del out[last + 1 :]
            out[last].append(line.strip())
            continue
        out.append([line])
        last = len(out) - 1
    return "\n".join(" ".join(pieces) for pieces in out)


def _continues(previous: list[str], line: str, gap: int) -> bool:
    """Is ``line`` the rest of the sentence ``previous`` was cut in (``gap`` blank lines between)?"""
    stripped = line.lstrip()
    if gap > 1 or _SENTENCE_END_RE.search(previous[-1][-12:]):
        return False
    if _LIST_ITEM_RE.match(stripped):
        # "… à cette crise économique\n- sans précédent - s’ajoute": a dash inside an unfinished sentence.
        return bool(_DASH_CONTINUATION_RE.match(stripped)) and not _LIST_ITEM_RE.match(previous[0].lstrip())
    if stripped[0].islower():
        return True
    if gap:
        return False
    # A full line was wrapped: long, or as long as the lines already joined above it (narrow column).
    width = len(previous[-1].strip())
    return width >= WRAPPED_LINE_MIN_CHARS or (
        len(previous) > 1 and width >= 0.8 * max(len(piece) for piece in previous[-4:-1])
    )
