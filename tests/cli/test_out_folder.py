"""``rnnkit train --out DIR`` on a folder that already holds a run: refused, untouched, unless --overwrite."""
import json

import pytest

from rnnkit import data
from rnnkit.cli import main

TASK_DATA = {"classify": "lasa-handwriting", "lm": "shakespeare", "ctc": "fsdd-strings", "tag": "fsdd-strings",
             "seq2seq": "cmudict"}
TINY_CLASSIFY = ["--hidden", "4", "--epochs", "1", "--batch-size", "16", "--quiet"]
TINY_LM = ["--task", "lm", "--hidden", "8", "--embedding", "4", "--window", "20", "--batch-size", "8", "--epochs", "1",
           "--quiet"]


def _old_run(folder):
    """A folder holding a run's files (contents that no training would write), and their bytes."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {"config.json": b'{"config": {"task": "old"}}', "metrics.json": b'{"old": 1}',
             "model.safetensors": b"old weights", "notes.txt": b"mine"}
    for name, content in files.items():
        (folder / name).write_bytes(content)
    return files


def _snapshot(folder):
    return {path.name: path.read_bytes() for path in folder.iterdir()}


@pytest.mark.parametrize("task", sorted(TASK_DATA))
def test_a_folder_holding_a_run_is_refused_and_untouched(task, tmp_path, capsys):
    out = tmp_path / "run"
    files = _old_run(out)
    assert main(["train", "--task", task, "--data", TASK_DATA[task], "--out", str(out), "--epochs", "1",
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(out) in err and "--overwrite" in err and "already holds a run" in err
    assert _snapshot(out) == files  # byte for byte, and nothing added


@pytest.mark.parametrize("name", ["config.json", "metrics.json", "model.safetensors"])
def test_any_one_run_file_marks_a_run(name, tmp_path, capsys):
    out = tmp_path / "run"
    out.mkdir()
    (out / name).write_bytes(b"x")
    assert main(["train", "--data", "lasa-handwriting", "--out", str(out), *TINY_CLASSIFY]) == 2
    assert name in capsys.readouterr().err and _snapshot(out) == {name: b"x"}


def test_an_out_that_is_a_file_is_refused(tmp_path, capsys):
    out = tmp_path / "run"
    out.write_bytes(b"not a folder")
    assert main(["train", "--data", "lasa-handwriting", "--out", str(out), *TINY_CLASSIFY]) == 2
    assert "is not a folder" in capsys.readouterr().err and out.read_bytes() == b"not a folder"


def test_an_empty_or_unrelated_folder_is_fine(stroke_folder, tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    (out / "notes.txt").write_bytes(b"mine")
    assert main(["train", "--data", str(stroke_folder), "--out", str(out), *TINY_CLASSIFY]) == 0
    assert (out / "model.safetensors").exists() and (out / "notes.txt").read_bytes() == b"mine"


def test_overwrite_replaces_a_classifier_run(stroke_folder, tmp_path):
    out = tmp_path / "run"
    files = _old_run(out)
    assert main(["train", "--data", str(stroke_folder), "--out", str(out), "--overwrite", *TINY_CLASSIFY]) == 0
    after = _snapshot(out)
    assert after["notes.txt"] == files["notes.txt"]  # a file of the user's that no run writes stays
    for name in ("config.json", "metrics.json", "model.safetensors"):
        assert after[name] != files[name]
    assert json.loads(after["config.json"])["config"]["task"] == "classify"
    assert main(["evaluate", "--model", str(out), "--data", str(stroke_folder)]) == 0


def test_overwrite_replaces_a_language_model_run(tmp_path):
    text = tmp_path / "text.txt"
    text.write_text(data.load_text("shakespeare")[:5_000], encoding="utf-8")
    out = tmp_path / "run"
    files = _old_run(out)
    assert main(["train", "--data", str(text), "--out", str(out), *TINY_LM]) == 2  # refused first
    assert _snapshot(out) == files
    assert main(["train", "--data", str(text), "--out", str(out), "--overwrite", *TINY_LM]) == 0
    assert json.loads((out / "config.json").read_text())["config"]["task"] == "lm"
    assert json.loads((out / "metrics.json").read_text())["task"] == "lm"


def test_overwrite_is_in_the_help(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "--overwrite" in capsys.readouterr().out
