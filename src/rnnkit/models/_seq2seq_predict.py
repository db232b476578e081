"""A trained `Seq2Seq` put to use: words in, target tokens out (e.g. pronunciations), and their scores.

    seq2seq_predict(model, vocabularies, ["tomato"])  -> [["T", "AH", "M", "EY", "T", "OW"]]
    seq2seq_metrics(model, vocabularies, test_pairs)  -> {"per": ..., "wer": ..., "words": ...}

Words are encoded character by character with the model's source vocabulary (a character it
has never seen is a `DataError` naming it), decoded in batches of equal length (no padding),
greedily with ``beam=1``, else by `beam_search`.
"""
from __future__ import annotations

from collections.abc import Sequence

import torch

from ..data._pairs import PairVocabularies, SequencePairs, collate_pairs, pair_batch_indices
from ._beam_search import beam_search
from ._seq2seq import Seq2Seq
from ._seq2seq_metrics import phoneme_error_rate, word_error_rate


@torch.no_grad()
def seq2seq_predict(model: Seq2Seq, vocabularies: PairVocabularies, words: Sequence[str], *, beam: int = 1,
               alpha: float = 0.0, batch_size: int = 256, max_length: int | None = None) -> list[list[str]]:
    """The target tokens the model gives each word, in the order of ``words``.

    beam: 1 for greedy decoding, else the beam width; alpha: beam search's length normalisation;
    max_length: most tokens per word (default `default_max_lengths`).
    """
    sources = [vocabularies.source.encode(word, where=f"word {word!r}") for word in words]
    device = next(model.parameters()).device
    outputs: list[list[str]] = [[] for _ in words]
    was_training = model.training
    model.eval()
    try:
        for index in pair_batch_indices([len(s) for s in sources], batch_size):
            batch = collate_pairs([sources[i] for i in index])
            src, src_lengths = batch.src.to(device), batch.src_lengths.to(device)
            if beam == 1:
                decoded = model.greedy_decode(src, src_lengths, max_length)
            else:
                decoded = beam_search(model, src, src_lengths, beam, max_length, alpha)
            for i, ids, length in zip(index, decoded.tokens.tolist(), decoded.lengths.tolist()):
                outputs[i] = vocabularies.target.decode(ids[:length])
    finally:
        model.train(was_training)
    return outputs


def seq2seq_metrics(model: Seq2Seq, vocabularies: PairVocabularies, pairs: SequencePairs, *,
                            beam: int = 1, alpha: float = 0.0, batch_size: int = 256) -> dict[str, float]:
    """Phoneme and word error rate over the distinct words of ``pairs``, each against all its references."""
    words = pairs.distinct_words()
    hypotheses = seq2seq_predict(model, vocabularies, words, beam=beam, alpha=alpha, batch_size=batch_size)
    references = [pairs.references[word] for word in words]
    return {"per": phoneme_error_rate(references, hypotheses), "wer": word_error_rate(references, hypotheses),
            "words": len(words)}
