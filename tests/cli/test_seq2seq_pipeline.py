"""The grapheme-to-phoneme run pipeline (``--task seq2seq``) called directly: a short run on real
CMUdict pairs, its run directory, load / predict / evaluate, and the mistakes a user makes."""
import json

import numpy as np
import pytest
import torch

from rnnkit import data, training
from rnnkit.cli._seq2seq import (Seq2SeqDataConfig, default_epochs, error_rates, evaluate_run, load_pairs,
                                 load_seq2seq_run, predict_pronunciations, train_seq2seq_run)
from rnnkit.cli._seq2seq_baseline import NearestSpelling, edit_distances
from rnnkit.models import Seq2Seq, edit_distance

from .test_train_evaluate_predict import PNG_SIGNATURE

TINY = dict(embedding=24, encoder_hidden=[64], decoder_hidden=64, dropout=0.1)
WORDS = 4000


@pytest.fixture(scope="module")
def pairs_tsv(tmp_path_factory):
    """4,000 CMUdict words drawn at random with all their pronunciations, spelled in capitals as many lists are."""
    pairs = data.cmudict_pairs()
    words = sorted(pairs.references)
    keep = [words[i] for i in sorted(np.random.default_rng(0).choice(len(words), WORDS, replace=False))]
    path = tmp_path_factory.mktemp("pairs") / "g2p.tsv"
    path.write_text("".join(f"{w.upper()}\t{' '.join(t)}\n" for w in keep for t in pairs.references[w]))
    return path


@pytest.fixture(scope="module")
def run(pairs_tsv, tmp_path_factory):
    out = tmp_path_factory.mktemp("seq2seq") / "run"
    config = training.TrainConfig(epochs=8, batch_size=32, lr=0.01, lr_per_batch=True)
    return train_seq2seq_run(Seq2SeqDataConfig(source=str(pairs_tsv)), TINY, config, out, progress=False)


def test_a_short_run_on_real_pairs_drives_per_far_below_an_untrained_model(run):
    metrics, test = run.metrics, run.pairs.splits.test
    torch.manual_seed(0)
    untrained, _ = error_rates(Seq2Seq(run.model.config), run.pairs.vocabularies, test)
    assert untrained["per"] > 0.8  # chance: the wrong phonemes, and the wrong number of them
    assert metrics["test_per"] < 0.25 and metrics["test_wer"] < 0.75
    # it learnt more than "alike spellings sound alike"
    assert metrics["test_per"] < metrics["baseline_nearest_spelling_per"] - 0.15
    assert metrics["test_per_beam"] < 0.25 and metrics["test_wer_beam"] <= metrics["test_wer"] + 0.02
    assert metrics["words"] == {"train": 3400, "validation": 200, "test": 400}
    rows = metrics["history"]
    assert len(rows) == 8 and all(0 <= row["val_per"] <= row["val_wer"] <= 1 for row in rows)
    assert rows[-1]["val_per"] < rows[0]["val_per"]


def test_the_run_directory_holds_every_file(run):
    directory = run.directory
    config = json.loads((directory / "config.json").read_text())["config"]
    assert config["task"] == "seq2seq" and config["data"]["source"].endswith("g2p.tsv")
    source = config["vocabularies"]["source"]["tokens"]
    assert source[:3] == ["<pad>", "<s>", "</s>"] and "a" in source and "A" not in source  # words lower-cased
    metrics = json.loads((directory / "metrics.json").read_text())
    assert metrics["task"] == "seq2seq"
    for key in ("test_per", "test_wer", "test_per_beam", "test_wer_beam", "test_words_per_second_greedy",
                "train_words_per_second", "baseline_nearest_spelling_wer"):
        assert 0 < metrics[key] < float("inf"), key
    for name in ("curves.png", "error_rates.png", "attention.png"):
        assert (directory / name).read_bytes()[:8] == PNG_SIGNATURE, name
    assert (directory / "model.safetensors").stat().st_size > 0
    report = (directory / "report.html").read_text()
    for heading in ("Error rates per epoch", "Sample test predictions", "Attention"):
        assert heading in report
    samples = metrics["samples"]
    assert len(samples) == 20 and [s["greedy right"] for s in samples[:4]] == [True, False, True, False]


