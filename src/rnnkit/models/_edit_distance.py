"""Edit distance and the error rates built on it (label, phoneme and word error rate).

Levenshtein distance: the fewest substitutions, insertions and deletions that turn one sequence
into the other, by the usual dynamic programme over prefixes::

    D[i][0] = i,  D[0][j] = j
    D[i][j] = min(D[i-1][j] + 1,                       a deletion
                  D[i][j-1] + 1,                       an insertion
                  D[i-1][j-1] + [ref[i-1] != hyp[j-1]]) a substitution (or a match)

An error rate is the summed distance over the summed reference length (not a mean of per-item
rates, which would let short references weigh as much as long ones), as speech recognition and
grapheme-to-phoneme papers report it.
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence


def edit_distance(reference: Sequence[Hashable], hypothesis: Sequence[Hashable]) -> int:
    """Levenshtein distance between two sequences of comparable items (labels, phonemes, characters)."""
    previous = list(range(len(hypothesis) + 1))  # D[i-1][*]
    for i, ref_item in enumerate(reference, start=1):
        current = [i] + [0] * len(hypothesis)  # D[i][*]
        for j, hyp_item in enumerate(hypothesis, start=1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_item != hyp_item))
        previous = current
    return previous[-1]


def error_rate(references: Sequence[Sequence[Hashable]], hypotheses: Sequence[Sequence[Hashable]]) -> float:
    """Total edit distance over total reference length: the label / phoneme error rate of a corpus."""
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    length = sum(len(r) for r in references)
    if length == 0:
        raise ValueError("error_rate needs at least one reference item")
    return sum(edit_distance(r, h) for r, h in zip(references, hypotheses)) / length
