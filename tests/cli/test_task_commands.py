"""``rnnkit train --task ctc | tag | seq2seq``, then ``predict`` and ``evaluate``, through the command line:
the options reach the pipelines, and each command tells the tasks apart."""
import json

import numpy as np
import pytest

from rnnkit import data
from rnnkit.cli import main

TINY = ["--hidden", "32", "--epochs", "3", "--quiet"]


@pytest.fixture(scope="module")
def digit_strings(tmp_path_factory):
    """600 real connected-digit strings in the documented .npz form, with frame labels (docs/ctc_data.md)."""
    scaled, _ = data.scale_splits(data.load_dataset("fsdd-digits"), "standard")
    strings = data.make_digit_strings(scaled.train, 600, max_digits=3, seed=0)
    path = tmp_path_factory.mktemp("strings") / "digits.npz"
    np.savez(path, X=np.concatenate(strings.sequences), lengths=strings.lengths,
             labels=np.concatenate(strings.labels), label_lengths=np.array([len(y) for y in strings.labels]),
             frame_labels=np.concatenate(strings.frame_labels), class_names=np.array(strings.class_names))
    return path, strings


@pytest.fixture(scope="module")
def ctc_run(digit_strings, tmp_path_factory):
    out = tmp_path_factory.mktemp("ctc") / "run"
    assert main(["train", "--task", "ctc", "--data", str(digit_strings[0]), "--out", str(out),
                 "--time-mask", "0", "--lr", "0.01", "--scaling", "minmax", "--batch-size", "16", "--hidden", "48",
                 "--epochs", "20", "--quiet"]) == 0
    return out


def test_ctc_options_reach_the_run(ctc_run):
    config = json.loads((ctc_run / "config.json").read_text())["config"]
    assert config["task"] == "ctc" and config["model"]["hidden"] == [48] and config["model"]["bidirectional"]
    assert config["training"]["epochs"] == 20 and config["training"]["time_mask"] == 0
    assert config["training"]["lr"] == 0.01 and config["data"]["scale"] == "minmax"
    metrics = json.loads((ctc_run / "metrics.json").read_text())
    assert metrics["test_label_error_rate"] < metrics["baseline_label_error_rate"]


def test_ctc_predict_and_evaluate(ctc_run, digit_strings, tmp_path, capsys):
    _, strings = digit_strings
    files = []
    for i in range(2):
        files.append(tmp_path / f"utterance{i}.txt")
        np.savetxt(files[-1], strings.sequences[i])
    capsys.readouterr()
    assert main(["predict", "--model", str(ctc_run), "--json", "--beam", "4", *map(str, files)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["file"] for line in lines] == list(map(str, files))
    assert all(set(line["labels"].split()) <= set(strings.class_names) for line in lines)
    assert main(["evaluate", "--model", str(ctc_run), "--data", str(digit_strings[0])]) == 0
    out = capsys.readouterr().out
    assert "test_label_error_rate:" in out and "test_string_accuracy_beam:" in out


def test_tag_trains_through_the_command_line(digit_strings, tmp_path, capsys):
    out = tmp_path / "tagger"
    assert main(["train", "--task", "tag", "--data", str(digit_strings[0]), "--out", str(out), *TINY]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["task"] == "tag" and metrics["test_frame_accuracy"] > metrics["baseline_majority_frame_accuracy"]
    assert "frame accuracy" in capsys.readouterr().err


def test_seq2seq_trains_predicts_and_evaluates(tmp_path, capsys):
    pairs = data.cmudict_pairs()
    words = sorted(pairs.references)[::200][:600]
    tsv = tmp_path / "pairs.tsv"
    tsv.write_text("".join(f"{w}\t{' '.join(t)}\n" for w in words for t in pairs.references[w]))
    out = tmp_path / "g2p"
    assert main(["train", "--task", "seq2seq", "--data", str(tsv), "--out", str(out), "--embedding", "16",
                 "--decoder-hidden", "32", "--attention", "additive", "--batch-size", "32", *TINY]) == 0
    config = json.loads((out / "config.json").read_text())["config"]
    assert config["model"]["attention"] == "additive" and config["model"]["encoder_hidden"] == [32]
    capsys.readouterr()
    assert main(["predict", "--model", str(out), "--beam", "3", "--json", "cat", "Tomato"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["word"] for line in lines] == ["cat", "Tomato"] and all(line["pronunciation"] for line in lines)
    assert main(["evaluate", "--model", str(out), "--data", str(tsv)]) == 0
    assert "wer:" in capsys.readouterr().out
    assert main(["predict", "--model", str(out), "caf\u00e9"]) == 2
    assert "\u00e9" in capsys.readouterr().err


@pytest.mark.parametrize("task, option", [("ctc", ["--pooling", "mean"]), ("seq2seq", ["--time-mask", "3"]),
                                          ("tag", ["--attention", "dot"]), ("lm", ["--keep-stress"])])
def test_an_option_of_another_task_is_refused(task, option, capsys):
    assert main(["train", "--task", task, "--data", "unused", "--out", "unused", *option]) == 2
    assert f"{option[0]} applies to --task" in capsys.readouterr().err