def test_load_predict_and_evaluate_reproduce_the_run(run, pairs_tsv):
    saved = load_seq2seq_run(run.directory)
    samples = run.metrics["samples"]
    words = [s["word"].upper() if k % 2 else s["word"] for k, s in enumerate(samples)]  # case does not matter
    assert [" ".join(p) for p in predict_pronunciations(saved, words)] == [s["greedy"] for s in samples]
    assert [" ".join(p) for p in predict_pronunciations(saved, words, beam=5)] == [s["beam 5"] for s in samples]
    greedy = evaluate_run(saved, str(pairs_tsv))  # its own source: the test words as split in training
    assert greedy["part"] == "test" and greedy["words"] == 400
    assert greedy["per"] == pytest.approx(run.metrics["test_per"])
    assert greedy["wer"] == pytest.approx(run.metrics["test_wer"])
    beam = evaluate_run(saved, str(pairs_tsv), beam=5)
    assert beam["per"] == pytest.approx(run.metrics["test_per_beam"])


def test_unknown_letters_are_one_error_naming_them(run):
    saved = load_seq2seq_run(run.directory)
    unknown = r"letter\(s\) '1', '2', 'é' are not in the model's alphabet .* \(in 2 word\(s\): 'café', 'r2d1'\)"
    with pytest.raises(data.DataError, match=unknown):
        predict_pronunciations(saved, ["cafÉ", "hello", "r2d1"])
    with pytest.raises(data.DataError, match="empty word"):
        predict_pronunciations(saved, ["  "])


def test_evaluating_on_stressed_references_says_why_it_cannot(run, tmp_path):
    stressed = tmp_path / "stressed.tsv"
    stressed.write_text("tomato\tT AH0 M EY1 T OW2\n")
    with pytest.raises(data.DataError, match="never emits: AH0, EY1, OW2"):
        evaluate_run(load_seq2seq_run(run.directory), str(stressed))


def test_a_run_of_another_task_is_refused(tmp_path):
    training.save_checkpoint(tmp_path, torch.nn.Linear(2, 2), {"task": "lm"})
    with pytest.raises(training.CheckpointError, match=r"holds a language model \(--task lm\), not a grapheme"):
        load_seq2seq_run(tmp_path)


@pytest.mark.parametrize("content, message", [
    ("hello\tHH AH L OW\nworld W ER L D\n", "line 2: expected 'word<TAB>space-separated tokens'"),
    ("hello\t \n", "line 1: no tokens after the tab"),
    ("hello\t<s> HH\n", "reserved"),
    ("\n\n", "no pairs"),
    ("a\tAH\nb\tB IY\n", "too few to split"),
])
def test_a_bad_tsv_is_refused_with_a_clear_message(tmp_path, content, message):
    path = tmp_path / "pairs.tsv"
    path.write_text(content)
    with pytest.raises(data.DataError, match=message):
        train_seq2seq_run(Seq2SeqDataConfig(source=str(path)), TINY, training.TrainConfig(epochs=1), tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_sources_that_are_not_pairs_are_refused():
    with pytest.raises(data.DataError, match="'shakespeare' is a text data set"):
        load_pairs(Seq2SeqDataConfig(source="shakespeare"))
    with pytest.raises(data.DataError, match="no such file"):
        load_pairs(Seq2SeqDataConfig(source="missing.tsv"))


def test_the_epochs_come_from_a_budget_of_words():
    assert default_epochs(118_687) == 18  # CMUdict's training pairs: 2.14 M words
    assert default_epochs(3_000_000) == 1 and default_epochs(500) == 100


def test_vectorised_edit_distances_equal_the_plain_dynamic_programme():
    rng = np.random.default_rng(0)
    for _ in range(100):
        a = rng.integers(0, 4, rng.integers(1, 8))
        words = rng.integers(0, 4, (6, rng.integers(1, 8)))
        assert edit_distances(a, words).tolist() == [edit_distance(a.tolist(), w.tolist()) for w in words]


def test_nearest_spelling_takes_the_closest_training_word():
    train = data.SequencePairs(("cat", "cats", "dog", "catalog"),
                               (("K", "AE", "T"), ("K", "AE", "T", "S"), ("D", "AO", "G"),
                                ("K", "AE", "T", "AH", "L", "AO", "G")))
    lookup = NearestSpelling(train)
    assert lookup("bat") == ["K", "AE", "T"] and lookup("dogs") == ["D", "AO", "G"]
    assert lookup("catalogs") == ["K", "AE", "T", "AH", "L", "AO", "G"]
