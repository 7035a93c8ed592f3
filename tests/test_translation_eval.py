"""Multi-reference streams and the retrieval baseline on hand-made pairs."""

import numpy as np
import pytest

# sacrebleu comes with the notebooks extra (make test installs it).
sacrebleu = pytest.importorskip("sacrebleu")

from rnn_tf.translation_eval import (  # noqa: E402
    NearestSentence,
    paired_bootstrap_bleu,
    references_by_source,
)


def test_each_pair_gets_every_reference_of_its_source_own_first():
    sources = ["i run", "go", "i run", "i run"]
    references = ["corro", "ve", "yo corro", "corro"]
    streams = references_by_source(sources, references)
    assert streams == [
        ["corro", "ve", "yo corro", "corro"],
        ["yo corro", None, "corro", "yo corro"],
    ]


def test_a_second_reference_can_only_raise_bleu():
    hypotheses = ["yo corro por el parque cada día", "vete a casa ahora mismo por favor"]
    streams = references_by_source(
        ["i run in the park every day", "go home now please", "i run in the park every day"],
        ["corro en el parque todos los días", "vete a casa ahora mismo por favor",
         "yo corro por el parque cada día"])
    one = sacrebleu.corpus_bleu(hypotheses, [streams[0][:2]]).score
    every = sacrebleu.corpus_bleu(hypotheses, [s[:2] for s in streams]).score
    assert every > one
    assert every == pytest.approx(100.0)


def test_retrieval_answers_with_the_nearest_training_target():
    baseline = NearestSentence().fit(
        ["where is the cat ?", "i like dogs .", "the cat sleeps ."],
        ["¿ dónde está el gato ?", "me gustan los perros .", "el gato duerme ."],
    )
    assert baseline.translate(["where is the dog ?", "i like cats ."]) == [
        "¿ dónde está el gato ?", "me gustan los perros ."]
    assert baseline.nearest(["the cat sleeps ."]) == [2]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: references_by_source(["a"], []), "same length"),
        (lambda: paired_bootstrap_bleu(["a"], ["b", "c"], [["a"]]), "one entry per"),
        (lambda: paired_bootstrap_bleu([], [], [[]]), "at least one test sentence"),
        (lambda: paired_bootstrap_bleu(["a"], ["b"], [["a"]], samples=0), "samples"),
        (lambda: paired_bootstrap_bleu(["a", "b"], ["b", "c"], [["a", None]]),
         r"reference_streams.*\[1\] have none"),
        (lambda: NearestSentence().fit(["a"], ["b", "c"]), "same length"),
        (lambda: NearestSentence().translate(["a"]), "not fitted"),
        (lambda: NearestSentence().fit(["a b"], ["c"]).translate("a b"), "list of sentences"),
    ],
)
def test_bad_arguments_raise_naming_them(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_paired_bootstrap_centres_on_the_corpus_bleu_difference():
    references = ["el gato duerme en la casa grande", "vete a casa ahora mismo por favor",
                  "corro en el parque todos los días", "me gustan mucho los perros grandes"]
    good = list(references)
    worse = ["el perro duerme en la casa", "vete ahora mismo por favor",
             "corro en el parque cada día", "me gustan los perros"]
    observed, differences = paired_bootstrap_bleu(good, worse, [references], samples=200)
    expected = (sacrebleu.corpus_bleu(good, [references]).score
                - sacrebleu.corpus_bleu(worse, [references]).score)
    assert observed == pytest.approx(expected)
    assert differences.shape == (200,) and np.percentile(differences, 2.5) > 0
    same, spread = paired_bootstrap_bleu(good, good, [references], samples=50)
    assert same == 0 and np.all(spread == 0)


def test_paired_bootstrap_scores_several_references_as_sacrebleu_does():
    sources = ["i run in the park", "go home now please", "i run in the park",
               "we eat bread every morning", "go home now please"]
    references = ["corro en el parque", "vete a casa ahora por favor", "yo corro en el parque",
                  "comemos pan cada mañana", "ve a casa ahora por favor"]
    streams = references_by_source(sources, references)
    first = ["yo corro en el parque", "ve a casa ahora por favor", "corro en el parque",
             "comemos el pan cada mañana", "vete a casa ya"]
    second = ["corro en un parque", "vete a casa por favor", "tú corres en el parque",
              "comemos pan cada mañana", "ve a casa ahora por favor"]
    observed, differences = paired_bootstrap_bleu(first, second, streams, samples=20)
    expected = (sacrebleu.corpus_bleu(first, streams).score
                - sacrebleu.corpus_bleu(second, streams).score)
    assert abs(expected) > 1  # the streams after the first matter: not a 0 - 0 comparison
    assert observed == pytest.approx(expected)
    assert np.isfinite(differences).all()
