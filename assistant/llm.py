"""LangChain chat models chosen by configuration; None when no provider is set (extractive answers).

Providers: ``openai`` (any OpenAI-compatible server: vLLM, llama.cpp server, LM Studio, Mistral, Albert…),
``ollama``, and ``gguf`` (a local GGUF file through llama-cpp-python, an optional extra). Nothing is
downloaded: the model must already be served or present on disk. Errors become French sentences for users.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from vectorstore.settings import Settings

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

logger = logging.getLogger(__name__)

PROVIDERS = ("openai", "ollama", "gguf")


class LLMConfigError(RuntimeError):
    """The LLM settings cannot work; the message is a French sentence for users."""


def get_chat_model(settings: Settings | None = None) -> BaseChatModel | None:
    """The chat model the settings describe, or None when no provider is configured."""
    settings = settings or Settings.from_env()
    if settings.llm_provider is None:
        return None
    return _build(settings)


@lru_cache(maxsize=4)
def _build(settings: Settings) -> BaseChatModel:
    provider, model = settings.llm_provider, settings.llm_model
    if provider not in PROVIDERS:
        raise LLMConfigError(
            f"Fournisseur de modèle inconnu : « {provider} ». Valeurs possibles pour ESS_LLM_PROVIDER : "
            + ", ".join(PROVIDERS)
            + " (ou laisser vide pour les réponses extractives)."
        )
    if not model:
        raise LLMConfigError(
            "ESS_LLM_MODEL n'est pas défini : indiquez le nom du modèle (ou, pour gguf, le chemin du fichier)."
        )
    logger.info("chat model: provider=%s model=%s base_url=%s", provider, model, settings.llm_base_url)
    if provider == "openai":
        from langchain_openai import ChatOpenAI

        return ChatOpenAI(
            model=model,
            base_url=settings.llm_base_url,
            # Local OpenAI-compatible servers usually need no key, but the client insists on one.
            api_key=settings.llm_api_key or "sans-cle",
            timeout=settings.llm_timeout,
            max_retries=0,
            temperature=0,
        )
    if provider == "ollama":
        from langchain_ollama import ChatOllama

        return ChatOllama(
            model=model,
            base_url=settings.llm_base_url,
            temperature=0,
            client_kwargs={"timeout": settings.llm_timeout},
        )
    return _gguf_model(model)


def _gguf_model(path: str) -> BaseChatModel:
    """A chat model over a local GGUF file, built only when llama-cpp-python is installed."""
    from pathlib import Path

    try:
        import llama_cpp
    except ImportError as exc:
        raise LLMConfigError(
            "Le fournisseur gguf demande le module llama-cpp-python, qui n'est pas installé : "
            "pip install 'ess-assistant[gguf]'."
        ) from exc
    if not Path(path).expanduser().is_file():
        raise LLMConfigError(f"Fichier de modèle GGUF introuvable : {path}.")
    llama = llama_cpp.Llama(model_path=str(Path(path).expanduser()), n_ctx=8192, verbose=False)
    return _llama_chat_class()(llama=llama, model_name=Path(path).name)


@lru_cache(maxsize=1)
def _llama_chat_class() -> type:
    """A minimal LangChain chat model over ``llama_cpp.Llama.create_chat_completion`` (invoke and stream)."""
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
    from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult

    roles = {"system": "system", "human": "user", "ai": "assistant"}

    class LlamaCppChat(BaseChatModel):
        llama: Any
        model_name: str

        @property
        def _llm_type(self) -> str:
            return "llama-cpp"

        def _request(self, messages: list[BaseMessage], stop: list[str] | None) -> dict[str, Any]:
            return {
                "messages": [{"role": roles.get(m.type, "user"), "content": m.text} for m in messages],
                "stop": stop,
                "temperature": 0.0,
            }

        def _generate(
            self,
            messages: list[BaseMessage],
            stop: list[str] | None = None,
            run_manager: Any = None,
            **kwargs: Any,
        ) -> ChatResult:
            reply = self.llama.create_chat_completion(**self._request(messages, stop))
            content = reply["choices"][0]["message"]["content"] or ""
            return ChatResult(generations=[ChatGeneration(message=AIMessage(content=content))])

        def _stream(
            self,
            messages: list[BaseMessage],
            stop: list[str] | None = None,
            run_manager: Any = None,
            **kwargs: Any,
        ) -> Iterator[ChatGenerationChunk]:
            for part in self.llama.create_chat_completion(**self._request(messages, stop), stream=True):
                token = part["choices"][0]["delta"].get("content") or ""
                if token:
                    if run_manager:
                        run_manager.on_llm_new_token(token)
                    yield ChatGenerationChunk(message=AIMessageChunk(content=token))

    return LlamaCppChat


def describe_error(exc: BaseException, timeout: float | None = None) -> str:
    """A French sentence telling users what went wrong with the model server (never a traceback)."""
    import httpx
    import openai

    if isinstance(exc, LLMConfigError):
        return str(exc)
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        delay = f" ({timeout:g} s)" if timeout else ""
        return f"Le modèle de langage n'a pas répondu dans le délai imparti{delay}."
    if isinstance(exc, openai.APIConnectionError | httpx.ConnectError | ConnectionError):
        return "Impossible de joindre le serveur du modèle de langage : vérifiez ESS_LLM_BASE_URL et qu'il est démarré."
    status = getattr(exc, "status_code", None)
    if status in (401, 403):
        return "Le serveur du modèle de langage a refusé l'accès : vérifiez la clé ESS_LLM_API_KEY."
    if status == 404:
        return "Le serveur du modèle de langage ne connaît pas ce modèle : vérifiez ESS_LLM_MODEL."
    if isinstance(status, int) and status >= 500:
        return f"Le serveur du modèle de langage a renvoyé une erreur interne (HTTP {status})."
    if isinstance(status, int):
        return f"Le serveur du modèle de langage a refusé la requête (HTTP {status})."
    if isinstance(
        exc,
        json.JSONDecodeError
        | openai.APIResponseValidationError
        | KeyError
        | TypeError
        | ValueError
        | AttributeError
        | IndexError,
    ):
        return "Le serveur du modèle de langage a renvoyé une réponse illisible."
    return f"Le modèle de langage a échoué ({type(exc).__name__})."


def message_text(message: Any) -> str:
    """The text of a chat reply or chunk, whatever shape its content has."""
    content = getattr(message, "content", message)
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(c if isinstance(c, str) else str(c.get("text", "")) for c in content)
    raise TypeError(f"unexpected chat content: {type(content).__name__}")
