"""``rnnkit train``, ``evaluate`` and ``predict`` run in-process, checking every file they write."""
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from safetensors.torch import load_file

from rnnkit.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SMALL = ["--hidden", "8", "--epochs", "2", "--batch-size", "16", "--quiet"]


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.tables = [], 0

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        self.tables += tag == "table"


def parse_html(path: Path) -> _Tags:
    parser = _Tags()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "lasa"
    assert main(["train", "--data", "lasa-handwriting", "--out", str(out), "--cell", "gru", *SMALL]) == 0
    return out


def test_train_writes_every_file(trained):
    config = json.loads((trained / "config.json").read_text())["config"]
    assert config["model"]["cell"] == "gru" and config["model"]["hidden"] == [8]
    assert config["training"]["epochs"] == 2 and config["data"]["source"] == "lasa-handwriting"
    assert config["scaler"]["kind"] == "standard"
    metrics = json.loads((trained / "metrics.json").read_text())
    for key in ("train_accuracy", "test_accuracy", "epochs", "seconds"):
        assert key in metrics
    assert metrics["epochs"] == len(metrics["history"]) == 2
    assert {"train_loss", "val_loss"} <= set(metrics["history"][0])
    weights = load_file(str(trained / "model.safetensors"))
    assert "stack.layers.0.weight_hh_l0" in weights
    for png in ("curves.png", "confusion.png"):
        assert (trained / png).read_bytes()[:8] == PNG_SIGNATURE
    html = parse_html(trained / "report.html")
    assert len(html.images) == 2 and all(src.startswith("data:image/png;base64,") for src in html.images)
    assert html.tables >= 2


def test_evaluate_reproduces_test_accuracy(trained, capsys):
    metrics = json.loads((trained / "metrics.json").read_text())
    assert main(["evaluate", "--model", str(trained), "--data", "lasa-handwriting"]) == 0
    printed = capsys.readouterr().out
    assert f"test accuracy {metrics['test_accuracy']:.4f}" in printed


def test_train_on_a_users_stroke_folder_then_predict(stroke_folder, tmp_path, capsys):
    out = tmp_path / "strokes"
    args = ["train", "--data", str(stroke_folder), "--out", str(out), "--hidden", "16", "--epochs", "30",
            "--patience", "30", "--lr", "0.01", "--validation-fraction", "0", "--quiet"]
    assert main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["class_names"] == ["arc", "line", "zigzag"]
    assert metrics["test_accuracy"] >= 0.9, "three well-separated shapes should be learned"
    samples = sorted((stroke_folder / "arc").glob("*.txt"))[:2]
    capsys.readouterr()
    assert main(["predict", "--model", str(out), "--json", *map(str, samples)]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line["file"] for line in lines] == list(map(str, samples))
    assert all(line["predictions"][0]["class"] == "arc" for line in lines)


@pytest.mark.parametrize("args,message", [
    (["train", "--data", "no/such/place", "--out", "{tmp}/x"], "no such file or folder"),
    (["train", "--data", "lasa-handwriting", "--out", "{tmp}/x", "--hidden", "8", "--proj-size", "8",
      "--quiet"], "proj_size must be smaller"),
    (["train", "--data", "lasa-handwriting", "--out", "{tmp}/x", "--device", "cuda:7", "--quiet",
      "--hidden", "4", "--epochs", "1"], "cuda"),
    (["evaluate", "--model", "{tmp}", "--data", "lasa-handwriting"], "config.json"),
    (["predict", "--model", "{tmp}", "missing.txt"], "config.json"),
])
def test_user_mistakes_end_in_one_line(args, message, tmp_path, capsys):
    status = main([a.replace("{tmp}", str(tmp_path)) for a in args])
    err = capsys.readouterr().err
    assert status == 2
    assert not (tmp_path / "x").exists(), "a failed run leaves no run directory behind"
    assert message in err.lower()
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("widths", ["-8", "8--4", "abc", "0"])
def test_bad_layer_widths_are_usage_errors(widths, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--data", "lasa-handwriting", "--out", "x", "--hidden", widths])
    assert exit_.value.code == 2
    assert "layer widths" in capsys.readouterr().err


def test_corrupt_weights_are_refused(trained, tmp_path, capsys):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text((trained / "config.json").read_text())
    (broken / "model.safetensors").write_bytes(b"\x80\x04not a safetensors file")  # a pickle's first bytes
    assert main(["evaluate", "--model", str(broken), "--data", "lasa-handwriting"]) == 2
    assert "model.safetensors: a pickle or torch.save file, not safetensors" in capsys.readouterr().err
    (broken / "model.safetensors").write_bytes(b"\x00\x01not a safetensors file")
    assert main(["evaluate", "--model", str(broken), "--data", "lasa-handwriting"]) == 2
    assert "model.safetensors: not a readable safetensors file" in capsys.readouterr().err


def test_predict_rejects_a_ragged_sample(trained, tmp_path, capsys):
    sample = tmp_path / "bad.txt"
    sample.write_text("1 2\n3 4 5\n")
    assert main(["predict", "--model", str(trained), str(sample)]) == 2
    err = capsys.readouterr().err
    assert "bad.txt" in err and "line 2" in err


def test_evaluate_refuses_other_classes(trained, stroke_folder, capsys):
    assert main(["evaluate", "--model", str(trained), "--data", str(stroke_folder)]) == 2
    assert "class 'arc' does not occur in the training data" in capsys.readouterr().err


def test_evaluate_scores_other_data_of_the_same_classes_whole(trained, tmp_path, capsys):
    """A held-out set in the user's files: no split, every sequence scored, the training scaler applied."""
    from rnnkit import data

    lasa = data.load_dataset("lasa-handwriting").test
    data.write_npz(lasa, tmp_path / "held_out.npz")
    assert main(["evaluate", "--model", str(trained), "--data", str(tmp_path / "held_out.npz")]) == 0
    metrics = json.loads((trained / "metrics.json").read_text())
    printed = capsys.readouterr().out
    assert f"on {len(lasa)} sequences" in printed
    assert f"accuracy {metrics['test_accuracy']:.4f}" in printed  # the same sequences as the bundled test split


@pytest.mark.parametrize("breakage", ["no_model", "no_data", "bad_hidden", "class_count"])
def test_structurally_bad_config_is_one_line(trained, tmp_path, capsys, breakage):
    info = json.loads((trained / "config.json").read_text())
    config = info["config"]
    if breakage == "no_model":
        del config["model"]
    elif breakage == "no_data":
        del config["data"]
    elif breakage == "bad_hidden":
        config["model"]["hidden"] = "16"
    else:
        config["class_names"] = config["class_names"][:3]
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps(info))
    (broken / "model.safetensors").write_bytes((trained / "model.safetensors").read_bytes())
    assert main(["evaluate", "--model", str(broken), "--data", "lasa-handwriting"]) == 2
    err = capsys.readouterr().err
    assert "config.json" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_confusion_matrix_in_metrics_counts_the_test_set(trained):
    metrics = json.loads((trained / "metrics.json").read_text())
    assert len(metrics["confusion_matrix"]) == len(metrics["class_names"]) == 30
    assert sum(map(sum, metrics["confusion_matrix"])) == metrics["samples"]["test"]
