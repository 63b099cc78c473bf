"""The real LangChain OpenAI client against a small OpenAI-compatible server this test runs on 127.0.0.1.

Covers what a local vLLM / llama.cpp / LM Studio server does: plain and streamed (SSE) chat completions, and
what goes wrong with them: a timeout, an HTTP 500, a reply that is not JSON. Users get a French note and an
extractive answer, never a traceback.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from assistant.answer import ask, stream_ask
from assistant.llm import get_chat_model
from tests.conftest import FakeRetriever
from vectorstore.settings import Settings

pytestmark = pytest.mark.integration

QUESTION = "Combien de personnes le Mois de l'ESS 2020 a-t-il réunies en Occitanie ?"
GOOD = "Le Mois de l'ESS 2020 a réuni plus de 400 personnes en Occitanie [1]. Les Agoras ont eu lieu en distanciel [1]."
TIMEOUT = 1.0


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.script: list[tuple[str, str]] = []  # (behaviour, reply text), consumed one per request
        self.requests: list[dict[str, Any]] = []


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *args: Any) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)
        behaviour, text = self.server.script.pop(0)
        if self.path != "/v1/chat/completions":
            self._send(404, b'{"error": {"message": "not found"}}')
        elif behaviour == "slow":
            time.sleep(TIMEOUT * 3)
            self._send(200, b"{}")
        elif behaviour == "500":
            self._send(500, b'{"error": {"message": "CUDA out of memory", "type": "server_error"}}')
        elif behaviour == "malformed":
            self._send(200, b"<html>proxy error: ceci n'est pas du JSON", "application/json")
        elif body.get("stream"):
            self._stream(body["model"], text)
        else:
            message = {"role": "assistant", "content": text}
            self._send(200, json.dumps(_completion(body["model"], {"message": message})).encode())

    def _stream(self, model: str, text: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for i, word in enumerate(text.split(" ")):
            delta = {"content": word if i == 0 else " " + word}
            self.wfile.write(f"data: {json.dumps(_completion(model, {'delta': delta}, chunk=True))}\n\n".encode())
            self.wfile.flush()
        last = _completion(model, {"delta": {}, "finish_reason": "stop"}, chunk=True)
        self.wfile.write(f"data: {json.dumps(last)}\n\ndata: [DONE]\n\n".encode())


def _completion(model: str, choice: dict[str, Any], chunk: bool = False) -> dict[str, Any]:
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk" if chunk else "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "finish_reason": None if chunk else "stop", **choice}],
    }


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


@pytest.fixture
def model(server: _Server) -> Any:
    base = Settings.from_env()
    settings = base.__class__(
        **{
            **base.__dict__,
            "llm_provider": "openai",
            "llm_model": "qwen2.5-1.5b-instruct",
            "llm_base_url": f"http://127.0.0.1:{server.server_address[1]}/v1",
            "llm_api_key": None,
            "llm_timeout": TIMEOUT,
        }
    )
    return get_chat_model(settings)


def test_streamed_answer_through_the_real_client(server: _Server, model: Any, ess_passages) -> None:
    server.script = [("ok", GOOD)]
    events = list(stream_ask(QUESTION, retriever=FakeRetriever(ess_passages), chat_model=model))
    tokens = [e.text for e in events if e.kind == "token"]
    assert len(tokens) > 5 and "".join(tokens) == GOOD
    final = events[-1].answer
    assert final.mode == "llm" and final.warnings == [] and final.text == GOOD
    assert [c.passage for c in final.citations] == [ess_passages[0]]
    request = server.requests[0]
    assert request["stream"] is True and request["model"] == "qwen2.5-1.5b-instruct"
    assert request["messages"][0]["role"] == "system"
    assert '<passage numero="1"' in request["messages"][1]["content"]


def test_follow_up_condensed_then_answered(server: _Server, model: Any, ess_passages) -> None:
    server.script = [("ok", QUESTION), ("ok", GOOD)]
    retriever = FakeRetriever(ess_passages)
    result = ask(
        "et en Occitanie ?",
        [("Combien de personnes en Bretagne ?", "…")],
        retriever=retriever,
        chat_model=model,
    )
    assert retriever.calls[0][0] == QUESTION
    assert not server.requests[0].get("stream") and server.requests[1]["stream"] is True
    assert result.mode == "llm" and "400 personnes" in result.text


def test_invented_citation_from_the_server_is_removed(server: _Server, model: Any, ess_passages) -> None:
    server.script = [("ok", "Le Mois de l'ESS a réuni plus de 400 personnes [1]. Il a coûté 2 millions d'euros [7].")]
    result = ask(QUESTION, retriever=FakeRetriever(ess_passages), chat_model=model)
    assert result.text == "Le Mois de l'ESS a réuni plus de 400 personnes [1]."
    assert "source qui n'existe pas" in result.warnings[0]


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        ("slow", "Le modèle de langage n'a pas répondu dans le délai imparti (1 s)."),
        ("500", "Le serveur du modèle de langage a renvoyé une erreur interne (HTTP 500)."),
        ("malformed", "Le serveur du modèle de langage a renvoyé une réponse illisible."),
    ],
)
def test_server_failures_become_a_french_note(
    server: _Server, model: Any, ess_passages, behaviour: str, message: str
) -> None:
    server.script = [(behaviour, "")]
    start = time.monotonic()
    result = ask(QUESTION, retriever=FakeRetriever(ess_passages), chat_model=model)
    assert time.monotonic() - start < TIMEOUT * 2.5
    assert result.warnings == [f"{message} Réponse extractive à la place."]
    assert result.mode == "extractive" and "400 personnes" in result.text and result.citations


def test_unreachable_server(ess_passages) -> None:
    base = Settings.from_env()
    settings = base.__class__(
        **{
            **base.__dict__,
            "llm_provider": "openai",
            "llm_model": "m",
            "llm_base_url": "http://127.0.0.1:9/v1",
            "llm_timeout": TIMEOUT,
        }
    )
    result = ask(QUESTION, retriever=FakeRetriever(ess_passages), chat_model=get_chat_model(settings))
    assert result.warnings[0].startswith("Impossible de joindre le serveur du modèle de langage")
    assert "400 personnes" in result.text
