"""Phoneme and word error rates against hand-computed edit distances, with several references per word."""
import pytest

from rnnkit.models import phoneme_error_rate, word_error_rate


def test_one_reference_each_by_hand():
    references = [[["K", "AE", "T"]], [["D", "AO", "G"]]]
    hypotheses = [["K", "AH", "T"], ["D", "AO", "G", "Z"]]  # 1 substitution; 1 insertion
    assert phoneme_error_rate(references, hypotheses) == pytest.approx(2 / 6)
    assert word_error_rate(references, hypotheses) == 1.0


def test_the_closest_reference_counts():
    read = [["R", "EH", "D"], ["R", "IY", "D"]]
    tomato = [["T", "AH", "M", "EY", "T", "OW"], ["T", "AH", "M", "AA", "T"]]  # 6 and 5 phonemes
    hypotheses = [["R", "IY", "D"], ["T", "AH", "M", "AA", "T", "OW"]]
    # read: exact match with the second (0 of 3); tomato: 1 substitution from the first (6 phonemes),
    # 1 insertion from the second (5 phonemes): the first on the tie
    assert phoneme_error_rate([read, tomato], hypotheses) == pytest.approx(1 / 9)
    assert word_error_rate([read, tomato], hypotheses) == 0.5
    # a deletion and an insertion against the only reference: distance 2 of 4
    assert phoneme_error_rate([[["A", "B", "C", "D"]]], [["B", "C", "D", "E"]]) == 0.5
    # an empty hypothesis costs the whole (closest) reference
    assert phoneme_error_rate([[["A", "B"], ["A"]]], [[]]) == 1.0


def test_errors():
    with pytest.raises(ValueError, match="2 reference sets but 1 hypotheses"):
        word_error_rate([[["A"]], [["B"]]], [["A"]])
    with pytest.raises(ValueError, match="every word needs at least one reference"):
        phoneme_error_rate([[]], [["A"]])
