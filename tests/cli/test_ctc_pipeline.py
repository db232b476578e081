"""The --task ctc and --task tag run pipelines, called as library functions (not through the CLI parser)."""
import json

import numpy as np
import pytest

from rnnkit import data, training
from rnnkit.cli._ctc import (CTCDataConfig, evaluate_run, label_string, load_ctc_run, load_string_data,
                             predict_strings, train_ctc_run)
from rnnkit.cli._tag import load_tag_run, train_tag_run
from rnnkit.models import transcribe

SMALL = CTCDataConfig(train_count=300, test_count=100, validation_count=40)
RUN_FILES = ("config.json", "metrics.json", "model.safetensors", "curves.png", "posteriors.png", "report.html")


@pytest.fixture(scope="module")
def strings():
    return load_string_data(SMALL)


@pytest.fixture(scope="module")
def ctc_run(tmp_path_factory, strings):
    config = training.TrainConfig(epochs=12, lr=1e-2, batch_size=16, time_mask=4)
    return train_ctc_run(SMALL, {"hidden": (64,), "dropout": 0.0}, config, tmp_path_factory.mktemp("ctc"),
                         strings=strings, progress=False)


@pytest.fixture(scope="module")
def tag_run(tmp_path_factory, strings):
    config = training.TrainConfig(epochs=4, lr=1e-2, batch_size=16)
    return train_tag_run(SMALL, {"hidden": (32,), "dropout": 0.0}, config, tmp_path_factory.mktemp("tag"),
                         strings=load_string_data(SMALL, "tag"), progress=False)


def test_a_short_ctc_run_writes_every_file_and_reads_digits_far_better_than_a_constant_guess(ctc_run):
    for name in RUN_FILES:
        assert (ctc_run.directory / name).stat().st_size > 0, name
    metrics = json.loads((ctc_run.directory / "metrics.json").read_text())
    assert metrics["task"] == "ctc" and metrics["baseline_label_error_rate"] > 0.8
    assert metrics["test_label_error_rate"] < 0.35, metrics["test_label_error_rate"]
    assert metrics["test_label_error_rate_beam"] < 0.35 and 0 <= metrics["test_string_accuracy"] <= 1
    assert [row["epoch"] for row in metrics["history"]] == list(range(1, 13))
    assert metrics["history"][-1]["val_label_error_rate"] < metrics["history"][0]["val_label_error_rate"]
    report = (ctc_run.directory / "report.html").read_text()
    assert "Label error rate per epoch" in report and "Predicted and true strings" in report


def test_a_loaded_ctc_run_predicts_raw_sequences_as_the_trained_model_read_the_scaled_ones(ctc_run):
    saved = load_ctc_run(ctc_run.directory)
    raw_test = data.load_fsdd_strings(SMALL.seed, 1, SMALL.test_count)[1]  # the run's test strings, unscaled
    expected = [label_string(y, saved.class_names) for y in transcribe(ctc_run.model, ctc_run.data.test.sequences)]
    assert predict_strings(saved, raw_test.sequences) == expected
    again = evaluate_run(saved, "fsdd-strings")
    assert again["test_label_error_rate"] == pytest.approx(ctc_run.metrics["test_label_error_rate"])


def test_a_short_tag_run_beats_the_majority_frame_label_and_round_trips(tag_run):
    for name in RUN_FILES:
        assert (tag_run.directory / name).exists(), name
    metrics = tag_run.metrics
    assert metrics["test_frame_accuracy"] > 2 * metrics["baseline_majority_frame_accuracy"]
    assert "val_segment_error_rate" in metrics["history"][-1]
    saved = load_tag_run(tag_run.directory)
    assert evaluate_run(saved, "fsdd-strings")["test_frame_accuracy"] == pytest.approx(metrics["test_frame_accuracy"])
    assert len(predict_strings(saved, data.load_fsdd_strings(0, 1, 3)[1].sequences)) == 3


