"""Document identity: an upload or a second folder never replaces a document it did not come from."""

from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

from ingest.pipeline import ingest_paths
from ingest.uploads import discard_rejected, indexed_files, replace_document, stage_uploads, upload_dir

BUNDLED = "rtes_rencontres-territoires-et-ess_2013.txt"
LONG_TEXT = "\n\n".join(
    f"Paragraphe {i}. Les rencontres des territoires et de l'ESS ont réuni élus, réseaux et entreprises "
    f"autour des circuits courts financiers et de la transversalité des politiques publiques, thème {i}."
    for i in range(40)
)


@pytest.fixture
def corpus(tmp_path: Path, fake_index):
    """A 'bundled' corpus folder of one multi-passage document, indexed."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / BUNDLED).write_text(LONG_TEXT, encoding="utf-8")
    report = ingest_paths([folder], index=fake_index)
    assert report.count("ingested") == 1
    return folder


def _chunks(index, source: str) -> int:
    return len(index.read_manifest()["files"][source]["chunk_ids"])


def _upload(tmp_path: Path, name: str, text: str) -> tuple[str, Path]:
    """What Gradio hands the app: the original name and a temporary copy."""
    tmp = tmp_path / "gradio" / str(abs(hash((name, text))))
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return name, path


def _stage_and_ingest(tmp_path: Path, index, files: list[tuple[str, Path]]):
    staged = stage_uploads(files, upload_dir(index.settings), indexed_files(index.settings))
    report = ingest_paths([s.path for s in staged if s.path], index=index)
    discard_rejected(staged, report)
    return staged, report


def test_an_upload_with_an_indexed_name_is_kept_beside_it(tmp_path, fake_index, corpus):
    before = _chunks(fake_index, BUNDLED)
    assert before > 1
    staged, report = _stage_and_ingest(tmp_path, fake_index, [_upload(tmp_path, BUNDLED, "Texte piégé.")])
    assert staged[0].name == "rtes_rencontres-territoires-et-ess_2013-2.txt"
    assert "n'a pas été remplacé" in staged[0].note and staged[0].name in staged[0].note
    assert [(o.source, o.status) for o in report.outcomes] == [(staged[0].name, "ingested")]
    files = fake_index.read_manifest()["files"]
    assert _chunks(fake_index, BUNDLED) == before and Path(files[BUNDLED]["path"]).parent == corpus.resolve()
    assert corpus.joinpath(BUNDLED).read_text(encoding="utf-8") == LONG_TEXT


def test_names_equal_after_cleaning_are_both_kept(tmp_path, fake_index):
    files = [_upload(tmp_path, "collide one.txt", "Premier texte sur les coopératives."),
             _upload(tmp_path, "collide_one.txt", "Second texte sur les mutuelles.")]
    staged, report = _stage_and_ingest(tmp_path, fake_index, files)
    assert [s.name for s in staged] == ["collide_one.txt", "collide_one-2.txt"]
    assert "même nom" in staged[1].note
    assert {o.source: o.status for o in report.outcomes} == {"collide_one.txt": "ingested",
                                                               "collide_one-2.txt": "ingested"}
    assert set(fake_index.read_manifest()["files"]) == {"collide_one.txt", "collide_one-2.txt"}


def test_an_identical_upload_is_reported_unchanged_and_not_copied(tmp_path, fake_index, corpus):
    staged, report = _stage_and_ingest(tmp_path, fake_index, [_upload(tmp_path, BUNDLED, LONG_TEXT)])
    assert staged[0].path is None and "identique" in staged[0].note
    assert not any(upload_dir(fake_index.settings).iterdir())


def test_a_rejected_upload_is_removed_from_the_uploads_folder(tmp_path, fake_index):
    staged, report = _stage_and_ingest(tmp_path, fake_index, [_upload(tmp_path, "vide.txt", "   \n")])
    assert report.outcomes[0].status == "failed"
    assert not (upload_dir(fake_index.settings) / "vide.txt").exists()


def test_a_second_folder_cannot_replace_a_document_through_the_cli(tmp_path, fake_index, corpus):
    other = tmp_path / "ailleurs"
    other.mkdir()
    (other / BUNDLED).write_text("Un autre texte du même nom.", encoding="utf-8")
    report = ingest_paths([other], index=fake_index)
    outcome = report.outcomes[0]
    assert outcome.status == "failed" and "ne le remplace pas" in outcome.reason
    assert str(tmp_path) not in outcome.reason
    assert _chunks(fake_index, BUNDLED) > 1
    # The same text from another copy (a second checkout) is the same document: unchanged, not refused.
    (other / BUNDLED).write_text(LONG_TEXT, encoding="utf-8")
    assert ingest_paths([other], index=fake_index).outcomes[0].status == "unchanged"
    assert Path(fake_index.read_manifest()["files"][BUNDLED]["path"]).parent == corpus.resolve()
    # A moved corpus (old path gone) is the same document, not a conflict.
    moved = tmp_path / "corpus-deplace"
    os.rename(corpus, moved)
    assert ingest_paths([moved], index=fake_index).outcomes[0].status == "unchanged"


def test_explicit_replace_replaces_and_a_failed_replace_keeps_the_old_document(tmp_path, fake_index, corpus):
    ingest = functools.partial(ingest_paths, index=fake_index)
    _, broken = _upload(tmp_path, "casse.txt", "")
    Path(broken).write_bytes(b"")
    report = replace_document(broken, BUNDLED, settings=fake_index.settings, ingest=ingest)
    assert report.outcomes[0].status == "failed"
    assert _chunks(fake_index, BUNDLED) > 1 and not (upload_dir(fake_index.settings) / BUNDLED).exists()
    _, new = _upload(tmp_path, "nouveau.txt", "Le nouveau compte rendu des rencontres, plus court.")
    report = replace_document(new, BUNDLED, settings=fake_index.settings, ingest=ingest)
    assert [(o.source, o.status) for o in report.outcomes] == [(BUNDLED, "ingested")]
    entry = fake_index.read_manifest()["files"][BUNDLED]
    assert len(entry["chunk_ids"]) == 1 and Path(entry["path"]) == (upload_dir(fake_index.settings) / BUNDLED).resolve()
    assert not [p for p in upload_dir(fake_index.settings).iterdir() if p.name.startswith(".")]


def test_passages_per_upload_are_capped_with_a_french_message(tmp_path, fake_index):
    _, path = _upload(tmp_path, "long.txt", LONG_TEXT)
    outcome = ingest_paths([path], index=fake_index, max_chunks=2).outcomes[0]
    assert outcome.status == "failed" and "au-delà de la limite de 2" in outcome.reason
    assert "long.txt" not in fake_index.read_manifest()["files"]


def test_a_cancelled_ingest_leaves_the_index_as_it_was(tmp_path, fake_index, corpus, monkeypatch):
    from ingest import pipeline

    monkeypatch.setattr(pipeline, "EMBED_BATCH", 5)
    before, stored = fake_index.read_manifest(), fake_index.stored_ids()
    first = _upload(tmp_path, "premier.txt", "Un premier document court sur les mutuelles.")[1]
    second = _upload(tmp_path, "second.txt", LONG_TEXT.replace("Paragraphe", "Section"))[1]
    seen: list[str] = []

    def progress(name: str, done: int, total: int) -> None:
        seen.append(name)

    # Cancelled in the middle of the second file, after the first one was fully indexed.
    with pytest.raises(pipeline.IngestCancelled, match="annulée"):
        ingest_paths([first, second], index=fake_index, progress=progress,
                     cancel=lambda: any("passages" in s and s.startswith("second") for s in seen))
    assert "premier.txt (1/1 passages)" in seen
    assert fake_index.read_manifest()["files"] == before["files"] and fake_index.stored_ids() == stored
    # The same files, not cancelled, index normally afterwards.
    report = ingest_paths([first, second], index=fake_index)
    assert [o.status for o in report.outcomes] == ["ingested", "ingested"]
