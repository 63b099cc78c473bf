"""Server mode: with ESS_CHROMA_URL set, ingest and retrieve go through a real `chroma run` server that
this test starts on a free loopback port, with the real default embedding model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant import retrieval
from ingest.pipeline import ingest_paths
from tests.conftest import running_chroma_server
from vectorstore.settings import BUNDLED_CORPUS

pytestmark = pytest.mark.integration


@pytest.fixture
def chroma_server(tmp_path: Path):
    with running_chroma_server(tmp_path / "server-data", tmp_path / "chroma.log") as url:
        yield url, tmp_path / "server-data"


@pytest.mark.timeout(600)
def test_ingest_and_retrieve_through_a_chroma_server(chroma_server, tmp_path, monkeypatch):
    url, server_data = chroma_server
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    name = "cress-occitanie_ess-nouveau-pacte-economique-et-social_2020.txt"
    shutil.copy(BUNDLED_CORPUS / name, corpus / name)
    shutil.copy(BUNDLED_CORPUS / "catalog.json", corpus / "catalog.json")
    monkeypatch.setenv("ESS_CHROMA_URL", url)
    monkeypatch.setenv("ESS_INDEX_DIR", str(tmp_path / "local"))
    retrieval._searches.clear()

    report = ingest_paths([corpus])
    assert report.count("ingested") == 1, report.summary()
    assert not (tmp_path / "local" / "chroma").exists(), "server mode must not create an embedded store"
    assert any(server_data.iterdir()), "the vectors must be stored by the server"

    passages = retrieval.retrieve("mobilités douces et alternatives", k=3)
    assert passages and passages[0].source == name
    assert passages[0].title.startswith("L'ESS, actrice d'un nouveau pacte")
    assert any(p.dense_score is not None for p in passages), "dense search must answer through the server"
    assert ingest_paths([corpus]).count("unchanged") == 1
    retrieval._searches.clear()
