"""``rnnkit train --resume DIR``: a training process killed with SIGKILL goes on to the same weights and metrics.

The kill is real (a child process, ``kill -9`` while it trains), so what is on disk is whatever the
dying process left: the test proves the state file is whole at any moment and enough to go on bitwise.
"""
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from safetensors import safe_open

from rnnkit import training
from rnnkit.cli import main

# 45 training sequences in batches of 4: 12 steps per epoch, a state every 2 steps and after each epoch.
TINY = ["--hidden", "4", "--epochs", "8", "--batch-size", "4", "--quiet"]
TIMINGS = {"seconds", "greedy_decode_seconds", "beam_decode_seconds"}


def _without_timings(value):
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


def _steps_saved(state):
    try:
        with safe_open(str(state), framework="pt") as f:
            return json.loads(f.metadata()["rnnkit"])["position"]["step"]
    except Exception:  # not there yet
        return -1


def _kill_when(process, state, step, limit=60.0):
    deadline = time.monotonic() + limit
    while _steps_saved(state) < step:
        assert process.poll() is None, "the run ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_a_run_killed_mid_epoch_resumes_to_the_same_weights_and_metrics(stroke_folder, tmp_path):
    whole, cut = tmp_path / "whole", tmp_path / "cut"
    env = os.environ | {"OMP_NUM_THREADS": "1"}  # as the tests' own process: 1 thread, the same sums
    command = [sys.executable, "-m", "rnnkit", "train", "--data", str(stroke_folder), *TINY]
    process = subprocess.Popen([*command, "--out", str(cut), "--checkpoint-every", "2"], env=env)
    _kill_when(process, cut / training.STATE_FILE, step=29)  # in epoch 3: the state of step 30 is on disk
    assert process.returncode == -signal.SIGKILL
    left = training.read_training_state(cut / training.STATE_FILE).position
    assert left.batch > 0, "killed mid-epoch"
    assert not (cut / "metrics.json").exists()
    assert main(["train", "--out", str(cut), *TINY]) == 2  # a killed run is a run: not overwritten by mistake

    assert subprocess.run([sys.executable, "-m", "rnnkit", "train", "--resume", str(cut)], env=env).returncode == 0
    assert main(["train", "--data", str(stroke_folder), "--out", str(whole), *TINY]) == 0
    for name in ("model.safetensors", "config.json", "test_samples.json"):  # config.json: the weights' sha256 too
        assert (cut / name).read_bytes() == (whole / name).read_bytes(), name
    metrics = [json.loads((d / "metrics.json").read_text()) for d in (cut, whole)]
    assert _without_timings(metrics[0]) == _without_timings(metrics[1])
    assert metrics[0]["epochs"] == 8
    assert not (cut / training.STATE_FILE).exists()  # removed once the run's files are written
    assert main(["train", "--resume", str(cut)]) == 2  # and a finished run has nothing to resume


@pytest.mark.parametrize("extra", [["--epochs", "3"], ["--overwrite"], ["--data", "lasa-handwriting"],
                                   ["--out", "elsewhere"]])
def test_resume_takes_no_other_settings(extra, tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path), *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--resume" in err and f"leave out {extra[0]}" in err


def test_resume_without_a_state_or_of_a_finished_run_says_so(stroke_folder, tmp_path, capsys):
    assert main(["train", "--resume", str(tmp_path)]) == 2
    assert f"no saved training state ({training.STATE_FILE}) to resume" in capsys.readouterr().err
    assert main(["train", "--data", str(stroke_folder), "--out", str(tmp_path / "run"), "--epochs", "1",
                 "--hidden", "4", "--quiet"]) == 0
    assert main(["train", "--resume", str(tmp_path / "run")]) == 2
    assert "holds a finished run; there is nothing to resume" in capsys.readouterr().err


def test_data_and_out_are_required_without_resume(capsys):
    assert main(["train", "--out", "x"]) == 2
    assert "--data is required (or --resume DIR" in capsys.readouterr().err
    assert main(["train", "--data", "lasa-handwriting"]) == 2
    assert "--out is required" in capsys.readouterr().err


def test_a_diverging_run_keeps_its_last_good_state_and_says_what_to_try(stroke_folder, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--data", str(stroke_folder), "--out", str(out), "--hidden", "4", "--epochs", "3",
                 "--lr", "1e37", "--clip-norm", "0", "--optimizer", "sgd", "--momentum", "0", "--batch-size", "4",
                 "--checkpoint-every", "1", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "training diverged" in err and "lower --lr or a --clip-norm" in err
    assert "last good state" in err and str(out / "diverged.json") in err
    note = json.loads((out / "diverged.json").read_text())
    state = training.read_training_state(out / training.STATE_FILE)
    assert note["last_good_state"]["steps"] == state.position.step == note["batch"] - 1
    assert not (out / "model.safetensors").exists()  # no half-made run beside it
    assert main(["train", "--data", str(stroke_folder), "--out", str(out), "--hidden", "4", "--quiet"]) == 2
