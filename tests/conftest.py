"""Shared test fakes: a chat model with queued replies, a retriever over given passages, and isolation.

Fakes, not mocks: they behave like the real thing (LangChain chat model interface, retriever signature) with
fixed data, and record what they were given so tests can check it.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

from assistant.types import Passage

_LOOPBACK = ("127.0.0.1", "::1", "localhost")


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """No LLM configured from the developer's shell, and no network beyond loopback for unit tests."""
    for name in (
        "ESS_LLM_PROVIDER",
        "ESS_LLM_MODEL",
        "ESS_LLM_BASE_URL",
        "ESS_LLM_API_KEY",
        "OPENAI_API_KEY",
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
