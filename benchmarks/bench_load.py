"""Load: N concurrent chat sessions against ``ess-assistant serve`` on 127.0.0.1, through gradio_client.

Starts the real server (real index, real embedding model, extractive answers unless an LLM is configured) on a
free loopback port, opens ``--sessions`` clients at once, each asking ``--questions`` questions in turn through
the public ``/ask`` API (bounded: at most ``--max-seconds``), then prints throughput, p50/p95/max latency and
errors. The index is ``ESS_INDEX_DIR`` when set, else one built in a temp folder from the smallest bundled
documents (``--corpus-files``), so the run stays short.

Usage: python benchmarks/bench_load.py [--sessions 50] [--questions 3] [--max-seconds 600]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "Quel rôle l'ESS peut-elle jouer dans un nouveau pacte économique et social ?",
    "Quelles leçons les acteurs de l'ESS tirent-ils de la crise sanitaire ?",
    "Qu'entend ESS France par les nouvelles alliances de l'intérêt général ?",
    "Comment l'ESS peut-elle coopérer avec l'État et les collectivités ?",
    "Quelles propositions pour la santé ?",
    "Quel est le prix du bitcoin ?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def build_index(folder: Path, files: int) -> None:
    """Index the ``files`` smallest bundled documents with the configured model (in a child, like a user)."""
    corpus = ROOT / "data" / "corpus"
    docs = sorted((p for p in corpus.iterdir() if p.suffix in (".md", ".txt")), key=lambda p: p.stat().st_size)
    subset = folder / "corpus"
    subset.mkdir(parents=True)
    shutil.copy(corpus / "catalog.json", subset / "catalog.json")
    for doc in docs[:files]:
        shutil.copy(doc, subset / doc.name)
    env = {**os.environ, "ESS_INDEX_DIR": str(folder / "index")}
    cli = Path(sys.executable).with_name("ess-assistant")
    subprocess.run([str(cli), "ingest", "-q", str(subset)], env=env, check=True)


def start_server(index_dir: Path, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "ESS_INDEX_DIR": str(index_dir)}
    cli = Path(sys.executable).with_name("ess-assistant")
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [str(cli), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=out, stderr=out
        )
    import urllib.request

    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/config", timeout=2):
                return proc
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError(f"server not up after 180 s; see {log}")


def session(url: str, sid: int, questions: int, stop_at: float, results: list, errors: list, start: threading.Barrier):
    """One user: connect, then ask ``questions`` questions one after the other."""
    from gradio_client import Client

    try:
        client = Client(url, verbose=False)
    except Exception as exc:  # noqa: BLE001 - every failure is a measured error
        errors.append(f"session {sid} connect: {exc!r}")
        start.wait()
        return
    start.wait()
    for i in range(questions):
        if time.monotonic() > stop_at:
            errors.append(f"session {sid}: time bound reached before question {i + 1}")
            return
        question = QUESTIONS[(sid + i) % len(QUESTIONS)]
        t = time.perf_counter()
        try:
            reply = client.predict(question, api_name="/ask")
            assert isinstance(reply, dict) and "answer" in reply and "citations" in reply, reply
            results.append((time.perf_counter() - t, bool(reply["abstained"]), len(reply["citations"])))
        except Exception as exc:  # noqa: BLE001 - every failure is a measured error
            errors.append(f"session {sid} question {i + 1}: {exc!r}"[:300])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--questions", type=int, default=3, help="questions per session")
    parser.add_argument("--max-seconds", type=float, default=600, help="bound on the whole load phase")
    parser.add_argument("--corpus-files", type=int, default=2, help="bundled documents indexed when no index")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="ess-load-"))
    server = None
    try:
        if os.environ.get("ESS_INDEX_DIR"):
            index_dir = Path(os.environ["ESS_INDEX_DIR"])
        else:
            started = time.perf_counter()
            build_index(tmp, args.corpus_files)
            index_dir = tmp / "index"
            print(f"index built from {args.corpus_files} bundled documents in {time.perf_counter() - started:.0f} s")
        port = free_port()
        server = start_server(index_dir, port, tmp / "server.log")
        url = f"http://127.0.0.1:{port}/"
        results: list = []
        errors: list[str] = []
        barrier = threading.Barrier(args.sessions + 1)
        stop_at = time.monotonic() + args.max_seconds
        threads = [
            threading.Thread(target=session, args=(url, i, args.questions, stop_at, results, errors, barrier))
            for i in range(args.sessions)
        ]
        for t in threads:
            t.start()
        barrier.wait()  # every session connected: start the clock
        started = time.perf_counter()
        for t in threads:
            t.join(max(0.0, stop_at - time.monotonic()) + 60)
        wall = time.perf_counter() - started
        latencies = [r[0] for r in results]
        figures = {
            "sessions": args.sessions,
            "requests": args.sessions * args.questions,
            "ok": len(results),
            "errors": len(errors),
            "wall_s": round(wall, 1),
            "throughput_rps": round(len(results) / wall, 2) if wall else 0.0,
            "p50_s": round(statistics.median(latencies), 2) if latencies else None,
            "p95_s": round(pct(latencies, 0.95), 2) if latencies else None,
            "max_s": round(max(latencies), 2) if latencies else None,
            "abstained": sum(r[1] for r in results),
            "mean_citations": round(statistics.mean(r[2] for r in results), 2) if results else None,
            "server_rss_mb": round(_rss_mb(server.pid)),
        }
        print(json.dumps(figures, ensure_ascii=False))
        for error in errors[:10]:
            print("error:", error)
        if errors:  # the server's side of the story (tracebacks are logged there, not sent to clients)
            log = (tmp / "server.log").read_text(encoding="utf-8", errors="replace").splitlines()
            print("\n".join(line for line in log if "DEBUG" not in line)[-6000:])
        if args.json:
            args.json.write_text(json.dumps(figures, ensure_ascii=False), encoding="utf-8")
        if errors:
            sys.exit(1)
    finally:
        if server:
            server.terminate()
            server.wait(30)
        shutil.rmtree(tmp, ignore_errors=True)


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


if __name__ == "__main__":
    main()
