"""Text for language models: files read or refused, contiguous splits, streams that continue each other."""
import numpy as np
import pytest

from rnnkit.data import (END, IGNORE_INDEX, DataError, item_batches, read_text_file, split_items, split_text,
                         stream_batches)


def test_streams_continue_from_batch_to_batch_and_targets_are_the_next_character():
    ids = np.arange(103)  # a "text" whose characters are their own positions
    batches = stream_batches(ids, batch_size=4, window=10, offset=2)  # 4 streams of (103 - 1 - 2) // 4 = 25
    assert [x.shape for x, _, _ in batches] == [(4, 10), (4, 10), (4, 5)]
    rows = np.concatenate([x.numpy() for x, _, _ in batches], axis=1)  # (4, 25)
    np.testing.assert_array_equal(rows, 2 + np.arange(100).reshape(4, 25))  # stream b is one contiguous piece
    for x, lengths, y in batches:
        np.testing.assert_array_equal(y.numpy(), x.numpy() + 1)
        assert lengths.tolist() == [x.shape[1]] * 4


def test_a_text_too_short_for_the_streams_is_a_clear_error():
    with pytest.raises(DataError, match="too short for 64 streams"):
        stream_batches(np.arange(50), batch_size=64, window=10)


def test_items_are_read_after_the_end_symbol_and_followed_by_it():
    (x, lengths, y), = item_batches([[5, 6, 7], [8]], end=0, batch_size=2)
    assert lengths.tolist() == [4, 2]
    assert x.tolist() == [[0, 5, 6, 7], [0, 8, 0, 0]]
    assert y.tolist() == [[5, 6, 7, 0], [8, 0, IGNORE_INDEX, IGNORE_INDEX]]


def test_shuffled_items_are_each_used_once_per_epoch():
    items = [[i] for i in range(1, 11)]
    seen = [int(x[row, 1]) for x, _, _ in item_batches(items, 0, 3, seed=1) for row in range(len(x))]
    assert sorted(seen) == list(range(1, 11)) and seen != list(range(1, 11))


def test_split_text_tests_on_the_end_and_validates_on_stretches_spread_over_the_rest():
    text = "".join(chr(0x10000 + i) for i in range(100_000))  # every character unique: its position
    parts = split_text(text, validation_fraction=0.05, test_fraction=0.1, pieces=5)
    assert parts.test == text[90_000:]
    assert (len(parts.train), len(parts.validation)) == (85_000, 5_000)
    assert sorted(parts.train + parts.validation) == sorted(text[:90_000]), "each character in one part"
    positions = [ord(c) - 0x10000 for c in parts.validation]
    assert positions == sorted(positions) and positions[-1] == 89_999  # in order, the last ends at the test
    breaks = [p for p, q in zip(positions, positions[1:]) if q != p + 1]
    assert len(breaks) == 4, "five contiguous stretches of 1,000"
    assert positions[0] == 17_000 and positions[999] == 17_999  # the first ends a fifth of the way
    assert parts.train.startswith(text[:17_000])


def test_a_short_text_gets_fewer_longer_validation_stretches():
    text = "ab" * 2000  # 4,000 characters: 200 of validation, one stretch of at least 200
    parts = split_text(text, 0.05, 0.1)
    assert len(parts.validation) == 200 and parts.validation == text[3400:3600]


def test_split_items_puts_every_distinct_item_in_exactly_one_part():
    names = [f"NAME{i}" for i in range(200)] + ["NAME3", "NAME4"]  # repeats count once
    parts = split_items(names, 0.05, 0.1, seed=0)
    together = parts.train + parts.validation + parts.test
    assert sorted(together) == sorted(set(names)) and (len(parts.validation), len(parts.test)) == (10, 20)
    assert split_items(names, 0.05, 0.1, seed=0) == parts and split_items(names, 0.05, 0.1, seed=1) != parts


def test_text_files_are_read_as_utf8_and_bad_ones_refused(tmp_path):
    good = tmp_path / "good.txt"
    good.write_bytes("\ufeffline one\r\nligne deux é\n".encode("utf-8"))
    assert read_text_file(good) == "line one\nligne deux é\n"  # byte-order mark and CRLF dropped
    cases = {"empty.txt": b"  \n\n", "binary.bin": b"PK\x03\x04\x00\x00abc", "latin1.txt": "caf\xe9".encode("latin-1")}
    messages = {"empty.txt": "empty", "binary.bin": "binary data", "latin1.txt": "not UTF-8"}
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        with pytest.raises(DataError, match=f"{name}: {messages[name]}"):
            read_text_file(tmp_path / name)
    with pytest.raises(DataError, match="a folder"):
        read_text_file(tmp_path)
    assert END == "\n"
