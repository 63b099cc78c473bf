"""The web chat served for real on 127.0.0.1 (fake answerer): API, concurrency, uploads, file routes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from gradio_client import Client, handle_file

from tests.ui_fixtures.fakes import FakeAnswerer, fake_documents, fake_ingest, fake_neighbours
from tests.ui_fixtures.server import free_port, running
from ui.app import CONCURRENCY_LIMIT, build_app, launch_options

QUESTION = "Que proposent les acteurs pour un nouveau pacte ?"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    import dataclasses

    from vectorstore.settings import Settings

    settings = dataclasses.replace(Settings.from_env(), index_dir=tmp_path_factory.mktemp("index"))
    answerer = FakeAnswerer(token_delay=0.02)
    demo = build_app(answerer, fake_ingest, fake_neighbours, fake_documents, settings)
    with running(demo) as url:
        yield url, answerer, demo


def _status(url: str, data: bytes | None = None, headers: dict | None = None) -> int:
    req = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_api_answers_with_citations(served):
    url, _, _ = served
    result = Client(url, verbose=False).predict(QUESTION, api_name="/ask")
    assert "[1]" in result["answer"] and not result["abstained"]
    assert result["citations"][0]["source"] == "pactes.txt" and result["citations"][0]["quote"]


def test_api_passes_filters(served):
    url, answerer, _ = served
    result = Client(url, verbose=False).predict(QUESTION, 3, "extractive", ["piege.md"], None, [2022],
                                                api_name="/ask")
    assert {c["source"] for c in result["citations"]} <= {"piege.md"}
    assert answerer.calls[-1]["source"] == ["piege.md"] and answerer.calls[-1]["year"] == [2022]


def test_twenty_concurrent_clients_all_get_answers(served):
    url, answerer, _ = served
    results: list = [None] * 20
    errors: list = []

    def one(i: int) -> None:
        try:
            results[i] = Client(url, verbose=False).predict(f"{QUESTION} ({i})", api_name="/ask")
        except Exception as exc:  # collected and reported below
            errors.append(exc)

    answerer.max_inflight = 0
    threads = [threading.Thread(target=one, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert all(r and r["citations"] for r in results)
    assert 1 < answerer.max_inflight <= CONCURRENCY_LIMIT  # the queue ran them in parallel, capped


def test_errors_reach_clients_in_french_without_traceback(served):
    url, _, _ = served
    with pytest.raises(Exception) as info:
        Client(url, verbose=False).predict("pacte PANNE", api_name="/ask")
    assert "Désolé, une erreur est survenue" in str(info.value)
    assert "Traceback" not in str(info.value)


def test_corrupt_pdf_is_reported_and_the_session_goes_on(served, tmp_path):
    url, _, _ = served
    bad = tmp_path / "rapport.pdf"
    bad.write_bytes(b"%PD garbage, not a PDF")
    client = Client(url, verbose=False)
    summary, table, *_ = client.predict([handle_file(str(bad))], api_name="/ajouter_documents")
    assert summary.startswith("**0 document(s) ajouté(s)**")
    assert table["data"] == [["rapport.pdf", "non ajouté", 0, "Le fichier PDF est endommagé ou illisible."]]
    assert client.predict(QUESTION, api_name="/ask")["citations"]


def test_file_routes_serve_nothing_outside_the_app(served, tmp_path):
    url, _, _ = served
    repo_file = Path(__file__).resolve().parents[1] / "pyproject.toml"
    for path in ("/etc/passwd", str(repo_file), "/proc/self/environ"):
        for route in ("file=", "gradio_api/file="):
            assert _status(url + route + path) in (403, 404), route + path
    # Control: a file uploaded through the app is served, so the refusals above are meaningful.
    boundary = "essboundary"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n"
            f"Content-Type: text/plain\r\n\r\nbonjour\r\n--{boundary}--\r\n").encode()
    req = urllib.request.Request(url + "gradio_api/upload", data=body,
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        cached = json.loads(resp.read())[0]
        session = resp.headers["set-cookie"].split(";")[0]
    assert _status(url + "gradio_api/file=" + cached, headers={"Cookie": session}) == 200
    traversal = cached.rsplit("/", 1)[0] + "/../../../../../../etc/passwd"
    assert _status(url + "gradio_api/file=" + traversal) in (403, 404)


def test_uploads_over_the_size_limit_are_refused(served):
    url, _, _ = served
    boundary = "essboundary"
    big = b"x" * (51 * 1024 * 1024)
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.txt\"\r\n"
            "Content-Type: text/plain\r\n\r\n").encode() + big + f"\r\n--{boundary}--\r\n".encode()
    status = _status(url + "gradio_api/upload", data=body,
                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 413


def test_safe_launch_defaults(served):
    url, _, demo = served
    opts = launch_options()
    assert opts["server_name"] == "127.0.0.1" and opts["share"] is False
    assert opts["allowed_paths"] == [] and opts["max_file_size"] and opts["enable_monitoring"] is False
    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False" and demo.analytics_enabled is False
    assert demo.share is False and url.startswith("http://127.0.0.1:")
    config = json.loads(urllib.request.urlopen(url + "config", timeout=30).read())
    assert config["analytics_enabled"] is False
    assert _status(url + "monitoring") in (403, 404)


def _wait_until_up(proc: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + 90
    while True:
        try:
            if _status(url) == 200:
                return
        except urllib.error.URLError:  # not listening yet
            pass
        assert proc.poll() is None, proc.stdout.read()
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.3)


def test_serve_runs_the_app_on_loopback_even_without_an_index(tmp_path):
    """The production entry point, in its own process, over an empty index: page up, French reply."""
    port = free_port()
    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k != "ESS_CHROMA_URL"}
    env.update(ESS_INDEX_DIR=str(tmp_path / "empty-index"), PYTHONPATH=str(root))
    proc = subprocess.Popen([sys.executable, "-c", f"from ui.app import serve; serve(port={port})"],
                            cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(proc, url)
        config = json.loads(urllib.request.urlopen(url + "config", timeout=30).read())
        assert config["title"] == "ESS Assistant" and config["analytics_enabled"] is False
        with pytest.raises(Exception, match="lancez d'abord « ess-assistant ingest »"):
            Client(url, verbose=False).predict("Qu'est-ce que l'ESS ?", api_name="/ask")
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def test_cli_serve_refuses_quietly_and_reports_a_busy_port_in_french(tmp_path):
    """`ess-assistant serve` as a user runs it: an empty question costs one French log line, no traceback;
    a second server on the same port says so in French and never announces an address."""
    port = free_port()
    root = Path(__file__).resolve().parents[1]
    env = {k: v for k, v in os.environ.items() if k != "ESS_CHROMA_URL"}
    env.update(ESS_INDEX_DIR=str(tmp_path / "empty-index"), PYTHONPATH=str(root))
    command = [sys.executable, "-m", "assistant.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_until_up(proc, url)
        with pytest.raises(Exception, match="La question est vide"):
            Client(url, verbose=False).predict("   ", api_name="/ask")
        second = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode == 1
        assert "http://" not in second.stdout
        assert second.stderr.startswith(f"Erreur : Impossible d'ouvrir le chat sur 127.0.0.1:{port}")
        assert "déjà utilisé" in second.stderr and "--port" in second.stderr and "Traceback" not in second.stderr
    finally:
        proc.terminate()
        output = proc.communicate(timeout=30)[0]
    assert f"ESS Assistant : {url}" in output
    refusals = [line for line in output.splitlines() if "Demande refusée" in line]
    assert len(refusals) == 1 and "La question est vide" in refusals[0]
    assert "Traceback" not in output
