"""HTML and Markdown rendering of answers and passages for the web chat.

Everything that comes from a document, an answer or a user is escaped here, so markup inside the corpus
(a ``<script>`` in an uploaded file, say) reaches the browser as inert text. The supporting sentence of a
citation is located with the project's OCR-tolerant normalisation and wrapped in ``<mark>``.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from assistant.brief_export import escape_markdown
from assistant.types import Answer, Citation, Passage
from vectorstore.text import normalize_for_match

_CHUNK_RE = re.compile(r"\S+")
_BRACKETS_RE = re.compile(r"([\[\]])")
_ESCAPED_MARKER_RE = re.compile(r"\\\[(\d+)\\\]")


def esc(text: str | None) -> str:
    """Escape text for HTML (also safe inside Markdown rendered with HTML sanitising)."""
    return html.escape(text or "", quote=False)


def chat_text(text: str | None) -> str:
    """Text for a chat bubble (Markdown): HTML escaped and brackets escaped, so no link can be formed."""
    return _BRACKETS_RE.sub(r"\\\1", esc(text))


# Addresses in an unverified draft: shown as a placeholder, so nothing in it can be clicked or loaded.
_ADDRESS_RE = re.compile(r"(?:\b(?:https?|ftp|javascript|data|vbscript|mailto|file):|\bwww\.)\S*", re.I)
DRAFT_NOTE = "_Brouillon en cours de vérification — il sera remplacé par la réponse vérifiée et citée._"


def draft_markdown(text: str) -> str:
    """A streamed, not yet verified, draft: marked provisional, plain text (every Markdown mark escaped) with
    its addresses masked, so a planted link or image in the model's output is never live, even briefly."""
    return f"{DRAFT_NOTE}\n\n{markdown_lines(_ADDRESS_RE.sub('(adresse masquée)', text))} ▌"


def markdown_lines(text: str) -> str:
    """Literal Markdown that keeps the text's line breaks (each line escaped on its own, blank lines dropped)."""
    return "  \n".join(escape_markdown(line) for line in text.splitlines() if line.strip())


def meta_line(p: Passage) -> str:
    """Plain-text 'publisher, year, p. 4' locator of a passage (empty parts dropped)."""
    parts = [p.publisher or "", str(p.year) if p.year else "", p.location()]
    return ", ".join(x for x in parts if x)


def citation_label(c: Citation) -> str:
    """Short plain-text label of a citation, used for choices and exports."""
    loc = c.passage.location()
    return f"[{c.n}] {c.passage.title}" + (f" — {loc}" if loc else "")


def _halves(needle: str, min_chars: int = 40) -> list[str]:
    """The two halves of a normalised quote, kept when long enough to be meaningful alone."""
    words = needle.split()
    mid = len(words) // 2
    return [h for h in (" ".join(words[:mid]), " ".join(words[mid:])) if len(h) >= min_chars]


def find_quote(text: str, quote: str) -> tuple[int, int] | None:
    """Character span of ``quote`` in ``text``, tolerant to accents, case, OCR and hyphenation.

    Both sides are normalised chunk by chunk (whitespace-separated) and compared without spaces, so a
    quote split by a line break or a hyphen is still found; the span covers whole chunks. Falls back on
    one long half of the quote when a chunk boundary cut it.
    """
    if not quote.strip():
        return None
    start = text.find(quote.strip())
    if start >= 0:
        return start, start + len(quote.strip())
    hay: list[str] = []
    owner: list[tuple[int, int]] = []  # for each hay char, the original chunk span
    for m in _CHUNK_RE.finditer(text):
        norm = normalize_for_match(m.group()).replace(" ", "")
        hay.append(norm)
        owner.extend([m.span()] * len(norm))
    joined = "".join(hay)
    needle = normalize_for_match(quote)
    for candidate in [needle, *_halves(needle)]:
        flat = candidate.replace(" ", "")
        pos = joined.find(flat) if flat else -1
        if pos >= 0:
            return owner[pos][0], owner[pos + len(flat) - 1][1]
    return None


