"""Attacks on the served app through its real HTTP API (gradio_client), over a real ingest and index
(fake embedder): uploads that try to hijack a document, oversize requests, other origins, stray paths."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import stat
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from ingest.pipeline import ingest_paths
from tests.conftest import FakeEmbeddings
from tests.ui_fixtures.fakes import FakeAnswerer, fake_neighbours
from tests.ui_fixtures.server import running
from ui.app import build_app
from vectorstore.settings import Settings
from vectorstore.store import CorpusIndex

BUNDLED = "rtes_rencontres-territoires-et-ess_2013.txt"
BUNDLED_TEXT = "\n\n".join(
    f"Paragraphe {i}. Les rencontres ont réuni élus, réseaux et entreprises de l'ESS autour des circuits "
    f"courts financiers et de la transversalité des politiques publiques locales, sujet numéro {i}."
    for i in range(30)
)


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The app over a real index (one 'bundled' document), real ingest, fake embedder and answerer."""
    root = tmp_path_factory.mktemp("secu")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / BUNDLED).write_text(BUNDLED_TEXT, encoding="utf-8")
    settings = dataclasses.replace(Settings.from_env(), index_dir=root / "index", chroma_url=None)
    index = CorpusIndex(settings, embeddings=FakeEmbeddings())
    assert ingest_paths([corpus], index=index).count("ingested") == 1
    ingest = functools.partial(ingest_paths, index=index)

    def documents() -> list[dict]:
        return [{"source": s, **{k: e.get(k) for k in ("title", "publisher", "year")}}
                for s, e in index.read_manifest()["files"].items()]

    demo = build_app(FakeAnswerer(), ingest, fake_neighbours, documents, settings)
    with running(demo) as url:
        yield url, index, root


