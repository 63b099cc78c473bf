"""argparse in French: the help's headings and the usage errors a user meets (argparse only speaks English).

argparse builds its messages with gettext but ships no French catalogue; rather than install one process-wide,
the parser below titles its own help and translates the usage errors it reports.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import Any, NoReturn

_TYPE_NAMES = {"int": "entier", "float": "nombre"}


def _invalid_value(m: re.Match) -> str:
    return f"valeur invalide ({_TYPE_NAMES.get(m[1], m[1])} attendu) : {m[2]}"


_ERRORS: list[tuple[re.Pattern, Any]] = [
    (re.compile(r"the following arguments are required: (.*)"), r"arguments obligatoires manquants : \1"),
    (re.compile(r"unrecognized arguments: (.*)"), r"arguments non reconnus : \1"),
    (re.compile(r"invalid (\w+) value: (.*)"), _invalid_value),
    (re.compile(r"invalid choice: (.*) \(choose from (.*)\)"), r"choix invalide : \1 (possibles : \2)"),
    (re.compile(r"expected one argument"), "une valeur est attendue"),
    (re.compile(r"expected at least one argument"), "au moins une valeur est attendue"),
    (re.compile(r"ambiguous option: (.*) could match (.*)"), r"option ambiguë : \1 peut désigner \2"),
    (re.compile(r"one of the arguments (.*) is required"), r"l'un des arguments \1 est obligatoire"),
    (re.compile(r"not allowed with argument (.*)"), r"incompatible avec l'argument \1"),
]
_ARGUMENT_RE = re.compile(r"argument (\S+): (.*)", re.S)


def translate_error(message: str) -> str:
    """argparse's English usage error in French (unknown messages are left as they are)."""
    prefix = ""
    if m := _ARGUMENT_RE.fullmatch(message):
        prefix, message = f"argument {m[1]} : ", m[2]
    for pattern, replacement in _ERRORS:
        if pattern.fullmatch(message):
            return prefix + pattern.sub(replacement, message)
    return prefix + message


class FrenchHelpFormatter(argparse.HelpFormatter):
    """« usage : » and « options : », with the space French puts before a colon."""

    def add_usage(self, usage: str | None, actions: Any, groups: Any, prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "usage : " if prefix is None else prefix)

    def start_section(self, heading: str | None) -> None:
        super().start_section(f"{heading} " if heading else heading)  # argparse appends the colon


class FrenchArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser whose help headings, -h text and usage errors are French (its subparsers too)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", FrenchHelpFormatter)
        add_help = kwargs.pop("add_help", True)
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "arguments positionnels"
        self._optionals.title = "options"
        if add_help:
            self.add_argument(
                "-h", "--help", action="help", default=argparse.SUPPRESS, help="afficher cette aide et quitter"
            )

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog} : erreur : {translate_error(message)}\n")
