"""An ASGI middleware in front of Gradio's routes: same-origin writes, a session cookie, private files.

- A request that changes something (POST, PUT, PATCH, DELETE) sent by a page of another origin is refused:
  CORS only hides the answer from that page, the upload itself would have been stored.
- An upload request over the per-request size limit is refused before it is read (Gradio caps each file).
- Every client gets an HttpOnly, SameSite=Strict session cookie (the page on load, gradio_client with
  /config, whose cookies it keeps). Files uploaded through /gradio_api/upload are recorded as that
  session's (ui.filespace.OWNERS), and a file of the private space is served only to its session.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse

from ui import uploads
from ui.common import refusal
from ui.filespace import OWNERS, discard, is_private, new_token

log = logging.getLogger(__name__)

COOKIE = "ess_session"
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_FILE_MARK = "/file="
_UPLOAD_PATHS = ("/gradio_api/upload", "/upload")


def session_token(headers: Any) -> str | None:
    """The session token of a request, from its cookie."""
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE and value:
            return value
    return None


def request_token(request: Any) -> str | None:
    """The session token of a Gradio event's request (None when called outside a request, as in tests)."""
    headers = getattr(request, "headers", None) if request is not None else None
    return session_token(headers) if headers is not None else None


def check_owned(request: Any, paths: list[str]) -> None:
    """Refuse files this request's session did not upload (a client could name another session's upload);
    outside a request (tests calling handlers directly) there is no session to check."""
    if request is None:
        return
    token = request_token(request)
    if any(not OWNERS.owns(token, p) for p in paths):
        discard([p for p in paths if OWNERS.owns(token, p)])
        raise refusal("Ces fichiers n'ont pas été envoyés depuis cette session : envoyez-les à nouveau.")


def give(request: Any, *paths: Any) -> None:
    """Make files the app wrote in its private space (exports) fetchable by the request's session only."""
    token = request_token(request)
    for path in paths:
        if token and path is not None:
            OWNERS.add(path, token)


def _same_origin(headers: Headers) -> bool:
    """No Origin (a script, gradio_client) or an Origin naming this very host and port."""
    origin = headers.get("origin")
    if origin is None:
        return headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
    # Host only: X-Forwarded-Host is a header any page may add (a preflight from localhost:other passes CORS).
    return origin != "null" and urlsplit(origin).netloc == headers.get("host")


class SessionGuard:
    """See the module docstring; ``app`` is the rest of Gradio's ASGI stack."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        path: str = scope.get("path", "")
        if scope["method"] in _WRITES and not _same_origin(headers):
            log.warning("Refused a %s %s from origin %s", scope["method"], path, headers.get("origin"))
            await PlainTextResponse("Requête refusée : elle vient d'une autre origine.", 403)(scope, receive, send)
            return
        token = session_token(headers)
        fresh = token is None
        token = token or new_token()
        if _FILE_MARK in path:
            wanted = path.split(_FILE_MARK, 1)[1]  # already percent-decoded, exactly what Gradio will open
            if is_private(wanted) and not OWNERS.owns(token, wanted):
                await PlainTextResponse("Fichier introuvable.", 404)(scope, receive, send)
                return
        upload = scope["method"] == "POST" and path.endswith(_UPLOAD_PATHS)
        if upload and int(headers.get("content-length") or 0) > uploads.MAX_REQUEST_MB * 2**20:
            message = f"Envoi trop volumineux : {uploads.MAX_REQUEST_MB} Mo au plus par envoi."
            await PlainTextResponse(message, 413)(scope, receive, send)
            return
        body: list[bytes] = []

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start" and fresh:
                cookie = f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"
                message["headers"] = [*message.get("headers", []), (b"set-cookie", cookie.encode())]
            if upload and message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if not message.get("more_body"):
                    _record_upload(b"".join(body), token)
            await send(message)

        await self.app(scope, receive, guarded_send)


def _record_upload(body: bytes, token: str) -> None:
    """Record the files an upload response lists as the uploading session's."""
    try:
        paths = json.loads(body)
    except ValueError:
        return  # an error message, nothing stored
    if isinstance(paths, list):
        for p in paths:
            if isinstance(p, str) and is_private(p):
                OWNERS.add(p, token)