def test_a_run_of_another_task_is_refused(ctc_run, tag_run):
    ctc, tag = r"a CTC model \(--task ctc\)", r"a frame tagger \(--task tag\)"
    with pytest.raises(training.CheckpointError, match=f"holds {ctc}, not {tag}"):
        load_tag_run(ctc_run.directory)
    with pytest.raises(training.CheckpointError, match=f"holds {tag}, not {ctc}"):
        load_ctc_run(tag_run.directory)


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_own_data_in_both_forms_reads_and_trains(tmp_path):
    rng = np.random.default_rng(0)
    labels = [["a", "b"], ["b"], ["a", "a", "b"]] * 4
    folder = tmp_path / "own"
    (folder / "train").mkdir(parents=True)
    for i, names in enumerate(labels):
        frames = np.repeat([[1.0, 0.0] if n == "a" else [0.0, 1.0] for n in names], 4, axis=0) + rng.normal(0, .1, (4 * len(names), 2))
        np.savetxt(folder / "train" / f"s{i}.txt", frames)
        (folder / "train" / f"s{i}.txt.labels").write_text(" ".join(names) + "\n")
        (folder / "train" / f"s{i}.txt.frames").write_text("\n".join(n for n in names for _ in range(4)))
    train, test = data.read_label_sequences(folder)
    assert test is None and train.class_names == ["a", "b"] and train.labels[2].tolist() == [0, 0, 1]
    assert data.has_frame_labels(train) and train.frame_labels[1].tolist() == [1] * 4
    run = train_ctc_run(CTCDataConfig(source=str(folder)), {"hidden": (8,)}, training.TrainConfig(epochs=1),
                        tmp_path / "run", progress=False)
    assert run.metrics["strings"] == {"train": 9, "validation": 1, "test": 2}

    frames = np.concatenate(train.sequences)
    path = _npz(tmp_path / "own.npz", X=frames, lengths=train.lengths, labels=np.concatenate(train.labels),
                label_lengths=np.array([len(y) for y in train.labels]), class_names=np.array(["a", "b"]))
    again, _ = data.read_label_sequences(path)
    assert [y.tolist() for y in again.labels] == [y.tolist() for y in train.labels]
    assert not data.has_frame_labels(again)
    with pytest.raises(data.DataError, match="needs a label for every frame"):
        load_string_data(CTCDataConfig(source=str(path)), "tag")


@pytest.mark.parametrize("arrays, message", [
    ({"label_lengths": None}, r"missing array 'label_lengths'"),
    ({"label_lengths": np.array([1, 1])}, r"label_lengths sum to 2 but labels has entries 3"),
    ({"labels": np.array([0, 1, 5]), "class_names": np.array(["a", "b"])}, r"labels\[2\] is 5, not an index"),
    ({"frame_labels": np.zeros(3, dtype=int)}, r"frame_labels has shape \(3,\), expected \(6,\)"),
    ({"labels": np.array([[0, 1, 1]], dtype=object)}, r"holds Python objects \(needs pickle"),
])
def test_a_bad_npz_is_refused_with_a_message_naming_the_file_and_the_array(tmp_path, arrays, message):
    good = {"X": np.zeros((6, 2)), "lengths": np.array([3, 3]), "labels": np.array([0, 1, 1]),
            "label_lengths": np.array([1, 2])}
    good.update(arrays)
    path = _npz(tmp_path / "bad.npz", **{k: v for k, v in good.items() if v is not None})
    with pytest.raises(data.DataError, match=message) as error:
        data.read_label_sequences(path)
    assert "bad.npz" in str(error.value)


def test_bad_folder_files_are_refused_with_the_file_and_line(tmp_path):
    train = tmp_path / "train"
    train.mkdir()
    (train / "s1.txt").write_text("1 2\n3 4\n")
    with pytest.raises(data.DataError, match=r"s1.txt: no label file s1.txt.labels"):
        data.read_label_sequences(tmp_path)
    (train / "s1.txt.labels").write_text("a b\n")
    (train / "s1.txt.frames").write_text("a a a\n")
    with pytest.raises(data.DataError, match=r"s1.txt.frames: 3 frame labels, but s1.txt has 2 frames"):
        data.read_label_sequences(tmp_path)
    (train / "s1.txt.frames").unlink()
    (train / "s2.txt").write_text("1 2\n3 x\n")
    (train / "s2.txt.labels").write_text("a")
    with pytest.raises(data.DataError, match=r"s2.txt line 2"):
        data.read_label_sequences(tmp_path)
    (train / "s2.txt").write_text("1 2\n")
    (train / "s2.txt.labels").write_text("a a")
    for i in range(3, 8):
        (train / f"s{i}.txt").write_text("1 2\n3 4\n5 6\n")
        (train / f"s{i}.txt.labels").write_text("b")
    with pytest.raises(data.DataError, match=r"has 1 frames, too few for its 2 labels \(CTC needs 3\)"):
        load_string_data(CTCDataConfig(source=str(tmp_path), test_fraction=0.1))
