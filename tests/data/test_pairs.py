"""Sequence pairs: the CMUdict split by word, the TSV reader and its errors, vocabularies and batches."""
import numpy as np
import pytest

from rnnkit.data import (BOS, EOS, PAD, SPECIALS, DataError, PairVocabularies, SequencePairs, cmudict_pairs,
                         collate_pairs, load_cmudict_pairs, pair_batch_indices, pair_batches, pair_vocabularies,
                         pronunciation_pairs, read_pairs_tsv, split_by_word)


@pytest.fixture(scope="module")
def splits():
    return load_cmudict_pairs()


def test_split_has_no_word_in_two_parts(splits):
    parts = [set(part.words) for part in splits]
    assert not parts[0] & parts[1] and not parts[0] & parts[2] and not parts[1] & parts[2]
    assert [len(p) for p in parts] == [110_926, 2_000, 12_000]
    whole = cmudict_pairs()
    assert sum(len(part) for part in splits) == len(whole)  # every pronunciation of a word goes with it
    several = [w for w in splits.test.references if len(splits.test.references[w]) > 1]
    assert len(several) > 500 and all(splits.test.references[w] == whole.references[w] for w in several)


def test_split_follows_the_documented_rule(splits):
    words = sorted(cmudict_pairs().references)
    order = np.random.default_rng(0).permutation(len(words))
    assert set(splits.test.words) == {words[i] for i in order[:12_000]}
    assert set(splits.validation.words) == {words[i] for i in order[12_000:14_000]}
    other = load_cmudict_pairs(test_words=100, validation_words=10, seed=1)
    assert set(other.test.words) != set(load_cmudict_pairs(test_words=100, validation_words=10, seed=2).test.words)


def test_stress_is_stripped_unless_kept_and_odd_spellings_are_dropped():
    entries = [("tomato", ["T", "AH0", "M", "EY1", "T", "OW2"]), ("read", ["R", "EH1", "D"]),
               ("read", ["R", "EH0", "D"]), ("read", ["R", "IY1", "D"]), ("'bout", ["B", "AW1", "T"]),
               ("a.m.", ["EY1", "EH1", "M"]), ("able-bodied", ["EY1", "B", "AH0", "L", "B", "AA1", "D", "IY0", "D"])]
    plain, stressed = pronunciation_pairs(entries), pronunciation_pairs(entries, keep_stress=True)
    assert plain.references == {"tomato": [("T", "AH", "M", "EY", "T", "OW")],
                                "read": [("R", "EH", "D"), ("R", "IY", "D")],  # stress-only variants merged
                                "'bout": [("B", "AW", "T")]}
    assert stressed.references["read"] == [("R", "EH1", "D"), ("R", "EH0", "D"), ("R", "IY1", "D")]


def test_bundled_cmudict_has_39_phonemes_and_only_plain_spellings(splits):
    phonemes = {p for part in splits for target in part.targets for p in target}
    assert len(phonemes) == 39 and not any(p[-1].isdigit() for p in phonemes)
    words = {w for part in splits for w in part.references}
    assert "'bout" in words and "aaron's" in words and not any("-" in w or "." in w for w in words)


def test_read_pairs_tsv_keeps_several_references(tmp_path):
    path = tmp_path / "lexicon.tsv"
    path.write_text("read\tR EH D\n\nread\tR IY D\ncat\tK  AE T \n", encoding="utf-8")
    pairs = read_pairs_tsv(path)
    assert pairs.words == ("read", "read", "cat")
    assert pairs.references == {"read": [("R", "EH", "D"), ("R", "IY", "D")], "cat": [("K", "AE", "T")]}
    assert pairs.sources[2] == ["c", "a", "t"]


