"""``rnnkit train --task lm``, ``generate`` and ``evaluate`` on real text, and the mistakes a user makes."""
import json

import pytest

from rnnkit import data
from rnnkit.cli import main

from .test_train_evaluate_predict import PNG_SIGNATURE

SMALL_LM = ["--task", "lm", "--hidden", "48", "--embedding", "16", "--window", "40", "--batch-size", "16",
            "--lr", "0.01", "--quiet"]


@pytest.fixture(scope="module")
def hamlet(tmp_path_factory):
    """The first 40,000 characters of the bundled Hamlet: a slice of real text."""
    path = tmp_path_factory.mktemp("text") / "hamlet.txt"
    path.write_text(data.load_text("shakespeare")[:40_000], encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def text_run(hamlet, tmp_path_factory):
    out = tmp_path_factory.mktemp("lm") / "hamlet"
    assert main(["train", "--data", str(hamlet), "--out", str(out), "--epochs", "6", *SMALL_LM]) == 0
    return out


def test_a_short_run_on_real_text_beats_the_unigram_entropy(text_run):
    metrics = json.loads((text_run / "metrics.json").read_text())
    assert metrics["task"] == "lm" and metrics["epochs"] == 6
    # the unigram model knows each character's frequency but nothing of what came before
    assert metrics["test_nats_per_char"] < metrics["baseline_unigram_nats_per_char"] - 0.4
    assert metrics["test_bits_per_char"] == pytest.approx(metrics["test_nats_per_char"] / 0.6931471805599453)
    assert metrics["characters"] == {"train": 34_000, "validation": 2_000, "test": 4_000}
    assert len(metrics["history"]) == 6 and all(row["val_loss"] > 0 for row in metrics["history"])
    assert [s["epoch"] for s in metrics["samples"]] == [1, 2, 3, 4, 5, 6] and metrics["samples"][-1]["text"]


def test_the_run_directory_holds_every_file(text_run):
    config = json.loads((text_run / "config.json").read_text())["config"]
    assert config["task"] == "lm" and config["data"]["window"] == 40
    assert config["training"]["carry_state"] and config["training"]["lr_per_batch"]
    assert "\n" in config["vocabulary"]["tokens"] and len(config["vocabulary"]["tokens"]) == config["model"]["vocab_size"]
    assert (text_run / "curves.png").read_bytes()[:8] == PNG_SIGNATURE
    report = (text_run / "report.html").read_text()
    assert "Samples as training went on" in report and report.count("<pre>") == 6


def test_evaluate_reproduces_the_test_figure(text_run, hamlet, capsys):
    metrics = json.loads((text_run / "metrics.json").read_text())
    assert main(["evaluate", "--model", str(text_run), "--data", str(hamlet)]) == 0
    assert f"test: {metrics['test_nats_per_char']:.4f} nats per character" in capsys.readouterr().out


def test_generate_streams_a_seeded_sample_after_the_prime(text_run, capsys):
    args = ["generate", "--model", str(text_run), "--prime", "HAMLET.", "--length", "80"]
    assert main([*args, "--seed", "3"]) == 0
    first = capsys.readouterr().out
    assert first.startswith("HAMLET.") and len(first) == len("HAMLET.") + 80 + 1
    assert main([*args, "--seed", "3"]) == 0 and capsys.readouterr().out == first
    assert main([*args, "--seed", "4"]) == 0 and capsys.readouterr().out != first
    assert main([*args, "--temperature", "0"]) == 0
    greedy = capsys.readouterr().out
    assert main([*args, "--top-k", "1", "--seed", "9"]) == 0 and capsys.readouterr().out == greedy


def test_names_train_as_padded_items_and_novelty_is_reported(tmp_path, capsys):
    names = tmp_path / "names.txt"
    names.write_text("\n".join(name for name, _ in data.load_names()[:1500]), encoding="utf-8")
    out = tmp_path / "names"
    assert main(["train", "--data", str(names), "--per-line", "--out", str(out), "--epochs", "3", *SMALL_LM]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test_nats_per_char"] < metrics["baseline_unigram_nats_per_char"]
    assert 0 < metrics["generated_new_fraction"] <= 1 and metrics["generated_names"] > 400
    capsys.readouterr()
    assert main(["generate", "--model", str(out), "--count", "5", "--seed", "1"]) == 0
    captured = capsys.readouterr()
    generated = captured.out.splitlines()
    assert len(generated) == 5 and all(name.isalpha() and name.isupper() for name in generated if name)
    assert "of 5 names are new (not in the training list)" in captured.err


@pytest.mark.parametrize("content, message", [
    (b"", "empty; a language model needs text"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
    (b"short", "too few"),
])
def test_unusable_text_files_are_one_clear_error(tmp_path, capsys, content, message):
    path = tmp_path / "input.txt"
    path.write_bytes(content)
    out = tmp_path / "run"
    assert main(["train", "--data", str(path), "--out", str(out), *SMALL_LM]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(path) in err and message in err and not out.exists()


def test_generate_refuses_bad_requests(text_run, tmp_path, capsys):
    assert main(["generate", "--model", str(text_run), "--prime", "Hé€"]) == 2
    assert "--prime: 2 symbol(s) not in the model's vocabulary" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["generate", "--model", str(text_run), "--length", "0"])
    assert exit_.value.code == 2 and "--length: expected a positive integer" in capsys.readouterr().err


def test_generate_refuses_a_classifier(tmp_path, capsys):
    out = tmp_path / "classifier"
    assert main(["train", "--data", "lasa-handwriting", "--out", str(out), "--hidden", "4", "--epochs", "1",
                 "--quiet"]) == 0
    capsys.readouterr()
    assert main(["generate", "--model", str(out)]) == 2
    err = capsys.readouterr().err
    assert "holds a sequence classifier (--task classify), not a language model" in err


def test_options_of_another_task_are_refused(capsys):
    assert main(["train", "--task", "lm", "--data", "shakespeare", "--out", "unused", "--pooling", "last"]) == 2
    assert "--pooling applies to --task classify only" in capsys.readouterr().err
    assert main(["train", "--data", "fsdd-digits", "--out", "unused", "--window", "50"]) == 2
    assert "--window applies to --task lm only" in capsys.readouterr().err
    assert main(["train", "--task", "lm", "--data", "fsdd-digits", "--out", "unused"]) == 2
    assert "is a classification data set; a language model trains on text" in capsys.readouterr().err
