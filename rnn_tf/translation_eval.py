"""Scoring translations honestly: every reference of a sentence, and a baseline to beat.

* `references_by_source`: a sentence often has several correct translations in the data
  (Tatoeba has many English sentences translated more than once). Scoring against one of
  them calls the others wrong; `sacrebleu` takes several reference streams instead.
* `NearestSentence`: the retrieval baseline. No network: for each English sentence, find
  the most similar training English sentence (TF-IDF cosine over words) and answer with
  its Spanish. A translation model must beat this to show it composes new sentences.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from rnn_tf._checks import check_positive_int


def references_by_source(
    sources: Sequence[str], references: Sequence[str]
) -> list[list[str | None]]:
    """Reference streams for `sacrebleu`: for each pair, every reference of its source.

    Args:
        sources: the source sentence of each test pair (pairs sharing a source sentence
            are grouped; compare them in the same normalised form).
        references: the reference translation of each pair, in the same order.

    Returns:
        `streams[j][i]`: the j-th reference of pair i, or None when pair i has fewer
        references (sacrebleu skips None). `streams[0]` is each pair's own reference.
    """
    if len(sources) != len(references) or not sources:
        raise ValueError(
            "Arguments `sources` and `references` must be non-empty and of the same length; "
            f"received {len(sources)} and {len(references)}"
        )
    grouped = defaultdict(list)
    for source, reference in zip(sources, references):
        if reference not in grouped[source]:
            grouped[source].append(reference)
    per_pair = []
    for source, own in zip(sources, references):
        per_pair.append([own] + [r for r in grouped[source] if r != own])
    width = max(len(refs) for refs in per_pair)
    return [[refs[j] if j < len(refs) else None for refs in per_pair] for j in range(width)]


class NearestSentence:
    """Translate by retrieval: the target of the most similar training source sentence.

    Similarity is the cosine between TF-IDF vectors of words (scikit-learn's
    `TfidfVectorizer`, unigrams and bigrams); ties go to the earlier training pair.

    Example:

    ```python
    baseline = NearestSentence().fit(train_english, train_spanish)
    baseline.translate(["where is the cat ?"])
    ```
    """

    def __init__(self):
        self._vectorizer = None

    def fit(self, sources: Sequence[str], targets: Sequence[str]) -> NearestSentence:
        """Index the training pairs; returns self."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        if len(sources) != len(targets) or not sources:
            raise ValueError(
                "Arguments `sources` and `targets` must be non-empty and of the same length; "
                f"received {len(sources)} and {len(targets)}"
            )
        self._vectorizer = TfidfVectorizer(ngram_range=(1, 2), token_pattern=r"\S+")
        self._matrix = self._vectorizer.fit_transform(sources)
        self._targets = list(targets)
        return self

    def nearest(self, sources: Sequence[str], batch_size: int = 1000) -> list[int]:
        """The index of the most similar training pair for each sentence."""
        if self._vectorizer is None:
            raise ValueError("This NearestSentence is not fitted yet: call `fit` first")
        if isinstance(sources, str):
            raise ValueError(
                "Argument `sources` must be a list of sentences; received one string "
                f"{sources!r} (wrap it in a list)"
            )
        found = []
        for begin in range(0, len(sources), batch_size):
            queries = self._vectorizer.transform(sources[begin : begin + batch_size])
            found += [int(i) for i in (queries @ self._matrix.T).toarray().argmax(axis=1)]
        return found

    def translate(self, sources: Sequence[str]) -> list[str]:
        """The training target of the nearest training source, for each sentence."""
        return [self._targets[i] for i in self.nearest(sources)]


def paired_bootstrap_bleu(
    first: Sequence[str],
    second: Sequence[str],
    reference_streams: Sequence[Sequence[str | None]],
    samples: int = 1000,
    seed: int = 0,
):
    """Corpus BLEU of `first` minus that of `second`, on `samples` resamplings of the test
    sentences (the same resampled sentences for both: a paired bootstrap, Koehn 2004).

    Returns `(observed difference, array of resampled differences)`; a difference whose
    interval (e.g. the 2.5 and 97.5 percentiles) excludes 0 is more than resampling noise.
    Each sentence's n-gram statistics are counted once by `sacrebleu`; a resample sums
    them and scores the sums as `sacrebleu.corpus_bleu` would.
    """
    import numpy as np
    from sacrebleu.metrics import BLEU

    if len(first) != len(second) or any(len(s) != len(first) for s in reference_streams):
        raise ValueError(
            "Arguments `first`, `second` and every reference stream must have one entry per "
            f"test sentence; received {len(first)}, {len(second)} and "
            f"{[len(s) for s in reference_streams]}"
        )
    if len(first) == 0 or not reference_streams:
        raise ValueError("Arguments `first`, `second` and `reference_streams` must hold at "
                         "least one test sentence with a reference")
    check_positive_int(samples, "samples")
    corpus = BLEU()
    # Counting one sentence's statistics is all sentence_score is used for; effective order
    # only changes its score, and it silences sacrebleu's sentence-level warning.
    counter = BLEU(effective_order=True)
    references = [[r for r in sentence if r is not None] for sentence in zip(*reference_streams)]
    unscored = [i for i, refs in enumerate(references) if not refs]
    if unscored:
        raise ValueError(
            "Argument `reference_streams` must give every test sentence at least one "
            f"reference (None only fills shorter streams); sentences {unscored[:5]} have none"
        )

    def statistics(outputs):
        rows = []
        for output, refs in zip(outputs, references):
            score = counter.sentence_score(output, refs)
            rows.append([score.sys_len, score.ref_len, *score.counts, *score.totals])
        return np.array(rows, dtype="int64")

    stats = [statistics(outputs) for outputs in (first, second)]
    order = corpus.max_ngram_order

    def score(rows, table):
        sys_len, ref_len, *counts = table[rows].sum(axis=0).tolist()
        return BLEU.compute_bleu(counts[:order], counts[order:], sys_len, ref_len,
                                 smooth_method=corpus.smooth_method,
                                 smooth_value=corpus.smooth_value,
                                 max_ngram_order=order).score

    everything = np.arange(len(first))
    observed = score(everything, stats[0]) - score(everything, stats[1])
    rng = np.random.default_rng(seed)
    differences = np.empty(samples)
    for i in range(samples):
        rows = rng.integers(0, len(first), len(first))
        differences[i] = score(rows, stats[0]) - score(rows, stats[1])
    return observed, differences
