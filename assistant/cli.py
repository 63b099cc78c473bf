"""`ess-assistant`: ingest, search, ask, brief, serve, eval. Errors are plain French sentences, exit code 1."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

logger = logging.getLogger(__name__)


def _filters(args: argparse.Namespace) -> dict:
    return {"source": args.source, "publisher": args.publisher, "year": args.year}


def _add_filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", action="append", help="ne chercher que dans ce fichier (répétable)")
    parser.add_argument("--publisher", action="append", help="ne chercher que chez cet éditeur (répétable)")
    parser.add_argument("--year", action="append", type=int, help="ne chercher que cette année (répétable)")


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.pipeline import ingest_paths

    report = ingest_paths(args.paths or None, rebuild=args.rebuild, show_progress=not args.quiet)
    print(report.summary())
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    from assistant.retrieval import retrieve

    passages = retrieve(args.query, k=args.k, **_filters(args))
    if args.json:
        print(json.dumps([p.to_dict() for p in passages], ensure_ascii=False, indent=2))
        return 0
    if not passages:
        print("Aucun passage trouvé.")
    for n, p in enumerate(passages, 1):
        where = ", ".join(x for x in (p.title, p.location()) if x)
        print(f"[{n}] {where} — {p.source} (score {p.score:.4f})\n{p.text}\n")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.answer import ask

    answer = ask(args.question, k=args.k, mode="extractive" if args.extractive else None, **_filters(args))
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    print(answer.text)
    if answer.mode == "extractive" and not answer.abstained:
        print("\n(Réponse extractive : phrases citées telles quelles, sans reformulation par un LLM.)")
    for warning in answer.warnings:
        print(f"Attention : {warning}")
    for c in answer.citations:
        p = c.passage
        print(f"\n[{c.n}] {p.title} ({p.publisher or '?'}, {p.year or 's.d.'}) {p.location()} — {p.source}")
        print(f"    « {c.quote} »")
    for lead in answer.leads:
        print(f"\nPiste : {lead.title} {lead.location()} — {lead.source}\n    {lead.text[:300]}")
    return 0


def cmd_brief(args: argparse.Namespace) -> int:
    from assistant.brief_export import FORMATS, to_markdown, write_brief
    from assistant.briefing import brief

    if args.output and Path(args.output).suffix.lower() not in FORMATS:
        raise ValueError(f"Format de sortie non pris en charge : choisissez {', '.join(sorted(FORMATS))}.")
    note = brief(args.topic, extractive=args.extractive, **_filters(args))
    if args.output:
        print(f"Note écrite dans {write_brief(note, Path(args.output))}")
    else:
        print(to_markdown(note))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from ui.app import serve

    serve(host=args.host, port=args.port)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from assistant.evaluation import evaluate_retrieval, load_gold

    rows = load_gold(Path(args.qa))
    if args.answers:
        from assistant.answer import ask
        from assistant.answer_eval import evaluate_answers

        result = evaluate_answers(rows, ask)
    else:
        from assistant.retrieval import retrieve

        result = evaluate_retrieval(rows, lambda q, k: retrieve(q, k))
    if args.min_recall5 is not None and result.get("r@5", 1.0) < args.min_recall5:
        print(json.dumps(result, ensure_ascii=False, indent=2))
        print(f"Rappel@5 {result['r@5']:.3f} sous le seuil {args.min_recall5}.", file=sys.stderr)
        return 1
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ess-assistant", description="Assistant documentaire sur l'économie sociale et solidaire."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="journal détaillé")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="indexer des fichiers (par défaut : le corpus fourni)")
    p.add_argument("paths", nargs="*", type=Path, help="fichiers ou dossiers PDF/TXT/MD")
    p.add_argument("--rebuild", action="store_true", help="reconstruire l'index depuis zéro")
    p.add_argument("-q", "--quiet", action="store_true", help="sans barre de progression")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", help="chercher les passages les plus pertinents")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=5)
    p.add_argument("--json", action="store_true")
    _add_filters(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="poser une question (réponse citée)")
    p.add_argument("question")
    p.add_argument("-k", type=int, default=None)
    p.add_argument("--json", action="store_true")
    p.add_argument("--extractive", action="store_true", help="sans LLM, même si un LLM est configuré")
    _add_filters(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("brief", help="rédiger une note de synthèse sourcée")
    p.add_argument("topic")
    p.add_argument("-o", "--output", help="fichier .md ou .docx")
    p.add_argument("--extractive", action="store_true", help="sans LLM, même si un LLM est configuré")
    _add_filters(p)
    p.set_defaults(func=cmd_brief)

    p = sub.add_parser("serve", help="ouvrir le chat web")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=7860)
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("eval", help="mesurer la qualité sur un fichier de questions de référence")
    p.add_argument("--qa", default=str(Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl"))
    p.add_argument("--answers", action="store_true", help="évaluer les réponses (citations, abstention)")
    p.add_argument("--min-recall5", type=float, default=None, help="échouer sous ce rappel@5")
    p.set_defaults(func=cmd_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "chromadb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130
    except Exception as exc:  # a CLI user gets a sentence, not a traceback (-v shows it)
        if args.verbose:
            logger.exception("Command failed")
        print(f"Erreur : {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
