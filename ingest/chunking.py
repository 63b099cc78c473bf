"""Structure-aware chunking: blocks (a PDF page, a Markdown section, a text file) are split on paragraph,
then sentence boundaries; a chunk never spans two pages or two sections, so its citation stays exact.

Sizes were chosen by measuring recall on our French gold questions (see benchmarks/tune_retrieval.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

CHUNK_SIZE = 900
CHUNK_OVERLAP = 150
_SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", " ; ", ": ", ", ", " ", ""]


def chunk_id(source: str, text: str) -> str:
    """Content hash: the same text of the same file always gets the same id (idempotent re-ingest)."""
    return hashlib.sha256(f"{source}\x00{text}".encode()).hexdigest()[:32]


def chunk_blocks(
    blocks: Sequence[Document],
    metadata: dict,
    *,
    chunk_size: int = CHUNK_SIZE,
    chunk_overlap: int = CHUNK_OVERLAP,
) -> list[Document]:
    """Split cleaned blocks into chunks carrying ``metadata`` plus page, section, position and chunk_id.

    Identical chunks of one file (repeated boilerplate) are kept once.
    """
    splitter = RecursiveCharacterTextSplitter(
        chunk_size=chunk_size, chunk_overlap=chunk_overlap, separators=_SEPARATORS, keep_separator="end"
    )
    chunks: list[Document] = []
    seen: set[str] = set()
    for block in blocks:
        for piece in splitter.split_text(block.page_content):
            text = piece.strip()
            cid = chunk_id(metadata["source"], text)
            if not text or cid in seen:
                continue
            seen.add(cid)
            meta = {
                **metadata,
                "page": block.metadata.get("page"),
                "section": block.metadata.get("section"),
                "position": len(chunks),
                "chunk_id": cid,
            }
            chunks.append(Document(page_content=text, metadata=meta, id=cid))
    return chunks
