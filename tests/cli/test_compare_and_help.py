"""``rnnkit compare`` on a tiny grid, the grid file's errors, ``datasets``, and every ``--help``."""
import csv
import json
import os
import pickle

import pytest

from rnnkit.cli import build_parser, main
from rnnkit.cli._main import COMMANDS
from rnnkit.cli.compare import resolve_jobs
from rnnkit.training import TrainingError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_tiny_compare(tmp_path, stroke_folder, jobs):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"architectures": [{"cell": "rnn", "hidden": [8]}, {"cell": "rnn", "hidden": [8], "dropout": 0.5},
                                                  {"cell": "lstm", "hidden": [8], "peephole": True},
                                                  {"cell": "gru", "hidden": [8, 4], "reset_after": False}],
                                "training": {"epochs": 2}}))
    out = tmp_path / "study"
    assert main(["compare", "--data", str(stroke_folder), "--grid", str(grid), "--out", str(out), "--quiet",
                 "--jobs", jobs]) == 0
    name = stroke_folder.name  # a folder data set is named after its folder
    with open(out / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 4
    assert {r["architecture"] for r in rows} == {"8 attention", "8 attention (#2)", "8 peephole attention",
                                                 "8-4 cho attention"}, "same shape, other settings: told apart"
    assert len({r["run"] for r in rows}) == 4, "same shape, other dropout: separate run directories"
    assert {r["dataset"] for r in rows} == {name}
    for row in rows:
        assert 0 <= float(row["test_accuracy"]) <= 1 and int(row["epochs"]) == 2 and int(row["parameters"]) > 0
        assert (out / row["run"] / "metrics.json").is_file()
    for png in (f"loss_{name}.png", f"confusion_{name}.png"):
        assert (out / png).read_bytes()[:8] == PNG_SIGNATURE
    html = (out / "report.html").read_text()
    assert html.count("<img") == 2 and "8 peephole attention" in html


def test_compare_over_seeds(tmp_path, stroke_folder, capsys):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"architectures": [{"cell": "rnn", "hidden": [8]}, {"cell": "gru", "hidden": [8]}],
                                "training": {"epochs": 2}}))
    out = tmp_path / "study"
    assert main(["compare", "--data", str(stroke_folder), "--grid", str(grid), "--out", str(out), "--quiet",
                 "--seeds", "2", "--seed", "5", "--jobs", "2"]) == 0
    with open(out / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted((r["cell"], r["seed"]) for r in rows) == [("gru", "5"), ("gru", "6"), ("rnn", "5"), ("rnn", "6")]
    for row in rows:
        assert row["run"].endswith(f"seed-{row['seed']}")
        config = json.loads((out / row["run"] / "config.json").read_text())["config"]
        assert config["training"]["seed"] == int(row["seed"]) and config["data"]["seed"] == 5, \
            "seeds vary the training, never the data split"
    assert "mean±sd over seeds" in capsys.readouterr().err
    assert "gru sd" in (out / "report.html").read_text()


def test_jobs_resolution():
    assert resolve_jobs(3, runs=12, device="cpu") == 3
    assert resolve_jobs(8, runs=2, device="cpu") == 2, "never more workers than runs"
    assert resolve_jobs("auto", runs=12, device="cuda") == 1, "runs share one GPU badly"
    assert resolve_jobs("auto", runs=1, device="cpu") == 1
    assert resolve_jobs("auto", runs=100, device="cpu") == len(os.sched_getaffinity(0)), "one per core"


def test_a_run_that_fails_in_a_worker_is_named(tmp_path, stroke_folder, capsys):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"architectures": [{"cell": "rnn", "hidden": [8]}, {"cell": "gru", "hidden": [8]}],
                                "training": {"epochs": 2, "lr": 1e30}}))
    assert main(["compare", "--data", str(stroke_folder), "--grid", str(grid), "--out", str(tmp_path / "study"),
                 "--quiet", "--jobs", "2"]) == 1
    err = capsys.readouterr().err
    assert f"rnnkit compare: failed: {stroke_folder.name}: " in err and " attention: " in err and "nan" in err
    assert "Traceback" not in err


def test_a_failed_run_in_a_worker_keeps_its_details():
    """compare --jobs hands a run's TrainingError back through pickle; it must arrive whole."""
    error = pickle.loads(pickle.dumps(TrainingError("loss is nan", epoch=3, batch=7)))
    assert (str(error), error.epoch, error.batch) == ("loss is nan", 3, 7)


@pytest.mark.parametrize("content,message", [
    ("[{\"cell\": \"lstm\",", "line 1"),
    ("[{\"cell\": \"lstm\", \"hiden\": [4]}]", "unknown setting(s) ['hiden']"),
    ("{\"architectures\": []}", "non-empty list"),
    ("[{\"hidden\": [4]}]", "'cell' is missing"),
    ("{\"architectures\": [{\"cell\": \"gru\"}], \"trainng\": {}}", "unknown key(s) ['trainng']"),
    ("{\"architectures\": [{\"cell\": \"gru\"}], \"training\": {\"epoch\": 3}}", "unknown TrainConfig key(s) 'epoch'"),
    ("{\"architectures\": [{\"cell\": \"gru\"}], \"training\": {\"epochs\": \"2\"}}", "TrainConfig.epochs='2'"),
    ("[{\"cell\": \"lstm\", \"hidden\": [8]}, {\"cell\": \"lstmm\"}]", "architecture 2: cell must be one of"),
    ("[{\"cell\": \"gru\", \"hidden\": \"16\"}]", "architecture 1: hidden='16'"),
    ("[{\"cell\": 5}]", "architecture 1: cell=5"),
    ("[{\"cell\": \"gru\", \"dropout\": \"0.1\"}]", "architecture 1: dropout='0.1'"),
    ("[{\"cell\": \"gru\"}, {\"cell\": \"rnn\"}, {\"cell\": \"gru\"}]", "architecture 3 repeats architecture 1"),
])
def test_bad_grid_files(tmp_path, capsys, content, message):
    grid = tmp_path / "grid.json"
    grid.write_text(content)
    out = tmp_path / "study"
    assert main(["compare", "--data", "lasa-handwriting", "--grid", str(grid), "--out", str(out)]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists(), "a bad grid must fail before any run"


def test_datasets_lists_the_bundled_sets(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    for name in ("fsdd-digits", "lasa-handwriting", "shakespeare", "cmudict", "census-names"):
        assert name in out


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_option_is_explained(command):
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command").choices[command]
    assert sub.description
    for action in sub._actions:
        if action.dest != "help":
            assert action.help, f"rnnkit {command} {action.option_strings or action.dest} has no help"


@pytest.mark.parametrize("command", list(COMMANDS))
def test_help_exits_zero(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert "usage: rnnkit " + command in capsys.readouterr().out
