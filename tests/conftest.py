"""Shared test fakes: a chat model with queued replies, a retriever over given passages, and isolation.

Fakes, not mocks: they behave like the real thing (LangChain chat model interface, retriever signature) with
fixed data, and record what they were given so tests can check it.
"""

from __future__ import annotations

import contextlib
import hashlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from assistant.types import Passage
from vectorstore.settings import Settings

_LOOPBACK = ("127.0.0.1", "::1", "localhost")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """No LLM (nor OCR setting) configured from the developer's shell, and no network beyond loopback for unit
    tests."""
    for name in (
        "ESS_LLM_PROVIDER",
        "ESS_LLM_MODEL",
        "ESS_LLM_BASE_URL",
        "ESS_LLM_API_KEY",
        "OPENAI_API_KEY",
        "ESS_OCR_CORRECTION",
    ):
        monkeypatch.delenv(name, raising=False)
    if request.node.get_closest_marker("integration"):
        return
    real_connect = socket.socket.connect

    def guarded(sock: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if sock.family in (socket.AF_INET, socket.AF_INET6) and host not in _LOOPBACK:
            raise OSError(f"network blocked in unit tests: {address!r}")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


class FakeChatModel(BaseChatModel):
    """A chat model that returns queued replies in order (an Exception in the queue is raised instead)."""

    replies: list[Any]
    calls: list[list[BaseMessage]] = []

    @property
    def _llm_type(self) -> str:
        return "fake-queued"

    def _next(self, messages: list[BaseMessage]) -> str:
        self.calls.append(list(messages))
        if not self.replies:
            raise AssertionError("FakeChatModel: no reply left in the queue")
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self._next(messages)))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: Any = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        reply = self._next(messages)
        # Word-sized chunks, like a real server's tokens.
        for i, word in enumerate(reply.split(" ")):
            yield ChatGenerationChunk(message=AIMessageChunk(content=word if i == 0 else " " + word))


class FakeRetriever:
    """``retrieve(query, k, **filters)`` over a fixed list of passages; records every call."""

    def __init__(self, passages: Sequence[Passage]) -> None:
        self.passages = list(passages)
        self.calls: list[tuple[str, int, dict[str, Any]]] = []

    def __call__(self, query: str, k: int = 5, **filters: Any) -> list[Passage]:
        self.calls.append((query, k, filters))
        return self.passages[:k]


def make_passage(
    text: str,
    i: int = 1,
    *,
    source: str = "doc.md",
    score: float | None = None,
    dense_score: float | None = 0.9,
    **extra: Any,
) -> Passage:
    """A passage with plausible metadata; ``i`` gives it a distinct chunk id and a decreasing score."""
    fields: dict[str, Any] = {
        "title": f"Document {source}",
        "page": i,
        "section": None,
        "publisher": "CRESS Test",
        "year": 2021,
        "position": i,
    }
    fields.update(extra)
    return Passage(
        text=text,
        source=source,
        score=1.0 / i if score is None else score,
        chunk_id=f"{source}:{i}",
        dense_score=dense_score,
        **fields,
    )


ESS_TEXTS = (
    "Le Mois de l'ESS 2020 a réuni plus de 400 personnes en Occitanie. Les six Agoras se sont tenues en "
    "distanciel, du 4 novembre au 3 décembre. Elles ont associé des actrices et acteurs de l'ESS, des "
    "partenaires publics et des membres de la CRESS.",
    "Une société coopérative d'intérêt collectif (SCIC) est une entreprise coopérative qui associe des "
    "salariés, des usagers et des collectivités autour d'un projet d'utilité sociale. La SCIC Acthar "
    "accompagne des porteurs de projet en Ariège depuis 2015.",
    "La CRESS propose trois pistes pour la santé :\n- réinvestir dans le système de soins ;\n"
    "- développer l'hospitalisation à domicile et la télémédecine ;\n- créer une réserve sanitaire et "
    "médico-sociale.",
)


@pytest.fixture
def ess_passages() -> list[Passage]:
    """Three short French passages about the ESS, with pages 1..3."""
    return [make_passage(t, i, source=f"doc{i}.md") for i, t in enumerate(ESS_TEXTS, start=1)]


@pytest.fixture
def fake_chat() -> type[FakeChatModel]:
    """The FakeChatModel class: ``fake_chat(replies=[...])``."""
    return FakeChatModel


class FakeEmbeddings(Embeddings):
    """Deterministic bag-of-stems embedder: texts sharing words are close, as with a real model.

    Records how many texts it embedded, so tests can check that unchanged chunks are not embedded again.
    """

    model_id = "fake/bag-of-stems-64"

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.embedded = 0

    def _vector(self, text: str) -> list[float]:
        from vectorstore.lexical import analyze

        vec = np.zeros(self.dim)
        for term in analyze(text):
            vec[int(hashlib.md5(term.encode()).hexdigest(), 16) % self.dim] += 1.0
        norm = np.linalg.norm(vec)
        return (vec / norm if norm else np.eye(self.dim)[0]).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


@pytest.fixture
def fake_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A CorpusIndex in a temp folder (embedded Chroma, fake embedder), also the configured index."""
    from vectorstore.store import CorpusIndex

    monkeypatch.setenv("ESS_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.delenv("ESS_CHROMA_URL", raising=False)
    return CorpusIndex(Settings.from_env(), embeddings=FakeEmbeddings())


SHARED = Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled corpus indexed once per test session with the real default model; returns the index
    folder. Tests set ESS_INDEX_DIR to it (monkeypatch.setenv) to use it through the public API."""
    from ingest.pipeline import ingest_paths

    folder = tmp_path_factory.mktemp("corpus-index")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ESS_INDEX_DIR", str(folder))
        mp.delenv("ESS_CHROMA_URL", raising=False)
        mp.delenv("ESS_EMBEDDING_MODEL", raising=False)
        report = ingest_paths()
    assert report.count("failed") == 0, report.summary()
    return folder


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_chroma_server(data: Path, log_path: Path) -> Iterator[str]:
    """A real ``chroma run`` server on a free loopback port, storing in ``data``; yields its URL, stops it after."""
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        pytest.skip("the chroma CLI is not installed beside this Python")
    port = free_port()
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [str(chroma), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2).read()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(log_path.read_text(errors="replace")) from None
                    time.sleep(0.3)
            yield url
        finally:
            proc.terminate()
            proc.wait(timeout=20)
