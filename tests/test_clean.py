"""clean_text on real damaged lines copied from the corpus, each with its exact repaired output."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from ingest.clean import clean_text, strip_repeated_lines
from vectorstore.text import contains_quote

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"
DEV = Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl"

REAL_CASES = [
    pytest.param(
        "Par sa nature méme et I'impact social et environnemental positif que ses activités générent,\n"
        "I’économie sociale et solidaire (ESS) apporte une contribution essentielle au développement "
        "durable des\n"
        "territoires, et en particulier des plus fragiles d’entre eux",
        "Par sa nature méme et l'impact social et environnemental positif que ses activités générent, "
        "l’économie sociale et solidaire (ESS) apporte une contribution essentielle au développement durable "
        "des territoires, et en particulier des plus fragiles d’entre eux",
        id="ocr-elision-and-wrapped-lines",
    ),
    pytest.param(
        "capacité de s’appuyer sur |'expertise sociale et environnementale des entreprises de I'ESS",
        "capacité de s’appuyer sur l'expertise sociale et environnementale des entreprises de l'ESS",
        id="pipe-elision",
    ),
    pytest.param(
        "Parmi une liste de 150 structures éligibles, situées en QPV ou en ZRR et ayant fait "
        "I'objet d’'une co-\n"
        "construction avec les membres du comité de pilotage de I'étude, 16 ont été retenues",
        "Parmi une liste de 150 structures éligibles, situées en QPV ou en ZRR et ayant fait l'objet d’une "
        "co-construction avec les membres du comité de pilotage de l'étude, 16 ont été retenues",
        id="compound-hyphen-at-line-end-and-double-apostrophe",
    ),
    pytest.param(
        "publiques, conseil régional de Rhone-Alpes et ville de Saint-\nEtienne.",
        "publiques, conseil régional de Rhone-Alpes et ville de Saint-Etienne.",
        id="proper-name-hyphen",
    ),
    pytest.param(
        "Les mesures d’'urgences sont synthétisées sur le lien https://www.economie.gouv.fr/mesures-soutien-\n"
        "structures-ess et sur https://www.economie.gouv.fr/files/20210318-Mesures-soutien-ESS.pdf.",
        "Les mesures d’urgences sont synthétisées sur le lien https://www.economie.gouv.fr/mesures-soutien-"
        "structures-ess et sur https://www.economie.gouv.fr/files/20210318-Mesures-soutien-ESS.pdf.",
        id="url-cut-at-hyphen",
    ),
    pytest.param(
        "C’est une crise sans précédent, d’abord sanitaire puis devenue économique et sociale que doit "
        "affronter l’Humanité \n\ntout entière. Un simple virus, qui semblait d’abord lointain, a secoué la "
        "société, les entreprises et les organisations qui, \n\n",
        "C’est une crise sans précédent, d’abord sanitaire puis devenue économique et sociale que doit "
        "affronter l’Humanité tout entière. Un simple virus, qui semblait d’abord lointain, a secoué la "
        "société, les entreprises et les organisations qui,",
        id="double-spaced-extraction",
    ),
    pytest.param(
        "Mais combien de \n\ntemps ?  \n\nAurait-on pu gérer cette crise autrement ?",
        "Mais combien de temps ?\n\nAurait-on pu gérer cette crise autrement ?",
        id="double-spaced-keeps-paragraphs",
    ),
    pytest.param(
        "car à cette crise économique \n\n- sans précédent - s’ajoute une crise sociale",
        "car à cette crise économique - sans précédent - s’ajoute une crise sociale",
        id="dash-inside-sentence-is-not-a-list",
    ),
    pytest.param(
        "Chambre Régionale  \nde l'Économie Sociale  \net Solidaire Occitanie",
        "Chambre Régionale de l'Économie Sociale et Solidaire Occitanie",
        id="markdown-hard-breaks",
    ),
    pytest.param(
        "par Edgard Morin : « **Là où croît le péril, croît aussi ce qui sauve** ».",
        "par Edgard Morin : « Là où croît le péril, croît aussi ce qui sauve ».",
        id="markdown-bold",
    ),
    pytest.param(
        '*"la crise sanitaire liée à la Covid-19 et ses terribles conséquences sont un puissant révélateur '
        'des défaillances de notre système socio-économique"*',
        '"la crise sanitaire liée à la Covid-19 et ses terribles conséquences sont un puissant révélateur '
        'des défaillances de notre système socio-économique"',
        id="markdown-italic",
    ),
    pytest.param(
        "fortement impactées par les conséquences du 1<sup>er</sup> confinement, qui a vu",
        "fortement impactées par les conséquences du 1er confinement, qui a vu",
        id="html-tag",
    ),
    pytest.param(
        "le Labo de l'ESS a identifié<sup>1</sup> « trois conditions » et CIVAM<sup>31</sup>, "
        "CONSEIL DÉPARTEMENTAL <sup>31</sup>, est possible<sup>1</sup>, l'ESS.\n<sup>1</sup>Etude-action",
        "le Labo de l'ESS a identifié 1 « trois conditions » et CIVAM 31, "
        "CONSEIL DÉPARTEMENTAL 31, est possible 1, l'ESS.\n1 Etude-action",
        id="superscript-numbers-stay-separate-words",
    ),
    pytest.param(
        "- Voir ce document de l'URCPIE Occitanie : <https://fr.calameo.com/read/005420131ae34ad93e57c>\n"
        "<http://www.cressoccitanie.org/ressources/>\n",
        "- Voir ce document de l'URCPIE Occitanie : https://fr.calameo.com/read/005420131ae34ad93e57c",
        id="autolinks-and-bare-url-line",
    ),
    pytest.param(
        "publiée dans la collection « Agir » de ’ANCT.\n"
        " https://agence-cohesion-territoires.gouv.fr/leconomie-sociale-et-solidaire-ess-une-chance-pour-"
        "les-territoires-fragiles-447\nhttp://lespetitesrivieres.com/\nhttp://www.les-beaux-jours.fr/\n"
        " Yves Le Breton, directeur général de I’ANCT, a introduit le webinaire en remerciant tout "
        "d’abord les\n"
        "représentants des associations d’élus",
        "publiée dans la collection « Agir » de l’ANCT.\n\nYves Le Breton, directeur général de l’ANCT, a "
        "introduit le webinaire en remerciant tout d’abord les représentants des associations d’élus",
        id="url-lines-and-dropped-l",
    ),
    pytest.param(
        "proposées par I'ESS pour des territoires fragiles tels que les DROM, territoires\n"
        "aux besoins tant socio-économiques qu’environnementaux.\n\n5\nBl N Sotite Les [AeaUN 16",
        "proposées par l'ESS pour des territoires fragiles tels que les DROM, territoires aux besoins tant "
        "socio-économiques qu’environnementaux.\n\nBl N Sotite Les [AeaUN 16",
        id="page-number",
    ),
    pytest.param(
        "CHIFFRE CLÉ\n\n15\n\nCAISSES D'ÉPARGNES  \nBANQUE COOPÉRATIVES  \nTERRITORIALES",
        "CHIFFRE CLÉ\n\n15 CAISSES D'ÉPARGNES BANQUE COOPÉRATIVES TERRITORIALES",
        id="key-figure-is-not-a-page-number",
    ),
    pytest.param(
        "soutenir le développement de I'ESS :\n\n"
        "- la mobilisation des outils de contractualisations entre I’Etat et les collectivités, et "
        "notamment les\n"
        "Contrats de relance et de transition écologique (CRTE) dans lesquelles I’ESS doit étre partie\n"
        "prenante ;\n\n- la mobilisation des programmes de I’ANCT, ou I’ESS a toute sa place",
        "soutenir le développement de l'ESS :\n\n"
        "- la mobilisation des outils de contractualisations entre l’Etat et les collectivités, et "
        "notamment les "
        "Contrats de relance et de transition écologique (CRTE) dans lesquelles l’ESS doit étre partie "
        "prenante ;\n\n- la mobilisation des programmes de l’ANCT, ou l’ESS a toute sa place",
        id="list-items-stay-on-their-lines",
    ),
    pytest.param(
        "Discours introductifs\nTemps d’échanges entre collectivités\n\n* Nos collectivités face a 'ESS\n"
        "* Quelles propositions pour avancer ?",
        "Discours introductifs\nTemps d’échanges entre collectivités\n\n* Nos collectivités face a l'ESS\n"
        "* Quelles propositions pour avancer ?",
        id="short-title-lines-and-bullets-kept",
    ),
    pytest.param(
        "“2013 est pour le RTES, et I'’économie sociale et solidaire en général, une année charniére.",
        "“2013 est pour le RTES, et l'économie sociale et solidaire en général, une année charniére.",
        id="doubled-apostrophe-after-I",
    ),
    pytest.param(
        "“ En Bretagne, I'ESS représente prés de 15 000\nstructures, dont 10 000 associations, plus\n"
        "de 2000 coopératives, 300 mutuelles et 17\nfondations. Ces structures emploient environ 50\n"
        "000 salariés, soit plus de 12 % de la population. 2\nhabitants sur 3 sont bénéficiaires, membres",
        "“ En Bretagne, l'ESS représente prés de 15 000 structures, dont 10 000 associations, plus de 2000 "
        "coopératives, 300 mutuelles et 17 fondations. Ces structures emploient environ 50 000 salariés, "
        "soit plus de 12 % de la population. 2 habitants sur 3 sont bénéficiaires, membres",
        id="narrow-column",
    ),
    pytest.param(
        "de la mobilisation des habitants. |l convient de « distiller »",
        "de la mobilisation des habitants. Il convient de « distiller »",
        id="pipe-for-capital-i",
    ),
    pytest.param(
        "« I'économie sociale et solidaire (ESS), une chance pour les territoires fragiles »",
        "« L'économie sociale et solidaire (ESS), une chance pour les territoires fragiles »",
        id="elision-capitalised-at-quotation-start",
    ),
    pytest.param(
        "CHIFFRE CLÉ\n\n**20 000**\n\nCLIENTS  \nASSOCIATIONS ET  \nENTREPRISES DE L'ESS.\n\nCHIFFRE CLÉ\n\n"
        "**21 M€**\n\nDE CHIFFRE D'AFFAIRES CONSOLIDÉ EN 2021",
        "CHIFFRE CLÉ\n\n20 000 CLIENTS ASSOCIATIONS ET ENTREPRISES DE L'ESS.\n\nCHIFFRE CLÉ\n\n"
        "21 M€ DE CHIFFRE D'AFFAIRES CONSOLIDÉ EN 2021",
        id="key-figures-joined-to-their-labels",
    ),
    pytest.param(
        "2020\n\nWORLD SOCIAL FORUM OF TRANSFORMATIVE ECONOMIES",
        "2020\n\nWORLD SOCIAL FORUM OF TRANSFORMATIVE ECONOMIES",
        id="a-year-over-a-title-stays-apart",
    ),
]


@pytest.mark.parametrize(("raw", "expected"), REAL_CASES)
def test_real_damaged_lines(raw: str, expected: str) -> None:
    assert clean_text(raw) == expected


def test_hyphenation_joined_but_compounds_kept() -> None:
    text = "le dévelop-\npement des Pyrénées-\nOrientales, co-\nconstruire, peut-\nil"
    assert clean_text(text) == "le développement des Pyrénées-Orientales, co-construire, peut-il"


def test_hyphenation_uses_the_document_vocabulary() -> None:
    # "intercommunal" occurs unhyphenated elsewhere, so the prefix rule does not keep the hyphen.
    text = "un pôle inter-\ncommunal, puis un second pôle intercommunal."
    assert clean_text(text) == "un pôle intercommunal, puis un second pôle intercommunal."
    # A compound seen whole elsewhere keeps its hyphen even with an unknown prefix.
    text = "le porte-\nmonnaie, un porte-monnaie."
    assert clean_text(text) == "le porte-monnaie, un porte-monnaie."


def test_elision_after_a_blank_line_continues_the_sentence() -> None:
    assert clean_text("Répondre avec la voie de\n\nI'ESS et autres") == "Répondre avec la voie de l'ESS et autres"
    assert clean_text("Fin de phrase.\n\nI'ESS commence") == "Fin de phrase.\n\nL'ESS commence"


def test_english_and_roman_numerals_untouched() -> None:
    text = "I'm sure I'll say I've read it, I'd say. PARTIE II'A"
    assert clean_text(text) == text


def test_control_characters_and_spaces() -> None:
    text = "Un texte\x00 avec\x0b des\u00ad contrôles\u200b\ufeff   et   espaces.\r\nFin."
    assert clean_text(text) == "Un texte avec des contrôles et espaces.\nFin."


def test_markdown_images_links_headings_and_rules() -> None:
    text = (
        "# Titre **gras**\n\n![logo](img/logo.png)\nVoir [le site](https://ess-france.org) ici.\n\n---\n\n"
        "suite <!-- note -->du texte"
    )
    assert clean_text(text) == "Titre gras\n\nVoir le site ici.\n\nsuite du texte"


def test_wording_never_changes() -> None:
    """Clean-up keeps every word: only case of l', spacing and markup may differ."""
    if not CORPUS.is_dir():
        pytest.skip("bundled corpus absent")
    for path in CORPUS.glob("*.txt"):
        raw = path.read_text(encoding="utf-8")
        cleaned = clean_text(raw)
        assert len(cleaned) > 0.85 * len(raw)
        assert "** " not in cleaned and "I'E" not in cleaned and "|'" not in cleaned


