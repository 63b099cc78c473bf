"""`ess-assistant`: ingest, search, ask, brief, serve, eval, train. Errors are plain French sentences.

Exit codes a script can rely on: 0 done, 1 error (message on stderr), 2 invalid command line, and for
``ingest`` 3 when some files failed, 4 when every file failed.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import sys
from pathlib import Path
from typing import TextIO

from assistant.argparse_fr import FrenchArgumentParser
from assistant.types import checked_question
from ingest.clean import terminal_safe

logger = logging.getLogger(__name__)

EXIT_ERROR = 1
EXIT_SOME_FAILED = 3
EXIT_ALL_FAILED = 4
EXIT_CODES_HELP = (
    "Codes de sortie : 0 terminé, 1 erreur (message sur la sortie d'erreur), 2 ligne de commande invalide."
)
INGEST_CODES_HELP = (
    f"Codes de sortie : 0 tous les fichiers indexés ou inchangés, {EXIT_SOME_FAILED} certains fichiers en "
    f"échec, {EXIT_ALL_FAILED} tous les fichiers en échec, 1 erreur (index occupé, illisible…)."
)


def _filters(args: argparse.Namespace) -> dict:
    return {"source": args.source, "publisher": args.publisher, "year": args.year}


def _add_filters(parser: argparse.ArgumentParser) -> None:
    for flag, metavar, what, kind in (("--source", "FICHIER", "dans ce fichier", str),
                                      ("--publisher", "ÉDITEUR", "chez cet éditeur (nom court accepté)", str),
                                      ("--year", "ANNÉE", "cette année", int)):
        parser.add_argument(flag, action="append", type=kind, metavar=metavar,
                            help=f"ne chercher que {what} (répétable)")


def cmd_ingest(args: argparse.Namespace) -> int:
    from ingest.pipeline import ingest_paths

    report = ingest_paths(args.paths or None, rebuild=args.rebuild, show_progress=not args.quiet)
    print(report.summary())
    failed = report.count("failed")
    if not failed:
        return 0
    return EXIT_SOME_FAILED if report.count("ingested") + report.count("unchanged") else EXIT_ALL_FAILED


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
    from assistant.evaluation import EXAMPLE_QUESTIONS, evaluate_retrieval, load_gold

    rows = load_gold(Path(args.qa) if args.qa else EXAMPLE_QUESTIONS)
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
        return EXIT_ERROR
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from assistant.evaluation import load_gold
    from assistant.ranking import train_all
    from assistant.retrieval import CENTROID_MODEL, fit_query_centroid

    rows = [row for path in args.qa for row in load_gold(Path(path))]
    output = Path(args.output) if args.output else None
    rankers = [name for name in args.model or () if name != CENTROID_MODEL]
    # The centroid first: it changes the passages the rankers are trained on.
    if not args.model or CENTROID_MODEL in args.model:
        centroid, path = fit_query_centroid([row["question"] for row in rows], output)
        print(f"{CENTROID_MODEL} : {centroid.questions} questions → {path}")
    if rankers or not args.model:
        for report in train_all(rows, output, rankers or None, folds=args.folds):
            print(report.summary())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = FrenchArgumentParser(
        prog="ess-assistant",
        description="Assistant documentaire sur l'économie sociale et solidaire.",
        epilog=EXIT_CODES_HELP,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="journal détaillé")
    sub = parser.add_subparsers(dest="command", required=True, title="commandes", metavar="COMMANDE")

    p = sub.add_parser("ingest", help="indexer des fichiers (par défaut : le corpus fourni)", epilog=INGEST_CODES_HELP)
    p.add_argument("paths", nargs="*", type=Path, metavar="FICHIER", help="fichiers ou dossiers PDF/TXT/MD")
    p.add_argument("--rebuild", action="store_true", help="reconstruire l'index depuis zéro")
    p.add_argument("-q", "--quiet", action="store_true", help="sans barre de progression")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("search", help="chercher les passages les plus pertinents")
    p.add_argument("query", metavar="RECHERCHE", help="la recherche, en français")
    p.add_argument("-k", type=int, default=5, help="nombre de passages (1 ou plus ; 5 par défaut)")
    p.add_argument("--json", action="store_true", help="sortie JSON pour les scripts")
    _add_filters(p)
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("ask", help="poser une question (réponse citée)")
    p.add_argument("question", metavar="QUESTION", help="la question, en français")
    p.add_argument("-k", type=int, default=None, help="nombre de passages consultés (1 ou plus)")
    p.add_argument("--json", action="store_true", help="sortie JSON pour les scripts")
    p.add_argument("--extractive", action="store_true", help="sans LLM, même si un LLM est configuré")
    _add_filters(p)
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("brief", help="rédiger une note de synthèse sourcée")
    p.add_argument("topic", metavar="SUJET", help="le sujet de la note")
    p.add_argument("-o", "--output", help="fichier .md ou .docx")
    p.add_argument("--extractive", action="store_true", help="sans LLM, même si un LLM est configuré")
    _add_filters(p)
    p.set_defaults(func=cmd_brief)

    p = sub.add_parser("serve", help="ouvrir le chat web")
    p.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (127.0.0.1 par défaut : cette machine seule)")
    p.add_argument("--port", type=int, default=7860, help="port d'écoute (7860 par défaut)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("eval", help="mesurer la qualité sur un fichier de questions de référence")
    p.add_argument(
        "--qa", default=None, help="fichier JSONL de questions (par défaut : les questions d'exemple fournies)"
    )
    p.add_argument("--answers", action="store_true", help="évaluer les réponses (citations, abstention)")
    p.add_argument("--min-recall5", type=float, default=None, help="échouer sous ce rappel@5")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "train",
        help="réentraîner les modèles de classement sur des questions de référence",
        description="Apprend, sur les questions données, la direction commune des questions pour le modèle "
        "d'embeddings configuré (query-centroid), puis les modèles de classement.",
    )
    p.add_argument("--qa", nargs="+", required=True, help="fichiers de questions (JSON lines, avec preuves)")
    p.add_argument("-o", "--output", help="dossier où écrire les modèles (par défaut : ESS_MODELS_DIR ou ceux fournis)")
    p.add_argument("--model", action="append",
                   help="ne réentraîner que ce modèle (répétable) : query-centroid, answer-sentences")
    p.add_argument("--folds", type=int, default=5, help="plis de la validation croisée (défaut : 5)")
    p.set_defaults(func=cmd_train)
    return parser


class _TerminalSafeOutput(io.TextIOBase):
    """stdout for the CLI: names and texts come from files and users, so escapes are dropped on the way out."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(terminal_safe(text))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def _checked_texts(args: argparse.Namespace) -> None:
    """Questions, queries and topics are capped like on the web (a 100 KB question took a minute)."""
    for name in ("question", "query", "topic"):
        if isinstance(getattr(args, name, None), str):
            setattr(args, name, checked_question(getattr(args, name)))


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    stdout = sys.stdout
    sys.stdout = _TerminalSafeOutput(stdout)
    try:
        return _run(args)
    finally:
        sys.stdout = stdout


def _run(args: argparse.Namespace) -> int:
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "chromadb"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        _checked_texts(args)
        return args.func(args)
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130
    except Exception as exc:  # a CLI user gets a sentence, not a traceback (-v shows it)
        if args.verbose:
            logger.exception("Command failed")
        print(f"Erreur : {terminal_safe(str(exc))}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