def _file(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_an_upload_never_replaces_an_indexed_document(app, tmp_path):
    url, index, _ = app
    before = len(index.read_manifest()["files"][BUNDLED]["chunk_ids"])
    hijack = _file(tmp_path / "a", BUNDLED, "Texte de 140 octets qui voudrait remplacer les actes des rencontres.")
    one = _file(tmp_path / "b", "collide one.txt", "Premier fichier : les coopératives d'activité.")
    two = _file(tmp_path / "c", "collide_one.txt", "Second fichier : les mutuelles de santé.")
    summary, table, *_ = Client(url, verbose=False).predict(
        [handle_file(str(hijack)), handle_file(str(one)), handle_file(str(two))], api_name="/ajouter_documents")
    rows = {r[0]: r for r in table["data"]}
    assert summary.startswith("**3 document(s) ajouté(s)** sur 3")
    assert rows[BUNDLED][1] == "ajouté" and "rtes_rencontres-territoires-et-ess_2013-2.txt" in rows[BUNDLED][3]
    assert rows["collide one.txt"][1] == "ajouté" and rows["collide one.txt"][3] == ""
    assert rows["collide_one.txt"][1] == "ajouté" and "collide_one-2.txt" in rows["collide_one.txt"][3]
    files = index.read_manifest()["files"]
    assert len(files[BUNDLED]["chunk_ids"]) == before
    assert {"rtes_rencontres-territoires-et-ess_2013-2.txt", "collide_one.txt", "collide_one-2.txt"} <= set(files)


@pytest.mark.parametrize(
    ("args", "expected"),
    [((5,), "La question doit être un texte"), (({"q": 1},), "La question doit être un texte"),
     (("Une question ?", "beaucoup"), "nombre de passages"), (("Une question ?", 3, "poème"), "Mode de réponse"),
     (("Une question ?", 3, "extractive", 7), None), (("Une question ?", 3, "extractive", None, None, ["x"]),
                                                     "liste d'années"),
     (("x" * 2001,), "trop longue")],
)
def test_api_type_errors_are_french_sentences(app, args, expected):
    url, _, _ = app
    client = Client(url, verbose=False)
    if expected is None:  # a lone source name is accepted as a one-item list
        assert "answer" in client.predict(*args, api_name="/ask")
        return
    with pytest.raises(Exception) as info:
        client.predict(*args, api_name="/ask")
    message = str(info.value)
    assert expected in message and "attribute" not in message and "Traceback" not in message


# --- our own temporary space, private files, per-request limits, other origins --------------------------

BOUNDARY = "essboundary"


def _upload_raw(url: str, name: str, data: bytes, headers: dict | None = None) -> tuple[int, list, str | None]:
    """POST one file to Gradio's upload route as a browser would: (status, stored paths, session cookie)."""
    body = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{name}\"\r\n"
            "Content-Type: text/plain\r\n\r\n").encode() + data + f"\r\n--{BOUNDARY}--\r\n".encode()
    req = urllib.request.Request(url + "gradio_api/upload", data=body, headers={
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            cookie = resp.headers.get("set-cookie")
            return resp.status, json.loads(resp.read()), cookie.split(";")[0] if cookie else None
    except urllib.error.HTTPError as exc:
        return exc.code, [], None


def _get(url: str, headers: dict | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _call_raw(url: str, api_name: str, data: list, cookie: str | None) -> dict:
    """Call an event through the queue with raw HTTP, as an attacker's script would (no upload step)."""
    config = json.loads(urllib.request.urlopen(url + "config", timeout=30).read())
    fn_index = next(i for i, d in enumerate(config["dependencies"]) if d.get("api_name") == api_name)
    session = "attaque"
    headers = {"Content-Type": "application/json", **({"Cookie": cookie} if cookie else {})}
    payload = json.dumps({"data": data, "fn_index": fn_index, "session_hash": session, "event_data": None,
                          "trigger_id": None}).encode()
    urllib.request.urlopen(urllib.request.Request(url + "gradio_api/queue/join", data=payload, headers=headers),
                           timeout=30).read()
    stream = urllib.request.urlopen(urllib.request.Request(
        url + f"gradio_api/queue/data?session_hash={session}", headers=headers), timeout=60)
    for line in stream:
        if line.startswith(b"data:"):
            msg = json.loads(line[5:])
            if msg.get("msg") == "process_completed":
                return msg
    raise AssertionError("no process_completed message")


def test_gradio_files_live_in_a_private_folder_of_the_app(app):
    url, _, _ = app
    space = Path(os.environ["GRADIO_TEMP_DIR"])
    assert space.name.startswith(f"ess-assistant-{os.getpid()}-") and stat.S_IMODE(space.stat().st_mode) == 0o700
    status, paths, _ = _upload_raw(url, "prive.txt", b"contenu prive")
    assert status == 200 and Path(paths[0]).is_relative_to(space)


def test_a_file_uploaded_by_one_session_is_not_served_to_another(app):
    url, _, _ = app
    _, (path,), mine = _upload_raw(url, "a.txt", b"secret de la session A")
    assert mine
    link = url + "gradio_api/file=" + path
    assert _get(link, {"Cookie": mine}) == 200
    assert _get(link) == 404
    for disguised in (urllib.parse.quote(path), "/" + path, path.replace("/", "//"), path + "/."):
        assert _get(url + "gradio_api/file=" + disguised) in (403, 404), disguised
    _, _, other = _upload_raw(url, "b.txt", b"session B")
    assert other and other != mine and _get(link, {"Cookie": other}) == 404


def test_the_api_indexes_only_what_this_session_uploaded(app, tmp_path):
    url, index, _ = app
    _, (path,), victim = _upload_raw(url, "confidentiel.txt", "Budget confidentiel de la coopérative.".encode())
    _, _, attacker = _upload_raw(url, "x.txt", b"x")
    files = [{"path": path, "meta": {"_type": "gradio.FileData"}}]
    msg = _call_raw(url, "ajouter_documents", [files, "", "", ""], attacker)  # files, title, publisher, year
    assert msg["success"] is False and "cette session" in json.dumps(msg, ensure_ascii=False)
    assert "confidentiel.txt" not in index.read_manifest()["files"]
    assert Path(path).exists()  # the victim's upload is untouched


def test_uploads_from_another_origin_are_refused_and_not_stored(app):
    url, _, _ = app
    space = Path(os.environ["GRADIO_TEMP_DIR"])
    before = set(space.rglob("*"))
    port = url.rsplit(":", 1)[1].strip("/")
    status, _, _ = _upload_raw(url, "csrf.txt", b"depuis une autre page", {"Origin": f"http://127.0.0.2:{port}"})
    assert status == 403 and set(space.rglob("*")) == before
    status, _, _ = _upload_raw(url, "ok.txt", b"depuis la page", {"Origin": url.rstrip("/")})
    assert status == 200


def test_limits_apply_per_request_with_french_messages(app, tmp_path, monkeypatch):
    import ui.uploads

    url, _, _ = app
    client = Client(url, verbose=False)
    files = [handle_file(str(_file(tmp_path / f"d{i}", f"note{i}.txt", "Une note. " * 5000))) for i in range(3)]
    monkeypatch.setattr(ui.uploads, "MAX_REQUEST_MB", 0.1)  # three 50 KB files: each fine, together too much
    with pytest.raises(Exception, match="Envoi trop volumineux"):
        client.predict(files, api_name="/ajouter_documents")
    monkeypatch.setattr(ui.uploads, "MAX_FILES", 2)
    with pytest.raises(Exception, match="Trop de fichiers dans un seul envoi"):
        client.predict(files, api_name="/ajouter_documents")
    # A browser sends all files in one request: over the limit, it is refused before being stored.
    space = Path(os.environ["GRADIO_TEMP_DIR"])
    before = set(space.rglob("*"))
    status, _, _ = _upload_raw(url, "gros.txt", b"x" * 200_000)
    assert status == 413 and set(space.rglob("*")) == before


def test_used_and_rejected_uploads_leave_no_file_behind(app, tmp_path):
    url, index, _ = app
    space = Path(os.environ["GRADIO_TEMP_DIR"])
    empty = _file(tmp_path, "vide.txt", "   ")
    good = _file(tmp_path, "jardins-partages.txt", "Les jardins partagés du quartier réunissent 40 familles.")
    client = Client(url, verbose=False)
    summary, table, *_ = client.predict([handle_file(str(empty)), handle_file(str(good))],
                                        api_name="/ajouter_documents")
    rows = {r[0]: r for r in table["data"]}
    assert rows["vide.txt"][1] == "non ajouté" and rows["jardins-partages.txt"][1] == "ajouté"
    uploads = index.settings.index_dir / "uploads"
    assert not (uploads / "vide.txt").exists() and (uploads / "jardins-partages.txt").exists()
    assert not [p for p in space.rglob("*.txt") if p.name in ("vide.txt", "jardins-partages.txt")]


def test_stale_private_folders_of_dead_servers_are_removed_at_start(tmp_path, monkeypatch):
    from ui import filespace

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = tmp_path / f"{filespace.PREFIX}{int(dead.stdout)}-abc"
    (stale / "h").mkdir(parents=True)
    (stale / "h" / "export.md").write_text("vieux", encoding="utf-8")
    alive = tmp_path / f"{filespace.PREFIX}{os.getppid()}-def"
    alive.mkdir()
    filespace._sweep_stale(tmp_path)
    assert not stale.exists() and alive.exists()


class _Request:
    """What the handlers read of a gr.Request: its headers (the session cookie)."""

    def __init__(self, token: str | None) -> None:
        self.headers = {"cookie": f"ess_session={token}"} if token else {}
        self.session_hash = token


def test_the_corpus_panel_replaces_only_with_this_sessions_upload(tmp_path):
    import gradio as gr

    from ingest.uploads import replace_document
    from tests.ui_fixtures.fakes import FakeCorpus
    from ui.corpus_tab import CorpusPanel
    from ui.filespace import OWNERS, private_space

    corpus = FakeCorpus()
    settings = dataclasses.replace(Settings.from_env(), index_dir=tmp_path / "index")
    panel = CorpusPanel(corpus.documents, settings, corpus.remove,
                        functools.partial(replace_document, ingest=corpus.ingest))
    upload = private_space() / "h-victime" / "pacte-v2.txt"
    upload.parent.mkdir(exist_ok=True)
    upload.write_text("Texte d'une autre session.", encoding="utf-8")
    OWNERS.add(upload, "victime")
    _, _, pending = panel.ask_replacement("pactes.txt", str(upload))
    with pytest.raises(gr.Error, match="pas été envoyés depuis cette session"):
        panel.confirm(pending, str(upload), _Request("attaquant"))
    assert upload.exists() and not (settings.index_dir / "uploads" / "pactes.txt").exists()
    summary, *_ = panel.confirm(pending, str(upload), _Request("victime"))
    assert "a été remplacé" in summary and not upload.exists()  # used, then removed from the cache