@pytest.mark.skipif(not DEV.is_file() or not CORPUS.is_dir(), reason="dev set or corpus absent")
def test_every_dev_evidence_quote_survives_clean_text() -> None:
    cleaned: dict[str, str] = {}
    lost = []
    total = 0
    for line in DEV.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        sources = item["source"] if isinstance(item["source"], list) else [item["source"]]
        for name in sources:
            if name not in cleaned:
                cleaned[name] = clean_text((CORPUS / name).read_text(encoding="utf-8"))
        for quote in item.get("evidence", []):
            total += 1
            if not any(contains_quote(cleaned[name], quote) for name in sources):
                lost.append((item["id"], quote))
    assert total > 100
    assert lost == []


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    "hostile",
    [
        "**gras " * 100_000,
        "<a " * 100_000,
        "x\n" * 200_000,
        "mot-\n" * 100_000,
        "__a " * 100_000,
        "I'ESS " * 200_000,
        "*" * 500_000,
        "20 000\n\nCLIENTS\n" * 100_000,
    ],
    ids=["bold", "tags", "lines", "hyphens", "underscores", "elisions", "stars", "key-figures"],
)
def test_clean_text_is_linear_on_hostile_input(hostile: str) -> None:
    started = time.monotonic()
    clean_text(hostile)
    assert time.monotonic() - started < 5


