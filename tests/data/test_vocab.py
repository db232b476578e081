"""Vocabulary: specials keep their ids, round trips through ids and JSON, unknown symbols named."""
import json

import pytest

from rnnkit.data import DataError, Vocabulary


def test_specials_come_first_then_the_sorted_tokens():
    vocab = Vocabulary.build(["banana", "cab"], specials=["<eos>"])
    assert vocab.tokens == ("<eos>", "a", "b", "c", "n")
    assert vocab.id("<eos>") == 0 and vocab.id("n") == 4


def test_encode_decode_and_json_round_trip():
    vocab = Vocabulary.build(["hello world"])
    ids = vocab.encode("low hello")
    assert "".join(vocab.decode(ids)) == "low hello"
    again = Vocabulary.from_dict(json.loads(json.dumps(vocab.to_dict())))
    assert again == vocab and again.encode("low hello") == ids


def test_unknown_symbols_are_one_error_that_names_each_of_them():
    vocab = Vocabulary.build(["abc"])
    with pytest.raises(DataError, match=r"--prime: 2 symbol\(s\) not in the model's vocabulary of 3: 'x', 'z'"):
        vocab.encode("abxzx", where="--prime")


def test_repeated_or_empty_tokens_are_refused():
    with pytest.raises(DataError, match="repeated: \\['a'\\]"):
        Vocabulary(("a", "b", "a"))
    with pytest.raises(DataError, match="at least one token"):
        Vocabulary(())
    with pytest.raises(DataError, match="not a vocabulary"):
        Vocabulary.from_dict({"words": []})
