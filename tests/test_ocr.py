"""OCR correction (ingest/ocr.py): each confusion class on real lines of the bundled OCR documents (after
clean_text), what must be left alone, the per-document gate, ingest of an OCR'd PDF, the setting."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ingest.clean import CLEAN_VERSION, clean_text
from ingest.ocr import OCR_VERSION, contains_evidence, correct_blocks, correct_ocr, restore_grave_a
from ingest.pipeline import ingest_paths
from tests.pdfs import text_pdf
from vectorstore.settings import BUNDLED_CORPUS, Settings
from vectorstore.text import contains_quote


def fixed(line: str) -> str:
    return correct_ocr(clean_text(line), force=True).text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # ê read as é (ANCT webinar)
        (
            "soutien technique et financier qu’ils peuvent leur apporter, les décideurs publics locaux doivent étre en",
            "les décideurs publics locaux doivent être en",
        ),
        # è read as é, and œ read as « ce »
        (
            "solutions concrétes pour mettre en ceuvre une relance sociale, environnementale et solidaire.",
            "solutions concrètes pour mettre en œuvre une relance",
        ),
        # ô read as é; ç read as g (RTES proceedings)
        ("elles ont un réle d’accompagnateur. A la fois de fagon directe, en", "elles ont un rôle d’accompagnateur"),
        ("elles ont un réle d’accompagnateur. A la fois de fagon directe, en", "de façon directe"),
        ("(fort isolement de certains habitants, problématiques liées a la mobilité, chémage, etc.)", "chômage"),
        # ô read as d
        ("+ Le PTCE Sud-Aquitain : d’'un comité intercommunal a un pdle", "un comité intercommunal a un pôle"),
        # è read as « eé »
        ("endogeéne et une transition écologique et citoyenne.", "endogène et une transition"),
        # I read as l
        ("* lllustration d'un concept développé dans un pays et essaimé dans", "Illustration d'un concept"),
        # the letter after an apostrophe lost, and « à la » glued to an acronym
        ("Pour faciliter I'nvestissement citoyen, Energie partagée a également créé", "l'investissement citoyen"),
        ("“AlaBPI, une petite enveloppe (500 millions d’€) est réservée", "“À la BPI, une petite enveloppe"),
        # a list bullet read as « e » or « o » at the start of a line
        (
            "Interventions :\ne Maxime Baduel, conseiller ESS ;\no Relance des PTCE\ne I'agglomération",
            "Interventions :\n- Maxime Baduel, conseiller ESS ;\n- Relance des PTCE e l'agglomération",
        ),
        # the elided article read as F before an acronym the text uses bare
        (
            "Enfin, FANCT a fait un focus sur les actions. Le webinaire de l'ANCT a suivi.",
            "Enfin, l'ANCT a fait un focus",
        ),
        ("“Aujourd’hui, FESS a besoin de capitaliser”. FESS. L’ESS en Bretagne", "“Aujourd’hui, l’ESS a besoin"),
        ("“Aujourd’hui, FESS a besoin de capitaliser”. FESS. L’ESS en Bretagne", "”. L’ESS. L’ESS en"),
        # or as L, I or l, the apostrophe lost (RTES proceedings), and « d'ESS » likewise
        ("‘LESS permet dinterroger le global comme le local sur les réponses\nde l'ESS", "‘L'ESS permet d'interroger"),
        ("Face a ce constat, une solution semble évidente : appliquer a lESS\nde l'ESS", "appliquer à l'ESS"),
        ("un ministere dédié a IESS, ce n'est\nde l'ESS", "dédié à l'ESS, ce"),
        ("couveuses dESS, participations au capital de coopératives\nde l'ESS", "couveuses d'ESS, participations"),
        # the cent sign read for ç, c or é, or as a bullet
        ("nous avons des signaux solides, ¢a et 1, qui", "des signaux solides, ça et 1"),
        ("soi, c¢’est une étape", "soi, c’est une étape"),
        ("“Mais, et ¢’est mon avis personnel,", "et c’est mon avis"),
        ("I'expérimentation, et a la responsabilit¢ de son suivi budgétaire", "la responsabilité de son suivi"),
        ("aux collectivités : la transversalité¢, la mobilisation citoyenne et la", "la transversalité, la"),
        ("le document\n¢ La multiplicité des acteurs publics", "le document\n- La multiplicité"),
        # or as an opening quote mark, next to items bulleted « * » (a paragraph that no « » closes)
        (
            "* Promouvoir les initiatives des territoires, a travers ses publications...\n\n« Valoriser auprés des "
            "institutions nationales, européennes et internationales |a richesse des actions menées,",
            "publications...\n\n- Valoriser auprès des institutions",
        ),
        # an elided article glued to its word, or read as U
        ("toute la chaîne de valeur de linnovation sociale", "de l'innovation sociale"),
        ("Dounia Besson, vice présidente a Uinsertion, Uemploi et", "l'insertion, l'emploi et"),
        # ô read as b, an l read as I, t read as f, â read as « éa »
        ("s ont déja I'habitude de travailler ensemble au sein de ces pbles de compétitivité", "ces pôles de"),
        ("que l'autre. Et aucun des deux n'est finalement totalement Iégitime.", "totalement légitime."),
        ("“Leffet réseau, qui est ici en frain de s'amplifier, est extrémement important.", "en train de"),
        ("(General electrics, Leroy Merlin...), des PME du béatiment et des acteurs", "des PME du bâtiment"),
    ],
)
def test_each_confusion_class_is_corrected_on_real_lines(raw, expected):
    assert expected in fixed(raw)


def test_a_cent_sign_ending_a_word_keeps_the_word_as_written():
    # The sign stood for the last letter: the word's own first letter stays, even after a full stop.
    assert "discours. réalité des actes" in fixed("Il y a des discours. réalit¢ des actes.")
    assert "discours. Ça marche" in fixed("Il y a des discours. ¢a marche.")


@pytest.mark.parametrize(
    "text",
    [
        # a quotation closes, even beside a list item
        "* Un premier point.\n\n« Le futur appartient à celui qui a la plus longue mémoire », a-t-il cité.",
        # however far it closes: a paragraph longer than a list item is prose
        "* Un premier point.\n\n« Le futur appartient à celui qui a la plus longue mémoire, "
        + "et ainsi de suite, " * 150
        + "a-t-il cité. »",
        # and an opening quote mark with no list around it stays one, closed or not
        "Introduction : les bases de la coopération\n\n« Coopérer, c'est faire système : les bases de la coopération",
    ],
)
def test_an_opening_quote_mark_is_a_bullet_only_in_a_list(text):
    assert fixed(text).count("«") == 1


def test_rn_read_as_m_is_corrected():
    # No such misreading in the bundled corpus: a line of it with « gouvernement » damaged that way.
    assert "du gouvernement" in fixed("les annonces du gouvernernent sur la loi ESS")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            "Le webinaire du 31 mars 2021 a cherché a répondre a cette problématique",
            "Le webinaire du 31 mars 2021 a cherché à répondre",
        ),
        ("Coté investissement, le rachat de cette halle a pu se faire grace a un appel", "se faire grace à un"),
        ("Mais a partir de 2010 les acteurs", "Mais à partir de 2010"),
        ("qui a dû s’adapter a la fois aux attentes", "s’adapter à la fois"),
        ("les structures ont vocation a demeurer évolutifs", "vocation à demeurer"),
        ("les collectivités doivent participer a la gouvernance", "participer à la gouvernance"),
        # after a plural (the verb would be « ont »), a noun taking « à », at the start of a sentence
        ("qui rencontrent des difficultés liées a la crise. Il a pour but", "liées à la crise. Il a pour but"),
        ("- Les dynamiques de soutien a l'innovation sociale", "soutien à l'innovation"),
        ("est plus que jamais nécessaire. A la fois pour faciliter les initiatives", "nécessaire. À la fois"),
        ("tout en restant a priori ouverts", "restant a priori"),
        # after a verb in the plural, an adjective or participle taking « à », « de façon », « Secrétaire d'Etat »
        ("pour que ses entreprises contribuent a la relance au sein des territoires", "contribuent à la relance"),
        ("des entreprises de l'ESS qui continuent a s’adresser aux publics", "continuent à s’adresser"),
        ("Pascal Duforestel, vice-président délégué a l'ESS, communauté d’agglomération", "délégué à l'ESS"),
        ("d'une position défensive, liée a une situation de crise", "liée à une situation"),
        ("un lieu de réflexion, de formation, ouvert a tous, élus, techniciens", "ouvert à tous"),
        ("avec les pratiques des réseaux de façon a ce que l'un et l'autre s’enrichissent", "façon à ce que"),
        ("le réseau s'engage a ce que l'épargne salariale collectée", "s'engage à ce que"),
        ("Olivia Grégoire, Secrétaire d’Etat a l'Economie sociale, solidaire", "d’Etat à l'Economie"),
    ],
)
def test_a_becomes_a_grave_only_where_certain(raw, expected):
    assert expected in fixed(raw)


@pytest.mark.parametrize(
    "line",
    [
        "Le département a la charge de l'action sociale, il a la charge du RSA.",
        "Mais ce dernier a un inconvénient de taille.",
        "L'ESS a toute sa place, elle a été reconnue et a permis des emplois.",
        "Il y a 10 ans, on aurait fait cette proposition.",
        "La forte implication des bénévoles a aussi permis de tenir.",
        "Une partie importante de ces initiatives a ainsi porté sur l'adaptation des services.",
        # a participle or a noun in -ent that an article (or what follows) shows to be the subject
        "Le directeur général délégué a conclu en indiquant que toutes les initiatives comptent.",
        "Le président a la charge du budget ; l'adhérent a le droit de vote ; le délégué a la parole.",
        "Chaque parent a une place, la commune a la compétence et l'agent a un bureau.",
        # a noun in -ent has a plural of its own, a verb has none (« contribuent a la relance »)
        "Le vice-président a la charge du budget et Jean Martin, président a la parole.",
    ],
)
def test_the_verb_a_is_left_alone(line):
    assert fixed(line) == line


def test_names_acronyms_figures_and_real_words_are_left_alone():
    line = (
        "Thierry Gallerand, Jean-Marc Lespade et Sylvain Montuzet (RailCoop, InterstiCiel, TerrESS, ANCT, "
        "BPI, SCIC) : 12 000 emplois, 500 M€ en 2013 ; des cotés inégaux, une cote de 3,5 et le PTCE Sud-Aquitain. "
        "Le FEDER, le FSE et le FEADER. Un DESS, le LRTES et l'IESS de l'ESS, LEADER."
    )
    result = correct_ocr(line, force=True)
    assert result.text == line and result.corrections == 0


def test_english_text_and_garbage_are_not_french_and_left_alone():
    english = (
        "The role of the pole is to help the network. Their success depends on the market and its leaders, "
        "who are able to create a new model for the whole region. " * 20
    )
    garbage = " ".join(f"xqzt{i} bléfr gavok étrq dpolr" for i in range(300))
    for text in (english, garbage):
        assert correct_blocks([text]) == ([text], 0)


def test_clean_documents_are_untouched():
    for name in (
        "cress-occitanie_carnet-des-agoras_2021.md",
        "cress-occitanie_ess-nouveau-pacte-economique-et-social_2020.txt",
        "ess-france_focus-nouvelles-alliances-interet-general_2022.md",
    ):
        text = clean_text((BUNDLED_CORPUS / name).read_text(encoding="utf-8"))
        assert correct_blocks([text]) == ([text], 0), name


def test_ocr_documents_are_corrected_and_counted():
    text = clean_text((BUNDLED_CORPUS / "rtes_rencontres-territoires-et-ess_2013.txt").read_text(encoding="utf-8"))
    [corrected], count = correct_blocks([text])
    assert count > 500
    assert corrected.count("être") > 50 and "étre" not in corrected
    assert "fagon" not in corrected and "réle" not in corrected


def test_a_quote_copied_from_the_raw_ocr_text_still_matches_its_corrected_passage():
    quote = "elles ont un réle d’accompagnateur. A la fois de fagon directe"
    passage = fixed("Les collectivités, elles ont un réle d’accompagnateur. A la fois de fagon directe, en")
    assert not contains_quote(passage, quote)
    assert contains_evidence(passage, quote)


OCR_PAGE = (
    "Les collectivités ont un réle d’accompagnateur : elles doivent étre présentes\n"
    "de fagon directe, en appui au pdle territorial de coopération économique.\n"
    "Elles peuvent méme soutenir la création d’activités a partir de besoins\n"
    "non satisfaits, comme la lutte contre le chémage de longue durée.\n"
    "Le réseau régional a la charge de l'animation des acteurs du territoire."
)


@pytest.fixture
def upload(tmp_path: Path) -> Path:
    folder = tmp_path / "uploads"
    folder.mkdir()
    path = folder / "rapport-scanne.pdf"
    path.write_bytes(text_pdf([OCR_PAGE, OCR_PAGE.replace("réseau régional", "département")]))
    return path


def stored_texts(index) -> str:
    return "\n".join(text for _, text, _ in index.iter_all())


def test_an_uploaded_ocr_pdf_is_corrected_counted_and_stored(fake_index, upload):
    report = ingest_paths([upload], index=fake_index)
    [outcome] = report.outcomes
    assert outcome.status == "ingested" and outcome.ocr_corrections >= 14
    assert f"{outcome.ocr_corrections} mot(s) mal lu(s) corrigé(s) dans rapport-scanne.pdf" in report.summary()
    entry = fake_index.read_manifest()["files"]["rapport-scanne.pdf"]
    assert entry["ocr_corrections"] == outcome.ocr_corrections and entry["ocr_version"] == OCR_VERSION
    text = stored_texts(fake_index)
    for word in ("un rôle d’accompagnateur", "doivent être", "de façon directe", "pôle", "même", "à partir", "chômage"):
        assert word in text
    assert "a la charge" in text and not any(w in text for w in ("réle", "étre", "fagon", "pdle", "chémage"))


def test_the_setting_turns_correction_off_and_switching_it_re_ingests(fake_index, upload, monkeypatch):
    monkeypatch.setenv("ESS_OCR_CORRECTION", "0")
    assert Settings.from_env().ocr_correction is False
    off = fake_index.__class__(Settings.from_env(), embeddings=fake_index.embeddings)
    [outcome] = ingest_paths([upload], index=off).outcomes
    assert outcome.status == "ingested" and outcome.ocr_corrections == 0
    assert "un réle d’accompagnateur" in stored_texts(off) and "rôle" not in stored_texts(off)

    monkeypatch.setenv("ESS_OCR_CORRECTION", "1")
    on = fake_index.__class__(Settings.from_env(), embeddings=fake_index.embeddings)
    [outcome] = ingest_paths([upload], index=on).outcomes
    assert outcome.status == "ingested" and outcome.ocr_corrections > 0  # same file, another correction step
    assert "un rôle d’accompagnateur" in stored_texts(on) and "réle" not in stored_texts(on)
    assert [o.status for o in ingest_paths([upload], index=on).outcomes] == ["unchanged"]


@pytest.mark.parametrize("step", ["ocr_version", "clean_version"])
def test_an_index_built_before_a_text_step_changed_re_chunks_its_files(fake_index, upload, step):
    """A file indexed before the correction step, or by another version of the clean-up, is prepared again."""
    ingest_paths([upload], index=fake_index)
    manifest = fake_index.read_manifest()
    del manifest["files"]["rapport-scanne.pdf"][step]  # as written by an ingest without this step
    fake_index.write_manifest(manifest)
    assert [o.status for o in ingest_paths([upload], index=fake_index).outcomes] == ["ingested"]
    assert fake_index.read_manifest()["files"]["rapport-scanne.pdf"]["clean_version"] == CLEAN_VERSION
    assert [o.status for o in ingest_paths([upload], index=fake_index).outcomes] == ["unchanged"]


def test_another_copy_of_a_file_indexed_before_the_correction_step_is_re_chunked(tmp_path, fake_index, upload):
    """A second checkout (or a moved corpus) of a file the index holds without correction is corrected too."""
    ingest_paths([upload], index=fake_index)
    manifest = fake_index.read_manifest()
    del manifest["files"]["rapport-scanne.pdf"]["ocr_version"]  # as written by an ingest without this step
    fake_index.write_manifest(manifest)
    copy = tmp_path / "autre-copie" / Path(upload).name
    copy.parent.mkdir()
    shutil.copy(upload, copy)
    assert [o.status for o in ingest_paths([copy], index=fake_index).outcomes] == ["ingested"]
    assert fake_index.read_manifest()["files"]["rapport-scanne.pdf"]["ocr_version"] == OCR_VERSION
    assert [o.status for o in ingest_paths([copy], index=fake_index).outcomes] == ["unchanged"]


def test_a_grave_restored_in_clean_text_is_never_the_verb():
    """The clean documents with every « à » turned into « a »: what the rules restore was « à » there."""
    text = clean_text((BUNDLED_CORPUS / "cress-occitanie_carnet-des-agoras_2021.md").read_text(encoding="utf-8"))
    stripped = re.sub(r"(?<!\w)[àÀ](?!\w)", lambda m: "A" if m.group() == "À" else "a", text)
    restored = restore_grave_a(stripped)
    changed = [i for i, (a, b) in enumerate(zip(stripped, restored, strict=True)) if a != b]
    assert len(changed) > 150
    assert [text[i] for i in changed if text[i] != "à" and stripped[i] == "a"] == []
    # Capitals: this document writes « A ces facteurs… » itself; English and « A lors que » are left alone.
    capitals = [text[i : i + 12] for i in changed if stripped[i] == "A"]
    assert capitals and all(c.startswith(("À ", "A ces", "A partir")) for c in capitals)
    assert "A series of" in restored and "A lors que" in restored
