"""``rnnkit evaluate`` knows the training data by its identity, not the spelling of its path, and notices
when it has changed since training (the test split would be drawn anew)."""
import json
import shutil

import pytest

from rnnkit.cli import main

TINY = ["--hidden", "4", "--epochs", "1", "--batch-size", "16", "--quiet"]


@pytest.fixture
def trained(stroke_folder, tmp_path):
    """A copy of the stroke folder (the tests change it) and a classifier trained on it."""
    folder = tmp_path / "data" / "strokes"
    shutil.copytree(stroke_folder, folder)
    out = tmp_path / "run"
    assert main(["train", "--data", str(folder), "--out", str(out), *TINY]) == 0
    return folder, out


def _evaluate(model, source, capsys):
    assert main(["evaluate", "--model", str(model), "--data", source]) == 0
    return capsys.readouterr().out


def test_the_same_folder_named_three_other_ways_is_the_training_data(trained, tmp_path, capsys, monkeypatch):
    folder, out = trained
    capsys.readouterr()
    canonical = _evaluate(out, str(folder), capsys)
    metrics = json.loads((out / "metrics.json").read_text())
    assert f"test accuracy {metrics['test_accuracy']:.4f}" in canonical
    assert f"on {metrics['samples']['test']} sequences" in canonical  # the test split, not the whole folder
    link = tmp_path / "link"
    link.symlink_to(folder, target_is_directory=True)
    monkeypatch.chdir(folder.parent)
    for name in ("strokes", str(folder) + "/", str(link)):  # relative, trailing slash, symlink
        assert _evaluate(out, name, capsys) == canonical, name


def test_a_run_trained_from_another_folder_by_a_relative_name(stroke_folder, tmp_path, capsys, monkeypatch):
    shutil.copytree(stroke_folder, tmp_path / "strokes")
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--data", "strokes", "--out", "run", *TINY]) == 0
    capsys.readouterr()
    expected = _evaluate(tmp_path / "run", str(tmp_path / "strokes"), capsys)
    tested = json.loads((tmp_path / "run" / "metrics.json").read_text())["samples"]["test"]
    assert f"on {tested} sequences" in expected
    monkeypatch.chdir(tmp_path / "run")  # "strokes" means nothing here; the recorded resolved path does
    assert _evaluate(tmp_path / "run", "../strokes", capsys) == expected


def test_a_file_added_after_training_is_reported_not_re_split(trained, capsys):
    folder, out = trained
    first = sorted((folder / "arc").iterdir())[0]
    shutil.copy(first, folder / "arc" / "extra.txt")
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out), "--data", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(folder) in err and "changed since training" in err


def test_a_file_removed_after_training_is_reported(trained, capsys):
    folder, out = trained
    sorted((folder / "line").iterdir())[-1].unlink()
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out), "--data", str(folder)]) == 2
    assert "changed since training" in capsys.readouterr().err


def test_a_run_without_stored_test_samples_falls_back_to_the_seed_with_a_note(trained, capsys):
    folder, out = trained
    capsys.readouterr()
    expected = _evaluate(out, str(folder), capsys)
    (out / "test_samples.json").unlink()  # as a run from before they were stored
    assert main(["evaluate", "--model", str(out), "--data", str(folder)]) == 0
    captured = capsys.readouterr()
    assert captured.out == expected and "does not record its test samples" in captured.err


def test_a_corrupt_test_samples_file_is_a_clear_error(trained, capsys):
    folder, out = trained
    (out / "test_samples.json").write_text('{"source": 3}')
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out), "--data", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "test_samples.json" in err
