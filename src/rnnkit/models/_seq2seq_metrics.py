"""Phoneme and word error rates against several references per word (grapheme-to-phoneme scoring).

A word may have several correct pronunciations ("read": R EH D, R IY D). As in the literature
(Bisani and Ney 2008; Yao and Zweig 2015), each prediction is scored against its closest
reference::

    d_w = min_r edit_distance(r, ŷ_w),  r* = the first reference with that distance
    PER = Σ_w d_w / Σ_w |r*_w|          edit operations per reference phoneme, over the corpus
    WER = #{w : d_w > 0} / #words       a word is right when it equals any of its references
"""
from __future__ import annotations

from collections.abc import Hashable, Sequence

from ._edit_distance import edit_distance

References = Sequence[Sequence[Hashable]]  # the correct outputs for one input, at least one


def closest_reference(references: References, hypothesis: Sequence[Hashable]) -> tuple[int, int]:
    """(edit distance, reference length) of the reference closest to ``hypothesis`` (first on ties)."""
    if len(references) == 0:
        raise ValueError("every word needs at least one reference")
    closest: tuple[int, int] | None = None
    for reference in references:
        distance = edit_distance(reference, hypothesis)
        if closest is None or distance < closest[0]:
            closest = (distance, len(reference))
    return closest


def phoneme_error_rate(references: Sequence[References], hypotheses: Sequence[Sequence[Hashable]]) -> float:
    """Summed edit distance to the closest reference over the summed length of those references."""
    _check(references, hypotheses)
    closest = [closest_reference(r, h) for r, h in zip(references, hypotheses)]
    length = sum(n for _, n in closest)
    if length == 0:
        raise ValueError("phoneme_error_rate needs at least one reference item")
    return sum(d for d, _ in closest) / length


def word_error_rate(references: Sequence[References], hypotheses: Sequence[Sequence[Hashable]]) -> float:
    """The fraction of hypotheses that equal none of their references."""
    _check(references, hypotheses)
    return sum(not any(list(r) == list(h) for r in refs) for refs, h in zip(references, hypotheses)) / len(hypotheses)


def _check(references: Sequence[References], hypotheses: Sequence[Sequence[Hashable]]) -> None:
    if len(references) != len(hypotheses):
        raise ValueError(f"{len(references)} reference sets but {len(hypotheses)} hypotheses")
    if len(hypotheses) == 0:
        raise ValueError("an error rate needs at least one word")