def highlight(text: str, quote: str | None) -> str:
    """Escaped passage text with the supporting sentence wrapped in ``<mark>``."""
    span = find_quote(text, quote) if quote else None
    if span is None:
        return esc(text)
    a, b = span
    return f"{esc(text[:a])}<mark>{esc(text[a:b])}</mark>{esc(text[b:])}"


def answer_markdown(answer: Answer) -> str:
    """Chat bubble for a final answer: escaped text whose [n] markers link to their source cards."""
    body = _ESCAPED_MARKER_RE.sub(r"[**[\1]**](#ess-source-\1)", chat_text(answer.text))
    notes = [f"_{chat_text(w)}_" for w in answer.warnings]
    if answer.abstained and answer.leads:
        notes.append("_Des pistes de lecture sont listées dans le panneau des sources._")
    return "\n\n".join([body, *notes])


def _card(n_label: str, p: Passage, body_html: str, anchor: str, quote: str | None = None) -> str:
    """A collapsible source card: locator and supporting sentence always visible, passage on click."""
    meta = meta_line(p)
    return (
        f'<details class="ess-source" id="{anchor}"><summary>'
        f'<span class="ess-n">{esc(n_label)}</span> <strong>{esc(p.title)}</strong>'
        + (f' <span class="ess-meta">— {esc(meta)}</span>' if meta else "")
        + (f'<span class="ess-quote">« {esc(quote)} »</span>' if quote else "")
        + f'</summary><div class="ess-passage">{body_html}</div>'
        f'<div class="ess-file">Fichier : {esc(p.source)}</div></details>'
    )


def sources_html(answer: Answer | None) -> str:
    """Sources panel: one collapsible card per cited passage (quote highlighted), or reading leads."""
    if answer is None:
        return '<div class="ess-empty">Les sources de la réponse s\'afficheront ici.</div>'
    if answer.citations:
        cards = [
            _card(f"[{c.n}]", c.passage, highlight(c.passage.text, c.quote), f"ess-source-{c.n}", c.quote)
            for c in answer.citations
        ]
        return '<div class="ess-sources">' + "".join(cards) + "</div>"
    if answer.leads:
        cards = [_card("Piste", p, esc(p.text), f"ess-lead-{i}") for i, p in enumerate(answer.leads, 1)]
        return (
            '<div class="ess-sources"><p>Aucun passage ne permet d\'affirmer une réponse. '
            "Passages à consulter :</p>" + "".join(cards) + "</div>"
        )
    return '<div class="ess-empty">Aucune source pour cette réponse.</div>'


def _without_overlap(near: str, main: str, before: bool, probe: int = 60) -> str:
    """A neighbour's text minus what it shares with the main chunk (chunks overlap by design)."""
    if len(main) < probe:
        return near
    if before:
        i = near.find(main[:probe])
        return near[:i] if i >= 0 else near
    j = near.find(main[-probe:])
    return near[j + probe:] if j >= 0 else near


def context_html(citation: Citation, neighbours: Sequence[Passage]) -> str:
    """The cited passage between its neighbouring chunks, in document order, quote highlighted."""
    p = citation.passage
    ordered = list(neighbours)
    if all(q.chunk_id != p.chunk_id for q in ordered):
        ordered = sorted([*ordered, p], key=lambda x: x.position)
    parts = []
    seen_main = False
    for q in ordered:
        if q.chunk_id == p.chunk_id:
            seen_main = True
            parts.append(f'<div class="ess-ctx-main">{highlight(q.text, citation.quote)}</div>')
        elif text := _without_overlap(q.text, p.text, before=not seen_main).strip():
            parts.append(f'<div class="ess-ctx-near">{esc(text)}</div>')
    meta = meta_line(p)
    header = f"<p><strong>{esc(citation_label(citation))}</strong>" + (
        f"<br><span class='ess-meta'>{esc(meta)}</span></p>" if meta else "</p>"
    )
    return '<div class="ess-context">' + header + "".join(parts) + "</div>"
