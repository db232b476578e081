"""Same seed, data and settings: the same weights and metrics, bit for bit on the CPU.

On each implementation of the kernels' time loops (C++ and PyTorch), and in ``rnnkit compare``
whether its runs train in this process or two at a time in worker processes. A second seed must
give other weights, so the comparison can fail.
"""
import csv
import json

import pytest
import torch

from rnnkit import training
from rnnkit.cli import main
from rnnkit.cli._study import DataConfig, train_run
from rnnkit.kernels import _extension

TIMINGS = {"seconds"}
# Peepholes and Cho's GRU run on rnnkit's kernels only (never torch's fused ones); unequal lengths and dropout.
SETTINGS = {"lstm": {"cell": "lstm", "hidden": (8,), "peephole": True, "dropout": 0.3},
            "gru": {"cell": "gru", "hidden": (8, 4), "reset_after": False, "bidirectional": True}}


def _without_timings(value):
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    return value


@pytest.fixture(params=["cpp", "pytorch"])
def loops(request):
    """The C++ loops (skipped, with the reason, where they are not built) or the PyTorch ones; restored after."""
    saved = dict(_extension._state)
    if request.param == "cpp":
        _extension.reset()
        if _extension.load() is None:
            reason = _extension.status()
            _extension._state.update(saved)
            pytest.skip(f"C++ loops not available: {reason}")
    else:
        _extension.disable()
    yield request.param
    _extension._state.update(saved)


def _train(folder, directory, settings, seed):
    config = training.TrainConfig(epochs=1, batch_size=8, seed=seed, time_mask=2)
    result = train_run(DataConfig(str(folder)), settings, config, directory, progress=False)
    return result.model.state_dict(), _without_timings(result.metrics)


@pytest.mark.parametrize("cell", sorted(SETTINGS))
def test_the_same_seed_gives_the_same_weights_and_metrics_on_each_loop(loops, cell, stroke_folder, tmp_path):
    calls = []
    real_op = _extension.op

    def counting(name, like):  # which loops ran: the C++ op, or None for the PyTorch loop
        found = real_op(name, like)
        calls.append(found is not None)
        return found

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_extension, "op", counting)
        first = _train(stroke_folder, tmp_path / "a", SETTINGS[cell], seed=0)
    assert calls and all(calls) == (loops == "cpp") and any(calls) == (loops == "cpp")
    again = _train(stroke_folder, tmp_path / "b", SETTINGS[cell], seed=0)
    other = _train(stroke_folder, tmp_path / "c", SETTINGS[cell], seed=1)
    assert again[1] == first[1]
    for name, tensor in first[0].items():
        assert torch.equal(tensor, again[0][name]), name
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (tmp_path / "b" / "model.safetensors").read_bytes()
    assert any(not torch.equal(tensor, other[0][name]) for name, tensor in first[0].items())


def test_compare_with_one_or_two_workers_gives_bitwise_the_same_runs(stroke_folder, tmp_path):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"architectures": [{"cell": "rnn", "hidden": [8]},
                                                  {"cell": "gru", "hidden": [8], "dropout": 0.3}],
                                "training": {"epochs": 1}}))
    for jobs in ("1", "2"):
        assert main(["compare", "--data", str(stroke_folder), "--grid", str(grid), "--out", str(tmp_path / jobs),
                     "--jobs", jobs, "--threads", "1", "--quiet"]) == 0
    runs = sorted(p.parent.relative_to(tmp_path / "1") for p in (tmp_path / "1").rglob("model.safetensors"))
    assert len(runs) == 2
    for run in runs:
        one, two = tmp_path / "1" / run, tmp_path / "2" / run
        assert (one / "model.safetensors").read_bytes() == (two / "model.safetensors").read_bytes(), run
        assert (one / "config.json").read_bytes() == (two / "config.json").read_bytes(), run
        metrics = [_without_timings(json.loads((d / "metrics.json").read_text())) for d in (one, two)]
        assert metrics[0] == metrics[1], run
    tables = []
    for jobs in ("1", "2"):
        with open(tmp_path / jobs / "results.csv", newline="") as f:
            tables.append([{k: v for k, v in row.items() if k != "seconds"} for row in csv.DictReader(f)])
    assert tables[0] == tables[1]


def test_compare_refuses_zero_threads(capsys):
    with pytest.raises(SystemExit):
        main(["compare", "--threads", "0"])
    assert "--threads" in capsys.readouterr().err