def page(header: str, body: str, number: int) -> str:
    return f"{header}\n{body}\nPage {number} / 12"


def test_strip_repeated_lines_removes_running_header_and_footer() -> None:
    pages = [page("CRESS Occitanie — Rapport 2021", f"Corps {i} de la page.\nAutre ligne {i}.", i) for i in range(4)]
    assert strip_repeated_lines(pages) == [f"Corps {i} de la page.\nAutre ligne {i}." for i in range(4)]


def test_strip_repeated_lines_keeps_repeated_body_lines() -> None:
    words = ["alpha", "bravo", "charlie", "delta"]
    pages = [
        f"Rapport annuel\n{w} un\n{w} deux\n{w} trois\nComment agir ensemble ?\n{w} quatre\n{w} cinq\n{n}"
        for n, w in enumerate(words, 1)
    ]
    assert strip_repeated_lines(pages) == [
        f"{w} un\n{w} deux\n{w} trois\nComment agir ensemble ?\n{w} quatre\n{w} cinq" for w in words
    ]


def test_strip_repeated_lines_needs_three_pages() -> None:
    pages = [page("En-tête", "a", 1), page("En-tête", "b", 2)]
    assert strip_repeated_lines(pages) == pages


def test_strip_repeated_lines_drops_bare_page_numbers_only_at_the_edge() -> None:
    pages = [f"{w} titre\n{w} a\n5\n{w} b\n{w} c\n{w} d\n{n}" for n, w in enumerate(["un", "deux", "trois"], 3)]
    assert strip_repeated_lines(pages) == [f"{w} titre\n{w} a\n5\n{w} b\n{w} c\n{w} d" for w in ["un", "deux", "trois"]]


