"""Attacks on the served app through its real HTTP API (gradio_client), over a real ingest and index
(fake embedder): uploads that try to hijack a document, oversize requests, other origins, stray paths."""

from __future__ import annotations

import dataclasses
import functools
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