@pytest.mark.parametrize("text,message", [
    ("cat\tK AE T\ndog D AO G\n", r"lexicon.tsv, line 2: expected 'word<TAB>space-separated tokens' \(one tab\), "
                                  r"got 0"),
    ("cat\tK AE T </s>\n", r"line 1: </s> is reserved"),
    ("cat\tK AE T\ndog\tD\tAO G\n", r"line 2: expected .* got 2 tab\(s\)"),
    ("cat\t  \n", r"line 1: no tokens after the tab for 'cat'"),
    ("\tK AE T\n", r"line 1: the word before the tab must be non-empty"),
    ("\n\n", r"lexicon.tsv: no pairs"),
])
def test_read_pairs_tsv_errors_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "lexicon.tsv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=message):
        read_pairs_tsv(path)


def test_read_pairs_tsv_missing_or_binary_file(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_pairs_tsv(tmp_path / "nothing.tsv")
    (tmp_path / "binary.tsv").write_bytes(b"caf\xe9\tK AE F\n")
    with pytest.raises(DataError, match="binary.tsv: not UTF-8"):
        read_pairs_tsv(tmp_path / "binary.tsv")


def test_pairs_refuse_malformed_entries():
    with pytest.raises(DataError, match="2 words but 1 targets"):
        SequencePairs(("a", "b"), (("A",),))
    with pytest.raises(DataError, match="the target of 'a' must be one or more non-empty tokens"):
        SequencePairs(("a",), (("A", ""),))
    with pytest.raises(DataError, match="a word must be a non-empty string without spaces"):
        SequencePairs(("a b",), (("A",),))


def test_split_by_word_needs_words_left_for_training():
    pairs = SequencePairs(("a", "b", "c"), (("A",), ("B",), ("C",)), "tiny")
    assert len(split_by_word(pairs, 1, 1).train) == 1
    with pytest.raises(DataError, match="tiny: cannot hold out 2 test and 1 validation words from 3"):
        split_by_word(pairs, 2, 1)


def test_vocabularies_put_specials_first_and_round_trip():
    pairs = SequencePairs(("ab", "b"), (("X", "Y"), ("Y",)))
    vocabularies = pair_vocabularies(pairs)
    assert vocabularies.source.tokens == SPECIALS + ("a", "b") and vocabularies.target.tokens == SPECIALS + ("X", "Y")
    assert [vocabularies.target.id(t) for t in SPECIALS] == [PAD, BOS, EOS]
    assert PairVocabularies.from_dict(vocabularies.to_dict()) == vocabularies
    with pytest.raises(DataError, match="the target vocabulary must start with"):
        PairVocabularies.from_dict({"source": vocabularies.source.to_dict(), "target": {"tokens": ["X", "Y"]}})


def test_collate_shifts_the_target_into_decoder_input_and_output():
    batch = collate_pairs([[5, 6, 7], [8]], [[3], [4, 4]])
    assert batch.src.tolist() == [[5, 6, 7], [8, PAD, PAD]] and batch.src_lengths.tolist() == [3, 1]
    assert batch.tgt_in.tolist() == [[BOS, 3, PAD], [BOS, 4, 4]]
    assert batch.tgt_out.tolist() == [[3, EOS, PAD], [4, 4, EOS]]


def test_batches_hold_words_of_one_length_and_cover_every_pair_once():
    lengths = [3, 1, 3, 2, 3, 1, 3]
    batches = pair_batch_indices(lengths, 2, shuffle=True, seed=0)
    assert sorted(np.concatenate(batches).tolist()) == list(range(7))
    assert all(len({lengths[i] for i in b}) == 1 and len(b) <= 2 for b in batches)
    again = pair_batch_indices(lengths, 2, shuffle=True, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))
    pairs = SequencePairs(("ab", "b", "ba"), (("X",), ("Y",), ("Y", "X")), "toy")
    batches = list(pair_batches(pairs, pair_vocabularies(pairs), 8))
    assert [b.src.shape for b in batches] == [(1, 1), (2, 2)]
    with pytest.raises(DataError, match=r"word 'c'.*not in the model's vocabulary"):
        list(pair_batches(SequencePairs(("c",), (("X",),)), pair_vocabularies(pairs), 8))
