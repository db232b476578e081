"""``rnnkit bench`` (src/rnnkit/cli/bench.py) and benchmarks/bench_kernels.py: runs, tables, JSON, targets."""
import argparse
import json

import pytest

from rnnkit.cli import bench
from rnnkit.kernels import _extension


@pytest.fixture
def loops():
    """Not run on each loop implementation by tests/kernels/conftest.py: ``--no-extension`` chooses the loops,
    by disabling the C++ ones for the process, so the session's state is restored for the tests after these."""
    saved = dict(_extension._state)
    yield
    _extension._state.update(saved)


def parse(*argv):
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_a_tiny_run_writes_every_measurement(tmp_path, capsys):
    path = tmp_path / "bench.json"
    args = parse("--sizes", "3x2x4x8", "--variants", "lstm,layer_norm,gru,rnn", "--repeats", "1", "--no-extension",
                 "--json", str(path))
    assert bench.run(args) == 0
    report = json.loads(path.read_text())
    assert {(r["variant"], r["mode"]) for r in report["results"]} == \
        {(v, m) for v in ("lstm", "layer_norm", "gru", "rnn") for m in ("train", "inference")}
    for r in report["results"]:
        assert r["kernel_ms"] > 0 and r["native_ms"] > 0 and r["naive_ms"] > 0 and r["roofline_ms"] > 0
        assert r["auto_ms"] > 0 and r["auto_path"] in ("kernel", "native")
        assert r["vs_lstm"] == pytest.approx(r["kernel_ms"] / r["lstm_ms"])
        assert r["auto_vs_native"] == pytest.approx(r["auto_ms"] / r["native_ms"])
        assert r["verdict"] in (("met", "missed") if r["mode"] == "train" else ("",))
        assert r["naive_verdict"] in (("met", "missed") if r["mode"] == "train" and r["variant"] == "layer_norm"
                                      else ("",))
    paths = {(r["variant"], r["mode"]): r["auto_path"] for r in report["results"]}
    # what impl="auto" picks on CPU: torch's oneDNN LSTM for the plain LSTM, the kernel where torch has none
    assert paths["lstm", "train"] == "native" and paths["layer_norm", "train"] == "kernel"
    assert "PyTorch" in report["meta"]["loops"]
    assert "training step" in capsys.readouterr().out


def test_verdicts_follow_the_issue_targets():
    def result(variant, H, auto, native, lstm, naive):  # the verdicts judge the auto path
        return bench.Result(variant, {"T": 1, "B": 1, "I": 1, "H": H}, "train", 99.0, "nn.X", native, lstm, naive,
                            1.0, bench.VARIANTS[variant].target, auto, "kernel", "")
    assert bench._verdict(result("peephole", 128, 1.9, 1, 1, 6)) == "met"  # <= 2x at H = 128
    assert bench._verdict(result("peephole", 256, 1.4, 1, 1, 6)) == "missed"  # > 1.3x at H >= 256
    assert bench._verdict(result("zoneout", 256, 1.2, 1, 1, 3)) == "met"  # the naive target is separate
    assert bench._verdict(result("gru", 256, 0.79, 1, 5, None)) == "met"  # <= 0.8x nn.GRU
    assert bench._verdict(result("lstm", 256, 1.06, 1, 1, None)) == "missed"  # > 1.05x nn.LSTM


@pytest.mark.parametrize("argv,message", [(["--sizes", "3x2x4"], "TxBxIxH"), (["--variants", "lstm,nope"], "nope"),
                                          (["--repeats", "0"], "repeats")])
def test_bad_arguments_say_so(argv, message):
    with pytest.raises(ValueError, match=message):
        bench.run(parse(*argv))