def test_strip_repeated_lines_matches_ocr_variants_of_a_header() -> None:
    # First lines of the six pages of pdf-samples/Seige_of_Vicksburg_Sample_OCR.pdf, as pypdf reads them.
    headers = [
        "THE   SIEGE   OF  VICKSBURG. 49 ",
        "50 THE   SIEGE   OF  VICKSBUEG. ",
        "52 THE   SIEGE   OF  VICKSBURG. ",
        "THE   SIEGE   OP  VICKSBURG. 53 ",
        "54 THE   SIEGE OF  VICKSBURG. ",
        "THE   SIEGE   OF  VICKSBURG. 55 ",
    ]
    words = ["mortars", "trenches", "rations", "river", "lookout", "banner"]
    bodies = [f"About the {w}.\nA second line.\n{w.upper()} {i * 7} ENDS" for i, w in enumerate(words)]
    assert strip_repeated_lines([f"{h}\n{b}" for h, b in zip(headers, bodies, strict=True)]) == bodies


@pytest.mark.parametrize("mark", ["—4", "- 12 -", "Page 3", "page 3 sur 40", "12"])
def test_page_marks_removed(mark: str) -> None:
    assert clean_text(f"la fin d'une page\n{mark}\nla suite") == "la fin d'une page la suite"
